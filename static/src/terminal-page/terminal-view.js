// The xterm itself: its look, clickable links, and the copy and paste keys.

import { FitAddon } from "@xterm/addon-fit";
import { WebLinksAddon } from "@xterm/addon-web-links";
import { Terminal } from "@xterm/xterm";
import { isPhoneWidth } from "../lib/dom.js";

const THEME = {
  background: "#101418",
  foreground: "#d8dee4",
  cursor: "#f0f3f6",
  selectionBackground: "#3a4a5e",
};

function openLink(event, uri) {
  const link = window.open(uri, "_blank", "noopener,noreferrer");
  if (link) link.opener = null;
}

/** Ctrl+C and Ctrl+V belong to the shell; copy and paste are Ctrl+Shift+C / Ctrl+Shift+V. */
function copyPasteKeys(term) {
  return (event) => {
    if (event.type !== "keydown" || !event.ctrlKey || !event.shiftKey || event.altKey || event.metaKey) return true;
    const key = event.key.toLowerCase();
    if (key === "c" && term.hasSelection()) {
      navigator.clipboard?.writeText(term.getSelection()).catch(() => {});
      event.preventDefault();
      return false;
    }
    if (key === "v") {
      // Let the browser's own paste event reach xterm (it handles bracketed paste).
      return false;
    }
    return true;
  };
}

/** An xterm opened in `box`, with the fit addon loaded: {term, fitAddon}. */
export function createTerminalView(box) {
  const term = new Terminal({
    allowProposedApi: false,
    cursorBlink: true,
    convertEol: false,
    fontFamily: '"DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, ui-monospace, monospace',
    fontSize: isPhoneWidth() ? 13 : 14,
    // DejaVu Sans Mono at 14 px is 16.3 px tall, but the browser rounds its ascent and descent
    // (13 + 3 px) and xterm's DOM renderer clips each row to that: the underscore, which reaches
    // the font's full descent, is drawn in the 17th pixel and did not show. 1.1 gives every row
    // that pixel (17 px rows at 14 px, 16 at 13).
    lineHeight: 1.1,
    scrollback: 5000,
    theme: THEME,
  });
  const fitAddon = new FitAddon();
  term.loadAddon(fitAddon);
  term.loadAddon(new WebLinksAddon(openLink));
  term.open(box);
  term.attachCustomKeyEventHandler(copyPasteKeys(term));
  return { term, fitAddon };
}
