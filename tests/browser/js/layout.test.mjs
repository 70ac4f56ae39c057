// The panes' layout (terminal-page/layout.js, layout-store.js's check) and the shortcut keys
// (terminal-page/shortcuts.js) without a browser.
import assert from "node:assert/strict";
import { test } from "node:test";
import { leaf, leaves, remove, sanitize, setRatio, split, updateLeaf } from "../../../static/src/terminal-page/layout.js";
import { checkLayout } from "../../../static/src/terminal-page/layout-store.js";
import { shortcutOf } from "../../../static/src/terminal-page/shortcuts.js";

const ids = (node) => leaves(node).map((l) => l.pane);

test("splitting puts the new pane after the one split, in reading order", () => {
  let root = leaf("p1", "s1");
  root = split(root, "p1", "row", leaf("p2"));
  root = split(root, "p1", "column", leaf("p3"));
  assert.deepEqual(ids(root), ["p1", "p3", "p2"]);
  assert.equal(root.dir, "row");
  assert.equal(root.a.dir, "column");
  assert.equal(root.ratio, 0.5);
});

test("removing a pane gives its place to its sibling; the last one leaves nothing", () => {
  let root = split(split(leaf("p1"), "p1", "row", leaf("p2")), "p2", "column", leaf("p3"));
  root = remove(root, "p2");
  assert.deepEqual(ids(root), ["p1", "p3"]);
  assert.equal(root.dir, "row");
  root = remove(root, "p1");
  assert.deepEqual(root, leaf("p3", null));
  assert.equal(remove(root, "p3"), null);
});

test("a ratio is set at its path and kept within bounds", () => {
  let root = split(split(leaf("p1"), "p1", "row", leaf("p2")), "p2", "column", leaf("p3"));
  root = setRatio(root, "b", 0.7);
  assert.equal(root.b.ratio, 0.7);
  assert.equal(root.ratio, 0.5);
  assert.equal(setRatio(root, "", 2).ratio, 0.9);
  assert.equal(setRatio(root, "", -1).ratio, 0.1);
});

test("a leaf's session is updated without touching the others", () => {
  const root = updateLeaf(split(leaf("p1", "s1"), "p1", "row", leaf("p2")), "p2", (l) => leaf(l.pane, "s2"));
  assert.deepEqual(leaves(root), [leaf("p1", "s1"), leaf("p2", "s2")]);
});

test("a stored layout is checked: bad nodes dropped, ratios bounded, one pane per session", () => {
  const stored = {
    dir: "row", ratio: 7,
    a: { pane: "p1", session: "s1" },
    b: { dir: "column", ratio: "x", a: { pane: "p2", session: "s1" }, b: { pane: "p3", session: "<script>" } },
  };
  const root = sanitize(stored);
  assert.equal(root.ratio, 0.9);
  assert.deepEqual(leaves(root), [leaf("p1", "s1"), leaf("p3", null)]); // p2 showed s1 again
  assert.equal(sanitize({ dir: "diagonal", a: leaf("p1"), b: leaf("p2") }), null);
  assert.equal(sanitize("nonsense"), null);
  let deep = leaf("p0");
  for (let i = 1; i < 20; i += 1) deep = { dir: "row", ratio: 0.5, a: deep, b: leaf(`p${i}`) };
  assert.ok(leaves(sanitize(deep)).length < 20); // depth is bounded
});

test("a stored workspace layout keeps its valid tabs and an active one", () => {
  const layout = checkLayout({
    version: 1,
    active: "gone",
    tabs: [
      { id: "t1", focus: "p9", root: { pane: "p1", session: "s1" } },
      { id: "t1", focus: "p2", root: { pane: "p2", session: "s2" } }, // the same id twice
      { id: "t2", focus: "p1", root: { pane: "p1", session: "s3" } }, // a pane id of another tab
      { id: "t3", focus: "p4", root: { pane: "p4", session: "s4" } },
    ],
  });
  assert.deepEqual(layout.tabs.map((t) => [t.id, t.focus]), [["t1", "p1"], ["t3", "p4"]]);
  assert.equal(layout.active, "t1");
  assert.equal(checkLayout({ version: 2, tabs: [] }), null);
  assert.equal(checkLayout({ version: 1, tabs: [] }), null);
});

const key = (props) => ({ type: "keydown", ctrlKey: true, shiftKey: true, altKey: false, metaKey: false, key: "", code: "", ...props });

test("shortcuts are Ctrl+Shift chords and nothing else", () => {
  assert.deepEqual(shortcutOf(key({ key: "E", code: "KeyE" })), { action: "splitRight", index: null });
  assert.deepEqual(shortcutOf(key({ key: "F", code: "KeyF" })), { action: "find", index: null });
  assert.deepEqual(shortcutOf(key({ key: "#", code: "Digit3" })), { action: "tab", index: 2 });
  assert.deepEqual(shortcutOf(key({ key: "}", code: "BracketRight" })), { action: "nextPane", index: null });
  assert.deepEqual(shortcutOf(key({ key: "У", code: "KeyE" })), { action: "splitRight", index: null }); // another layout
  assert.equal(shortcutOf(key({ key: "e", code: "KeyE", shiftKey: false })), null); // Ctrl+E is the shell's
  assert.equal(shortcutOf(key({ key: "E", code: "KeyE", altKey: true })), null);
  assert.equal(shortcutOf(key({ key: "C", code: "KeyC" })), null); // copy: terminal-view.js
  assert.equal(shortcutOf(key({ key: "ArrowLeft", code: "ArrowLeft" })), null); // editors select words with it
  assert.equal(shortcutOf({ ...key({ key: "E", code: "KeyE" }), type: "keyup" }), null);
});

import { fittingFont, MIN_FONT_PX } from "../../../static/src/terminal-page/fit.js";

test("a viewer's font shrinks until the operator's size fits, never past the user's or the least", () => {
  // 117×39 at 14 px where 80×30 fit: the width decides (80/117)
  assert.equal(fittingFont(14, 14, { cols: 117, rows: 39 }, { cols: 80, rows: 30 }), 9);
  assert.equal(fittingFont(9, 14, { cols: 117, rows: 39 }, { cols: 200, rows: 80 }), 14); // room again: back to 14
  assert.equal(fittingFont(14, 14, { cols: 400, rows: 100 }, { cols: 40, rows: 10 }), MIN_FONT_PX);
  assert.equal(fittingFont(14, 14, { cols: 80, rows: 24 }, { cols: 80, rows: 24 }), 14);
});
