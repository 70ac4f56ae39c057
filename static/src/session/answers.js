// What becomes of xterm's answers to the output it parses (replies.js tells them from the user's
// input). Replayed output (a saved screen, the ring replayed on attach, the page's own notes) was
// asked of the page that saw it live, if any: its answers are dropped. Live output is answered by
// the tab in use alone. Until the attach ack says where the live output starts, answers wait.

import { TerminalReplies } from "./replies.js";

const REPLAYED = "replayed";

export class Answers {
  /**
   * @param {import("@xterm/xterm").Terminal} term  written only through this object
   * @param {object} hooks
   * @param {(data: string|Uint8Array) => void} hooks.input  the user's input
   * @param {(data: string|Uint8Array) => void} hooks.answer  an answer to send to the program
   * @param {() => boolean} hooks.mayAnswer  this tab answers live output now (it is the one in use)
   */
  constructor(term, { input, answer, mayAnswer }) {
    this.mayAnswer = mayAnswer;
    this.attachment = { liveFrom: null }; // the current attachment: where its live output starts
    this.replies = new TerminalReplies(term, { input, answer, decide: (tag) => this.decide(tag) });
  }

  decide(tag) {
    if (tag === REPLAYED || tag.attachment !== this.attachment) return "drop";
    if (tag.attachment.liveFrom === null) return "hold";
    if (tag.end <= tag.attachment.liveFrom) return "drop";
    return this.mayAnswer() ? "send" : "drop";
  }

  /** Write output of the stream; `end` is the stream offset right after it. */
  writeStream(data, end, done) {
    this.replies.write(data, { attachment: this.attachment, end }, done);
  }

  /** Write output that is not the live stream (a saved screen, a note): nothing in it is answered. */
  writeReplayed(data, done) {
    this.replies.write(data, REPLAYED, done);
  }

  /**
   * A new attachment, whose live output starts at `liveFrom` (null: the attach ack will say).
   * The answers held so far were the old attachment's: dropped. Returns the attachment.
   */
  newAttachment(liveFrom = null) {
    this.attachment = { liveFrom };
    this.replies.release();
    return this.attachment;
  }

  /** The attach ack: output before `offset` was replayed, its queries asked before this attach. */
  live(attachment, offset) {
    attachment.liveFrom = offset;
    this.replies.release();
  }
}
