// How tall the player's box is: the recording at its own shape, as wide as the page allows but no
// larger than MAX_FONT_PX, and never taller than the room left in the window, so its controls
// stay in view. The player (fit "both") then scales the terminal into that box exactly. Left to
// fit "width" alone, a tall narrow terminal (a pane of a split) grew past the window's bottom.

export const LINE_HEIGHT = 1.3333333333; // the player's default line height, in ems
export const CONTROL_BAR_PX = 32; // asciinema-player's control bar
export const MAX_FONT_PX = 18; // a small recording in a wide box: readable, not shouting
export const MIN_HEIGHT_PX = 160;

/** The recording's first size, from its asciicast v2 header ({cols: 80, rows: 24} if unreadable). */
export function recordedSize(castText) {
  try {
    const header = JSON.parse(castText.slice(0, castText.indexOf("\n")));
    const cols = Number(header.width);
    const rows = Number(header.height);
    if (cols > 0 && rows > 0) return { cols, rows };
  } catch {
    // not a v2 header: the player's own default
  }
  return { cols: 80, rows: 24 };
}

/**
 * The box's height in px for a `cols`×`rows` recording in a box `width` px wide with `room` px
 * left below its top; `charWidth` is the font's advance per px of font size (0.6 for most monospace).
 */
export function playerHeight({ cols, rows, width, room, charWidth = 0.6 }) {
  const font = Math.min(width / (cols * charWidth), MAX_FONT_PX);
  const natural = rows * LINE_HEIGHT * font + CONTROL_BAR_PX;
  return Math.round(Math.max(MIN_HEIGHT_PX, Math.min(natural, room)));
}

/** The font's advance per px of font size, measured as the player measures it. */
export function measureCharWidth(fontFamily) {
  const context = document.createElement("canvas").getContext("2d");
  if (!context) return 0.6;
  context.font = `100px ${fontFamily}`;
  return context.measureText("M".repeat(10)).width / 1000 || 0.6;
}
