// "Watch live": the running terminal in an xterm, attached read-only (attach-terminal with
// readOnly: the server makes this socket a viewer whatever the caller's rights, and refuses its
// input). The xterm takes no keyboard input and its size is the terminal's.

import { connect } from "../lib/connection.js";
import { SettingsStore } from "../lib/settings.js";
import { TerminalSession } from "../session/terminal-session.js";
import { ConnectionStatus } from "../terminal-page/connection-status.js";
import { createTerminalView } from "../terminal-page/terminal-view.js";
import { measureCharWidth } from "./player-size.js";

const MIN_FONT_PX = 8; // below this the text is not readable: the box scrolls sideways instead

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
    const settings = new SettingsStore().current; // the user's font and theme
    const { term } = createTerminalView(box, settings);
    term.options.disableStdin = true;
    term.options.cursorBlink = false;
    term.resize(session.cols, session.rows);
    this.term = term;
    this.box = box;
    this.fontSize = settings.font_size;
    this.charWidth = measureCharWidth(term.options.fontFamily);
    this.fitFont();
    term.onResize(() => this.fitFont()); // the watched terminal was resized
    this.onWindowResize = () => this.fitFont();
    window.addEventListener("resize", this.onWindowResize);
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

  /** The user's font size, or smaller where the terminal's columns would not fit the box's width. */
  fitFont() {
    const style = getComputedStyle(this.box);
    const width = this.box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    if (!(width > 0)) return;
    const fitting = Math.floor((width - 2) / (this.term.cols * this.charWidth));
    const size = Math.max(MIN_FONT_PX, Math.min(this.fontSize, fitting));
    if (this.term.options.fontSize !== size) this.term.options.fontSize = size;
  }

  /** Stop watching: detach, close the socket and the xterm. */
  close() {
    window.removeEventListener("resize", this.onWindowResize);
    this.watch.leaveCurrent();
    this.socket.disconnect();
    this.term.dispose();
  }
}
