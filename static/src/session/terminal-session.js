// Drives one xterm against the server: create / attach / re-attach after reconnect,
// output in offset order, input in order, resize, exit. Knows nothing about the page.

import { request } from "../lib/connection.js";
import {
  ATTACH_TERMINAL,
  CREATE_TERMINAL,
  DETACH_TERMINAL,
  TERMINAL_ACK,
  TERMINAL_EXIT,
  TERMINAL_INPUT,
  TERMINAL_OUTPUT,
  TERMINAL_RESIZED,
} from "../lib/protocol.js";
import { Answers } from "./answers.js";
import { wantCompression } from "./compression.js";
import { DEFLATE_RAW, Inflater } from "./inflate.js";
import { InputQueue } from "./input.js";
import { forgetResumePoint, loadResumePoint, saveResumePoint, ScreenSnapshots } from "./resume-points.js";
import { SizeClaim } from "./size-claim.js";
import { Starting } from "./starting.js";
import { OutputStream } from "./stream.js";

// Connected to the web process, an attach unanswered this long: its terminal host is (re)starting
// (a deploy, a crash). A window event (detail +1, then -1) lets the page say so (connection-status.js)
// rather than "Connected" over a silent terminal.
export const ATTACH_WAITING = "aict:attach-waiting";
const ATTACH_WAIT_SHOWN_MS = 1500;
const FOCUS_OUT = "\x1b[O"; // focus reporting: this tab lost the focus, which claims nothing

function exitNote({ exitCode, signal }) {
  let text;
  if (Number.isInteger(exitCode)) text = `process exited with code ${exitCode}`;
  else if (signal) text = `process ended by signal ${signal}`;
  else text = "the session ended without an exit status"; // an SSH channel closed, or ended from here
  return `\r\n\x1b[2m[${text}]\x1b[22m\r\n`;
}

export class TerminalSession {
  /**
   * @param {object} opts
   * @param {import("@xterm/xterm").Terminal} opts.term
   * @param {import("socket.io-client").Socket} opts.socket
   * @param {string} opts.workspaceId
   * @param {object} opts.ui  callbacks: onSession(id), onAccess(access), onExit(info),
   *                          onError(error, context), onListChanged(), fit(), laidOut() (the
   *                          terminal is on screen, so fit() gives it its size; optional),
   *                          onLoss(bytes) (output of this session skipped, optional),
   *                          onOutput(end) (a chunk arrived, `end` the offset after it; optional),
   *                          predictive echo's (optional): onTyped(data, position) (the user's keys,
   *                          `position` the input sent up to and with them), onInputAnswered(position,
   *                          ms) (the server answered input up to there, in `ms`), onRendered() (output drawn)
   * @param {boolean} [opts.readOnly]  attach as a watcher whatever the caller's rights (the server
   *                                   then refuses this socket's input): an admin reviewing a terminal
   * @param {() => boolean} [opts.compress]  whether the next attachment asks for compressed output
   *                                   (by default session/compression.js decides)
   */
  constructor({ term, socket, workspaceId, ui, readOnly = false, compress = wantCompression }) {
    this.readOnly = readOnly;
    this.compress = compress;
    this.inflater = new Inflater((error) => this.undecodable(error));
    this.term = term;
    this.socket = socket;
    this.workspaceId = workspaceId;
    this.ui = ui;
    this.sessionId = null;
    this.viewerId = null; // how terminal-viewers names this page's attachment
    this.heldOff = false; // detached by an owner or admin: attach only when the user asks
    this.access = "operator";
    this.following = openingQuietly; // showing the size another tab gave the terminal, until this one is used
    this.exited = false;
    this.starting = new Starting();
    this.attachSeq = 0;
    this.sizeClaim = new SizeClaim({
      term,
      socket,
      claimable: () => (this.canType ? this.sessionId : null),
      onError: (error) => this.ui.onError(error, "resize"),
    });
    this.parked = false;
    this.snapshots = new ScreenSnapshots(term);
    this.transformInput = (data) => data;
    this.answers = new Answers(term, {
      input: (data) => this.send(data),
      answer: (data) => this.input.push(data),
      mayAnswer: () => this.inUse && this.canType && !this.parked,
    });
    this.stream = new OutputStream({
      write: (data, done, end) => this.answers.writeStream(data, end, done),
      ack: (offset) => {
        if (this.sessionId && this.socket.connected) {
          this.socket.emit(TERMINAL_ACK, { sessionId: this.sessionId, offset });
        }
      },
      lost: (bytes) => {
        if (this.ui.onLoss) this.ui.onLoss(bytes);
      },
      rendered: () => this.ui.onRendered?.(),
    });
    this.input = new InputQueue(
      (data) => request(this.socket, TERMINAL_INPUT, { sessionId: this.sessionId, data }, 60000),
      (error) => this.ui.onError(error, "input"),
    );
    this.input.onAnswer = (position, ms) => this.ui.onInputAnswered?.(position, ms);
    this.input.sendable = () => (connectedNow(this.socket) ? null : whenConnected(this.socket));
    this.input.onHeld = (characters) => {
      this.ui.onInputHeld?.(characters);
      // Typed offline and sent now: this tab was used, so it takes the terminal (the claim its keys
      // made while offline could not be sent)
      if (!characters && connectedNow(this.socket)) this.claimSize();
    };

    // Several sessions share the page's socket (one per pane): each keeps its listeners to remove them.
    this.listeners = {
      [TERMINAL_OUTPUT]: (msg) => this.onOutput(msg),
      [TERMINAL_EXIT]: (msg) => this.onExit(msg),
      [TERMINAL_RESIZED]: (msg) => {
        if (!msg || msg.sessionId !== this.sessionId) return;
        const gaveWay = this.sizeClaim.claimedElsewhere({ cols: msg.cols, rows: msg.rows });
        if (gaveWay && this.access === "viewer") this.term.resize(msg.cols, msg.rows);
        else if (gaveWay && (msg.cols !== this.term.cols || msg.rows !== this.term.rows)) {
          // Another tab of an operator took it at its own size: this one shows it at that size too
          // (in a smaller font where it would not fit), rather than the program's lines wrapped
          // into a screen of another width, until this tab is used again and takes it back.
          this.following = true;
          this.snapshots.resizeQuietly(msg.cols, msg.rows);
        }
      },
    };
    for (const [event, listener] of Object.entries(this.listeners)) socket.on(event, listener);

    term.onResize(({ cols, rows }) => {
      if (!this.snapshots.resizing) this.sizeClaim.resize(cols, rows);
    });
  }

