// The sessions page (administrators): every terminal, running and ended, with who ran it where,
// when, for how long and how it ended; filtered by user, workspace, status, and by a command it
// ran (GET /api/sessions?command=, from the command history). Each links to its replay.

import { api } from "./lib/api.js";
import { admitAdmins, refusedAsNonAdmin } from "./lib/admin-gate.js";
import { initChrome } from "./lib/chrome.js";
import { $, el, showMessage } from "./lib/dom.js";
import { controlSafe } from "./lib/escape.js";
import { deletedWorkspaces } from "./lib/deleted-workspaces.js";
import { durationText, exitText, replayPath, workspaceLabel } from "./lib/session-facts.js";
import { fullTime } from "./audit/table.js";

const PAGE_SIZE = 50;
const message = $("#sessions-message");
const form = $("#session-filters");
const rows = $("#session-rows");
const workspaces = new Map();
const state = { after: null, shown: 0, requests: 0, commandSearch: null };

/**
 * Whether this server filters sessions by command. One that does not know `command` ignores it and
 * lists every session: a search for a string no command holds tells the two apart.
 */
async function commandSearchWorks() {
  if (state.commandSearch === null) {
    const nonsense = "aict-probe-" + crypto.getRandomValues(new Uint32Array(2)).join("-");
    const answer = await api("GET", `/api/sessions?limit=1&command=${encodeURIComponent(nonsense)}`);
    state.commandSearch = Array.isArray(answer) && answer.length === 0;
  }
  return state.commandSearch;
}

function filters() {
  const f = form.elements;
  return { user: f.user.value.trim(), workspace_id: f.workspace_id.value, status: f.status.value, command: f.command.value.trim() };
}

function row(session) {
  const running = session.status === "running";
  const workspace = workspaces.get(session.workspace_id);
  const actions = [el("a", { href: replayPath(session.id), class: "button-link small" }, running ? "Replay so far" : "Replay")];
  if (running) actions.push(el("a", { href: replayPath(session.id) + "?live=1", class: "button-link small" }, "Watch live"));
  return el(
    "tr",
    { dataset: { id: session.id, status: session.status } },
    // Each cell labelled: a phone shows a session as labelled lines (app.css), not columns scrolled sideways.
    el("td", { dataset: { label: "Status" } },
      el("span", { class: running ? "status-dot running" : "status-dot" }, running ? "Running" : "Ended")),
    el("td", { dataset: { label: "Terminal" } }, controlSafe(session.name || "Terminal"),
      el("div", { class: "muted small mono" }, session.id.slice(0, 8))),
    el("td", { dataset: { label: "User" } }, controlSafe(session.owner)),
    el("td", { dataset: { label: "Workspace" } }, controlSafe(workspaceLabel(workspace, session.workspace_id))),
    el("td", { class: "nowrap", dataset: { label: "Started" } }, fullTime(session.created_at)),
    el("td", { class: "nowrap", dataset: running ? { label: "Duration", since: session.created_at } : { label: "Duration" } },
      durationText(session)),
    el("td", { class: "nowrap", dataset: { label: "Exit" } }, exitText(session, workspace)),
    el("td", { dataset: { label: "Review" } }, el("div", { class: "action-buttons" }, actions)),
  );
}

async function load({ more = false } = {}) {
  const request = ++state.requests;
  const wanted = filters();
  $("#command-note").textContent = "";
  if (!more) {
    state.after = null;
    keepInAddress(wanted);
  }
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  for (const name of ["user", "workspace_id", "status"]) if (wanted[name]) query.set(name, wanted[name]);
  if (state.after) query.set("after", state.after);
  try {
    if (wanted.command) {
      if (await commandSearchWorks()) {
        query.set("command", wanted.command);
      } else {
        $("#command-note").textContent =
          "Searching by command is not available: this server does not keep command history yet. " +
          "The list below ignores the command.";
      }
    }
    const sessions = await api("GET", "/api/sessions?" + query);
    if (request !== state.requests) return;
    showMessage(message, "");
    if (!more) {
      rows.replaceChildren();
      state.shown = 0;
    }
    for (const session of sessions) rows.append(row(session));
    state.shown += sessions.length;
    if (!state.shown) {
      rows.append(el("tr", {}, el("td", { colspan: 8, class: "muted" }, "No session matches these filters.")));
    }
    state.after = sessions.length ? sessions[sessions.length - 1].id : state.after;
    $("#sessions-more").hidden = sessions.length < PAGE_SIZE;
    $("#sessions-info").textContent = state.shown ? `${state.shown} session${state.shown === 1 ? "" : "s"}, newest first` : "";
  } catch (err) {
    if (request === state.requests && !refusedAsNonAdmin(err)) showMessage(message, err.message);
  }
}

/** The filters in the page's address: a reload, the back button or a shared link shows the same sessions. */
function keepInAddress(wanted) {
  const shown = new URLSearchParams();
  for (const name of ["user", "workspace_id", "status", "command"]) if (wanted[name]) shown.set(name, wanted[name]);
  const search = shown.toString() ? "?" + shown : "";
  if (search !== location.search) history.replaceState(null, "", location.pathname + search);
}

/** Running terminals' durations go on counting. */
function tick() {
  for (const cell of rows.querySelectorAll("td[data-since]")) {
    cell.textContent = durationText({ created_at: cell.dataset.since });
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});
form.addEventListener("reset", () => setTimeout(load));
$("#sessions-more").addEventListener("click", () => load({ more: true }));

async function start() {
  const me = await initChrome();
  if (!admitAdmins(me)) return;
  const params = new URLSearchParams(location.search);
  for (const name of ["user", "status", "command"]) if (params.get(name)) form.elements[name].value = params.get(name);
  const [listed, users, deleted] = await Promise.all([
    api("GET", "/api/workspaces").catch(() => []),
    api("GET", "/api/users").catch(() => []),
    deletedWorkspaces().catch(() => new Map()),
  ]);
  const select = form.elements.workspace_id;
  for (const workspace of [...listed, ...deleted.values()]) {
    workspaces.set(workspace.id, workspace);
    select.append(el("option", { value: workspace.id }, workspaceLabel(workspace)));
  }
  const asked = params.get("workspace_id");
  if (asked && !workspaces.has(asked)) { // deleted since (a link from the audit log): its sessions are kept
    select.append(el("option", { value: asked }, workspaceLabel(null, asked)));
  }
  if (asked) select.value = asked;
  $("#known-users").replaceChildren(...users.map((user) => el("option", { value: user.username })));
  await load();
  setInterval(tick, 1000);
}

start().catch((err) => {
  if (!refusedAsNonAdmin(err)) showMessage(message, err.message);
});
