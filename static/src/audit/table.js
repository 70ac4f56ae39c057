// The audit page's table: one row per event, every field as text (lib/escape.js), the detail as
// indented JSON.

import { el } from "../lib/dom.js";
import { controlSafe, jsonNodes } from "../lib/escape.js";

// The columns, also each cell's label where a phone shows an event as labelled lines (app.css).
const COLUMNS = ["Time", "Type", "User", "IP", "Workspace", "Session", "Detail"];

// Types a reviewer looks for first: refusals and trouble.
const ALARMING = new Set(["login_failed", "denied", "throttled", "host_key_mismatch", "refresh_reuse"]);

export function fullTime(iso) {
  const date = new Date(iso);
  if (!iso || Number.isNaN(date.getTime())) return String(iso ?? "");
  // "long" time: with its zone ("7:12:30 PM UTC", "GMT+5:30"): review pages show the browser's
  // zone, exports and the API UTC, and a reviewer comparing them must see which is which
  return date.toLocaleString(undefined, { dateStyle: "short", timeStyle: "long" });
}

function text(value) {
  return value === null || value === undefined || value === "" ? el("span", { class: "muted none" }, "—") : controlSafe(value);
}

function detailCell(detail) {
  if (!detail || (typeof detail === "object" && !Object.keys(detail).length)) return el("td", {}, text(null));
  return el("td", {}, el("pre", { class: "detail" }, jsonNodes(detail)));
}

function sessionCell(sessionId) {
  if (!sessionId) return el("td", {}, text(null));
  return el("td", {}, el("a", { href: `/sessions/${encodeURIComponent(sessionId)}/replay`, class: "mono", title: sessionId },
    controlSafe(String(sessionId).slice(0, 8))));
}

/**
 * @param {HTMLElement} body  the table's <tbody>
 * @param {object[]} events  as GET /api/audit answers them
 * @param {Map<string, string>} workspaceNames  id → name
 */
export function renderEvents(body, events, workspaceNames) {
  body.replaceChildren();
  if (!events.length) {
    body.append(el("tr", {}, el("td", { colspan: 7, class: "muted" }, "No event matches these filters.")));
    return;
  }
  for (const event of events) {
    const workspace = event.workspace_id
      ? el("span", { title: event.workspace_id }, controlSafe(workspaceNames.get(event.workspace_id) || event.workspace_id))
      : text(null);
    const row = el(
      "tr",
      { dataset: { id: String(event.id), type: String(event.type) } },
      el("td", { class: "nowrap" }, fullTime(event.at), el("div", { class: "muted small mono" }, "#", controlSafe(event.id))),
      el("td", {}, el("code", { class: ALARMING.has(event.type) ? "event-type alarming" : "event-type" }, controlSafe(event.type))),
      el("td", { class: "user-cell" }, text(event.username)),
      el("td", { class: "mono small" }, text(event.ip)),
      el("td", {}, workspace),
      sessionCell(event.session_id),
      detailCell(event.detail),
    );
    [...row.cells].forEach((cell, index) => {
      cell.dataset.label = COLUMNS[index];
    });
    body.append(row);
  }
}
