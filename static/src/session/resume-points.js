// Where a reloaded page picks up: the screen as escape sequences that redraw it (made by
// @xterm/addon-serialize), with the stream offset it shows, kept per tab (sessionStorage) and as
// the latest of any tab (localStorage). The page redraws the screen, then resumes the stream there.

import { SerializeAddon } from "@xterm/addon-serialize";

const MAX_LINES = 2000; // of scrollback and screen together: 8 screens must fit in localStorage
const KEEP_STORED = 8;
const PREFIX = "aict.resume.";

/** Snapshots of one xterm's screen, scrollback, cursor and modes: taken, and redrawn after a reload. */
export class ScreenSnapshots {
  constructor(term) {
    this.term = term;
    this.addon = new SerializeAddon();
    this.resizing = false; // the xterm is resized to redraw a snapshot (or to show the terminal's size): no size for the server
    term.loadAddon(this.addon);
  }

  /**
   * {screen, cols, rows, cut}: redraw `screen` at cols × rows, then resize as needed (xterm reflows
   * it). `cut`: the scrollback held more lines than a snapshot keeps (see TerminalSession.open).
   */
  take() {
    const { term } = this;
    let screen = this.addon.serialize({ scrollback: Math.max(0, MAX_LINES - term.rows) });
    const cut = term.buffer.active.type === "normal" && term.buffer.active.length > MAX_LINES;
    // The addon turns mouse tracking back on but not its encoding, which xterm's API does not tell:
    // without SGR encoding (1006), the one current programs ask for, a click after a reload reached
    // vim or htop as X10 bytes (test_a_click_reaches_a_program_that_asked_for_the_mouse[reloaded]).
    if (term.modes.mouseTrackingMode !== "none") screen += "\x1b[?1006h";
    return { screen, cols: term.cols, rows: term.rows, cut };
  }

  /**
   * Redraw a snapshot at the size it was taken at, then come back to this xterm's size, which xterm
   * reflows as it does a resized window (the addon's own advice). Written at another size, a screen
   * with blank rows below the cursor put the cursor, and the output resumed after it, below them.
   * `write(data, done)` writes without answering queries; `resizing` is true while the size is ours.
   */
  async restore({ screen, cols, rows }, write) {
    const here = { cols: this.term.cols, rows: this.term.rows };
    if (cols) this.resizeQuietly(cols, rows);
    await new Promise((resolve) => write(screen, resolve));
    if (cols) this.resizeQuietly(here.cols, here.rows);
  }

  resizeQuietly(cols, rows) {
    this.resizing = true;
    try {
      this.term.resize(cols, rows);
    } finally {
      this.resizing = false;
    }
  }
}

function prune() {
  const entries = [];
  for (let i = 0; i < localStorage.length; i += 1) {
    const key = localStorage.key(i);
    if (!key || !key.startsWith(PREFIX)) continue;
    let savedAt = 0;
    try {
      savedAt = JSON.parse(localStorage.getItem(key)).savedAt || 0;
    } catch {
      // unreadable: oldest
    }
    entries.push([savedAt, key]);
  }
  entries.sort((a, b) => b[0] - a[0]);
  for (const [, key] of entries.slice(KEEP_STORED)) localStorage.removeItem(key);
}

function put(storage, key, value) {
  try {
    storage.setItem(key, value);
    return true;
  } catch {
    return false; // quota: the page will replay from the server instead
  }
}

/** Remember a snapshot (ScreenSnapshots.take()) and the offset it shows, per tab and as the latest for the session. */
export function saveResumePoint(sessionId, offset, snapshot) {
  const record = JSON.stringify({ offset, ...snapshot, savedAt: Date.now() });
  const key = PREFIX + sessionId;
  put(sessionStorage, key, record);
  if (!put(localStorage, key, record)) {
    prune();
    put(localStorage, key, record);
  }
  prune();
}

const isSize = (n) => Number.isInteger(n) && n >= 1 && n <= 1000;

/**
 * This tab's resume point for the session (`own`: true), else the latest of any tab (`own`: false,
 * what another tab saw); null when none. `cols` and `rows` are null when the record lacks them.
 */
export function loadResumePoint(sessionId) {
  const key = PREFIX + sessionId;
  for (const storage of [sessionStorage, localStorage]) {
    try {
      const raw = storage.getItem(key);
      if (!raw) continue;
      const record = JSON.parse(raw);
      if (Number.isInteger(record.offset) && record.offset >= 0 && typeof record.screen === "string") {
        const sized = isSize(record.cols) && isSize(record.rows);
        return {
          offset: record.offset,
          screen: record.screen,
          cols: sized ? record.cols : null,
          rows: sized ? record.rows : null,
          cut: record.cut === true,
          own: storage === sessionStorage,
        };
      }
    } catch {
      // ignore a damaged record
    }
  }
  return null;
}

export function forgetResumePoint(sessionId) {
  sessionStorage.removeItem(PREFIX + sessionId);
  localStorage.removeItem(PREFIX + sessionId);
}
