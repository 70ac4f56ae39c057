// The terminal page: the workspace's terminals in tabs and split panes (each an xterm driven by its
// own session/terminal-session.js, all over one socket), beside the list of the workspace's
// running terminals. This module finds the workspace and wires the page's parts (static/src/terminal-page/).

import "./lib/style-nonce.js"; // first: xterm's <style> elements need the page's nonce
import { api } from "./lib/api.js";
import { initChrome } from "./lib/chrome.js";
import { connect } from "./lib/connection.js";
import { $ } from "./lib/dom.js";
import { ERROR, TERMINAL_STATE, WORKSPACE_ACCESS } from "./lib/protocol.js";
import { openWithoutTakingSize } from "./session/terminal-session.js";
import { SettingsDialog } from "./lib/settings-dialog.js";
import { SettingsStore } from "./lib/settings.js";
import { Banners } from "./terminal-page/banners.js";
import { ConnectionStatus } from "./terminal-page/connection-status.js";
import { offerFiles } from "./terminal-page/files-panel.js";
import { EndedList } from "./terminal-page/ended-list.js";
import { GitStatus } from "./terminal-page/git-status.js";
import { setupHelp } from "./terminal-page/help.js";
import { setupKeyBar } from "./terminal-page/key-bar.js";
import { offerMembers } from "./terminal-page/members.js";
import { SearchBar } from "./terminal-page/search.js";
import { SessionList } from "./terminal-page/session-list.js";
import { focusAfter, installShortcuts } from "./terminal-page/shortcuts.js";
import { Sidebar } from "./terminal-page/sidebar.js";
import { WorkspaceSwitcher } from "./terminal-page/switcher.js";
import { followTabLifecycle } from "./terminal-page/tab-lifecycle.js";
import { TerminalOpener } from "./terminal-page/terminal-opener.js";
import { installActivity } from "./terminal-page/activity.js";
import { installTestHooks } from "./terminal-page/test-hooks.js";
import { Workbench } from "./terminal-page/workbench.js";
import { WorkspaceEvents } from "./terminal-page/workspace-events.js";

/** The workspace of the page's address (/workspaces/<id>, or /sessions/<id> of one of its terminals). */
async function findWorkspace({ workspaceId, sessionId }) {
  let id = workspaceId;
  if (!id && sessionId) {
    try {
      id = (await api("GET", "/api/sessions/" + encodeURIComponent(sessionId))).workspace_id;
    } catch (err) {
      throw new Error(err.status === 404 ? "This session does not exist, or you do not have access to it." : err.message);
    }
  }
  try {
    return await api("GET", "/api/workspaces/" + encodeURIComponent(id));
  } catch (err) {
    throw new Error(err.status === 404 ? "This workspace does not exist, or you do not have access to it." : err.message);
  }
}

/** The caller's access to the workspace: admin, owner, or what the members list says (operator, viewer). */
async function accessTo(workspace, me) {
  if (me.role === "admin") return "admin";
  if (workspace.owner === me.username) return "owner";
  const members = await api("GET", `/api/workspaces/${encodeURIComponent(workspace.id)}/members`).catch(() => []);
  const mine = members.find((member) => member.username === me.username);
  return mine ? mine.access : "viewer";
}

