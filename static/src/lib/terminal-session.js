// Drives one xterm against the server: create / attach / re-attach after reconnect,
// output in offset order, input in order, resize, exit. Knows nothing about the page.

import { request } from "./connection.js";
import { InputQueue, binaryStringToBytes } from "./input.js";
import { forgetResumePoint, loadResumePoint, saveResumePoint } from "./snapshot.js";
import { OutputStream } from "./stream.js";

const MAX_EARLY_CHUNKS = 256;
const MAX_TYPE_AHEAD = 1024; // key events typed while a terminal starts

function exitNote({ exitCode, signal }) {
  let text;
  if (Number.isInteger(exitCode)) text = `process exited with code ${exitCode}`;
  else if (signal) text = `process ended by signal ${signal}`;
  else text = "the remote end closed the session";
  return `\r\n\x1b[2m[${text}]\x1b[22m\r\n`;
}

export class TerminalSession {
  /**
   * @param {object} opts
   * @param {import("@xterm/xterm").Terminal} opts.term
   * @param {import("socket.io-client").Socket} opts.socket
   * @param {string} opts.workspaceId
   * @param {object} opts.ui  callbacks: onSession(id), onAccess(access), onExit(info),
   *                          onError(error, context), onListChanged(), fit(),
   *                          onLoss(bytes) (output of this session skipped, optional)
   */
  constructor({ term, socket, workspaceId, ui }) {
    this.term = term;
    this.socket = socket;
    this.workspaceId = workspaceId;
    this.ui = ui;
    this.sessionId = null;
    this.access = "operator";
    this.exited = false;
    this.creating = false;
    this.earlyChunks = [];
    this.typeAhead = [];
    this.attachSeq = 0;
    this.serverSize = null;
    this.parked = false;
    this.transformInput = (data) => data;
    this.stream = new OutputStream({
      write: (data, done) => term.write(data, done),
      ack: (offset) => {
        if (this.sessionId && this.socket.connected) {
          this.socket.emit("terminal-ack", { sessionId: this.sessionId, offset });
        }
      },
      lost: (bytes) => {
        if (this.ui.onLoss) this.ui.onLoss(bytes);
      },
    });
    this.input = new InputQueue(
      (data) => request(this.socket, "terminal-input", { sessionId: this.sessionId, data }, 60000),
      (error) => this.ui.onError(error, "input"),
    );

    socket.on("terminal-output", (msg) => this.onOutput(msg));
    socket.on("terminal-exit", (msg) => this.onExit(msg));
    socket.on("terminal-resized", (msg) => {
      if (msg && msg.sessionId === this.sessionId) {
        this.serverSize = { cols: msg.cols, rows: msg.rows };
        if (this.access === "viewer") this.term.resize(msg.cols, msg.rows);
      }
    });

    term.onData((data) => this.send(data));
    term.onBinary((data) => this.send(binaryStringToBytes(data)));
    term.onResize(({ cols, rows }) => this.sendResize(cols, rows));
  }

  get canType() {
    return Boolean(this.sessionId) && !this.exited && this.access !== "viewer";
  }

  send(data) {
    if (!this.creating && !this.canType) return;
    const input = typeof data === "string" ? this.transformInput(data) : data;
    if (this.creating) {
      // Typed ahead while the terminal starts (an SSH login takes a while): sent once it runs.
      if (this.typeAhead.length < MAX_TYPE_AHEAD) this.typeAhead.push(input);
      return;
    }
    this.claimSize();
    this.input.push(input);
  }

  /**
   * A hidden tab renders (and so acknowledges) slowly, which would hold the process back.
   * Parked, it is detached: the server keeps reading into its ring, and unpark() resumes
   * from where this screen is.
   */
  park() {
    if (this.parked || !this.sessionId || this.exited) return;
    this.parked = true;
    if (this.socket.connected) this.socket.emit("detach-terminal", { sessionId: this.sessionId }, () => {});
  }

  unpark() {
    if (!this.parked) return Promise.resolve(false);
    this.parked = false;
    return this.attach();
  }

  /** Another tab may have resized the shared terminal: whoever types here gets this tab's size. */
  claimSize() {
    const size = this.serverSize;
    if (size && (size.cols !== this.term.cols || size.rows !== this.term.rows)) {
      this.sendResize(this.term.cols, this.term.rows);
    }
  }

  sendResize(cols, rows) {
    if (!this.canType || !this.socket.connected) return;
    this.serverSize = { cols, rows };
    request(this.socket, "terminal-resize", { sessionId: this.sessionId, cols, rows }).then((ack) => {
      if (!ack.ok && ack.error && ack.error.code !== "forbidden") this.ui.onError(ack.error, "resize");
    });
  }

  onOutput(msg) {
    if (!msg || !(msg.data instanceof ArrayBuffer || ArrayBuffer.isView(msg.data))) return;
    const bytes = msg.data instanceof ArrayBuffer ? new Uint8Array(msg.data) : new Uint8Array(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength);
    if (msg.sessionId === this.sessionId) {
      this.stream.receive(msg.offset, bytes);
    } else if (this.creating && this.earlyChunks.length < MAX_EARLY_CHUNKS) {
      // The new terminal's first output can overtake the create-terminal answer.
      this.earlyChunks.push({ sessionId: msg.sessionId, offset: msg.offset, bytes });
    }
  }

