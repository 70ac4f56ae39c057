// Workspaces deleted since: their terminal sessions and audit events are kept, and reviewers should
// see the name they had, not an id. The name is in the audit log's `workspace_delete` events
// (admins only, as are the review pages).

import { api } from "./api.js";

const MOST_PAGES = 5; // 5,000 deletions: beyond that, the oldest show their id

/** id → {id, name, deleted: true} for every workspace the audit log saw deleted (newest name wins). */
export async function deletedWorkspaces() {
  const found = new Map();
  let cursor = null;
  for (let page = 0; page < MOST_PAGES; page++) {
    const query = new URLSearchParams({ type: "workspace_delete", limit: "1000" });
    if (cursor) query.set("cursor", cursor);
    const answer = await api("GET", "/api/audit?" + query);
    for (const event of answer.events) {
      const name = event.detail?.name;
      if (event.workspace_id && typeof name === "string" && !found.has(event.workspace_id)) {
        found.set(event.workspace_id, { id: event.workspace_id, name, deleted: true });
      }
    }
    cursor = answer.next_cursor;
    if (!cursor) break;
  }
  return found;
}
