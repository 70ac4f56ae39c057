// Keyboard and paste input, in order, with big pastes split to fit the server's limit.

export const MAX_PIECE_BYTES = 512 * 1024;
// A piece answered `throttled` is sent again after these pauses (the last one repeating), for up to
// THROTTLED_RETRY_MS in all; then the error is shown and the piece is not sent.
const THROTTLED_PAUSES_MS = [100, 250, 500, 1000];
export const THROTTLED_RETRY_MS = 60_000;

const encoder = new TextEncoder();

/** Split text into pieces of at most `maxBytes` UTF-8 bytes, never inside a character. */
export function splitUtf8(text, maxBytes = MAX_PIECE_BYTES) {
  if (text.length * 3 <= maxBytes) return [text];
  const pieces = [];
  let start = 0;
  while (start < text.length) {
    // A UTF-16 unit is at most 3 UTF-8 bytes; a surrogate pair (2 units) is 4.
    let end = Math.min(text.length, start + Math.floor(maxBytes / 3));
    let size = encoder.encode(text.slice(start, end)).length;
    // Grow while it fits (mostly-ASCII text), in steps that stay within the budget.
    while (end < text.length && size < maxBytes) {
      const room = Math.floor((maxBytes - size) / 3);
      if (room < 1) break;
      const next = Math.min(text.length, end + room);
      size += encoder.encode(text.slice(end, next)).length;
      end = next;
    }
    const code = text.charCodeAt(end - 1);
    if (end < text.length && code >= 0xd800 && code <= 0xdbff) end -= 1; // keep the pair whole
    pieces.push(text.slice(start, end));
    start = end;
  }
  return pieces;
}

/** xterm's onBinary hands over a string of byte values 0-255. */
export function binaryStringToBytes(text) {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i += 1) bytes[i] = text.charCodeAt(i) & 0xff;
  return bytes;
}

/**
 * Sends input events one after another: each waits for the previous one's ack, so a large paste
 * is delivered in order and keystrokes typed meanwhile come after it. What is typed while an
 * event is in flight leaves as one event once it is answered: a burst of keys costs two round
 * trips, not one per key (at 150 ms from the server, a quickly typed word would trickle out).
 */
export class InputQueue {
  constructor(emit, onError, maxBytes = MAX_PIECE_BYTES) {
    this.emit = emit; // (data) => Promise<ack>
    this.onError = onError;
    this.maxBytes = maxBytes;
    this.waiting = []; // [{data, bytes}] not sent yet, oldest first
    this.draining = null; // resolves once everything pushed so far has been answered
    this.pushed = 0; // units (string length or bytes) pushed so far...
    this.answered = 0; // ...and answered: predictive echo (prediction.js) learns its keys arrived
    this.onAnswer = null; // (answered, milliseconds the event took) after each answer
    this.retryMs = THROTTLED_RETRY_MS;
    // While there is no connection, input waits here (not in the socket's buffer, unseen): `sendable`
    // returns null when it may go, else a promise of when; `onHeld(characters)` tells how much waits
    // (0: none any more), and discard() drops it. Typed blind and sent a minute later, a command the
    // user had given up on (and typed again) would run twice.
    this.sendable = null;
    this.onHeld = null;
    this.holding = false;
    this.dropHeld = false;
  }

  /** Characters waiting to be sent (the piece held back included). */
  heldCount() {
    return (this.holdingPiece?.length || 0) + this.waiting.reduce((sum, item) => sum + item.data.length, 0);
  }

  /** Drop what is held back for want of a connection (nothing is dropped once it is on its way). */
  discard() {
    if (!this.holding) return;
    this.answered += this.heldCount(); // predictions of it are settled: it will never be answered
    this.waiting = [];
    this.holdingPiece = null;
    this.dropHeld = true;
    this.onHeld?.(0);
  }

  push(data) {
    const pieces = typeof data === "string" ? splitUtf8(data, this.maxBytes) : [data];
    for (const piece of pieces) {
      const bytes = typeof piece === "string" ? encoder.encode(piece).length : piece.length;
      this.pushed += piece.length;
      const last = this.waiting.at(-1);
      if (last && typeof last.data === "string" && typeof piece === "string" && last.bytes + bytes <= this.maxBytes) {
        last.data += piece;
        last.bytes += bytes;
      } else {
        this.waiting.push({ data: piece, bytes });
      }
    }
    if (this.holding) this.onHeld?.(this.heldCount());
    if (!this.draining) this.draining = this.drain();
    return this.draining;
  }

  async drain() {
    while (this.waiting.length) {
      const { data } = this.waiting.shift();
      const wait = this.sendable?.();
      if (wait) {
        this.holding = true;
        this.holdingPiece = data;
        this.onHeld?.(this.heldCount());
        await wait;
        this.holding = false;
        this.holdingPiece = null;
        this.onHeld?.(0); // connected: what waits goes now
        if (this.dropHeld) { // discarded while it waited
          this.dropHeld = false;
          continue;
        }
      }
      const sent = performance.now();
      try {
        const ack = await this.sendRetryingThrottled(data);
        if (ack && ack.ok === false) this.onError(ack.error || {});
      } catch (err) {
        this.onError({ code: "network", message: err.message });
      }
      this.answered += data.length;
      if (this.onAnswer) this.onAnswer(this.answered, performance.now() - sent);
    }
    this.draining = null;
  }

  /**
   * Send one piece; `throttled` (the program is not reading its input yet, or this page sent too
   * many events) is sent again after a pause, for up to THROTTLED_RETRY_MS: a paste into a slow
   * program arrives whole, in order, and what is typed after it still waits behind it.
   */
  async sendRetryingThrottled(data) {
    const started = performance.now();
    let pause = THROTTLED_PAUSES_MS[0];
    for (let attempt = 1; ; attempt += 1) {
      const ack = await this.emit(data);
      const throttled = ack && ack.ok === false && ack.error?.code === "throttled";
      if (!throttled || performance.now() - started + pause > this.retryMs) return ack;
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = THROTTLED_PAUSES_MS[Math.min(attempt, THROTTLED_PAUSES_MS.length - 1)];
    }
  }
}
