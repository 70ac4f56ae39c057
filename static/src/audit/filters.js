// The audit page's filters: the form, the API's query (times as ISO 8601 UTC) and the page's
// address, which keeps them so that a reload, the back button or a shared link shows the same events.

import { el } from "../lib/dom.js";

// The event types of the contract (docs/api.md), and those this server writes besides.
export const EVENT_TYPES = [
  "login", "login_failed", "logout", "refresh_reuse", "throttled", "denied",
  "session_start", "session_end", "attach", "detach", "viewer_detach", "command",
  "workspace_create", "workspace_update", "workspace_delete", "member_grant", "member_revoke",
  "host_key_trust", "host_key_mismatch", "file_upload", "file_download",
  "user_create", "user_update", "password_change", "totp_enable", "totp_disable", "recording_purge",
];
const NAMES = ["user", "workspace_id", "type", "since", "until"];

/** A datetime-local value (the browser's time zone) as ISO 8601 UTC; "" stays "". */
function toIso(local) {
  if (!local) return "";
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** ISO 8601 as a datetime-local value in the browser's time zone. */
function toLocal(iso) {
  const date = new Date(iso);
  if (!iso || Number.isNaN(date.getTime())) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

export class AuditFilters {
  constructor(form) {
    this.form = form;
    const types = form.elements.type;
    for (const type of EVENT_TYPES) types.append(el("option", { value: type }, type));
  }

  /** The workspaces to choose from (an admin sees them all), and what the address asked for. */
  offerWorkspaces(workspaces) {
    const select = this.form.elements.workspace_id;
    const wanted = select.value;
    for (const workspace of workspaces) {
      const named = [...select.options].find((option) => option.value === workspace.id);
      if (named) named.textContent = workspace.name; // the address's choice, by id until now
      else select.append(el("option", { value: workspace.id }, workspace.name));
    }
    select.value = wanted;
  }

  /** The filters as the API takes them ({} members left out when empty). */
  read() {
    const f = this.form.elements;
    const values = {
      user: f.user.value.trim(),
      workspace_id: f.workspace_id.value,
      type: f.type.value,
      since: toIso(f.since.value),
      until: toIso(f.until.value),
    };
    return Object.fromEntries(Object.entries(values).filter(([, value]) => value));
  }

  /** Fill the form from the page's address. */
  fromAddress() {
    const params = new URLSearchParams(location.search);
    const f = this.form.elements;
    f.user.value = params.get("user") || "";
    const workspace = params.get("workspace_id") || "";
    if (workspace && ![...f.workspace_id.options].some((o) => o.value === workspace)) {
      f.workspace_id.append(el("option", { value: workspace }, workspace)); // named once the list arrives
    }
    f.workspace_id.value = workspace;
    const type = params.get("type") || "";
    if (type && !EVENT_TYPES.includes(type)) f.type.append(el("option", { value: type }, type));
    f.type.value = type;
    f.since.value = toLocal(params.get("since"));
    f.until.value = toLocal(params.get("until"));
  }

  /** The filters (and the page's cursor) in the address; `state`: what a reload needs besides; `push`: a new entry. */
  toAddress(filters, state = null, push = false) {
    const query = new URLSearchParams(filters).toString();
    const url = location.pathname + (query ? "?" + query : "");
    if (push) history.pushState(state, "", url);
    else history.replaceState(state, "", url);
  }
}

/** The API's query string for `filters` plus extra parameters. */
export function queryOf(filters, extra = {}) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries({ ...filters, ...extra })) {
    if (value !== undefined && value !== null && value !== "" && (NAMES.includes(name) || name in extra)) {
      params.set(name, value);
    }
  }
  return params.toString();
}
