// Text from outside (a username someone typed at the login form, a command line, an event's detail)
// shown as text: every control character as a visible escape such as \x1b, never acted on. An
// escape sequence in a failed login's username must not retitle or repaint a reviewer's screen,
// and bidirectional overrides and invisible characters must not hide what the text says.

// C0 controls, DEL, C1 controls, and the invisible and direction-changing characters of Unicode.
const UNSEEN = /[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
const NAMED = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** The escape shown for one such character: \n, \t, \x1b, \u202e. */
function escapeOf(char) {
  if (NAMED[char]) return NAMED[char];
  const code = char.charCodeAt(0);
  return code < 0x100 ? "\\x" + code.toString(16).padStart(2, "0") : "\\u" + code.toString(16).padStart(4, "0");
}

/** The text with its control characters escaped, for places that take a plain string (a title, a label). */
export function escapeControls(value) {
  return String(value ?? "").replace(UNSEEN, escapeOf);
}

/**
 * The text as DOM nodes: plain text nodes, and each escape in a <span class="ctl"> so that it stands
 * out from a backslash the text really holds. Never markup: "<b>" stays the four characters.
 */
export function controlSafe(value) {
  const text = String(value ?? "");
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(UNSEEN)) {
    if (match.index > last) nodes.push(document.createTextNode(text.slice(last, match.index)));
    const span = document.createElement("span");
    span.className = "ctl";
    span.textContent = escapeOf(match[0]);
    nodes.push(span);
    last = match.index + match[0].length;
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}

/**
 * A JSON value laid out readably (two-space indents, as JSON.stringify would) as DOM nodes, its
 * strings through controlSafe: an event's detail as a reviewer reads it.
 */
export function jsonNodes(value, indent = "") {
  if (value === null || typeof value !== "object") {
    if (typeof value !== "string") return [document.createTextNode(JSON.stringify(value) ?? "null")];
    // Quotes and backslashes as JSON writes them; control characters as controlSafe shows them.
    return [document.createTextNode('"'), ...controlSafe(value.replace(/[\\"]/g, "\\$&")), document.createTextNode('"')];
  }
  const entries = Array.isArray(value) ? value.map((item) => [null, item]) : Object.entries(value);
  const [open, close] = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
  if (!entries.length) return [document.createTextNode(open + close)];
  const inner = indent + "  ";
  const nodes = [document.createTextNode(open + "\n")];
  entries.forEach(([key, item], index) => {
    nodes.push(document.createTextNode(inner));
    if (key !== null) nodes.push(...jsonNodes(key), document.createTextNode(": "));
    nodes.push(...jsonNodes(item, inner), document.createTextNode(index < entries.length - 1 ? ",\n" : "\n"));
  });
  nodes.push(document.createTextNode(indent + close));
  return nodes;
}
