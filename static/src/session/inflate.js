// Output the server sends compressed (the page attached with `compress: "deflate-raw"`, docs/api.md):
// each attachment's chunks form one raw-deflate stream, flushed at every chunk, so the browser's own
// DecompressionStream yields a chunk's bytes as soon as it arrives; a chunk marked `reset` starts a new
// stream (a new attachment). Decoding is asynchronous, so every chunk, compressed or not, and whatever
// must follow the output (the exit note) wait their turn: the stream's order holds.

export const DEFLATE_RAW = "deflate-raw";

/** Whether this browser decodes raw deflate (DecompressionStream: Chrome 103, Firefox 113, Safari 16.4). */
export function canInflate() {
  try {
    new DecompressionStream(DEFLATE_RAW); // eslint-disable-line no-new
    return true;
  } catch {
    return false;
  }
}

/** One raw-deflate stream, decoded chunk by chunk. */
class RawInflate {
  constructor() {
    const stream = new DecompressionStream(DEFLATE_RAW);
    this.writer = stream.writable.getWriter();
    this.reader = stream.readable.getReader();
  }

  /** The `length` bytes that `data` (the next part of the stream) decodes to. */
  async decode(data, length) {
    this.writer.write(data).catch(() => {}); // a failure shows in the read below
    const parts = [];
    let got = 0;
    while (got < length) {
      const { value, done } = await this.reader.read();
      if (done) throw new Error("the compressed output ended early");
      parts.push(value);
      got += value.length;
    }
    if (got !== length) throw new Error(`compressed output decoded to ${got} bytes, not ${length}`);
    if (parts.length === 1) return parts[0];
    const whole = new Uint8Array(length);
    let at = 0;
    for (const part of parts) {
      whole.set(part, at);
      at += part.length;
    }
    return whole;
  }

  close() {
    this.writer.abort().catch(() => {});
    this.reader.cancel().catch(() => {});
  }
}

export class Inflater {
  /** @param {(error: Error) => void} onError  a chunk did not decode (what follows it cannot either) */
  constructor(onError) {
    this.onError = onError;
    this.current = null;
    this.tail = Promise.resolve();
    this.pending = 0;
  }

  /** A `terminal-output` message and its bytes: `deliver(bytes)` gets them decoded, in arrival order. */
  push(msg, bytes, deliver) {
    if (msg.encoding !== DEFLATE_RAW) {
      this.after(() => deliver(bytes));
      return;
    }
    if (msg.reset) {
      if (this.current) this.current.close();
      this.current = new RawInflate();
    } else if (this.current === null) {
      return; // the rest of a stream that failed: the re-attach that follows sends it anew
    }
    const stream = this.current;
    this.queue(async () => {
      let decoded;
      try {
        decoded = await stream.decode(bytes, msg.length);
      } catch (error) {
        if (this.current === stream) this.current = null;
        throw error;
      }
      deliver(decoded);
    });
  }

  /** Run `step` once everything received before it is delivered (at once when nothing waits). */
  after(step) {
    if (this.pending === 0) step();
    else this.queue(step);
  }

  queue(step) {
    this.pending += 1;
    this.tail = this.tail
      .then(step)
      .catch((error) => this.onError(error))
      .finally(() => {
        this.pending -= 1;
      });
  }
}
