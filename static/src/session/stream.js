// One session's output stream as this tab renders it: puts chunks in offset order
// (drops duplicates, reports gaps), writes raw bytes to xterm, and acknowledges
// what was rendered, batched, for the server's flow control.

import { formatBytes } from "../lib/dom.js";

const ACK_INTERVAL_MS = 16;
const ACK_BYTES = 64 * 1024;

const DIM = "\x1b[2m";
const RESET = "\x1b[22m";

export function lossNote(bytes) {
  const unit = bytes === 1 ? "byte" : "bytes";
  return `\r\n${DIM}[aict: ${bytes} ${unit} of output were dropped]${RESET}\r\n`;
}

/**
 * Where a first view starts after output the server no longer holds: nothing of this page's is
 * lost. `below`: the note follows a saved screen (another tab's), not the top of an empty one.
 */
export function notKeptNote(bytes, below = false) {
  return `${below ? "\r\n" : ""}${DIM}[aict: earlier output (${formatBytes(bytes)}) is not kept here]${RESET}\r\n`;
}

export class OutputStream {
  /**
   * @param {object} hooks
   * @param {(data: Uint8Array|string, done: () => void, end: number) => void} hooks.write  render
   *        bytes; `end` is the stream offset right after them
   * @param {(offset: number) => void} hooks.ack  first byte not yet rendered
   * @param {(offset: number) => void} [hooks.rendered]  after each rendered chunk
   * @param {(bytes: number) => void} [hooks.lost]  output was skipped (the note is in the terminal)
   */
  constructor(hooks) {
    this.hooks = hooks;
    this.expected = null; // next offset we want; null until the stream's start is known
    this.rendered = 0; // end of what xterm has parsed
    this.acked = 0;
    this.droppedBytes = 0;
    this.notKeptBytes = 0; // older than a first view: not shown, and not lost either
    this.firstView = false;
    this.generation = 0;
    this.ackTimer = null;
  }

  /**
   * Start a new stream on a fresh screen: `expected` is the offset asked for, or null
   * for "whatever comes first". Writes still queued for an older stream are forgotten.
   * `firstView`: this page has rendered none of the stream up to `expected` itself (a fresh
   * page, or one showing another tab's saved screen), so output the server no longer holds
   * before its first byte was not lost here: a quiet note says that it is not kept.
   */
  start(expected, { firstView = false } = {}) {
    this.generation += 1;
    this.firstView = firstView;
    this.expected = expected;
    this.rendered = expected ?? 0;
    this.acked = this.rendered;
    this.cancelAck();
  }

  /** The attach ack arrived: replay starts at `replayFrom`; anything before it is lost. */
  attached(replayFrom) {
    if (this.expected === null) {
      this.begin(replayFrom);
    } else if (replayFrom > this.expected) {
      this.gap(replayFrom);
    }
    this.firstView = false;
    // A new attachment starts its own flow-control window: tell it where we are.
    this.acked = -1;
    this.scheduleAck();
  }

  /** A first view without a place of its own starts where the server's replay does. */
  begin(offset) {
    this.expected = offset;
    this.rendered = offset;
    this.acked = offset;
    if (offset > 0) this.notKept(offset, offset, false);
  }

  notKept(bytes, offset, below) {
    this.notKeptBytes += bytes;
    this.writeThen(notKeptNote(bytes, below), offset);
  }

  gap(offset) {
    const missing = offset - this.expected;
    this.expected = offset;
    if (this.firstView) {
      this.firstView = false;
      this.notKept(missing, offset, true);
      return;
    }
    this.droppedBytes += missing;
    this.writeThen(lossNote(missing), offset);
    if (this.hooks.lost) this.hooks.lost(missing);
  }

  /** A `terminal-output` chunk. */
  receive(offset, data) {
    let bytes = data;
    if (this.expected === null) this.begin(offset);
    const end = offset + bytes.length;
    if (end <= this.expected) return; // all seen before
    if (offset < this.expected) {
      bytes = bytes.subarray(this.expected - offset);
    } else if (offset > this.expected) {
      this.gap(offset);
    }
    this.firstView = false;
    this.expected = end;
    this.writeThen(bytes, end);
  }

  writeThen(data, end) {
    const generation = this.generation;
    this.hooks.write(
      data,
      () => {
        if (generation !== this.generation) return;
        if (end > this.rendered) this.rendered = end;
        if (this.hooks.rendered) this.hooks.rendered(this.rendered);
        this.scheduleAck();
      },
      end,
    );
  }

  scheduleAck() {
    if (this.rendered - this.acked >= ACK_BYTES) {
      this.flushAck();
    } else if (this.ackTimer === null) {
      this.ackTimer = setTimeout(() => {
        this.ackTimer = null;
        this.flushAck();
      }, ACK_INTERVAL_MS);
    }
  }

  flushAck() {
    this.cancelAck();
    if (this.rendered > this.acked && this.expected !== null) {
      this.acked = this.rendered;
      this.hooks.ack(this.rendered);
    }
  }

  cancelAck() {
    if (this.ackTimer !== null) {
      clearTimeout(this.ackTimer);
      this.ackTimer = null;
    }
  }

  /** Where a re-attach should resume: everything before it is rendered or queued for rendering. */
  resumeOffset() {
    return this.expected;
  }
}
