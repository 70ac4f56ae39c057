// What arrives while a new terminal starts, before the create-terminal answer names it: its first
// output, which can overtake the answer, and the keys typed meanwhile (an SSH login takes a while),
// sent once it runs.

const MAX_EARLY_CHUNKS = 256;
const MAX_TYPE_AHEAD = 1024; // key events

export class Starting {
  constructor() {
    this.active = false;
    this.output = []; // [{sessionId, offset, bytes, msg}]
    this.typed = [];
  }

  begin() {
    this.active = true;
    this.output = [];
    this.typed = [];
  }

  /** Output of a terminal this page does not show: maybe the new one's. */
  keepOutput(sessionId, offset, bytes, msg = { sessionId, offset }) {
    if (this.active && this.output.length < MAX_EARLY_CHUNKS) this.output.push({ sessionId, offset, bytes, msg });
  }

  keepTyped(input) {
    if (this.typed.length < MAX_TYPE_AHEAD) this.typed.push(input);
  }

  /** The answer came: the new terminal's early output and the keys typed (none if it did not start). */
  end(sessionId) {
    const kept = {
      output: sessionId ? this.output.filter((chunk) => chunk.sessionId === sessionId) : [],
      typed: sessionId ? this.typed : [],
    };
    this.active = false;
    this.output = [];
    this.typed = [];
    return kept;
  }
}
