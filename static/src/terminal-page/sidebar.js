// The sidebar with the terminals of the workspace: always shown on wide screens, opened and closed
// by the header's "Terminals" button on phones.

import { $, isPhoneWidth } from "../lib/dom.js";

export class Sidebar {
  constructor() {
    this.box = $("#sidebar");
    this.toggle = $("#sessions-toggle");
    this.toggle.addEventListener("click", () => this.setOpen(!this.box.classList.contains("open")));
  }

  setOpen(open) {
    this.box.classList.toggle("open", open);
    this.toggle.setAttribute("aria-expanded", String(open));
  }

  /** On a phone the sidebar covers the terminal: close it once the user has chosen. */
  closeOnPhone() {
    if (isPhoneWidth()) this.setOpen(false);
  }
}
