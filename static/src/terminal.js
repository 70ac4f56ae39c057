// The terminal page: one xterm showing a terminal of the workspace, beside the list of the
// workspace's running terminals. This module finds the workspace and wires the page's parts
// (static/src/terminal-page/) to the session that drives the xterm (session/terminal-session.js).

import "./lib/style-nonce.js"; // first: xterm's <style> elements need the page's nonce
import { api } from "./lib/api.js";
import { initChrome } from "./lib/chrome.js";
import { connect } from "./lib/connection.js";
import { $ } from "./lib/dom.js";
import { ERROR } from "./lib/protocol.js";
import { TerminalSession } from "./session/terminal-session.js";
import { Banners } from "./terminal-page/banners.js";
import { offerMembers } from "./terminal-page/members.js";
import { ConnectionStatus } from "./terminal-page/connection-status.js";
import { TerminalFit } from "./terminal-page/fit.js";
import { GitStatus } from "./terminal-page/git-status.js";
import { setupKeyBar } from "./terminal-page/key-bar.js";
import { SessionList } from "./terminal-page/session-list.js";
import { Sidebar } from "./terminal-page/sidebar.js";
import { followTabLifecycle } from "./terminal-page/tab-lifecycle.js";
import { installTestHooks } from "./terminal-page/test-hooks.js";
import { TerminalOpener } from "./terminal-page/terminal-opener.js";
import { createTerminalView } from "./terminal-page/terminal-view.js";
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

async function start(banners) {
  const linked = document.body.dataset;
  const me = await initChrome();
  const workspace = await findWorkspace(linked);
  workspace.access = await accessTo(workspace, me); // what the page offers: viewers get no controls
  // Shells that could read the server's secrets are for administrators: say why, try nothing.
  if (workspace.admins_only && me.role !== "admin") throw new Error(workspace.shell_note);
  document.title = `${workspace.name} · aict`;
  $("#ws-name").textContent = workspace.name;
  offerMembers(me, workspace);

  const box = $("#terminal");
  const { term, fitAddon } = createTerminalView(box);
  const status = new ConnectionStatus();
  const sidebar = new Sidebar();
  // The parts below refer to each other; all are wired before this task ends, so before any event.
  const socket = connect({ onStatus: (state, reason) => status.show(state, reason), onConnect: () => opener.connected() });
  // The workspace's git status and file changes, live: the header's badge, and any panel that listens.
  const workspaceEvents = new WorkspaceEvents(socket, workspace.id);
  new GitStatus(workspaceEvents);
  const session = new TerminalSession({
    term,
    socket,
    workspaceId: workspace.id,
    ui: {
      fit: () => fit.fit(),
      onSession: (id) => {
        opener.remember(id);
        banners.hideLossUnlessFor(id);
        list.render();
      },
      onLoss: (bytes) => banners.showLoss(session.sessionId, bytes),
      onAccess: (access) => banners.showViewer(access === "viewer"),
      onExit: (info) => banners.showExit(info),
      onListChanged: () => list.load(),
      onError: (error, context) => banners.showSessionError(error, context, opener.workspace),
    },
  });
  const fit = new TerminalFit(fitAddon, box, () => session.access === "viewer");
  const list = new SessionList({
    workspaceId: workspace.id,
    banners,
    shownId: () => session.sessionId,
    onOpen: (listed) => opener.choose(listed),
    mayEnd: workspace.access !== "viewer",
  });
  const opener = new TerminalOpener({
    workspace,
    linkedSession: linked.sessionId,
    session,
    banners,
    sidebar,
    runningSessions: () => list.load(),
  });
  fit.fit();
  fit.follow();
  term.focus();

  installTestHooks({ term, session, status, socket });

  setupKeyBar(session, term);
  socket.on(ERROR, (err) => {
    // A token that ran out or a login that ended: the connection deals with it (reconnects with a
    // fresh token, or goes to the login page); nothing for the user to read.
    if (err && (err.code === "token_expired" || err.code === "token_revoked")) return;
    if (err && err.code === "forbidden" && err.sessionId) { // removed from the workspace's members
      status.show("revoked");
      list.revoked();
      for (const button of document.querySelectorAll("[data-action=new-terminal]")) button.hidden = true;
    }
    banners.say((err && err.message) || "The server reported an error.");
  });
  followTabLifecycle(session, () => list.load());
  for (const button of document.querySelectorAll("[data-action=new-terminal]")) {
    button.hidden = workspace.access === "viewer"; // viewers watch; the server would refuse
    button.addEventListener("click", () => opener.newTerminal());
  }
  $("#refresh-sessions").addEventListener("click", () => list.load());
}

const banners = new Banners();
start(banners).catch((err) => banners.fatal(err.message || String(err)));
