// Tells the user's input from xterm's answers to the output it parses.
//
// A program asks the terminal things by printing queries: device attributes (ESC [ c), the cursor
// position (ESC [ 6 n), colours (OSC 10/11/12 ; ?), mode reports (ESC [ ? 2004 $ p), the focus
// state when it turns focus reporting on. xterm answers through onData / onBinary, the very events
// that carry keystrokes. Answers to output replayed to this page (the ring on attach, a saved
// screen) are answers to questions asked long ago, often of another tab: sent, they would arrive
// at the shell as typed text. So every emission is sorted by where it came from:
//
// - xterm answers synchronously while it parses a chunk, and calls that chunk's write callback
//   right after it, in the same task. What xterm emits is held until the end of the task (a
//   microtask); a write callback that runs meanwhile marks what was emitted since as answers to
//   its chunk, and the chunk's tag says what becomes of them (sent, dropped, or held until known).
// - Everything else comes from DOM events (keys, paste, IME, mouse, focus changes), in tasks of
//   their own with no parsing in them: the user's input.

import { binaryStringToBytes } from "./input.js";

const MAX_HELD = 64; // answers waiting for their chunk to be known as live or replayed
// xterm parses each write whole before it looks at the clock (it yields to the renderer after 12 ms
// of writes, between writes): the server's 256 KiB chunks of `seq` took 160-260 ms each on a busy
// 2-core machine, a frozen page meanwhile (bench/browser.py: the longest frame). Written in pieces,
// a frame waits for one piece at most.
export const WRITE_PIECE_BYTES = 16 * 1024;
// While the scrollback fills (a new terminal, or after `clear`), every line also moves xterm's
// scrollbar, synchronously (its Viewport resets a timer and restyles the slider per line): ~40 µs a
// line instead of ~1, and 16 KiB of short lines held the page for 100-200 ms.
export const FILLING_PIECE_BYTES = 2 * 1024;

export class TerminalReplies {
  /**
   * @param {import("@xterm/xterm").Terminal} term  written only through write() below
   * @param {object} hooks
   * @param {(data: string|Uint8Array) => void} hooks.input  the user's input
   * @param {(data: string|Uint8Array) => void} hooks.answer  an answer to send to the program
   * @param {(tag: any) => "send"|"drop"|"hold"} hooks.decide  what becomes of the answers to a chunk
   */
  constructor(term, hooks) {
    this.term = term;
    this.hooks = hooks;
    this.emitted = []; // [{data, tag}] emitted in this task; tag set when a chunk claims them
    this.flushQueued = false;
    this.held = [];
    term.onData((data) => this.emit(data));
    term.onBinary((data) => this.emit(binaryStringToBytes(data)));
  }

  /** Write output; whatever xterm answers to it is decided by `tag`. `done` once all is parsed. */
  write(data, tag, done) {
    const claim = () => {
      for (const item of this.emitted) {
        if (item.tag === undefined) item.tag = tag;
      }
    };
    let rest = data;
    if (typeof rest !== "string") {
      // Views of the same bytes, not copies; each piece claims the answers to what it held.
      const piece = this.pieceBytes();
      while (rest.length > piece) {
        this.term.write(rest.subarray(0, piece), claim);
        rest = rest.subarray(piece);
      }
    }
    this.term.write(rest, () => {
      claim();
      if (done) done();
    });
  }

  /** How much xterm is given at a time: less while its scrollback fills (see FILLING_PIECE_BYTES). */
  pieceBytes() {
    const buffer = this.term.buffer?.active;
    if (!buffer || buffer.type === "alternate") return WRITE_PIECE_BYTES; // full-screen programs: no scrollback
    return buffer.length < this.term.rows + (this.term.options.scrollback ?? 0) ? FILLING_PIECE_BYTES : WRITE_PIECE_BYTES;
  }

  emit(data) {
    this.emitted.push({ data, tag: undefined });
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flush());
    }
  }

  flush() {
    this.flushQueued = false;
    const items = this.emitted;
    this.emitted = [];
    for (const item of items) {
      if (item.tag === undefined) this.hooks.input(item.data);
      else this.route(item);
    }
  }

  route(item) {
    const verdict = this.hooks.decide(item.tag);
    if (verdict === "send") this.hooks.answer(item.data);
    else if (verdict === "hold" && this.held.length < MAX_HELD) this.held.push(item);
  }

  /** Decide again on the answers held so far (their chunks' fate may be known now). */
  release() {
    const held = this.held;
    this.held = [];
    for (const item of held) this.route(item);
  }
}
