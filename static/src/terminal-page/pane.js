// One pane: an xterm and the TerminalSession that attaches it to one terminal of the workspace, with
// its own offset, flow control and size; all panes share the page's socket. It keeps what the page
// says about its terminal (ended, lost output, read-only), shows it in its small header, and notices
// output while it is out of sight (the tab's activity dot).

import { el } from "../lib/dom.js";
import { TerminalSession } from "../session/terminal-session.js";
import { exitText } from "./banners.js";
import { TerminalFit } from "./fit.js";
import { LocalEcho } from "./local-echo.js";
import { applySettings, createTerminalView } from "./terminal-view.js";

export class Pane {
  /**
   * @param {object} opts
   * @param {string} opts.id
   * @param {HTMLElement} opts.parent  where the pane is laid out first (xterm measures itself as it opens)
   * @param {import("socket.io-client").Socket} opts.socket
   * @param {string} opts.workspaceId
   * @param {object} opts.settings  lib/settings.js
   * @param {object} opts.events  onSession(pane), onState(pane), onLoss(pane, bytes),
   *        onError(pane, error, context), onListChanged(), onActivity(pane), onFocus(pane), onClose(pane)
   */
  constructor({ id, parent, socket, workspaceId, settings, events }) {
    this.id = id;
    this.events = events;
    this.exitInfo = null; // why its terminal is not running, when it is not: {exitCode|signal|text}
    this.lostBytes = 0;
    this.activity = false; // printed while out of sight
    this.visible = true;
    this.title = "Terminal";

    this.titleText = el("span", { class: "pane-title" });
    this.stateText = el("span", { class: "pane-state" });
    this.box = el("div", { class: "terminal-box" });
    this.el = el(
      "section",
      { class: "pane", dataset: { paneId: id }, "aria-label": "Terminal" },
      el(
        "div",
        { class: "pane-head" },
        this.titleText,
        this.stateText,
        el("button", {
          type: "button",
          class: "ghost small pane-close",
          title: "Close this pane (its terminal keeps running)",
          "aria-label": "Close this pane",
          onclick: () => events.onClose(this),
        }, "×"),
      ),
      this.box,
    );
    parent.append(this.el);

    const { term, fitAddon, search } = createTerminalView(this.box, settings);
    this.term = term;
    this.search = search;
    this.localEcho = new LocalEcho(term, settings.local_echo);
    this.session = new TerminalSession({
      term,
      socket,
      workspaceId,
      ui: {
        fit: () => this.fit.fit(),
        laidOut: () => this.visible,
        onSession: () => {
          this.localEcho.reset(); // another terminal: nothing proven on this one
          events.onSession(this);
        },
        onLoss: (bytes) => {
          this.lostBytes += bytes;
          events.onLoss(this, bytes);
        },
        onAccess: () => events.onState(this),
        onExit: (info) => this.ended(info),
        onListChanged: () => events.onListChanged(),
        onError: (error, context) => {
          if (context === "attach") {
            this.ended({ text: error.code === "conflict" ? "This terminal has ended: the server no longer holds it." : "This terminal is not available." });
          }
          events.onError(this, error, context);
        },
        onOutput: (end) => this.output(end),
        onTyped: (data, position) => this.localEcho.typed(data, position),
        onInputAnswered: (position, ms) => this.localEcho.inputAnswered(position, ms),
        onInputHeld: (characters) => {
          this.heldInput = characters;
          events.onInputHeld?.(this, characters);
        },
        onRendered: () => this.localEcho.settle(),
      },
    });
    this.fit = new TerminalFit(fitAddon, this.box, () => this.session.access === "viewer" || this.session.following, term);
    this.fit.follow();
    // Clicking or typing in a pane makes it the active one (the one the page's controls act on).
    this.el.addEventListener("pointerdown", () => events.onFocus(this));
    term.textarea?.addEventListener("focus", () => events.onFocus(this));
  }

  get sessionId() {
    return this.session.sessionId;
  }

  /** Before another terminal is shown here: nothing said about the old one stays. */
  clearState() {
    this.exitInfo = null;
    this.lostBytes = 0;
    this.events.onState(this);
  }

  ended(info) {
    this.exitInfo = info;
    this.events.onState(this);
  }

  output(end) {
    const liveFrom = this.session.liveFrom;
    if (this.visible || this.activity || liveFrom === null || end <= liveFrom) return; // replay is no news
    this.activity = true;
    this.events.onActivity(this);
  }

  /** Shown (its tab is the current one) or out of sight; a pane shown again is refitted and has no news. */
  setVisible(visible) {
    this.visible = visible;
    if (visible) {
      this.activity = false;
      this.fit.fit();
    }
  }

  /** The header's title and the state of its terminal (ended, read-only). */
  render(title) {
    this.title = title;
    this.titleText.textContent = title;
    this.el.setAttribute("aria-label", title);
    let state = "";
    if (this.exitInfo) state = exitText(this.exitInfo);
    else if (this.session.access === "viewer") state = "read-only";
    this.stateText.textContent = state;
    this.el.classList.toggle("ended", Boolean(this.exitInfo));
  }

  setActive(active) {
    this.el.classList.toggle("active", active);
  }

  focus() {
    this.term.focus();
  }

  applySettings(settings) {
    applySettings(this.term, settings);
    this.fit.fontSize = settings.font_size;
    this.localEcho.setMode(settings.local_echo);
    this.fit.fit();
  }

  /** The pane is closed: its terminal keeps running on the server, listed in the sidebar. */
  dispose() {
    this.disposed = true;
    this.session.dispose();
    this.localEcho.dispose();
    this.fit.stop();
    this.term.dispose();
    this.el.remove();
  }
}
