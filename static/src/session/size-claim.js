// Which tab is in use: the one that set the terminal's size last (opened, resized, focused or
// typed into). Only that tab answers the program's queries; another tab's claim takes it away.
// A claim at the size the terminal already has changes nothing for the program, but the server
// tells the other tabs (terminal-resized) that they are no longer in use.

import { request } from "../lib/connection.js";
import { TERMINAL_RESIZE } from "../lib/protocol.js";

export class SizeClaim {
  /**
   * @param {object} opts
   * @param {import("@xterm/xterm").Terminal} opts.term
   * @param {import("socket.io-client").Socket} opts.socket
   * @param {() => string|null} opts.claimable  the terminal this tab may resize now (it is its
   *        operator and the terminal runs), else null
   * @param {(error: object) => void} opts.onError  a refusal other than `forbidden`
   */
  constructor({ term, socket, claimable, onError }) {
    this.term = term;
    this.socket = socket;
    this.claimable = claimable;
    this.onError = onError;
    this.inUse = false;
    this.serverSize = null; // the terminal's size as this tab last heard or set it
    this.seq = 0;
    this.inFlight = 0; // the claim (a terminal-resize) not answered yet, if any
  }

  /** This tab is being used: it takes the terminal over, with its size. */
  claim() {
    const size = this.serverSize;
    if (this.inUse && size && size.cols === this.term.cols && size.rows === this.term.rows) return;
    this.resize(this.term.cols, this.term.rows);
  }

  /** Give the terminal this size (this tab's xterm was resized): that claims it too. */
  resize(cols, rows) {
    const sessionId = this.claimable();
    if (!sessionId || !this.socket.connected) return;
    this.serverSize = { cols, rows };
    this.inUse = true;
    const claim = ++this.seq;
    this.inFlight = claim;
    request(this.socket, TERMINAL_RESIZE, { sessionId, cols, rows }).then((ack) => {
      if (this.inFlight === claim) this.inFlight = 0;
      if (!ack.ok && ack.error && ack.error.code !== "forbidden") this.onError(ack.error);
    });
  }

  /**
   * Another tab set the size (terminal-resized): it is the one in use now, unless this tab's claim
   * is still in flight (the server took it after the other one). Returns whether this tab gave way.
   */
  claimedElsewhere(size) {
    if (this.inFlight) return false;
    this.inUse = false;
    this.serverSize = size;
    return true;
  }

  /** The server told the terminal's size (an attach or create answer); `inUse` when this tab started it. */
  heard(size, { inUse = this.inUse } = {}) {
    this.serverSize = size;
    this.inUse = inUse;
  }

  /** Another terminal is shown, or a new attachment begins: what was claimed before no longer stands. */
  reset({ keepUse = false } = {}) {
    this.inFlight = 0;
    if (!keepUse) this.inUse = false;
  }
}
