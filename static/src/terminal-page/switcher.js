// The workspace switcher (Ctrl+Shift+K, or the workspace's name in the header): the caller's
// workspaces in a list narrowed as they type; Enter or a click goes to one. The terminals left
// behind keep running, and the page of each workspace comes back with its own tabs and panes.

import { api } from "../lib/api.js";
import { $, el } from "../lib/dom.js";

export class WorkspaceSwitcher {
  constructor(currentId) {
    this.currentId = currentId;
    this.dialog = $("#switcher-dialog");
    this.input = $("#switcher-filter");
    this.list = $("#switcher-list");
    this.workspaces = [];
    this.input.addEventListener("input", () => this.render());
    this.input.addEventListener("keydown", (event) => this.key(event));
    $("#ws-switch").addEventListener("click", () => this.open());
  }

  async open() {
    if (this.dialog.open) return;
    this.input.value = "";
    this.dialog.showModal();
    this.input.focus();
    try {
      this.workspaces = await api("GET", "/api/workspaces");
    } catch (err) {
      this.list.replaceChildren(el("li", { class: "empty" }, err.message));
      return;
    }
    this.render();
  }

  matching() {
    const words = this.input.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    return this.workspaces.filter((ws) => {
      const text = `${ws.name} ${ws.host || ""} ${ws.path || ""}`.toLowerCase();
      return words.every((word) => text.includes(word));
    });
  }

  render() {
    const shown = this.matching();
    if (!shown.length) {
      this.list.replaceChildren(el("li", { class: "empty" }, "No workspace matches."));
      return;
    }
    this.list.replaceChildren(...shown.map((ws, index) => el(
      "li",
      { class: "switcher-item" },
      el(
        "a",
        {
          href: `/workspaces/${encodeURIComponent(ws.id)}`,
          class: index === 0 ? "selected" : null,
          "aria-current": ws.id === this.currentId ? "page" : null,
        },
        el("span", { class: "switcher-name" }, ws.name),
        el("span", { class: "muted small" }, ws.kind === "ssh" ? `${ws.username || ""}@${ws.host}` : ws.path || "local"),
      ),
    )));
  }

  /** Arrows move the selection, Enter follows it. */
  key(event) {
    const links = [...this.list.querySelectorAll("a")];
    if (!links.length) return;
    const at = Math.max(0, links.findIndex((link) => link.classList.contains("selected")));
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const next = (at + (event.key === "ArrowDown" ? 1 : links.length - 1)) % links.length;
      links[at].classList.remove("selected");
      links[next].classList.add("selected");
      links[next].scrollIntoView({ block: "nearest" });
    } else if (event.key === "Enter") {
      event.preventDefault();
      location.assign(links[at].href);
    }
  }
}