async function start(banners, settings) {
  const notice = sessionStorage.getItem(ACCESS_NOTICE); // loaded again by itself, for a changed access
  if (notice) openWithoutTakingSize();
  let endedList = null; // made below, once the parts it needs are: the titles ask it meanwhile
  const linked = document.body.dataset;
  const me = await initChrome(settings);
  const [workspace] = await Promise.all([findWorkspace(linked), settings.load()]);
  workspace.access = await accessTo(workspace, me); // what the page offers: viewers get no controls
  // Shells that could read the server's secrets are for administrators: say why, try nothing.
  if (workspace.admins_only && me.role !== "admin") throw new Error(workspace.shell_note);
  document.title = `${workspace.name} · aict`;
  $("#ws-name").textContent = workspace.name;
  offerMembers(me, workspace);

  const status = new ConnectionStatus();
  const sidebar = new Sidebar();
  const settingsDialog = new SettingsDialog(settings, { closed: () => workbench.activePane?.focus() });
  // The parts below refer to each other; all are wired before this task ends, so before any event.
  const socket = connect({
    onStatus: (state, reason) => status.show(state, reason),
    onConnect: () => {
      opener.connected();
      activity.connected();
    },
  });
  // The workspace's git status and file changes, live: the header's badge, and any panel that listens.
  const workspaceEvents = new WorkspaceEvents(socket, workspace.id);
  new GitStatus(workspaceEvents);
  const transformInput = setupKeyBar(() => workbench.activePane);
  const workbench = new Workbench({
    socket,
    workspace,
    settings,
    banners,
    hooks: {
      title: (sessionId) => list.labelOf(sessionId) ?? endedList?.labelOf(sessionId),
      listChanged: () => {
        list.load();
        ended.load();
      },
      shownChanged: () => list.render(),
      paneCreated: (pane) => {
        pane.session.transformInput = transformInput;
      },
      activeChanged: () => {
        list.render();
        search.follow();
        activity.shown();
      },
    },
  });
  const search = new SearchBar(() => workbench.activePane, settings);
  const list = new SessionList({
    workspaceId: workspace.id,
    banners,
    shownId: () => workbench.activePane?.sessionId ?? null,
    openIds: () => new Set(workbench.allPanes().map((pane) => pane.sessionId).filter(Boolean)),
    onOpen: (listed) => opener.choose(listed),
    onLoaded: () => workbench.render(), // the tabs' titles are the list's names
    onGone: (ids) => ids.forEach((id) => ended.expect(id)),
    mayEnd: workspace.access !== "viewer",
    detail: (id) => activity.listLine(id),
  });
  let files = null; // the files panel, once offered (below)
  const opener = new TerminalOpener({
    workspace,
    linkedSession: linked.sessionId,
    workbench,
    banners,
    sidebar,
    runningSessions: () => list.load(),
    hostKeyTrusted: () => { // the files and the workspace's status were refused until now
      files?.load();
      workspaceEvents.watch();
    },
  });
  let relisting = null;
  const relist = () => { // fetched once for a burst (200 terminals ending at once, or a reconnect's reports)
    relisting ??= setTimeout(() => {
      relisting = null;
      list.load();
    }, 250);
  };
  // A terminal of the workspace started or ended elsewhere (another tab, another member, an SSH
  // terminal too, which has no process reports): the lists say so within a moment, not at their
  // 15 s refresh.
  socket.on(TERMINAL_STATE, (state) => {
    if (!state || state.workspaceId !== workspace.id || typeof state.sessionId !== "string") return;
    const listed = list.labelOf(state.sessionId) !== null;
    if ((state.status === "running") !== listed) relist();
    if (state.status === "exited") ended.expect(state.sessionId);
  });
  const activity = installActivity({
    socket,
    workspace,
    activeSession: () => workbench.activePane?.session ?? null,
    sessionOf: (id) => workbench.paneShowing(id)?.session ?? null,
    labelOf: (id) => list.labelOf(id) ?? "another terminal",
    show: (id, { again = false } = {}) =>
      again ? opener.switchTo(workbench.paneShowing(id) || workbench.activePane, id) : opener.choose({ id }),
    say: (text, kind) => banners.say(text, kind),
    unlisted: (id) => { // the first reports after a (re)connect name every terminal
      if (list.labelOf(id) === null) relist();
    },
  });
  const ended = new EndedList(workspace.id);
  endedList = ended;
  ended.load();
  const operator = workspace.access !== "viewer"; // viewers watch; the server would refuse the rest
  const switcher = new WorkspaceSwitcher(workspace.id);

  installTestHooks({ workbench, status, socket, settings });
  installShortcuts({
    newTab: () => operator && opener.newTab(),
    splitRight: () => operator && opener.split("row"),
    splitDown: () => operator && opener.split("column"),
    closePane: () => workbench.activePane && workbench.closePane(workbench.activePane),
    nextPane: () => workbench.cyclePane(1),
    previousPane: () => workbench.cyclePane(-1),
    nextTab: () => workbench.cycleTab(1),
    previousTab: () => workbench.cycleTab(-1),
    tab: (index) => workbench.tabAt(index),
    find: () => search.toggle(),
    switchWorkspace: () => switcher.open(),
    leaveTerminal: () => workbench.activePane && focusAfter(workbench.activePane.el),
  });
  setupHelp();
  files = offerFiles(workspace, socket, [$("#terminal")]); // files dropped on the terminals are uploaded too
  followWorkspaceSettings(workspace, () => files);

  // An owner or admin changed this user's access (viewer <-> operator): what the page offers follows
  // (typing, New terminal, End, Upload), by loading it again; the terminals go on where they were.
  socket.on(WORKSPACE_ACCESS, (change) => {
    if (!change || change.workspaceId !== workspace.id || !["operator", "viewer"].includes(change.access)) return;
    if (workspace.access === "owner" || workspace.access === "admin" || change.access === workspace.access) return;
    sessionStorage.setItem(ACCESS_NOTICE, change.access === "operator"
      ? "Your access to this workspace changed: you are an operator now and may type."
      : "Your access to this workspace changed: you are a viewer now and may only watch.");
    location.reload();
  });
  if (notice) {
    sessionStorage.removeItem(ACCESS_NOTICE);
    banners.sayThroughOpening(notice, "info");
    setTimeout(() => banners.unsay(notice), ACCESS_NOTICE_MS); // said: it gives the terminal its room back
  }
  socket.on(ERROR, (err) => {
    // A token that ran out or a login that ended: the connection deals with it (reconnects with a
    // fresh token, or goes to the login page); nothing for the user to read.
    if (err && (err.code === "token_expired" || err.code === "token_revoked")) return;
    if (err && err.code === "detached") return; // its banner says it (terminal-page/viewers.js)
    if (err && err.code === "forbidden" && err.sessionId) { // removed from the workspace's members
      status.show("revoked");
      list.revoked();
      for (const button of document.querySelectorAll("[data-action=new-terminal], .operator-only")) button.hidden = true;
      // Nothing of the workspace stays offered: its files (and Upload), who watches its terminal, its
      // processes, its ended terminals (their replays are refused now) and the viewer's banner
      for (const part of document.querySelectorAll("#files-panel, .viewers, #show-processes, .ended-section")) {
        part.hidden = true;
      }
      banners.accessRemoved();
    }
    banners.say((err && err.message) || "The server reported an error.");
  });
  followTabLifecycle(() => workbench.allPanes(), () => list.load());
  for (const button of document.querySelectorAll("[data-action=new-terminal]")) {
    button.hidden = !operator;
    button.addEventListener("click", () => opener.newTerminal());
  }
  const actions = {
    "new-tab": () => opener.newTab(),
    "split-right": () => opener.split("row"),
    "split-down": () => opener.split("column"),
  };
  for (const [action, run] of Object.entries(actions)) {
    const button = $(`[data-action=${action}]`);
    button.hidden = !operator;
    button.addEventListener("click", run);
  }
  $("[data-action=find]").addEventListener("click", () => search.toggle());
  for (const button of document.querySelectorAll("[data-action=settings]")) {
    button.addEventListener("click", () => {
      sidebar.setOpen(false); // a phone's sidebar would stay over the terminal the settings change
      settingsDialog.open();
    });
  }
  $("#refresh-sessions").addEventListener("click", () => {
    list.load();
    ended.load();
  });
}

const SETTINGS_CHECK_MS = 10_000;

/**
 * A rename or another directory, saved elsewhere (the workspace list's Edit), reaches the open page
 * within seconds: its header and title had the old name, its files panel the old directory's files.
 */
function followWorkspaceSettings(workspace, files) {
  setInterval(async () => {
    if (document.hidden) return;
    const now = await api("GET", `/api/workspaces/${encodeURIComponent(workspace.id)}`).catch(() => null);
    if (!now) return; // gone, or out of reach: the page says so where it matters
    if (now.name !== workspace.name) {
      workspace.name = now.name;
      $("#ws-name").textContent = now.name;
      document.title = `${now.name} · aict`;
    }
    if (now.kind === "local" && now.path !== workspace.path) {
      workspace.path = now.path;
      files()?.load("");
    }
  }, SETTINGS_CHECK_MS);
}

const ACCESS_NOTICE = "aict.accessNotice"; // said once on the page loaded again for a changed access
const ACCESS_NOTICE_MS = 15_000;
const banners = new Banners();
start(banners, new SettingsStore()).catch((err) => banners.fatal(err.message || String(err)));
