// Keeps the terminal as big as its box: refitted when the window or the box changes size
// (debounced), never for a viewer, who sees the terminal at the size its operator gave it.

const RESIZE_DEBOUNCE_MS = 120;

export class TerminalFit {
  /**
   * @param {import("@xterm/addon-fit").FitAddon} fitAddon
   * @param {HTMLElement} box  the terminal's box
   * @param {() => boolean} sizedByServer  true while the terminal takes its size from the server
   */
  constructor(fitAddon, box, sizedByServer) {
    this.fitAddon = fitAddon;
    this.box = box;
    this.sizedByServer = sizedByServer;
    this.timer = null;
  }

  fit() {
    if (this.sizedByServer() || !this.box.offsetParent) return;
    try {
      this.fitAddon.fit();
    } catch {
      // not laid out yet
    }
  }

  /** Refit after the window or the box has changed size. */
  follow() {
    this.later = () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.fit(), RESIZE_DEBOUNCE_MS);
    };
    window.addEventListener("resize", this.later);
    this.observer = new ResizeObserver(this.later);
    this.observer.observe(this.box);
  }

  /** The box is going away (its pane was closed). */
  stop() {
    clearTimeout(this.timer);
    if (this.later) window.removeEventListener("resize", this.later);
    if (this.observer) this.observer.disconnect();
  }
}
