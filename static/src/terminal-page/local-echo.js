// Predictive local echo on a pane (the setting "local_echo": off / auto / always): keys the server
// has not echoed yet are drawn at once over the terminal, underlined and dimmed, until its echo
// confirms or refutes them (session/prediction.js decides). Drawn over xterm, never into it: the
// terminal's screen stays exactly what the server sent, and a rollback is taking the drawing away.

import { el } from "../lib/dom.js";
import { LinePredictor, RoundTrips } from "../session/prediction.js";

/** What the predictor needs to know of xterm's screen (session/prediction.js). */
function screenOf(term) {
  return {
    usable: () => term.buffer.active.type === "normal" && term.modes.mouseTrackingMode === "none",
    cursor: () => {
      const buffer = term.buffer.active;
      return { x: buffer.cursorX, y: buffer.baseY + buffer.cursorY };
    },
    row: (y) => {
      const line = term.buffer.active.getLine(y);
      const cells = [];
      for (let x = 0; x < term.cols; x += 1) {
        const cell = line?.getCell(x);
        if (!cell) cells.push(" ");
        else if (cell.getWidth() === 0) cells.push("");
        else cells.push(cell.getChars() || " ");
      }
      return cells;
    },
  };
}

export class LocalEcho {
  /**
   * @param {import("@xterm/xterm").Terminal} term  opened (its screen element exists)
   * @param {string} mode  "off" | "auto" | "always"
   */
  constructor(term, mode) {
    this.term = term;
    this.mode = mode;
    this.trips = new RoundTrips();
    this.predictor = new LinePredictor(screenOf(term));
    this.decide(); // "always" predicts from the first key
    this.timer = null;
    this.layer = el("div", { class: "local-echo", "aria-hidden": "true" });
    term.element.querySelector(".xterm-screen")?.append(this.layer);
    this.subscriptions = [term.onResize(() => this.reset())];
    // Redrawn on scroll only while something is predicted: a flood scrolls every line.
    this.scrolling = null;
  }

  /** Whether keys are predicted now (the mode, and under auto the measured round trip). */
  get on() {
    return this.predictor.enabled;
  }

  setMode(mode) {
    this.mode = mode;
    this.decide();
    this.draw();
  }

  decide() {
    const wanted = this.trips.wanted(this.mode);
    if (wanted !== this.predictor.enabled) this.predictor.setEnabled(wanted);
  }

  typed(data, position) {
    this.predictor.typed(data, position, performance.now());
    this.draw();
  }

  /** An input event was answered after `ms`: a round trip measured, and keys known to be there. */
  inputAnswered(position, ms) {
    this.trips.add(ms);
    this.decide();
    this.predictor.inputAnswered(position, performance.now());
    this.settle();
  }

  /** Output was drawn (or a deadline passed): what the server shows now confirms or refutes. */
  settle() {
    if (!this.predictor.enabled) return;
    this.predictor.settle(performance.now());
    this.draw();
    this.schedule();
  }

  schedule() {
    clearTimeout(this.timer);
    const deadline = this.predictor.deadline();
    this.timer = deadline === null ? null : setTimeout(() => this.settle(), Math.max(0, deadline - performance.now()));
  }

  reset() {
    this.predictor.forget();
    this.draw();
  }

  /** Draw the prediction over its row (nothing when there is none or the row is scrolled away). */
  draw() {
    const shown = this.predictor.shown();
    if (shown && !this.scrolling) this.scrolling = this.term.onScroll(() => this.draw());
    if (!shown && this.scrolling) {
      this.scrolling.dispose();
      this.scrolling = null;
    }
    const row = shown && shown.y - this.term.buffer.active.viewportY;
    if (!shown || row < 0 || row >= this.term.rows) {
      if (this.layer.firstChild) this.layer.replaceChildren();
      return;
    }
    const screen = this.layer.parentElement;
    const width = screen.clientWidth / this.term.cols;
    const height = screen.clientHeight / this.term.rows;
    const { theme, fontFamily, fontSize } = this.term.options;
    const cell = (x, char, cls) => {
      const box = el("span", { class: cls }, el("span", {}, char));
      Object.assign(box.style, {
        left: `${x * width}px`, top: `${row * height}px`, width: `${width}px`, height: `${height}px`,
        lineHeight: `${height}px`, fontFamily, fontSize: `${fontSize}px`,
        background: theme.background, color: theme.foreground,
      });
      return box;
    };
    const cells = shown.cells.map(({ x, char }) => cell(x, char, "local-echo-cell"));
    // The server's cursor is covered (the predicted one is where the user looks).
    const serverX = this.term.buffer.active.cursorX;
    const predictedChar = (x) => shown.cells.find((c) => c.x === x)?.char;
    if (serverX !== shown.cursorX && predictedChar(serverX) === undefined) {
      const line = this.term.buffer.active.getLine(shown.y);
      cells.push(cell(serverX, line?.getCell(serverX)?.getChars() || " ", "local-echo-plain"));
    }
    const under = predictedChar(shown.cursorX) ?? this.term.buffer.active.getLine(shown.y)?.getCell(shown.cursorX)?.getChars() ?? " ";
    const cursor = cell(shown.cursorX, under || " ", "local-echo-cursor");
    Object.assign(cursor.style, { background: theme.cursor, color: theme.cursorAccent });
    cells.push(cursor);
    this.layer.replaceChildren(...cells);
  }

  dispose() {
    clearTimeout(this.timer);
    for (const subscription of this.subscriptions) subscription.dispose();
    this.scrolling?.dispose();
    this.layer.remove();
  }
}
