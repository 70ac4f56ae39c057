// "Watch live": the running terminal in an xterm, attached read-only (attach-terminal with
// readOnly: the server makes this socket a viewer whatever the caller's rights, and refuses its
// input). The xterm takes no keyboard input and its size is the terminal's.

import { connect } from "../lib/connection.js";
import { TerminalSession } from "../session/terminal-session.js";
import { ConnectionStatus } from "../terminal-page/connection-status.js";
import { createTerminalView } from "../terminal-page/terminal-view.js";

export class LiveWatch {
  /**
   * @param {object} opts
   * @param {HTMLElement} opts.box  where the xterm goes
   * @param {HTMLElement} opts.status  the connection indicator
   * @param {object} opts.session  the session's record (GET /api/sessions/<id>)
   * @param {(info: object) => void} opts.onExit  the terminal ended while watched
   * @param {(message: string) => void} opts.onError
   */
  constructor({ box, status, session, onExit, onError }) {
    const { term } = createTerminalView(box);
    term.options.disableStdin = true;
    term.options.cursorBlink = false;
    term.resize(session.cols, session.rows);
    this.term = term;
    const shown = new ConnectionStatus(status);
    this.socket = connect({
      onStatus: (state, reason) => shown.show(state, reason),
      onConnect: () => (this.opened ? this.watch.reconnected() : this.open(session.id)),
    });
    this.opened = false;
    this.watch = new TerminalSession({
      term,
      socket: this.socket,
      workspaceId: session.workspace_id,
      readOnly: true,
      ui: {
        fit: () => {},
        onSession: () => {},
        onAccess: () => {},
        onExit,
        onListChanged: () => {},
        onLoss: (bytes) => onError(`${bytes} bytes of output were not kept by the server while connecting.`),
        onError: (error) => onError(error.message || "The terminal could not be watched."),
      },
    });
  }

  async open(sessionId) {
    this.opened = true;
    await this.watch.open(sessionId);
  }

  /** Stop watching: detach, close the socket and the xterm. */
  close() {
    this.watch.leaveCurrent();
    this.socket.disconnect();
    this.term.dispose();
  }
}