  /** Where the live output of the current attachment starts (what comes before is replay); null until known. */
  get liveFrom() {
    return this.answers.attachment.liveFrom;
  }

  /** The pane showing this session is closed: the terminal keeps running, this page stops following it. */
  dispose() {
    this.leaveCurrent();
    this.stream.cancelAck();
    this.sessionId = null;
    this.attachSeq += 1; // an attach still on its way changes nothing
    for (const [event, listener] of Object.entries(this.listeners)) this.socket.off(event, listener);
  }

  /** This tab is the one in use: it set the terminal's size last, and answers the program's queries. */
  get inUse() {
    return this.sizeClaim.inUse;
  }

  get canType() {
    return Boolean(this.sessionId) && !this.exited && this.access !== "viewer";
  }

  /** A new attachment (`liveFrom`: where its live output starts, null until the ack says). */
  newAttachment(liveFrom = null) {
    this.sizeClaim.reset({ keepUse: true });
    return this.answers.newAttachment(liveFrom);
  }

  send(data) {
    if (!this.starting.active && !this.canType) return;
    const input = typeof data === "string" ? this.transformInput(data) : data;
    if (this.starting.active) {
      this.starting.keepTyped(input);
      return;
    }
    if (data !== FOCUS_OUT) this.claimSize();
    if (typeof input === "string") this.ui.onTyped?.(input, this.input.pushed + input.length);
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
    if (!this.parked || this.heldOff) return Promise.resolve(false);
    this.parked = false;
    return this.attach();
  }

  /** This tab is being used (focused, typed into, opened): it takes the terminal over, with its size. */
  claimSize() {
    if (this.following) { // used again: back to its own box's size, which it gives the terminal
      this.following = false;
      this.ui.fit();
    }
    this.sizeClaim.claim();
  }

  onOutput(msg) {
    if (!msg || !(msg.data instanceof ArrayBuffer || ArrayBuffer.isView(msg.data))) return;
    const bytes = msg.data instanceof ArrayBuffer ? new Uint8Array(msg.data) : new Uint8Array(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength);
    if (msg.sessionId === this.sessionId) {
      this.take(msg, bytes);
    } else {
      this.starting.keepOutput(msg.sessionId, msg.offset, bytes, msg);
    }
  }

  /** A chunk of this session's output, decoded first when it came compressed. */
  take(msg, bytes) {
    const sessionId = msg.sessionId;
    this.inflater.push(msg, bytes, (data) => {
      if (sessionId !== this.sessionId) return; // another session is shown by now
      this.stream.receive(msg.offset, data);
      if (this.ui.onOutput) this.ui.onOutput(msg.offset + data.length);
    });
  }

  /** Compressed output that does not decode: attach again, from where this screen is, uncompressed. */
  undecodable(error) {
    console.warn("aict: compressed output did not decode; attaching again without compression", error);
    this.compress = () => false;
    this.attach();
  }

  onExit(msg) {
    if (!msg || msg.sessionId !== this.sessionId || this.exited) return;
    this.inflater.after(() => this.exitedWith(msg)); // after the output before it, still decoding
  }

  exitedWith(msg) {
    if (msg.sessionId !== this.sessionId || this.exited) return;
    this.exited = true;
    this.term.options.disableStdin = true;
    const sessionId = this.sessionId;
    // Let the output before the exit render first.
    this.answers.writeReplayed(exitNote(msg), () => forgetResumePoint(sessionId));
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
    await new Promise((resolve) => this.answers.writeReplayed("", resolve));
    this.term.reset();
    this.term.options.disableStdin = false;
  }

