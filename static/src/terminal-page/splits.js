// Lays a tab's panes out as its layout (layout.js) says: nested flex boxes, with a divider between
// the two parts of each split that the pointer drags and the keyboard moves (focus it with Tab,
// then the arrows; Shift for big steps, Home and End for the limits).

import { el } from "../lib/dom.js";
import { clampRatio, isLeaf, MAX_RATIO, MIN_RATIO } from "./layout.js";

const STEP = 0.02;
const BIG_STEP = 0.1;

/** The two parts of a split share its room as `ratio` says (flex grow with no base size). */
function share(first, second, ratio) {
  first.style.flex = `${ratio} 1 0px`;
  second.style.flex = `${1 - ratio} 1 0px`;
}

function divider(node, path, first, second, onRatio) {
  const row = node.dir === "row";
  const bar = el("div", {
    class: "divider",
    role: "separator",
    tabindex: "0",
    "aria-orientation": row ? "vertical" : "horizontal",
    "aria-label": row ? "Resize the panes side by side" : "Resize the panes above and below",
    "aria-valuemin": String(Math.round(MIN_RATIO * 100)),
    "aria-valuemax": String(Math.round(MAX_RATIO * 100)),
  });
  let ratio = node.ratio;
  const show = (value) => {
    ratio = clampRatio(value);
    share(first, second, ratio);
    bar.setAttribute("aria-valuenow", String(Math.round(ratio * 100)));
  };
  show(ratio);

  bar.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    event.preventDefault();
    bar.setPointerCapture(event.pointerId);
    bar.classList.add("dragging");
    const area = bar.parentElement.getBoundingClientRect();
    const move = (e) => show(row ? (e.clientX - area.left) / area.width : (e.clientY - area.top) / area.height);
    const end = () => {
      bar.classList.remove("dragging");
      bar.removeEventListener("pointermove", move);
      bar.removeEventListener("pointerup", end);
      bar.removeEventListener("pointercancel", end);
      onRatio(path, ratio);
    };
    bar.addEventListener("pointermove", move);
    bar.addEventListener("pointerup", end);
    bar.addEventListener("pointercancel", end);
  });

  bar.addEventListener("keydown", (event) => {
    const step = event.shiftKey ? BIG_STEP : STEP;
    const keys = row ? { ArrowLeft: -step, ArrowRight: step } : { ArrowUp: -step, ArrowDown: step };
    let next = null;
    if (event.key in keys) next = ratio + keys[event.key];
    else if (event.key === "Home") next = MIN_RATIO;
    else if (event.key === "End") next = MAX_RATIO;
    if (next === null) return;
    event.preventDefault();
    show(next);
    onRatio(path, ratio);
  });
  return bar;
}

function build(node, path, panes, onRatio) {
  if (isLeaf(node)) return panes.get(node.pane).el;
  const first = el("div", { class: "split-part" }, build(node.a, path + "a", panes, onRatio));
  const second = el("div", { class: "split-part" }, build(node.b, path + "b", panes, onRatio));
  const bar = divider(node, path, first, second, onRatio);
  return el("div", { class: "split", dataset: { dir: node.dir } }, first, bar, second);
}

/**
 * Lay `root` out in `container`, moving the panes' elements (`panes`: id → Pane) into place.
 * `onRatio(path, ratio)`: a divider was moved to `ratio` (path: "a"/"b" steps to its split).
 */
export function renderSplits(container, root, panes, onRatio) {
  container.replaceChildren(build(root, "", panes, onRatio));
  container.classList.toggle("single", isLeaf(root));
}
