// Predictive local echo without a browser: a screen double plays the server's echo.
import assert from "node:assert/strict";
import { test } from "node:test";
import { afterKey, ECHO_GRACE_MS, keysOf, LinePredictor, RoundTrips } from "../../../static/src/session/prediction.js";

const COLS = 40;

/** The server's screen as xterm would show it: rows of cells and a cursor. */
function fakeScreen(prompt = "$ ") {
  const screen = {
    rows: new Map(),
    x: prompt.length,
    y: 0,
    alternate: false,
    usable: () => !screen.alternate,
    cursor: () => ({ x: screen.x, y: screen.y }),
    row: (y) => {
      const text = screen.rows.get(y) ?? "";
      return Array.from({ length: COLS }, (_, x) => text[x] ?? " ");
    },
    /** The server shows `text` on the cursor's row with the cursor at `x` (default: after it). */
    show(text, x = text.length) {
      screen.rows.set(screen.y, text);
      screen.x = x;
    },
    newline() {
      screen.y += 1;
      screen.x = 0;
    },
  };
  screen.rows.set(0, prompt);
  return screen;
}

function drawn(predictor) {
  const shown = predictor.shown();
  return shown && { text: shown.cells.map((c) => `${c.x}:${c.char}`).join(" "), cursorX: shown.cursorX };
}

/** A predictor that predicts, on a row already proven to echo (a was typed and came back). */
function provenPredictor() {
  const screen = fakeScreen();
  const p = new LinePredictor(screen);
  p.setEnabled(true);
  p.typed("a", 1, 0);
  p.inputAnswered(1, 10);
  screen.show("$ a");
  p.settle(11);
  return { screen, p };
}

test("keys: printable characters, backspace, left and right; anything else stops", () => {
  assert.deepEqual(keysOf("a \x7f\x1b[D\x1bOC\r\t"), [{ char: "a" }, { char: " " }, "backspace", "left", "right", null, null]);
  assert.deepEqual(keysOf("é"), [null]);
});

test("auto predicts from an 80 ms median round trip on, not on loopback; always and off are what they say", () => {
  const far = new RoundTrips();
  for (let i = 0; i < 4; i += 1) far.add(150);
  assert.equal(far.wanted("auto"), false, "too few samples to judge");
  far.add(150);
  assert.equal(far.wanted("auto"), true);
  assert.equal(far.wanted("off"), false);
  const near = new RoundTrips();
  for (let i = 0; i < 10; i += 1) near.add(60);
  assert.equal(near.wanted("auto"), false);
  assert.equal(near.wanted("always"), true);
  // between the two thresholds it keeps what it was
  const middle = new RoundTrips();
  for (let i = 0; i < 10; i += 1) middle.add(100);
  assert.equal(middle.wanted("auto"), true);
  for (let i = 0; i < 24; i += 1) middle.add(50);
  assert.equal(middle.wanted("auto"), true);
  for (let i = 0; i < 24; i += 1) middle.add(5);
  assert.equal(middle.wanted("auto"), false);
});

test("nothing is drawn on a row until a character typed there came back; then keys show at once", () => {
  const screen = fakeScreen();
  const p = new LinePredictor(screen);
  p.setEnabled(true);
  assert.equal(p.typed("l", 1, 0), false);
  assert.equal(drawn(p), null, "the first key of a row is not drawn: the row may not echo");
  p.inputAnswered(1, 150);
  screen.show("$ l");
  p.settle(152);
  assert.equal(drawn(p), null, "confirmed: the server shows it itself");
  assert.equal(p.typed("s", 2, 200), true);
  assert.deepEqual(drawn(p), { text: "3:s", cursorX: 4 });
  assert.equal(p.typed(" -", 3, 210), true);
  assert.deepEqual(drawn(p), { text: "3:s 5:-", cursorX: 6 });
  // the echo of "s" alone: only the rest stays drawn
  screen.show("$ ls");
  p.settle(350);
  assert.deepEqual(drawn(p), { text: "5:-", cursorX: 6 });
  screen.show("$ ls -");
  p.settle(360);
  assert.equal(drawn(p), null);
});

test("a prompt that does not echo (a password) never shows what is typed, and stops predicting", () => {
  const screen = fakeScreen("[sudo] password: ");
  const p = new LinePredictor(screen);
  p.setEnabled(true);
  for (const [i, char] of [..."hunter2"].entries()) {
    p.typed(char, i + 1, i * 10);
    assert.equal(drawn(p), null);
  }
  p.inputAnswered(7, 150);
  p.settle(160);
  assert.equal(drawn(p), null);
  assert.equal(p.deadline(), 150 + ECHO_GRACE_MS);
  p.settle(150 + ECHO_GRACE_MS);
  assert.equal(p.blocked, true);
  p.typed("x", 8, 500);
  assert.equal(drawn(p), null);
  assert.equal(p.pending.length, 0, "nothing is even tracked until the line settles");
});

