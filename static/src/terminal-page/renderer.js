// Which of xterm's renderers draws the terminals. bench/browser.py measured them (docs/performance.md):
// WebGL drawn in software (SwiftShader, llvmpipe: a browser without a GPU, or with it turned off)
// delivers a flood at less than half the DOM renderer's speed for twice its CPU, so the DOM renderer
// stays wherever WebGL would run in software, and wherever WebGL is missing. WebGL on a GPU is
// xterm's fast renderer; it is used where the browser has one. `localStorage` `aict.renderer` =
// "webgl" or "dom" overrides the choice (for measuring, or a GPU that draws badly).

import { WebglAddon } from "@xterm/addon-webgl";

const OVERRIDE_KEY = "aict.renderer";
const SOFTWARE = /swiftshader|llvmpipe|softpipe|software|basic render/i;

let hardwareWebgl = null; // asked once per page: it creates (and drops) a WebGL context

function override() {
  try {
    return window.localStorage.getItem(OVERRIDE_KEY);
  } catch {
    return null; // storage refused (privacy settings): no override
  }
}

/** Whether this browser draws WebGL 2 on a GPU (not in software). */
export function hasHardwareWebgl() {
  if (hardwareWebgl !== null) return hardwareWebgl;
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
  return hardwareWebgl;
}

/** "webgl" or "dom": the override if any, else WebGL where a GPU draws it. */
export function chosenRenderer() {
  const chosen = override();
  if (chosen === "webgl" || chosen === "dom") return chosen;
  return hasHardwareWebgl() ? "webgl" : "dom";
}

/**
 * Draw an opened xterm with the chosen renderer; returns the one in use. WebGL that fails to start,
 * or loses its context later (a GPU reset), gives way to xterm's own DOM renderer.
 */
export function useRenderer(term, choice = chosenRenderer()) {
  if (choice !== "webgl") return "dom";
  try {
    const webgl = new WebglAddon();
    webgl.onContextLoss(() => webgl.dispose());
    term.loadAddon(webgl);
    return "webgl";
  } catch {
    return "dom";
  }
}
