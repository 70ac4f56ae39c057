// Which terminals the page shows, and opening them. On the first connect: the layout this tab (or
// the latest tab) left, each pane on its terminal; without one, a single pane on the terminal
// linked to, or the newest running one, or a new one. Later: a new terminal in a pane (asking to
// trust an SSH host's key first if needed), or one of the list.

import { api } from "../lib/api.js";
import { describeTerminalError, hostLabel } from "../lib/ssh-errors.js";
import { askNewHostKey, confirmHostKey } from "./host-key-dialog.js";
import { leaves } from "./layout.js";
import { loadLayout } from "./layout-store.js";

const CREATE_ATTEMPTS = 3; // a host key trusted on the way counts as one

export class TerminalOpener {
  /**
   * @param {object} opts
   * @param {object} opts.workspace  as GET /api/workspaces/<id> answers, with the caller's `access` (replaced when a host key is trusted)
   * @param {string} [opts.linkedSession]  the terminal of the page's address (/sessions/<id>)
   * @param {import("./workbench.js").Workbench} opts.workbench
   * @param {import("./banners.js").Banners} opts.banners
   * @param {import("./sidebar.js").Sidebar} opts.sidebar
   * @param {() => Promise<object[]>} opts.runningSessions  the list, fetched again
   * @param {() => void} [opts.hostKeyTrusted]  the user trusted the SSH host's key (what waited for it may go on)
   */
  constructor({ workspace, linkedSession, workbench, banners, sidebar, runningSessions, hostKeyTrusted = () => {} }) {
    this.hostKeyTrusted = hostKeyTrusted;
    this.workspace = workspace;
    this.linkedSession = linkedSession || null;
    this.workbench = workbench;
    this.banners = banners;
    this.sidebar = sidebar;
    this.runningSessions = runningSessions;
    this.opened = false; // the first connect chose the terminals
  }

  /** After every (re)connect: choose the terminals the first time, pick up the shown ones later. */
  async connected() {
    if (this.opened) {
      await Promise.all(this.workbench.allPanes().map((pane) => pane.session.reconnected()));
      this.runningSessions();
      return;
    }
    this.opened = true;
    const running = await this.runningSessions();
    const layout = this.usableLayout(loadLayout(this.workspace.id), running);
    if (layout) {
      await this.restore(layout);
      return;
    }
    const pane = this.workbench.addTab();
    const chosen = this.linkedSession || (running.length ? running[running.length - 1].id : null);
    if (!chosen) {
      await this.newTerminalOrWait(pane);
    } else if (!(await this.switchTo(pane, chosen)) && !this.linkedSession) {
      await this.newTerminalOrWait(pane);
    }
  }

  /**
   * The stored layout, if it is worth restoring: one with several panes comes back as it was (a
   * pane whose terminal ended says so); a single pane only while its terminal runs (else the page
   * starts as a new one would). A linked terminal not in it gets a tab of its own.
   */
  usableLayout(layout, running) {
    if (!layout) return null;
    const shown = layout.tabs.flatMap((tab) => leaves(tab.root));
    const runs = (node) => running.some((session) => session.id === node.session);
    if (shown.length === 1 && !runs(shown[0])) return null;
    if (this.linkedSession && !shown.some((node) => node.session === this.linkedSession)) {
      if (shown.length === 1) return null;
      return { ...layout, link: this.linkedSession };
    }
    const linked = layout.tabs.find((tab) => leaves(tab.root).some((node) => node.session === this.linkedSession));
    return linked ? { ...layout, active: linked.id, tabs: layout.tabs.map((tab) => tab === linked ? this.focusOn(tab) : tab) } : layout;
  }

  focusOn(tab) {
    return { ...tab, focus: leaves(tab.root).find((node) => node.session === this.linkedSession).pane };
  }

  async restore(layout) {
    const opening = this.workbench.restore(layout);
    if (layout.link) opening.push({ pane: this.workbench.addTab(), sessionId: layout.link });
    const active = this.workbench.activePane;
    // The active pane first: it is the one the user looks at.
    opening.sort((x, y) => (y.pane === active) - (x.pane === active));
    for (const { pane, sessionId } of opening) {
      if (sessionId) await this.switchTo(pane, sessionId, { focus: pane === active });
      else await this.newTerminalOrWait(pane);
    }
  }

