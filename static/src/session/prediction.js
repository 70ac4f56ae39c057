// Predictive local echo, the logic without a browser: which keys the page may show before the
// server echoes them, and whether the server's screen confirmed or refuted them.
//
// Like mosh (and unlike VS Code's typeahead, which writes guesses into the terminal and rewrites
// the incoming stream), predictions never touch the terminal: they are a line drawn over it
// (terminal-page/local-echo.js), so the screen is always the server's, byte for byte. A
// prediction is a whole expected state of the cursor's row (its cells and the cursor's column)
// after the key; the server confirms it when its row shows that state, and refutes it when its
// row shows something else after the key was delivered. Safety, from VS Code's leaks
// (#128530: a sudo password shown; #110109: vim flickered):
// - Nothing is shown on a row until a typed character was echoed there ("proven"): a prompt that
//   does not echo (a password) never proves itself, so what is typed at it is never drawn.
//   Every other key (Enter, Tab, Ctrl+C, up/down) ends the proof: the next line proves itself anew.
// - A refuted prediction takes every prediction down, and none is made until the line settles
//   (the cursor leaves the row, or a key the page does not predict was delivered). So does a
//   change of the row that nothing typed explains (a program in raw mode echoing keys twice).
// - The alternate screen and mouse-reporting programs (vim, less, htop, tmux) get none.

export const MODES = Object.freeze(["off", "auto", "always"]);

const SAMPLES = 24; // round trips the median is taken over
const MIN_SAMPLES = 5;
// The round trip is an input event's (sent → answered once the terminal has it): on loopback it is
// the server's own part, 12–16 ms on a busy 2-core machine and up to ~60 ms on an overloaded one.
export const AUTO_ON_MS = 80; // auto: predict from this median round trip up...
export const AUTO_OFF_MS = 40; // ...until it falls below this one (no flapping in between)
export const ECHO_GRACE_MS = 250; // after the server got a key: its echo is late, so it is not coming

const LEFT = new Set(["\x1b[D", "\x1bOD"]);
const RIGHT = new Set(["\x1b[C", "\x1bOC"]);
const BACKSPACE = "\x7f";

/** Round trips of input events (sent → answered), and whether `mode` wants predictions at them. */
export class RoundTrips {
  constructor() {
    this.samples = [];
    this.on = false;
  }

  add(ms) {
    this.samples.push(ms);
    if (this.samples.length > SAMPLES) this.samples.shift();
  }

  get median() {
    if (!this.samples.length) return null;
    const sorted = [...this.samples].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  }

  /** Whether to predict under `mode` ("off" | "auto" | "always"), with hysteresis under auto. */
  wanted(mode) {
    if (mode === "always") this.on = true;
    else if (mode !== "auto" || this.samples.length < MIN_SAMPLES) this.on = false;
    else if (this.median >= AUTO_ON_MS) this.on = true;
    else if (this.median < AUTO_OFF_MS) this.on = false;
    return this.on;
  }
}

/** Split typed data into keys: printable ASCII, backspace, left, right, or anything else (null: stop). */
export function keysOf(data) {
  const keys = [];
  let i = 0;
  while (i < data.length) {
    const three = data.slice(i, i + 3);
    if (LEFT.has(three) || RIGHT.has(three)) {
      keys.push(LEFT.has(three) ? "left" : "right");
      i += 3;
      continue;
    }
    const code = data.charCodeAt(i);
    if (code >= 0x20 && code <= 0x7e) keys.push({ char: data[i] });
    else if (data[i] === BACKSPACE) keys.push("backspace");
    else keys.push(null);
    i += 1;
  }
  return keys;
}

function sameState(a, b) {
  if (a.cursorX !== b.cursorX || a.cells.length !== b.cells.length) return false;
  for (let x = 0; x < a.cells.length; x += 1) if (a.cells[x] !== b.cells[x]) return false;
  return true;
}

/** Where the text of a row ends: one past its last cell that is not blank. */
function textEnd(cells) {
  let end = cells.length;
  while (end > 0 && cells[end - 1] === " ") end -= 1;
  return end;
}

/**
 * The state after `key` from `state` ({cells, cursorX}), or null where the page cannot know what
 * the line editor does (into the prompt, past the text, to the row's end, across wide characters).
 */
export function afterKey(state, key, startX) {
  const { cells, cursorX } = state;
  const end = textEnd(cells);
  const cols = cells.length;
  const plain = (from) => cells.slice(from).every((cell) => cell.length === 1);
  if (key === "left") return cursorX > startX ? { cells, cursorX: cursorX - 1 } : null;
  if (key === "right") return cursorX < end ? { cells, cursorX: cursorX + 1 } : null;
  if (key === "backspace") {
    if (cursorX <= startX || !plain(cursorX - 1)) return null;
    const next = [...cells.slice(0, cursorX - 1), ...cells.slice(cursorX), " "];
    return { cells: next, cursorX: cursorX - 1 };
  }
  // A character, inserted (readline's default); the last column is left alone (the line wraps there).
  if (Math.max(end, cursorX) + 1 >= cols - 1 || !plain(cursorX)) return null;
  const next = [...cells.slice(0, cursorX), key.char, ...cells.slice(cursorX, cols - 1)];
  return { cells: next, cursorX: cursorX + 1 };
}

/**
 * The predictions of one terminal. `screen` reads the server's screen as xterm shows it:
 * {usable(): bool (normal screen, no mouse reporting), cursor(): {x, y} (y counted from the top of
 * the scrollback), row(y): string[] (one entry per column: the cell's text, " " when blank, ""
 * for the second half of a wide character)}. Times are milliseconds on one clock.
 */
