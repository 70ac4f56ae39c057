// The xterm itself: its look, clickable links, and the copy and paste keys.

import { FitAddon } from "@xterm/addon-fit";
import { WebLinksAddon } from "@xterm/addon-web-links";
import { SearchAddon } from "@xterm/addon-search";
import { Terminal } from "@xterm/xterm";
import { useRenderer } from "./renderer.js";
import { terminalOptions } from "./terminal-options.js";

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

/** An xterm opened in `box` as `settings` (lib/settings.js) ask, with the fit and search addons: {term, fitAddon, search}. */
export function createTerminalView(box, settings) {
  const term = new Terminal({
    // The search addon highlights matches with decorations, which xterm still counts as proposed API.
    allowProposedApi: true,
    // A steady cursor unless the user asks for a blinking one (terminalOptions): xterm restarts the
    // blink on every key, which changes the page, so Chromium draws a frame right after the key and
    // runs nothing else (the echo's message included) until it has: every echo waited a frame more.
    // Typed 200 ms apart, the echo's p50 was 30.1 ms blinking and 8.5 ms steady (bench/browser.py's
    // probe, alternating blocks; docs/performance.md).
    cursorBlink: false,
    convertEol: false,
    // DejaVu Sans Mono at 14 px is 16.3 px tall, but the browser rounds its ascent and descent
    // (13 + 3 px) and xterm's DOM renderer clips each row to that: the underscore, which reaches
    // the font's full descent, is drawn in the 17th pixel and did not show. 1.1 gives every row
    // that pixel (17 px rows at 14 px, 16 at 13).
    lineHeight: 1.1,
    ...terminalOptions(settings),
  });
  const fitAddon = new FitAddon();
  term.loadAddon(fitAddon);
  term.loadAddon(new WebLinksAddon(openLink));
  const search = new SearchAddon();
  term.loadAddon(search);
  term.open(box);
  useRenderer(term);
  term.attachCustomKeyEventHandler(copyPasteKeys(term));
  return { term, fitAddon, search };
}

/** Show `settings` in an open xterm (a new font or size changes its cells: the caller refits). */
export function applySettings(term, settings) {
  Object.assign(term.options, terminalOptions(settings));
}
