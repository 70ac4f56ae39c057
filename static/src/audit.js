// The audit page (administrators): the events newest first, filtered by user, workspace, type and
// time, a page at a time; exports of what the filters match; the chain's integrity. Every field
// is shown as text, control characters escaped (lib/escape.js).

import { api } from "./lib/api.js";
import { admitAdmins, refusedAsNonAdmin } from "./lib/admin-gate.js";
import { initChrome } from "./lib/chrome.js";
import { deletedWorkspaces } from "./lib/deleted-workspaces.js";
import { $, showMessage } from "./lib/dom.js";
import { AuditExport } from "./audit/export.js";
import { AuditFilters, queryOf } from "./audit/filters.js";
import { renderEvents } from "./audit/table.js";
import { VerifyBox } from "./audit/verify.js";

// Events a page: 100, or what the address asks for (?limit=, at most the API's 1000).
const PAGE_SIZE = Math.max(1, Math.min(1000, Math.floor(Number(new URLSearchParams(location.search).get("limit"))) || 100));
const message = $("#audit-message");
const form = $("#audit-filters");
const rows = $("#event-rows");
const filters = new AuditFilters(form);
const workspaceNames = new Map();

// Paging: the cursors of the pages before this one (null: the newest page), and this page's. The
// page's cursor is in the address (a reload, or a link, shows the same events); the cursors before
// it are in the history entry's state, which a reload keeps. Without them (a link), "Newer" goes to
// the newest page and the page's place is not counted.
const pages = { earlier: [], cursor: null, next: null, requests: 0, counted: true };

/** Show the page `pages` says; `push`: as a new history entry (paging: Back returns to the page before). */
async function load({ push = false } = {}) {
  const request = ++pages.requests;
  const wanted = filters.read();
  const address = PAGE_SIZE === 100 ? wanted : { ...wanted, limit: PAGE_SIZE };
  filters.toAddress(pages.cursor ? { ...address, cursor: pages.cursor } : address,
    { earlier: pages.earlier, counted: pages.counted }, push);
  $("#page-older").disabled = $("#page-newer").disabled = true;
  try {
    const answer = await api("GET", "/api/audit?" + queryOf(wanted, { cursor: pages.cursor, limit: PAGE_SIZE }));
    if (request !== pages.requests) return; // a later request's answer wins
    showMessage(message, "");
    renderEvents(rows, answer.events, workspaceNames);
    pages.next = answer.next_cursor;
    const first = pages.earlier.length * PAGE_SIZE + 1;
    $("#page-info").textContent = !answer.events.length ? ""
      : pages.counted ? `Events ${first.toLocaleString()}–${(first + answer.events.length - 1).toLocaleString()}, newest first`
        : `${answer.events.length.toLocaleString()} ${answer.events.length === 1 ? "event" : "events"} from #${answer.events[0].id}, newest first`;
    $("#page-older").disabled = !pages.next;
    $("#page-newer").disabled = !pages.earlier.length && !pages.cursor;
  } catch (err) {
    if (request === pages.requests && !refusedAsNonAdmin(err)) showMessage(message, err.message);
  }
}

function firstPage(cursor = null) {
  pages.earlier = [];
  pages.cursor = cursor;
  pages.counted = !cursor;
  return load();
}

$("#page-older").addEventListener("click", () => {
  pages.earlier.push(pages.cursor);
  pages.cursor = pages.next;
  load({ push: true });
});
$("#page-newer").addEventListener("click", () => {
  if (!pages.earlier.length) { // a page reached by a link: newer means the newest
    Object.assign(pages, { cursor: null, counted: true });
  } else {
    pages.cursor = pages.earlier.pop();
  }
  load({ push: true });
});
// Back and Forward between pages of events: the address and its entry's state say which
window.addEventListener("popstate", () => {
  filters.fromAddress();
  pagesFromAddress();
  load();
});

/** The page the address names, with the cursors before it kept in its history entry. */
function pagesFromAddress() {
  const cursor = new URLSearchParams(location.search).get("cursor");
  const kept = history.state;
  const known = Boolean(kept && Array.isArray(kept.earlier));
  Object.assign(pages, { cursor, earlier: known ? [...kept.earlier] : [], counted: cursor ? known && kept.counted !== false : true });
}
form.addEventListener("submit", (event) => {
  event.preventDefault();
  firstPage();
});
form.addEventListener("reset", () => setTimeout(firstPage)); // after the form has cleared itself

const exporter = new AuditExport({
  box: $("#export-status"),
  text: $("#export-text"),
  cancel: $("#export-cancel"),
  buttons: [...form.querySelectorAll("[data-export]")],
});
for (const button of form.querySelectorAll("[data-export]")) {
  button.addEventListener("click", () => exporter.run(button.dataset.export, filters.read()).catch((err) => refusedAsNonAdmin(err)));
}

const verifyBox = new VerifyBox({
  state: $("#verify-state"),
  progress: $("#verify-progress"),
  button: $("#verify-now"),
  // The first bad event, and the older ones after it: every filter off, the page starting there.
  onBadId: (id) => {
    form.reset();
    setTimeout(() => firstPage(/^\d+$/.test(id) ? String(BigInt(id) + 1n) : null));
  },
  onRefused: refusedAsNonAdmin,
});

async function start() {
  const me = await initChrome();
  if (!admitAdmins(me)) return;
  filters.fromAddress();
  pagesFromAddress();
  // Workspaces by name in the filter and the table, deleted ones too (named by their deletion's event).
  const [live, deleted] = await Promise.all([
    api("GET", "/api/workspaces").catch(() => []),
    deletedWorkspaces().catch(() => new Map()),
  ]);
  const workspaces = [...live, ...[...deleted.values()].map((w) => ({ ...w, name: `${w.name} (deleted)` }))];
  for (const workspace of workspaces) workspaceNames.set(workspace.id, workspace.name);
  filters.offerWorkspaces(workspaces);
  await load();
  verifyBox.run();
}

start().catch((err) => {
  if (!refusedAsNonAdmin(err)) showMessage(message, err.message);
});