export class LinePredictor {
  constructor(screen) {
    this.screen = screen;
    this.enabled = false;
    this.row = null; // the row the cursor is on, as far as predictions go: {y, startX}
    this.proven = false; // a character typed on this row came back: the row echoes
    this.blocked = false; // refuted on this row: nothing more until the line settles
    this.base = null; // the server's state the pending predictions start from
    this.pending = []; // [{state, char: bool, position, answeredAt}] oldest first
    this.stop = null; // a key not predicted: {position, answeredAt}; none until it is through
  }

  /** Predict or not (the mode and the round trip decide); off takes every prediction down. */
  setEnabled(enabled) {
    this.enabled = enabled;
    if (!enabled) this.forget();
  }

  forget() {
    this.pending = [];
    this.base = null;
    this.stop = null;
    this.proven = false;
    this.blocked = false;
    this.row = null;
  }

  serverState(y) {
    return { cells: this.screen.row(y), cursorX: this.screen.cursor().x };
  }

  /**
   * The user typed `data`; `position` counts what was sent up to and with it (in the units
   * inputAnswered() hears back). Returns whether what is drawn changed.
   */
  typed(data, position, now) {
    if (!this.enabled) return false;
    if (!this.screen.usable()) {
      this.forget();
      return false;
    }
    this.follow();
    for (const key of keysOf(data)) {
      if (key === null) {
        this.stopAt(position);
        continue;
      }
      if (this.blocked || this.stop) continue; // the rest goes as typed, unpredicted
      const state = this.predict(key);
      if (state) this.pending.push({ state, char: typeof key === "object", position, answeredAt: null });
      else this.stopAt(position);
    }
    return this.shown() !== null;
  }

  predict(key) {
    const cursor = this.screen.cursor();
    if (!this.pending.length) {
      this.base = this.serverState(cursor.y);
      this.row.startX = this.row.startX === null ? cursor.x : Math.min(this.row.startX, cursor.x);
    }
    const from = this.pending.length ? this.pending.at(-1).state : this.base;
    return afterKey(from, key, this.row.startX);
  }

  /** A key the page does not predict: nothing more until it is through, then the row proves itself anew. */
  stopAt(position) {
    if (this.stop && this.stop.answeredAt === null) this.stop.position = position;
    else this.stop = { position, answeredAt: null };
  }

  /** The cursor's row as the server shows it; a new row starts afresh. */
  follow() {
    const { y } = this.screen.cursor();
    if (this.row && this.row.y === y) return false;
    const moved = this.row !== null;
    this.forget();
    this.row = { y, startX: null };
    return moved;
  }

  /** The server answered input events up to `position`. */
  inputAnswered(position, now) {
    for (const prediction of this.pending) {
      if (prediction.answeredAt === null && prediction.position <= position) prediction.answeredAt = now;
    }
    if (this.stop && this.stop.answeredAt === null && this.stop.position <= position) this.stop.answeredAt = now;
  }

  /** When settle() must look again even if no output comes (an echo that never arrives); null: none. */
  deadline() {
    const times = [];
    if (this.pending.length && this.pending[0].answeredAt !== null) times.push(this.pending[0].answeredAt + ECHO_GRACE_MS);
    if (this.stop && this.stop.answeredAt !== null) times.push(this.stop.answeredAt + ECHO_GRACE_MS);
    return times.length ? Math.min(...times) : null;
  }

  /** Output was rendered, or a deadline passed: confirm or refute against the server's screen. */
  settle(now) {
    if (!this.enabled) return false;
    const before = this.shown();
    if (!this.screen.usable()) {
      this.forget();
    } else if (!this.follow() && this.row) {
      this.compare(now);
    }
    return before !== null || this.shown() !== null;
  }

  compare(now) {
    const watching = this.pending.length > 0 || (this.base !== null && !this.stop);
    const server = watching ? this.serverState(this.row.y) : null; // one row read per output chunk at most
    if (!this.pending.length && watching && !sameState(server, this.base)) {
      // The row changed with nothing typed: something else writes there (a program in raw mode
      // echoing twice). What was confirmed proves nothing.
      this.refuted();
    }
    if (this.pending.length) {
      const confirmed = this.pending.findLastIndex((prediction) => sameState(prediction.state, server));
      if (confirmed >= 0) {
        if (this.pending.slice(0, confirmed + 1).some((prediction) => prediction.char)) this.proven = true;
        this.pending = this.pending.slice(confirmed + 1);
        this.base = server;
      } else {
        const first = this.pending[0];
        const delivered = first.answeredAt !== null;
        const moved = !sameState(server, this.base);
        if (delivered && (moved || now >= first.answeredAt + ECHO_GRACE_MS)) this.refuted();
      }
    }
    // A key the page did not predict is through: the line is the server's again (Enter moved
    // the row already; Tab's completion or history's line is there to type after).
    if (this.stop && !this.pending.length && this.stop.answeredAt !== null && now >= this.stop.answeredAt + ECHO_GRACE_MS) {
      this.stop = null;
      this.blocked = false;
      this.proven = false;
      this.base = null;
    }
  }

  refuted() {
    this.pending = [];
    this.base = null;
    this.proven = false;
    this.blocked = true;
  }

  /**
   * What to draw over the server's screen, or null: {y, cursorX, cells: [{x, char}]} (the cells
   * where the prediction differs from the server's row).
   */
  shown() {
    if (!this.enabled || !this.proven || this.blocked || !this.pending.length || !this.row) return null;
    const predicted = this.pending.at(-1).state;
    const server = this.screen.row(this.row.y);
    const cells = [];
    predicted.cells.forEach((char, x) => {
      if (char !== server[x]) cells.push({ x, char });
    });
    return { y: this.row.y, cursorX: predicted.cursorX, cells };
  }
}
