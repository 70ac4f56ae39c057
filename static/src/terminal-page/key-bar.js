// The extra keys a phone keyboard lacks (Esc, Tab, Ctrl, arrows, a few symbols), under the terminal.

import { $ } from "../lib/dom.js";

const ARROWS = { up: "A", down: "B", right: "C", left: "D" };

/** Wire #keybar to `session` (a TerminalSession) and its xterm `term`. */
export function setupKeyBar(session, term) {
  const bar = $("#keybar");
  const ctrl = $("[data-key=ctrl]", bar);
  const latch = { on: false };
  const setLatch = (on) => {
    latch.on = on;
    ctrl.setAttribute("aria-pressed", String(on));
  };
  // The next typed character after Ctrl becomes its control code (Ctrl+C is \x03).
  session.transformInput = (data) => {
    if (!latch.on || data.length !== 1) return data;
    setLatch(false);
    const code = data.toUpperCase().charCodeAt(0);
    return code >= 64 && code <= 95 ? String.fromCharCode(code - 64) : data;
  };
  // Keep the focus (and the phone keyboard) on the terminal.
  bar.addEventListener("pointerdown", (event) => event.preventDefault());
  bar.addEventListener("click", (event) => {
    const key = event.target.closest("button")?.dataset.key;
    if (!key) return;
    if (key === "ctrl") {
      setLatch(!latch.on);
    } else if (key === "esc") {
      session.send("\x1b");
    } else if (key === "tab") {
      session.send("\t");
    } else if (ARROWS[key]) {
      session.send((term.modes.applicationCursorKeysMode ? "\x1bO" : "\x1b[") + ARROWS[key]);
    } else {
      session.send(key);
    }
    term.focus();
  });
}
