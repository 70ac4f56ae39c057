// Which of xterm's renderers draws the terminals. bench/browser.py measured them (docs/performance.md):
// WebGL drawn in software (SwiftShader, llvmpipe: a browser without a GPU, or with it turned off)
// delivers a flood at less than half the DOM renderer's speed for twice its CPU, so the DOM renderer
// stays wherever WebGL would run in software, and wherever WebGL is missing. WebGL on a GPU is
// xterm's fast renderer; it is used where the browser has one. `localStorage` `aict.renderer` =
// "webgl" or "dom" overrides the choice (for measuring, or a GPU that draws badly).

import { WebglAddon } from "@xterm/addon-webgl";

const OVERRIDE_KEY = "aict.renderer";
const DETECTED_KEY = "aict.hardware-webgl"; // this tab's answer, kept for its later pages
const SOFTWARE = /swiftshader|llvmpipe|softpipe|software|basic render/i;

let hardwareWebgl = null; // asked once per tab: it creates (and drops) a WebGL context

function override() {
  try {
    return window.localStorage.getItem(OVERRIDE_KEY);
  } catch {
    return null; // storage refused (privacy settings): no override
  }
}

/**
 * Whether this browser draws WebGL 2 on a GPU (not in software). Asking costs a WebGL context: ~10
 * ms, and 135 ms for the first one where SwiftShader starts (headless Chromium on a loaded machine).
 */
export function hasHardwareWebgl() {
  if (hardwareWebgl !== null) return hardwareWebgl;
  const kept = remembered();
  if (kept !== null) return (hardwareWebgl = kept === "1");
  hardwareWebgl = false;
  try {
    const gl = document.createElement("canvas").getContext("webgl2");
    if (gl) {
      const info = gl.getExtension("WEBGL_debug_renderer_info");
      const name = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
      hardwareWebgl = !SOFTWARE.test(name);
      gl.getExtension("WEBGL_lose_context")?.loseContext();
    }
  } catch {
    hardwareWebgl = false;
  }
  remember(hardwareWebgl ? "1" : "0");
  return hardwareWebgl;
}

function remembered() {
  try {
    return window.sessionStorage.getItem(DETECTED_KEY);
  } catch {
    return null;
  }
}

function remember(value) {
  try {
    window.sessionStorage.setItem(DETECTED_KEY, value);
  } catch {
    // storage refused: asked again on the next page
  }
}

function whenIdle(step) {
  if (typeof window.requestIdleCallback === "function") window.requestIdleCallback(step, { timeout: 2000 });
  else setTimeout(step, 200);
}

function loadWebgl(term) {
  try {
    const webgl = new WebglAddon();
    webgl.onContextLoss(() => webgl.dispose());
    term.loadAddon(webgl);
  } catch {
    // no WebGL 2 after all: xterm's DOM renderer goes on drawing
  }
}

/**
 * Draw an opened xterm with WebGL where the browser has it on a GPU (or `aict.renderer` asks for
 * it). The terminal opens with xterm's DOM renderer and the question is asked once the page is idle,
 * so opening a terminal never waits for it. WebGL that fails to start, or loses its context later
 * (a GPU reset), gives way to the DOM renderer.
 */
export function useRenderer(term) {
  const chosen = override();
  if (chosen === "dom") return;
  if (chosen === "webgl") {
    loadWebgl(term);
    return;
  }
  whenIdle(() => {
    if (term.element?.isConnected && hasHardwareWebgl()) loadWebgl(term);
  });
}
