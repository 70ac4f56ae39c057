// Which terminal the page shows, and opening it: on the first connect the one linked to, this
// tab's last one or the newest running one (or a new one); later, a new one or one of the list.

import { api } from "../lib/api.js";
import { describeTerminalError } from "../lib/ssh-errors.js";
import { confirmHostKey } from "./host-key-dialog.js";

const TAB_SESSION = "aict.tabSession.";
const CREATE_ATTEMPTS = 3; // a host key trusted on the way counts as one

export class TerminalOpener {
  /**
   * @param {object} opts
   * @param {object} opts.workspace  as GET /api/workspaces/<id> answers, with the caller's `access` (replaced when a host key is trusted)
   * @param {string} [opts.linkedSession]  the terminal of the page's address (/sessions/<id>)
   * @param {import("../session/terminal-session.js").TerminalSession} opts.session
   * @param {import("./banners.js").Banners} opts.banners
   * @param {import("./sidebar.js").Sidebar} opts.sidebar
   * @param {() => Promise<object[]>} opts.runningSessions  the list, fetched again
   */
  constructor({ workspace, linkedSession, session, banners, sidebar, runningSessions }) {
    this.workspace = workspace;
    this.linkedSession = linkedSession || null;
    this.session = session;
    this.banners = banners;
    this.sidebar = sidebar;
    this.runningSessions = runningSessions;
    this.opened = false; // the first connect chose a terminal
  }

  /** After every (re)connect: choose a terminal the first time, pick up the shown one later. */
  async connected() {
    if (this.opened) {
      await this.session.reconnected();
      this.runningSessions();
      return;
    }
    this.opened = true;
    const chosen = this.firstChoice(await this.runningSessions());
    if (!chosen) {
      await this.newTerminalOrWait();
    } else if (!(await this.switchTo(chosen)) && !this.linkedSession) {
      await this.newTerminalOrWait();
    }
  }

  /** Operators get a new terminal; a viewer may not start one, and is told so instead. */
  async newTerminalOrWait() {
    if (this.workspace.access !== "viewer") return this.newTerminal();
    this.banners.say("No terminal is running in this workspace. You can watch terminals here " +
      "(viewer access); open one from the list once an operator has started one.", "info");
    return false;
  }

  /** The terminal this page shows first: a deep link, this tab's last one, or the newest running one. */
  firstChoice(sessions) {
    if (this.linkedSession) return this.linkedSession;
    const mine = sessionStorage.getItem(TAB_SESSION + this.workspace.id);
    if (mine && sessions.some((s) => s.id === mine)) return mine;
    return sessions.length ? sessions[sessions.length - 1].id : null;
  }

  /** The terminal shown now is the one this tab comes back to after a reload. */
  remember(sessionId) {
    if (sessionId) sessionStorage.setItem(TAB_SESSION + this.workspace.id, sessionId);
  }

  /** The user chose a terminal of the list. */
  choose(listed) {
    this.sidebar.closeOnPhone();
    if (listed.id !== this.session.sessionId || this.session.exited) this.switchTo(listed.id);
    else this.session.term.focus();
  }

  async switchTo(sessionId) {
    this.banners.clear();
    const ok = await this.session.open(sessionId);
    if (ok) this.session.term.focus();
    return ok;
  }

  /** Start a terminal in the workspace, asking the user to trust an SSH host's key first if needed. */
  async newTerminal() {
    const { session, banners } = this;
    banners.clear();
    this.sidebar.setOpen(false);
    session.term.focus(); // keys typed while it starts go to it (typed ahead), not to the button
    for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt += 1) {
      banners.say(this.workspace.kind === "ssh" ? `Connecting to ${this.workspace.host}…` : "", "info");
      const ack = await session.create();
      if (ack.ok) {
        banners.say("");
        session.term.focus();
        return true;
      }
      const error = ack.error || {};
      if (error.code === "host_key_unknown" && (await confirmHostKey(this.workspace.host, error))) {
        try {
          const trusted = await api("POST", `/api/workspaces/${encodeURIComponent(this.workspace.id)}/trust-host-key`, {
            fingerprint: error.fingerprint,
          });
          this.workspace = { ...trusted, access: this.workspace.access };
          continue;
        } catch (err) {
          banners.say(err.message);
          banners.showExit({ text: "No terminal is open." });
          return false;
        }
      }
      banners.say(describeTerminalError(error, this.workspace));
      banners.showExit({ text: "No terminal is open." });
      return false;
    }
    return false;
  }
}
