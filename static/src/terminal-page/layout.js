// How one tab's panes are arranged: a binary tree whose leaves are panes and whose inner nodes
// split their area in two, side by side ("row") or one above the other ("column"), at `ratio`
// (the first part's share). Plain JSON, changed only by the pure functions below, so it is stored
// as it is (layout-store.js) and tested under Node (tests/browser/js/layout.test.mjs).
//
//   leaf:  {pane: "<pane id>", session: "<session id>" | null}
//   split: {dir: "row" | "column", ratio: 0.1..0.9, a: node, b: node}

export const MIN_RATIO = 0.1;
export const MAX_RATIO = 0.9;
const MAX_DEPTH = 8; // 2^8 panes in a tab is more than any screen shows

export const clampRatio = (ratio) => Math.min(MAX_RATIO, Math.max(MIN_RATIO, ratio));

export function leaf(pane, session = null) {
  return { pane, session };
}

export const isLeaf = (node) => typeof node.pane === "string";

/** The leaves of `node`, in reading order (left to right, top to bottom). */
export function leaves(node) {
  return isLeaf(node) ? [node] : [...leaves(node.a), ...leaves(node.b)];
}

/** `node` with the leaf of `pane` split in two along `dir`: the old pane first, `added` (a leaf) after it. */
export function split(node, pane, dir, added) {
  if (isLeaf(node)) return node.pane === pane ? { dir, ratio: 0.5, a: node, b: added } : node;
  return { ...node, a: split(node.a, pane, dir, added), b: split(node.b, pane, dir, added) };
}

/** `node` without the leaf of `pane` (its sibling takes the split's place); null when nothing is left. */
export function remove(node, pane) {
  if (isLeaf(node)) return node.pane === pane ? null : node;
  const a = remove(node.a, pane);
  const b = remove(node.b, pane);
  if (!a) return b;
  if (!b) return a;
  return { ...node, a, b };
}

/** `node` with `change(leaf)` applied to the leaf of `pane`. */
export function updateLeaf(node, pane, change) {
  if (isLeaf(node)) return node.pane === pane ? change(node) : node;
  return { ...node, a: updateLeaf(node.a, pane, change), b: updateLeaf(node.b, pane, change) };
}

/** `node` with the split at `path` (a string of "a"/"b" steps from the root) at `ratio`, kept in bounds. */
export function setRatio(node, path, ratio) {
  if (isLeaf(node)) return node;
  if (!path) return { ...node, ratio: clampRatio(ratio) };
  const step = path[0];
  return { ...node, [step]: setRatio(node[step], path.slice(1), ratio) };
}

/**
 * A layout read back from storage, checked: the same shape with sane values, or null. A pane id
 * in `taken` (another tab's) or seen twice is dropped with its leaf; so is a second leaf showing a
 * session already shown (one page attaches to a session once).
 */
export function sanitize(node, taken = new Set(), sessions = new Set(), depth = 0) {
  if (!node || typeof node !== "object" || depth > MAX_DEPTH) return null;
  if (typeof node.pane === "string") {
    if (!/^[\w-]{1,40}$/.test(node.pane) || taken.has(node.pane)) return null;
    const session = typeof node.session === "string" && /^[\w-]{1,64}$/.test(node.session) ? node.session : null;
    if (session && sessions.has(session)) return null;
    taken.add(node.pane);
    if (session) sessions.add(session);
    return leaf(node.pane, session);
  }
  if (node.dir !== "row" && node.dir !== "column") return null;
  const a = sanitize(node.a, taken, sessions, depth + 1);
  const b = sanitize(node.b, taken, sessions, depth + 1);
  if (!a || !b) return a || b;
  const ratio = typeof node.ratio === "number" && Number.isFinite(node.ratio) ? clampRatio(node.ratio) : 0.5;
  return { dir: node.dir, ratio, a, b };
}
