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

  /** Write output; whatever xterm answers to it is decided by `tag`. */
  write(data, tag, done) {
    this.term.write(data, () => {
      for (const item of this.emitted) {
        if (item.tag === undefined) item.tag = tag;
      }
      if (done) done();
    });
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
