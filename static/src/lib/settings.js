// The user's page settings (GET/PUT /api/me/settings): theme, font, scrollback, cursor, local echo. Kept on the
// server so they follow the user; a copy in localStorage lets the next page take the theme at once,
// before the server answers. Whoever shows something themed subscribes and is told of every change
// (a save, or the device switching light/dark under the "system" theme).

import { api } from "./api.js";

export const DEFAULT_SETTINGS = Object.freeze({
  theme: "dark",
  font_size: 14,
  font_family: "DejaVu Sans Mono",
  scrollback: 5000,
  cursor_style: "block",
  cursor_blink: false,
  local_echo: "auto",
});

// What the server accepts (aict/services/user_settings.py), for the settings dialog's choices.
export const CHOICES = Object.freeze({
  theme: [["dark", "Dark"], ["light", "Light"], ["system", "Same as the device"]],
  font_family: ["DejaVu Sans Mono", "Liberation Mono", "Noto Sans Mono", "Ubuntu Mono", "Fira Code", "monospace"],
  cursor_style: [["block", "Block"], ["underline", "Underline"], ["bar", "Bar"]],
  cursor_blink: [["false", "Steady"], ["true", "Blinking"]],
  local_echo: [["auto", "On slow links"], ["always", "Always"], ["off", "Off"]],
  font_size: [8, 32],
  scrollback: [0, 50000],
});

const CACHE = "aict.settings";
const LIGHT_QUERY = "(prefers-color-scheme: light)";

function cached() {
  try {
    const value = JSON.parse(localStorage.getItem(CACHE) || "null");
    return value && typeof value === "object" ? { ...DEFAULT_SETTINGS, ...value } : { ...DEFAULT_SETTINGS };
  } catch {
    return { ...DEFAULT_SETTINGS };
  }
}

/** "light" or "dark": the theme the settings ask for, "system" resolved by the device's preference. */
export function resolvedTheme(settings) {
  if (settings.theme === "system") return window.matchMedia(LIGHT_QUERY).matches ? "light" : "dark";
  return settings.theme === "light" ? "light" : "dark";
}

/** The page's own colours (app.css) follow the theme: the root element carries it. */
function applyPageTheme(settings) {
  const theme = resolvedTheme(settings);
  document.documentElement.dataset.theme = theme;
  const meta = document.querySelector('meta[name="color-scheme"]');
  if (meta) meta.content = theme;
}

export class SettingsStore {
  constructor() {
    this.current = cached();
    this.listeners = new Set();
    applyPageTheme(this.current);
    window.matchMedia(LIGHT_QUERY).addEventListener("change", () => {
      if (this.current.theme === "system") this.changed();
    });
  }

  /** Fetch the user's settings; a server out of reach leaves the cached ones. */
  async load() {
    try {
      this.set(await api("GET", "/api/me/settings"));
    } catch {
      // keep what the page has
    }
    return this.current;
  }

  /** Save new settings on the server; resolves with them as stored (rejects with the server's error). */
  async save(settings) {
    this.set(await api("PUT", "/api/me/settings", settings));
    return this.current;
  }

  set(settings) {
    this.current = { ...DEFAULT_SETTINGS, ...settings };
    try {
      localStorage.setItem(CACHE, JSON.stringify(this.current));
    } catch {
      // the server keeps them anyway
    }
    this.changed();
  }

  changed() {
    applyPageTheme(this.current);
    for (const listener of this.listeners) listener(this.current);
  }

  /** Call `listener(settings)` on every change; returns the current settings. */
  subscribe(listener) {
    this.listeners.add(listener);
    return this.current;
  }
}
