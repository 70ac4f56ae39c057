// Drives one xterm against the server: create / attach / re-attach after reconnect,
// output in offset order, input in order, resize, exit. Knows nothing about the page.

import { request } from "./connection.js";
import { InputQueue } from "./input.js";
import {
  ATTACH_TERMINAL,
  CREATE_TERMINAL,
  DETACH_TERMINAL,
  TERMINAL_ACK,
  TERMINAL_EXIT,
  TERMINAL_INPUT,
  TERMINAL_OUTPUT,
  TERMINAL_RESIZE,
  TERMINAL_RESIZED,
} from "./protocol.js";
import { TerminalReplies } from "./replies.js";
import { forgetResumePoint, loadResumePoint, saveResumePoint, ScreenSnapshots } from "./resume-points.js";
import { OutputStream } from "./stream.js";

const MAX_EARLY_CHUNKS = 256;
const MAX_TYPE_AHEAD = 1024; // key events typed while a terminal starts
const REPLAYED = "replayed"; // output that is not live: a saved screen, notes of the page's own
const FOCUS_OUT = "\x1b[O"; // focus reporting: this tab lost the focus, which claims nothing

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
    // This tab is the one in use: it set the size last (opened, resized, focused or typed into),
    // and only it answers the program's queries. Another tab's claim takes it away.
    this.inUse = false;
    this.claimSeq = 0;
    this.claiming = 0; // the claim (a terminal-resize) in flight, if any
    // The current attachment: the offset where its live output starts, once the ack says.
    this.attachment = { liveFrom: null };
    this.parked = false;
    this.restoring = false; // the xterm is resized to redraw a saved screen: nothing to tell the server
    this.snapshots = new ScreenSnapshots(term);
    this.transformInput = (data) => data;
    this.replies = new TerminalReplies(term, {
      input: (data) => this.send(data),
      answer: (data) => this.input.push(data),
      decide: (tag) => this.decideAnswer(tag),
    });
    this.stream = new OutputStream({
      write: (data, done, end) => this.replies.write(data, { attachment: this.attachment, end }, done),
      ack: (offset) => {
        if (this.sessionId && this.socket.connected) {
          this.socket.emit(TERMINAL_ACK, { sessionId: this.sessionId, offset });
        }
      },
      lost: (bytes) => {
        if (this.ui.onLoss) this.ui.onLoss(bytes);
      },
    });
    this.input = new InputQueue(
      (data) => request(this.socket, TERMINAL_INPUT, { sessionId: this.sessionId, data }, 60000),
      (error) => this.ui.onError(error, "input"),
    );

    socket.on(TERMINAL_OUTPUT, (msg) => this.onOutput(msg));
    socket.on(TERMINAL_EXIT, (msg) => this.onExit(msg));
    socket.on(TERMINAL_RESIZED, (msg) => {
      if (!msg || msg.sessionId !== this.sessionId) return;
      if (this.claiming) return; // the server took our claim after this one: ours stands
      this.inUse = false;
      this.serverSize = { cols: msg.cols, rows: msg.rows };
      if (this.access === "viewer") this.term.resize(msg.cols, msg.rows);
    });

    term.onResize(({ cols, rows }) => {
      if (!this.restoring) this.sendResize(cols, rows);
    });
  }

  get canType() {
    return Boolean(this.sessionId) && !this.exited && this.access !== "viewer";
  }

  /**
   * What becomes of xterm's answers to a chunk of output: replayed output was asked of the page
   * that saw it live (if any), so its answers are dropped; live output is answered by the tab in
   * use alone. Until the attach ack says where the live output starts, answers wait.
   */
  decideAnswer(tag) {
    if (tag === REPLAYED || tag.attachment !== this.attachment) return "drop";
    if (tag.attachment.liveFrom === null) return "hold";
    if (tag.end <= tag.attachment.liveFrom) return "drop";
    return this.inUse && this.canType && !this.parked ? "send" : "drop";
  }

  /** Write output that is not the live stream (a saved screen, a note): nothing in it is answered. */
  writeReplayed(data, done) {
    this.replies.write(data, REPLAYED, done);
  }

  /** A new attachment: what xterm answers to its output waits for the ack. */
  newAttachment(liveFrom = null) {
    this.attachment = { liveFrom };
    this.claiming = 0;
    this.replies.release(); // the held answers were the old attachment's: dropped
  }

  send(data) {
    if (!this.creating && !this.canType) return;
    const input = typeof data === "string" ? this.transformInput(data) : data;
    if (this.creating) {
      // Typed ahead while the terminal starts (an SSH login takes a while): sent once it runs.
      if (this.typeAhead.length < MAX_TYPE_AHEAD) this.typeAhead.push(input);
      return;
    }
    if (data !== FOCUS_OUT) this.claimSize();
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
    if (this.socket.connected) this.socket.emit(DETACH_TERMINAL, { sessionId: this.sessionId }, () => {});
  }

  unpark() {
    if (!this.parked) return Promise.resolve(false);
    this.parked = false;
    return this.attach();
  }

  /**
   * This tab is being used (focused, typed into, opened): it takes the terminal over, with its size.
   * At the size the terminal already has, the resize changes nothing for the program, but the
   * other tabs hear that they are no longer in use.
   */
  claimSize() {
    const size = this.serverSize;
    if (this.inUse && size && size.cols === this.term.cols && size.rows === this.term.rows) return;
    this.sendResize(this.term.cols, this.term.rows);
  }

  sendResize(cols, rows) {
    if (!this.canType || !this.socket.connected) return;
    this.serverSize = { cols, rows };
    this.inUse = true;
    const claim = ++this.claimSeq;
    this.claiming = claim;
    request(this.socket, TERMINAL_RESIZE, { sessionId: this.sessionId, cols, rows }).then((ack) => {
      if (this.claiming === claim) this.claiming = 0;
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
    this.writeReplayed(exitNote(msg), () => forgetResumePoint(sessionId));
    this.ui.onExit(msg);
    this.ui.onListChanged();
  }

  /** Remember this tab's place so a reload redraws the screen and resumes the stream. */
  saveResumePoint() {
    if (this.sessionId && !this.exited && this.stream.expected !== null) {
      saveResumePoint(this.sessionId, this.stream.rendered, this.snapshots.take());
    }
  }

  leaveCurrent() {
    if (!this.sessionId) return;
    this.saveResumePoint();
    if (this.socket.connected) this.socket.emit(DETACH_TERMINAL, { sessionId: this.sessionId }, () => {});
    this.stream.flushAck();
  }

  /** Clear the screen once xterm has parsed what is already queued (reset() does not drop it). */
  async resetScreen() {
    this.exited = false;
    await new Promise((resolve) => this.writeReplayed("", resolve));
    this.term.reset();
    this.term.options.disableStdin = false;
  }

  /**
   * Redraw a saved screen at the size it was saved at, then come back to this page's size: xterm
   * reflows it as it does when a window is resized (addon-serialize's own advice). Written at another
   * size, a screen with blank rows below the cursor put the cursor, and the resumed output, below them.
   */
  async restoreScreen({ screen, cols, rows }) {
    const here = { cols: this.term.cols, rows: this.term.rows };
    const resize = (size) => {
      this.restoring = true;
      try {
        this.term.resize(size.cols, size.rows);
      } finally {
        this.restoring = false;
      }
    };
    if (cols) resize({ cols, rows });
    await new Promise((resolve) => this.writeReplayed(screen, resolve));
    if (cols) resize(here);
  }

  /** Show another session in this terminal (or the same one after a page load). */
  async open(sessionId) {
    if (sessionId !== this.sessionId) {
      this.leaveCurrent();
      this.inUse = false;
    }
    this.parked = false;
    this.sessionId = sessionId;
    this.attachSeq += 1;
    const resume = loadResumePoint(sessionId);
    // Another tab's saved screen shows what that tab saw: output it missed was never this page's.
    this.stream.start(resume ? resume.offset : null, { firstView: !resume || !resume.own });
    this.ui.onSession(sessionId);
    await this.resetScreen();
    if (sessionId !== this.sessionId) return false;
    if (resume) await this.restoreScreen(resume);
    if (sessionId !== this.sessionId) return false;
    return this.attach({ claim: true });
  }

  /**
   * (Re-)attach the current session from where this screen is. `claim`: this tab is being opened,
   * so it becomes the one in use; a re-attach after a reconnect keeps what it was.
   */
  async attach({ claim = false } = {}) {
    const sessionId = this.sessionId;
    if (!sessionId || !this.socket.connected) return false;
    const seq = ++this.attachSeq;
    const since = this.stream.resumeOffset();
    const payload = { sessionId };
    if (since !== null) payload.since = since;
    this.newAttachment(); // what xterm answers to output that overtakes the ack waits for it
    const attachment = this.attachment;
    const ack = await request(this.socket, ATTACH_TERMINAL, payload);
    if (seq !== this.attachSeq || sessionId !== this.sessionId) return false;
    if (!ack.ok) {
      const code = ack.error && ack.error.code;
      if (code === "bad_request" && since !== null) {
        // Our stored place is not in this stream (e.g. a stale record): start over from the replay.
        forgetResumePoint(sessionId);
        this.stream.start(null, { firstView: true });
        await this.resetScreen();
        return this.attach({ claim });
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
    // Output up to the end at attach time is replayed: its queries were asked before this attach.
    attachment.liveFrom = ack.offset;
    this.replies.release();
    this.stream.attached(ack.replayFrom);
    this.setAccess(ack.access || "operator");
    this.serverSize = { cols: ack.cols, rows: ack.rows };
    if (this.access === "viewer") {
      this.term.resize(ack.cols, ack.rows);
    } else {
      this.ui.fit();
      if (claim || this.inUse) this.claimSize();
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
    this.newAttachment(0); // a new terminal's output is all live
    await this.resetScreen();
    this.ui.fit();
    let ack;
    try {
      ack = await request(
        this.socket,
        CREATE_TERMINAL,
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
    this.inUse = true; // the only tab on it, at its size
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
