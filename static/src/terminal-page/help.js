// The page's help (the "?" button): its keyboard shortcuts, listed from shortcuts.js so the help
// and the keys cannot disagree.

import { $, el } from "../lib/dom.js";
import { OTHER_KEYS, SHORTCUTS } from "./shortcuts.js";

export function setupHelp() {
  const dialog = $("#help-dialog");
  const rows = [...SHORTCUTS.map(([keys, what]) => [keys, what]), ...OTHER_KEYS];
  $("#help-keys").replaceChildren(...rows.map(([keys, what]) => el("tr", {}, el("th", { scope: "row" }, el("kbd", {}, keys)), el("td", {}, what))));
  $("#help-open").addEventListener("click", () => dialog.showModal());
}
