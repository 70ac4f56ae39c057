// The row of tabs above the panes: one per tab of the workspace's layout, its title that of the
// pane in focus, a dot when a terminal in it printed while it was out of sight, and a close button.

import { el, KeyedRows } from "../lib/dom.js";

export class TabBar {
  /**
   * @param {object} opts
   * @param {HTMLElement} opts.box  the tablist
   * @param {(tabId: string) => void} opts.onSelect
   * @param {(tabId: string) => void} opts.onClose
   */
  constructor({ box, onSelect, onClose }) {
    this.box = box;
    this.rows = new KeyedRows(box);
    this.onSelect = onSelect;
    this.onClose = onClose;
    // Arrow keys move between the tabs, as in any tablist.
    box.addEventListener("keydown", (event) => {
      const tabs = [...box.querySelectorAll("[role=tab]")];
      const at = tabs.indexOf(document.activeElement);
      if (at < 0 || !["ArrowLeft", "ArrowRight"].includes(event.key)) return;
      event.preventDefault();
      const next = tabs[(at + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
      next.focus();
      this.onSelect(next.closest("[data-tab-id]").dataset.tabId);
    });
  }

  /** @param {{id: string, title: string, active: boolean, activity: boolean, ended: boolean, panes: number}[]} tabs */
  render(tabs) {
    const closable = tabs.length > 1;
    this.rows.render(tabs.map((tab, index) => ({
      key: tab.id,
      signature: JSON.stringify([tab, index, closable]),
      build: () => this.item(tab, index, closable),
    })));
    // A row of tabs wider than the screen scrolls: the active one stays in sight.
    this.box.querySelector(".tab-item.active")?.scrollIntoView({ block: "nearest", inline: "nearest" });
  }

  item(tab, index, closable) {
    const name = tab.panes > 1 ? `${tab.title} +${tab.panes - 1}` : tab.title;
    const select = el(
      "button",
      {
        type: "button",
        role: "tab",
        class: "tab",
        "aria-selected": String(tab.active),
        tabindex: tab.active ? "0" : "-1",
        title: index < 9 ? `${name} (Ctrl+Shift+${index + 1})` : name,
        onclick: () => this.onSelect(tab.id),
      },
      el("span", { class: "tab-title" }, name),
      tab.ended ? el("span", { class: "tab-ended" }, "ended") : null,
      tab.activity ? el("span", { class: "activity-dot", role: "img", "aria-label": "new output" }) : null,
    );
    const close = closable
      ? el("button", {
        type: "button",
        class: "ghost small tab-close",
        title: "Close this tab (its terminals keep running)",
        "aria-label": `Close the tab ${name}`,
        onclick: () => this.onClose(tab.id),
      }, "×")
      : null;
    return el("li", {
      role: "presentation",
      class: "tab-item" + (tab.active ? " active" : "") + (tab.activity ? " activity" : ""),
      dataset: { tabId: tab.id },
    }, select, close);
  }
}
