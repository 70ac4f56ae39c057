// Small DOM helpers: build elements without innerHTML, show messages.

/** el("button", {class: "x", onclick: fn}, "text", child) */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      node.className = value;
    } else if (key === "dataset") {
      Object.assign(node.dataset, value);
    } else if (value === true) {
      node.setAttribute(key, "");
    } else {
      node.setAttribute(key, String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/**
 * A live list's rows, kept across refreshes: a row whose key and signature are unchanged stays the
 * same element, in place. A click is a press and a release on one element: a list rebuilt between
 * them (a file appearing, a tab's activity dot) lost the click the user had begun.
 */
export class KeyedRows {
  constructor(parent) {
    this.parent = parent;
    this.rows = new Map();
  }

  /** @param {{key: string, signature: string, build: () => Node}[]} items  in the order shown */
  render(items) {
    const rows = new Map();
    const nodes = items.map(({ key, signature, build }) => {
      const kept = this.rows.get(key);
      const node = kept && kept.signature === signature ? kept.node : build();
      rows.set(key, { signature, node });
      return node;
    });
    this.rows = rows;
    placeChildren(this.parent, nodes);
  }
}

/** Make `parent`'s children `nodes`, moving only what is out of place (replaceChildren moves all). */
export function placeChildren(parent, nodes) {
  nodes.forEach((node, index) => {
    const current = parent.childNodes[index];
    if (current !== node) parent.insertBefore(node, current ?? null);
  });
  while (parent.childNodes.length > nodes.length) parent.lastChild.remove();
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

/** Laid out for a phone (app.css's narrow layout starts at the same width). */
export function isPhoneWidth() {
  return window.matchMedia("(max-width: 700px)").matches;
}

/** Show (or clear, with an empty text) a message in a [role=alert]/[role=status] box. */
export function showMessage(box, text, kind = "error") {
  if (!box) return;
  box.textContent = text || "";
  box.dataset.kind = kind;
  box.hidden = !text;
}

/** 1 byte, 512 bytes, 3.4 KB, 12 MB (decimal units, as the numbers people compare with). */
export function formatBytes(bytes) {
  if (bytes < 1000) return `${bytes} ${bytes === 1 ? "byte" : "bytes"}`;
  const [value, unit] = bytes < 1e6 ? [bytes / 1e3, "KB"] : bytes < 1e9 ? [bytes / 1e6, "MB"] : [bytes / 1e9, "GB"];
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${unit}`;
}

export function formatTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" });
}

/** As formatTime, but the time alone for a moment of today ("2:29 AM"): what a narrow list needs. */
export function formatTimeShort(iso, now = new Date()) {
  const date = new Date(iso);
  if (!iso || Number.isNaN(date.getTime()) || date.toDateString() !== now.toDateString()) return formatTime(iso);
  return date.toLocaleTimeString(undefined, { timeStyle: "short" });
}

/**
 * Scroll `box`, a scrolling ancestor of `node`, just enough that `node` shows (its top first when it
 * is taller than the box). Unlike scrollIntoView, nothing else scrolls: not the page, not a drawer.
 */
export function revealWithin(box, node) {
  if (!box || !node) return;
  const outer = box.getBoundingClientRect();
  const inner = node.getBoundingClientRect();
  if (inner.top < outer.top) box.scrollTop -= outer.top - inner.top;
  else if (inner.bottom > outer.bottom) box.scrollTop += Math.min(inner.bottom - outer.bottom, inner.top - outer.top);
}