  /** Operators get a new terminal; a viewer may not start one, and is told so instead. */
  async newTerminalOrWait(pane) {
    if (this.workspace.access !== "viewer") return this.newTerminal(pane);
    this.banners.say("No terminal is running in this workspace. You can watch terminals here " +
      "(viewer access); open one from the list once an operator has started one.", "info");
    return false;
  }

  /** The user chose a terminal of the list: the pane showing it, or the active pane shows it now. */
  choose(listed) {
    this.sidebar.closeOnPhone();
    const showing = this.workbench.paneShowing(listed.id);
    if (showing && !showing.session.exited) {
      this.workbench.focusPane(showing);
      return;
    }
    const pane = showing || this.workbench.activePane;
    this.workbench.focusPane(pane);
    this.switchTo(pane, listed.id);
  }

  async switchTo(pane, sessionId, { focus = true } = {}) {
    if (pane === this.workbench.activePane) this.banners.clear();
    pane.clearState();
    const ok = await pane.session.open(sessionId);
    if (ok && focus) pane.focus();
    return ok;
  }

  /** A new tab with a new terminal. */
  newTab() {
    return this.newTerminal(this.workbench.addTab());
  }

  /** Split the active pane and start a new terminal in the new one. */
  split(dir) {
    const pane = this.workbench.split(dir);
    return pane ? this.newTerminal(pane) : false;
  }

  /** Start a terminal in the workspace, in `pane` (the active one by default). */
  async newTerminal(pane = this.workbench.activePane) {
    const { banners } = this;
    const { session } = pane;
    const previous = session.sessionId && !session.exited ? session.sessionId : null; // shown again if this fails
    banners.clear();
    pane.clearState();
    this.sidebar.setOpen(false);
    pane.focus(); // keys typed while it starts go to it (typed ahead), not to the button
    for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt += 1) {
      banners.say(this.workspace.kind === "ssh" ? `Connecting to ${hostLabel(this.workspace)}…` : "", "info");
      const ack = await session.create();
      if (ack.ok) {
        banners.say("");
        if (pane === this.workbench.activePane) pane.focus();
        return true;
      }
      const error = ack.error || {};
      if (error.code === "host_key_unknown" && (await confirmHostKey(hostLabel(this.workspace), error))) {
        try {
          const trusted = await api("POST", `/api/workspaces/${encodeURIComponent(this.workspace.id)}/trust-host-key`, {
            fingerprint: error.fingerprint,
          });
          this.workspace = { ...trusted, access: this.workspace.access };
          this.hostKeyTrusted();
          continue;
        } catch (err) {
          return this.notStarted(pane, previous, err.message);
        }
      }
      if (error.code === "host_key_mismatch" && this.mayPinHostKey() && (await this.pinNewHostKey(error))) continue;
      return this.notStarted(pane, previous, describeTerminalError(error, this.workspace));
    }
    return false;
  }

  /** The workspace's owner and admins pin its host key (PATCH); others are told to ask them. */
  mayPinHostKey() {
    return this.workspace.access === "owner" || this.workspace.access === "admin";
  }

  /** Ask for the host's new key and pin it; true once pinned. */
  pinNewHostKey(mismatch) {
    const { host, port } = this.workspace;
    const where = { label: hostLabel(this.workspace), scan: port && port !== 22 ? `-p ${port} ${host}` : host };
    return askNewHostKey(where, mismatch, async (line) => {
      const pinned = await api("PATCH", `/api/workspaces/${encodeURIComponent(this.workspace.id)}`, { host_key: line });
      this.workspace = { ...pinned, access: this.workspace.access };
      this.hostKeyTrusted();
    });
  }

  /**
   * A new terminal could not start: the pane shows again the terminal it showed (it still runs; it
   * was shown as ended), a pane made for it goes (a new tab named "Terminal ended" for a terminal that
   * never began), and the banner says why.
   */
  async notStarted(pane, previous, message) {
    if (previous) {
      await this.switchTo(pane, previous);
    } else if (this.workbench.allPanes().length > 1) {
      this.workbench.closePane(pane);
    } else {
      pane.ended({ text: "No terminal is open." });
    }
    this.banners.say(message);
    return false;
  }
}
