// Keeps the terminal as big as its box: refitted when the window or the box changes size
// (debounced). A viewer sees the terminal at the size its operator gave it: where that is bigger
// than the viewer's box, the font is made smaller until it fits (down to MIN_FONT_PX), so nothing
// of the screen is cut off (a viewer in a smaller window saw neither the prompt nor the last lines).

const RESIZE_DEBOUNCE_MS = 120;
export const MIN_FONT_PX = 4; // unreadable, but the whole screen: an 800×500 window holds 117×39 at 5 px
const FONT_STEPS = 4; // re-measured after each step: the cell's size does not scale exactly with the font

/** The font size at which `cols`×`rows` fit where `fitting` of them fit at `fontSize`, at most `wanted`. */
export function fittingFont(fontSize, wanted, size, fitting) {
  const scale = Math.min(fitting.cols / size.cols, fitting.rows / size.rows);
  return Math.max(MIN_FONT_PX, Math.min(wanted, Math.floor(fontSize * scale)));
}

export class TerminalFit {
  /**
   * @param {import("@xterm/addon-fit").FitAddon} fitAddon
   * @param {HTMLElement} box  the terminal's box
   * @param {() => boolean} sizedByServer  true while the terminal takes its size from the server
   * @param {import("@xterm/xterm").Terminal} term
   */
  constructor(fitAddon, box, sizedByServer, term) {
    this.fitAddon = fitAddon;
    this.box = box;
    this.sizedByServer = sizedByServer;
    this.term = term;
    this.fontSize = term.options.fontSize; // the user's (settings); smaller only while it does not fit
    this.timer = null;
    this.steps = 0;
  }

  fit() {
    if (!this.box.offsetParent) return;
    if (this.sizedByServer()) {
      this.steps = 0;
      this.fitFont();
      return;
    }
    if (this.term.options.fontSize !== this.fontSize) { // back from a shrunk font: fit again once it is measured
      this.term.options.fontSize = this.fontSize;
      requestAnimationFrame(() => this.fit());
    }
    try {
      this.fitAddon.fit();
    } catch {
      // not laid out yet
    }
  }

  /** The user's font, or smaller where the terminal's size would not fit the box at it. */
  fitFont() {
    const fitting = this.fitAddon.proposeDimensions();
    if (!fitting || !fitting.cols || !fitting.rows) return;
    const current = this.term.options.fontSize;
    const size = fittingFont(current, this.fontSize, { cols: this.term.cols, rows: this.term.rows }, fitting);
    if (size === current) return;
    this.term.options.fontSize = size;
    if (++this.steps < FONT_STEPS) requestAnimationFrame(() => this.sizedByServer() && this.fitFont());
  }

  /** Refit after the window, the box or the terminal's size changed. */
  follow() {
    this.later = () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.fit(), RESIZE_DEBOUNCE_MS);
    };
    window.addEventListener("resize", this.later);
    this.observer = new ResizeObserver(this.later);
    this.observer.observe(this.box);
    this.resizing = this.term.onResize(() => {
      if (this.sizedByServer()) this.later(); // the operator resized it: fit the font again
    });
  }

  /** The box is going away (its pane was closed). */
  stop() {
    clearTimeout(this.timer);
    if (this.later) window.removeEventListener("resize", this.later);
    if (this.observer) this.observer.disconnect();
    this.resizing?.dispose();
  }
}