test("an echo that differs (a key bound to another) takes every prediction down until the line settles", () => {
  const { screen, p } = provenPredictor();
  p.typed("x", 2, 100);
  p.typed("z", 3, 110);
  assert.deepEqual(drawn(p), { text: "3:x 4:z", cursorX: 5 });
  p.inputAnswered(3, 250);
  screen.show("$ ay");
  p.settle(251);
  assert.equal(drawn(p), null, "rolled back at once: the server's row is all there is");
  assert.equal(p.blocked, true);
  p.typed("q", 4, 300);
  assert.equal(drawn(p), null);
  // Enter: the cursor moves to a new row, which starts afresh (and must prove itself again)
  p.typed("\r", 5, 310);
  screen.newline();
  p.settle(470);
  assert.equal(p.blocked, false);
  p.typed("k", 6, 500);
  assert.equal(drawn(p), null);
});

test("an echo that never comes rolls back after the grace, not before", () => {
  const { screen, p } = provenPredictor();
  p.typed("b", 2, 100);
  p.inputAnswered(2, 250);
  p.settle(260);
  assert.deepEqual(drawn(p), { text: "3:b", cursorX: 4 }, "late, but not yet refuted");
  p.settle(250 + ECHO_GRACE_MS);
  assert.equal(drawn(p), null);
  assert.equal(screen.row(0).join("").trimEnd(), "$ a");
});

test("backspace, left and right edit the predicted line as readline does", () => {
  const { p } = provenPredictor();
  p.typed("bc", 2, 100);
  p.typed("\x1b[D\x1b[D", 3, 110); // cursor onto b
  assert.deepEqual(drawn(p), { text: "3:b 4:c", cursorX: 3 });
  p.typed("X", 4, 120); // inserted: b and c move right
  assert.deepEqual(drawn(p), { text: "3:X 4:b 5:c", cursorX: 4 });
  p.typed("\x7f", 5, 130);
  assert.deepEqual(drawn(p), { text: "3:b 4:c", cursorX: 3 });
  p.typed("\x1b[C", 6, 140);
  assert.equal(drawn(p).cursorX, 4);
});

test("no key reaches into the prompt, past the text or into the last column", () => {
  const state = { cells: [..."$ ab".padEnd(8)], cursorX: 2 };
  assert.equal(afterKey(state, "left", 2), null);
  assert.equal(afterKey(state, "backspace", 2), null);
  assert.equal(afterKey({ ...state, cursorX: 4 }, "right", 2), null);
  assert.deepEqual(afterKey({ ...state, cursorX: 4 }, { char: "c" }, 2).cells.join(""), "$ abc   ");
  assert.equal(afterKey({ cells: [..."$ abcd  "], cursorX: 6 }, { char: "e" }, 2), null);
});

test("Enter keeps what was drawn until its echo, and nothing typed after it is drawn", () => {
  const { screen, p } = provenPredictor();
  p.typed("b", 2, 100);
  p.typed("\r", 3, 110);
  p.typed("secret", 4, 120);
  assert.deepEqual(drawn(p), { text: "3:b", cursorX: 4 });
  assert.equal(p.pending.length, 1);
  p.inputAnswered(4, 260);
  screen.show("$ ab");
  screen.newline();
  p.settle(262);
  assert.equal(drawn(p), null);
});

test("the alternate screen (vim) gets no predictions", () => {
  const { screen, p } = provenPredictor();
  screen.alternate = true;
  p.settle(100);
  assert.equal(p.typed("i", 2, 110), false);
  assert.equal(drawn(p), null);
  assert.equal(p.pending.length, 0);
});

test("a row that changes with nothing typed (a raw-mode program echoing twice) stops predictions", () => {
  const screen = fakeScreen("");
  const p = new LinePredictor(screen);
  p.setEnabled(true);
  p.typed("a", 1, 0);
  p.inputAnswered(1, 150);
  screen.show("a"); // the tty's echo...
  p.settle(151);
  assert.equal(p.proven, true);
  screen.show("aa"); // ...and the program's copy
  p.settle(152);
  assert.equal(p.blocked, true);
  p.typed("b", 2, 200);
  assert.equal(drawn(p), null);
});

test("a key the page does not predict (Tab) lets the line change, then predictions resume", () => {
  const { screen, p } = provenPredictor();
  p.typed("\t", 2, 100);
  p.inputAnswered(2, 250);
  screen.show("$ abc ");
  p.settle(255);
  assert.equal(p.blocked, false);
  p.settle(250 + ECHO_GRACE_MS);
  assert.equal(p.stop, null);
  p.typed("d", 3, 600);
  assert.equal(drawn(p), null, "the row proves itself again");
  p.inputAnswered(3, 750);
  screen.show("$ abc d");
  p.settle(751);
  p.typed("e", 4, 800);
  assert.deepEqual(drawn(p), { text: "7:e", cursorX: 8 });
});