  /** Show another session in this terminal (or the same one after a page load). */
  async open(sessionId) {
    if (sessionId !== this.sessionId) {
      this.leaveCurrent();
      this.sizeClaim.reset();
      if (this.sessionId) this.following = false; // another terminal: its own size is this pane's to give
    }
    this.parked = false;
    this.heldOff = false;
    this.sessionId = sessionId;
    this.attachSeq += 1;
    let resume = loadResumePoint(sessionId);
    // A snapshot keeps 2,000 lines: where the scrollback held more, the server's replay of its ring
    // (the whole stream, or its latest 4 MiB, said to be so) keeps more than the snapshot would.
    // Not in the alternate screen: a full-screen program's screen needs the snapshot.
    if (resume && resume.cut) resume = null;
    // Another tab's saved screen shows what that tab saw: output it missed was never this page's.
    this.stream.start(resume ? resume.offset : null, { firstView: !resume || !resume.own });
    this.ui.onSession(sessionId);
    await this.resetScreen();
    if (sessionId !== this.sessionId) return false;
    if (resume) await this.snapshots.restore(resume, (data, done) => this.answers.writeReplayed(data, done));
    if (sessionId !== this.sessionId) return false;
    return this.attach({ claim: !this.following });
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
    if (this.readOnly) payload.readOnly = true;
    if (this.compress()) payload.compress = DEFLATE_RAW;
    const attachment = this.newAttachment(); // what xterm answers to output that overtakes the ack waits for it
    let waited = false;
    const slow = setTimeout(() => {
      waited = true;
      window.dispatchEvent(new CustomEvent(ATTACH_WAITING, { detail: 1 }));
    }, ATTACH_WAIT_SHOWN_MS);
    let ack;
    try {
      ack = await request(this.socket, ATTACH_TERMINAL, payload);
    } finally {
      clearTimeout(slow);
      if (waited) window.dispatchEvent(new CustomEvent(ATTACH_WAITING, { detail: -1 }));
    }
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
    this.viewerId = ack.viewerId || null;
    this.answers.live(attachment, ack.offset);
    this.stream.attached(ack.replayFrom);
    this.setAccess(ack.access || "operator");
    this.sizeClaim.heard({ cols: ack.cols, rows: ack.rows });
    if (this.access === "viewer") {
      this.term.resize(ack.cols, ack.rows);
    } else if (this.following) { // at the size another tab gave it, until this one is used
      this.snapshots.resizeQuietly(ack.cols, ack.rows);
      this.ui.fit();
    } else if (this.ui.laidOut && !this.ui.laidOut()) {
      // Out of sight (a tab not shown, after a reload): it has no size of its own to give yet, and
      // its xterm's default (80×24) was sent before: every terminal of a background tab was resized
      // to it, its shell redrew its line, and the tab showed news it did not have. It shows the
      // terminal at its size until it is shown (then fitted, and in use).
      this.snapshots.resizeQuietly(ack.cols, ack.rows);
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
    this.starting.begin();
    this.attachSeq += 1;
    this.stream.start(0);
    this.newAttachment(0); // a new terminal's output is all live
    await this.resetScreen();
    this.ui.fit();
    let ack;
    const payload = { workspaceId: this.workspaceId, cols: this.term.cols, rows: this.term.rows };
    if (this.compress()) payload.compress = DEFLATE_RAW;
    try {
      ack = await request(this.socket, CREATE_TERMINAL, payload, 30000);
    } catch (err) {
      this.starting.end(null);
      throw err;
    }
    const { output, typed } = this.starting.end(ack.ok ? ack.sessionId : null);
    if (!ack.ok) return ack;
    this.sessionId = ack.sessionId;
    this.viewerId = ack.viewerId || null;
    this.sizeClaim.heard({ cols: ack.cols, rows: ack.rows }, { inUse: true }); // the only tab on it, at its size
    this.setAccess("operator");
    this.ui.onSession(ack.sessionId);
    for (const chunk of output) this.take(chunk.msg, chunk.bytes);
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

  /** The server detached this page (an owner or admin did): it stays detached until open() again. */
  holdOff() {
    this.heldOff = true;
    this.parked = true;
    this.viewerId = null;
  }
}

// A page the user did not open (it loaded itself again, for a changed access) takes no terminal's
// size by opening it: the others using it would see it shrink to this window's for nothing.
let openingQuietly = false;
export function openWithoutTakingSize() {
  openingQuietly = true;
}

// Input goes only over a connection that is there: a device gone offline keeps its socket open for
// a while (until the ping times out), and what went into it then would be lost or arrive late.
function connectedNow(socket) {
  return socket.connected && navigator.onLine !== false;
}

// Either may come last: the socket connects, or the browser is back online with the socket still open.
function whenConnected(socket) {
  return new Promise((resolve) => {
    const check = () => {
      if (!connectedNow(socket)) return;
      window.removeEventListener("online", check);
      socket.off("connect", check);
      resolve();
    };
    window.addEventListener("online", check);
    socket.on("connect", check);
  });
}
