// The search bar (Ctrl+Shift+F): finds text in the active pane's screen and scrollback with
// @xterm/addon-search, every match highlighted, the current one brighter; Enter or ↓ goes to the
// next match, Shift+Enter or ↑ to the previous one, Esc closes the bar and clears the highlights.

import { $ } from "../lib/dom.js";
import { resolvedTheme } from "../lib/settings.js";

// Decoration colours must be #RRGGBB (the addon's rule).
const HIGHLIGHTS = {
  dark: { matchBackground: "#5a4a12", activeMatchBackground: "#b07d0c", matchOverviewRuler: "#d29922", activeMatchColorOverviewRuler: "#ffb000" },
  light: { matchBackground: "#fff0a0", activeMatchBackground: "#ffb300", matchOverviewRuler: "#bf8700", activeMatchColorOverviewRuler: "#9a6700" },
};

export class SearchBar {
  /**
   * @param {() => import("./pane.js").Pane|null} activePane
   * @param {import("../lib/settings.js").SettingsStore} settings
   */
  constructor(activePane, settings) {
    this.activePane = activePane;
    this.settings = settings;
    this.bar = $("#search-bar");
    this.input = $("#search-input");
    this.count = $("#search-count");
    this.pane = null; // the pane searched, with its results listener
    this.results = null;
    this.input.addEventListener("input", () => this.find("next", { incremental: true }));
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        this.find(event.shiftKey ? "previous" : "next");
      }
    });
    // Esc closes the bar from anywhere in it: its field, or the ↑ ↓ × buttons after a click
    this.bar.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        this.close();
      }
    });
    $("#search-next").addEventListener("click", () => this.find("next"));
    $("#search-previous").addEventListener("click", () => this.find("previous"));
    $("#search-close").addEventListener("click", () => this.close());
  }

  get isOpen() {
    return !this.bar.hidden;
  }

  /** Open the bar on the active pane (its selection, if any, as the text to find), or close it. */
  toggle() {
    if (this.isOpen && document.activeElement === this.input) {
      this.close();
      return;
    }
    const pane = this.activePane();
    if (!pane) return;
    const selected = pane.term.hasSelection() ? pane.term.getSelection().trim() : "";
    if (selected && !selected.includes("\n")) this.input.value = selected;
    this.bar.hidden = false;
    this.input.focus();
    this.input.select();
    if (this.input.value) this.find("next");
  }

  /** Another pane is the active one: the highlights move to it. */
  follow() {
    if (!this.isOpen || this.pane === this.activePane()) return;
    this.detach();
    if (this.input.value) this.find("next");
  }

  find(direction, { incremental = false } = {}) {
    const pane = this.activePane();
    if (!pane) return;
    if (pane !== this.pane) {
      this.detach();
      this.pane = pane;
      this.results = pane.search.onDidChangeResults((result) => this.showCount(result));
    }
    const text = this.input.value;
    if (!text) {
      pane.search.clearDecorations();
      this.count.textContent = "";
      return;
    }
    const options = { incremental, decorations: HIGHLIGHTS[resolvedTheme(this.settings.current)] };
    const found = direction === "previous" ? pane.search.findPrevious(text, options) : pane.search.findNext(text, options);
    if (!found) this.count.textContent = "No matches";
  }

  showCount({ resultIndex, resultCount }) {
    if (!resultCount) this.count.textContent = "No matches";
    else if (resultIndex < 0) this.count.textContent = `${resultCount}+ matches`;
    else this.count.textContent = `${resultIndex + 1} of ${resultCount}`;
  }

  detach() {
    if (this.results) this.results.dispose();
    if (this.pane && !this.pane.disposed) {
      this.pane.search.clearDecorations();
      this.pane.term.clearSelection(); // the match found last was selected, and stayed highlighted
    }
    this.results = null;
    this.pane = null;
  }

  close() {
    this.detach();
    this.bar.hidden = true;
    this.count.textContent = "";
    this.activePane()?.focus();
  }
}
