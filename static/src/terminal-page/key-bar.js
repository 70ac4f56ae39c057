// The extra keys a phone keyboard lacks (Esc, Tab, Ctrl, arrows, a few symbols), under the terminal.
// They act on the active pane.

import { $ } from "../lib/dom.js";

const ARROWS = { up: "A", down: "B", right: "C", left: "D" };

/**
 * Wire #keybar to the active pane (`activePane()` answers it). Returns the input transform every
 * pane's session applies to typed text (the Ctrl latch: the next character becomes its control code).
 */
export function setupKeyBar(activePane) {
  const bar = $("#keybar");
  const ctrl = $("[data-key=ctrl]", bar);
  const latch = { on: false };
  const setLatch = (on) => {
    latch.on = on;
    ctrl.setAttribute("aria-pressed", String(on));
  };
  // Keep the focus (and the phone keyboard) on the terminal.
  bar.addEventListener("pointerdown", (event) => event.preventDefault());
  bar.addEventListener("click", (event) => {
    const key = event.target.closest("button")?.dataset.key;
    const pane = activePane();
    if (!key || !pane) return;
    const { session, term } = pane;
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
  // Ctrl+C is \x03: the character's code less 64, for @, A-Z, [, \, ], ^, _.
  return (data) => {
    if (!latch.on || data.length !== 1) return data;
    setLatch(false);
    const code = data.toUpperCase().charCodeAt(0);
    return code >= 64 && code <= 95 ? String.fromCharCode(code - 64) : data;
  };
}