  onExit(msg) {
    if (!msg || msg.sessionId !== this.sessionId || this.exited) return;
    this.exited = true;
    this.term.options.disableStdin = true;
    const sessionId = this.sessionId;
    // Let the output before the exit render first.
    this.term.write(exitNote(msg), () => forgetResumePoint(sessionId));
    this.ui.onExit(msg);
    this.ui.onListChanged();
  }

  /** Remember this tab's place so a reload redraws the screen and resumes the stream. */
  saveResumePoint() {
    if (this.sessionId && !this.exited && this.stream.expected !== null) {
      saveResumePoint(this.sessionId, this.stream.rendered, this.term);
    }
  }

  leaveCurrent() {
    if (!this.sessionId) return;
    this.saveResumePoint();
    if (this.socket.connected) this.socket.emit("detach-terminal", { sessionId: this.sessionId }, () => {});
    this.stream.flushAck();
  }

  /** Clear the screen once xterm has parsed what is already queued (reset() does not drop it). */
  async resetScreen() {
    this.exited = false;
    await new Promise((resolve) => this.term.write("", resolve));
    this.term.reset();
    this.term.options.disableStdin = false;
  }

  /** Show another session in this terminal (or the same one after a page load). */
  async open(sessionId) {
    if (sessionId !== this.sessionId) this.leaveCurrent();
    this.parked = false;
    this.sessionId = sessionId;
    this.attachSeq += 1;
    const resume = loadResumePoint(sessionId);
    this.stream.start(resume ? resume.offset : null);
    this.ui.onSession(sessionId);
    await this.resetScreen();
    if (sessionId !== this.sessionId) return false;
    if (resume) this.term.write(resume.screen);
    return this.attach();
  }

  /** (Re-)attach the current session from where this screen is. */
  async attach() {
    const sessionId = this.sessionId;
    if (!sessionId || !this.socket.connected) return false;
    const seq = ++this.attachSeq;
    const since = this.stream.resumeOffset();
    const payload = { sessionId };
    if (since !== null) payload.since = since;
    const ack = await request(this.socket, "attach-terminal", payload);
    if (seq !== this.attachSeq || sessionId !== this.sessionId) return false;
    if (!ack.ok) {
      const code = ack.error && ack.error.code;
      if (code === "bad_request" && since !== null) {
        // Our stored place is not in this stream (e.g. a stale record): start over from the replay.
        forgetResumePoint(sessionId);
        this.stream.start(null);
        await this.resetScreen();
        return this.attach();
      }
      if (code === "not_found" || code === "conflict") {
        // Gone, or ended and no longer held (e.g. the server restarted): nothing to resume.
        forgetResumePoint(sessionId);
        this.exited = true;
        this.term.options.disableStdin = true;
      }
      this.ui.onError(ack.error || {}, "attach");
      return false;
    }
    this.stream.attached(ack.replayFrom);
    this.setAccess(ack.access || "operator");
    this.serverSize = { cols: ack.cols, rows: ack.rows };
    if (this.access === "viewer") {
      this.term.resize(ack.cols, ack.rows);
    } else {
      this.ui.fit();
      this.claimSize();
    }
    return true;
  }

  setAccess(access) {
    this.access = access;
    this.term.options.disableStdin = access === "viewer" || this.exited;
    this.ui.onAccess(access);
  }

  /** Start a new terminal in the workspace and show it. Resolves with the ack. */
  async create() {
    this.leaveCurrent();
    this.parked = false;
    this.sessionId = null;
    this.creating = true;
    this.earlyChunks = [];
    this.typeAhead = [];
    this.attachSeq += 1;
    this.stream.start(0);
    await this.resetScreen();
    this.ui.fit();
    let ack;
    try {
      ack = await request(
        this.socket,
        "create-terminal",
        { workspaceId: this.workspaceId, cols: this.term.cols, rows: this.term.rows },
        30000,
      );
    } finally {
      this.creating = false;
    }
    const typed = this.typeAhead;
    this.typeAhead = [];
    if (!ack.ok) {
      this.earlyChunks = [];
      return ack;
    }
    this.sessionId = ack.sessionId;
    this.setAccess("operator");
    this.serverSize = { cols: ack.cols, rows: ack.rows };
    this.ui.onSession(ack.sessionId);
    for (const chunk of this.earlyChunks) {
      if (chunk.sessionId === ack.sessionId) this.stream.receive(chunk.offset, chunk.bytes);
    }
    this.earlyChunks = [];
    this.claimSize();
    for (const input of typed) this.input.push(input);
    this.ui.onListChanged();
    return ack;
  }

  /** After a reconnect: pick up where this screen is. */
  reconnected() {
    if (this.sessionId && !this.exited && !this.parked) return this.attach();
    return Promise.resolve(false);
  }
}
