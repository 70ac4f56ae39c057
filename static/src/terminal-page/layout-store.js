// Where a workspace's tabs and panes are kept across a reload: per browser tab (sessionStorage), and
// the latest of any tab (localStorage), which a new browser tab on the workspace starts from.
//
//   {version: 1, active: "<tab id>", tabs: [{id, focus: "<pane id>", root: <layout.js node>}]}

import { leaves, sanitize } from "./layout.js";

const PREFIX = "aict.layout.";
const VERSION = 1;
const MAX_TABS = 20;

function put(storage, key, value) {
  try {
    storage.setItem(key, value);
  } catch {
    // quota or private mode: the page opens its default layout next time
  }
}

/** Remember the workspace's layout (as `check` below reads it back). */
export function saveLayout(workspaceId, state) {
  const record = JSON.stringify({ version: VERSION, active: state.active, tabs: state.tabs });
  put(sessionStorage, PREFIX + workspaceId, record);
  put(localStorage, PREFIX + workspaceId, record);
}

/** A stored layout, checked and repaired; null when there is none worth restoring. */
export function checkLayout(record) {
  if (!record || record.version !== VERSION || !Array.isArray(record.tabs)) return null;
  const panes = new Set();
  const sessions = new Set();
  const tabs = [];
  for (const tab of record.tabs.slice(0, MAX_TABS)) {
    if (!tab || typeof tab.id !== "string" || !/^[\w-]{1,40}$/.test(tab.id) || tabs.some((t) => t.id === tab.id)) continue;
    const root = sanitize(tab.root, panes, sessions);
    if (!root) continue;
    const ids = leaves(root).map((node) => node.pane);
    tabs.push({ id: tab.id, root, focus: ids.includes(tab.focus) ? tab.focus : ids[0] });
  }
  if (!tabs.length) return null;
  const active = tabs.some((tab) => tab.id === record.active) ? record.active : tabs[0].id;
  return { active, tabs };
}

/** This browser tab's layout of the workspace, else the latest any tab saved; null when none. */
export function loadLayout(workspaceId) {
  for (const storage of [sessionStorage, localStorage]) {
    try {
      const layout = checkLayout(JSON.parse(storage.getItem(PREFIX + workspaceId) || "null"));
      if (layout) return layout;
    } catch {
      // a damaged record: try the next, then the default layout
    }
  }
  return null;
}
