// Whether this page asks the server for compressed terminal output (`compress: "deflate-raw"`).
// bench/compression.py decided it (docs/performance.md): on mixed terminal text the wire carries a
// third of the bytes, for CPU in the server; over any real network that is time saved, but on the
// server's own machine (loopback) there is no link to spare and the CPU is pure cost. So: asked for
// unless the page comes from this machine or the browser cannot decode it; `localStorage`
// `aict.compress` = "on" or "off" overrides it (for measuring, or a link the rule misjudges).

import { canInflate } from "./inflate.js";

const OVERRIDE_KEY = "aict.compress";
const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

function override() {
  try {
    return window.localStorage.getItem(OVERRIDE_KEY);
  } catch {
    return null; // storage refused (privacy settings): no override
  }
}

export function wantCompression() {
  if (!canInflate()) return false;
  const chosen = override();
  if (chosen === "on") return true;
  if (chosen === "off") return false;
  return !LOOPBACK.test(window.location.hostname);
}
