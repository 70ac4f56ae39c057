// xterm's options from the user's settings (lib/settings.js): colours for the light and dark
// themes, the font stack, scrollback and cursor. One place, so a new pane and a pane whose
// settings just changed look alike.

import { resolvedTheme } from "../lib/settings.js";

const FALLBACK_FONTS = '"DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, ui-monospace, monospace';

const DARK = {
  background: "#101418",
  foreground: "#d8dee4",
  cursor: "#f0f3f6",
  cursorAccent: "#101418",
  selectionBackground: "#3a4a5e",
};

// xterm's default palette is made for a dark background: its yellow, white and bright colours
// vanish on a light one. These keep every colour a program may print readable on it.
const LIGHT = {
  background: "#fbfbfa",
  foreground: "#1f2328",
  cursor: "#1f2328",
  cursorAccent: "#fbfbfa",
  selectionBackground: "#b6d4fe",
  selectionForeground: "#1f2328",
  black: "#24292f",
  red: "#cf222e",
  green: "#116329",
  yellow: "#7d4e00",
  blue: "#0969da",
  magenta: "#8250df",
  cyan: "#1b7c83",
  white: "#6e7781",
  brightBlack: "#57606a",
  brightRed: "#a40e26",
  brightGreen: "#1a7f37",
  brightYellow: "#633c01",
  brightBlue: "#0550ae",
  brightMagenta: "#6639ba",
  brightCyan: "#1b6b73",
  brightWhite: "#424a53",
};

export function fontStack(family) {
  return family === "monospace" ? "ui-monospace, monospace" : `"${family}", ${FALLBACK_FONTS}`;
}

/** The options of an xterm that shows `settings`. */
export function terminalOptions(settings) {
  const light = resolvedTheme(settings) === "light";
  return {
    theme: light ? LIGHT : DARK,
    // Text a program colours for a dark background (or the default grey on white) is brought to a
    // readable contrast on the light one; the dark theme shows colours as programs ask.
    minimumContrastRatio: light ? 4.5 : 1,
    fontFamily: fontStack(settings.font_family),
    fontSize: settings.font_size,
    scrollback: settings.scrollback,
    cursorStyle: settings.cursor_style,
    cursorBlink: Boolean(settings.cursor_blink),
  };
}
