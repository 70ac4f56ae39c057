// The page's keyboard shortcuts. All are Ctrl+Shift chords, as in kitty and GNOME Terminal: a
// terminal program cannot tell Ctrl+Shift+E from Ctrl+E (both reach it as the same control
// character), so taking the Shift ones costs it nothing, while Alt is the Meta key of shells and
// editors, and plain Ctrl keys and arrows are theirs too. Chords the browser keeps for itself
// (Ctrl+Shift+T, W, N, Tab) never reach a page, so none is used. Caught before xterm sees them.

const letter = (char) => (event) =>
  /^[a-z]$/i.test(event.key) ? event.key.toLowerCase() === char : event.code === `Key${char.toUpperCase()}`;
const code = (name) => (event) => event.code === name;
const key = (name) => (event) => event.key === name;

// [keys as the help shows them, what they do, action name, matcher]
export const SHORTCUTS = [
  ["Ctrl+Shift+Enter", "New terminal in a new tab", "newTab", key("Enter")],
  ["Ctrl+Shift+E", "Split: a new terminal beside this one", "splitRight", letter("e")],
  ["Ctrl+Shift+O", "Split: a new terminal below this one", "splitDown", letter("o")],
  ["Ctrl+Shift+X", "Close the pane (its terminal keeps running)", "closePane", letter("x")],
  ["Ctrl+Shift+]", "Next pane of the tab", "nextPane", code("BracketRight")],
  ["Ctrl+Shift+[", "Previous pane of the tab", "previousPane", code("BracketLeft")],
  ["Ctrl+Shift+Page Down", "Next tab", "nextTab", key("PageDown")],
  ["Ctrl+Shift+Page Up", "Previous tab", "previousTab", key("PageUp")],
  ["Ctrl+Shift+1 … 9", "Tab 1 … 9", "tab", (event) => /^Digit[1-9]$/.test(event.code)],
  ["Ctrl+Shift+F", "Find in the terminal", "find", letter("f")],
  ["Ctrl+Shift+K", "Switch to another workspace", "switchWorkspace", letter("k")],
  ["Ctrl+Shift+M", "Move the keyboard focus out of the terminal (Tab goes on from there)", "leaveTerminal", letter("m")],
];

// Shown in the help, handled elsewhere (terminal-view.js, splits.js).
export const OTHER_KEYS = [
  ["Ctrl+Shift+C / Ctrl+Shift+V", "Copy the selection / paste (Ctrl+C and Ctrl+V are the shell's)"],
  ["Tab to a divider, then arrows", "Resize the panes (Shift: bigger steps; Home / End: the limits); from a terminal, Ctrl+Shift+M first"],
];

/** The shortcut `event` is, as {action, index} (index: the tab of Ctrl+Shift+digit), or null. */
export function shortcutOf(event) {
  if (event.type !== "keydown" || !event.ctrlKey || !event.shiftKey || event.altKey || event.metaKey) return null;
  for (const [, , action, matches] of SHORTCUTS) {
    if (matches(event)) return { action, index: action === "tab" ? Number(event.code.slice(5)) - 1 : null };
  }
  return null;
}

/** Run `actions[name](index)` for each shortcut typed anywhere in the page, before xterm sees it. */
export function installShortcuts(actions) {
  window.addEventListener("keydown", (event) => {
    const shortcut = shortcutOf(event);
    if (!shortcut || !actions[shortcut.action]) return;
    // A dialog (settings, host key) owns the keys while it is open.
    if (document.querySelector("dialog[open]")) return;
    event.preventDefault();
    event.stopPropagation();
    actions[shortcut.action](shortcut.index);
  }, { capture: true });
}

/**
 * Focus what follows `from` (a pane) in the page's Tab order: its divider, else the next control,
 * else the first one. A terminal keeps Tab for its shell (completion), so this is the way out.
 */
export function focusAfter(from) {
  const focusable = [...document.querySelectorAll('a[href], button:not([disabled]), input, select, [tabindex="0"]')]
    .filter((element) => element.offsetParent !== null && !element.closest(".xterm"));
  const next = focusable.find((element) => !from.contains(element)
    && from.compareDocumentPosition(element) & Node.DOCUMENT_POSITION_FOLLOWING);
  (next || focusable[0])?.focus();
}
