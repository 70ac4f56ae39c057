// The workspace's git state in the header: branch (or the commit of a detached HEAD), commits ahead
// of and behind its upstream, and how many files changed; a click lists the changed files with their
// `git status --porcelain` codes. Fed by WorkspaceEvents (workspace-events.js): updated live.

import { $, el } from "../lib/dom.js";

/** What each code's letters say, for the list's tooltips. */
const CODE_WORDS = { M: "modified", A: "added", D: "deleted", R: "renamed", C: "copied", U: "unmerged", T: "type changed", "?": "untracked" };

function describeCode(code) {
  if (code === "??") return "untracked";
  const [staged, worktree] = code;
  const parts = [];
  if (staged !== " ") parts.push(`${CODE_WORDS[staged] || staged} in the index`);
  if (worktree !== " ") parts.push(`${CODE_WORDS[worktree] || worktree} in the work tree`);
  return parts.join(", ");
}

export class GitStatus {
  /** `events`: a WorkspaceEvents; the badge goes into the header, before the connection's status. */
  constructor(events) {
    this.button = el("button", {
      type: "button", id: "git-status", class: "ghost small git-status", hidden: true,
      "aria-haspopup": "true", "aria-expanded": "false", "aria-controls": "git-files",
      onclick: () => this.setOpen(this.panel.hidden),
    });
    this.panel = el("div", { id: "git-files", class: "git-files", role: "region", "aria-label": "Changed files", hidden: true });
    const anchor = $("#conn-status");
    anchor.before(this.button);
    document.body.append(this.panel);
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !this.panel.hidden) this.setOpen(false);
    });
    document.addEventListener("pointerdown", (event) => {
      if (!this.panel.hidden && !this.panel.contains(event.target) && !this.button.contains(event.target)) this.setOpen(false);
    });
    events.on("status", (status) => this.render(status));
  }

  setOpen(open) {
    this.panel.hidden = !open;
    this.button.setAttribute("aria-expanded", String(open));
  }

  render(status) {
    const repository = status && (status.branch || status.detached);
    this.button.hidden = !repository;
    if (!repository) {
      this.setOpen(false);
      return;
    }
    const name = status.branch || `detached at ${status.commit || "?"}`;
    const changed = status.changed ?? (status.files || []).length;
    const parts = [el("span", { class: "git-branch", "data-branch": status.branch || "" }, name)];
    if (status.ahead) parts.push(el("span", { class: "git-ahead", title: `${status.ahead} commits ahead of ${status.upstream || "upstream"}` }, `↑${status.ahead}`));
    if (status.behind) parts.push(el("span", { class: "git-behind", title: `${status.behind} commits behind ${status.upstream || "upstream"}` }, `↓${status.behind}`));
    parts.push(el("span", { class: changed ? "git-changed dirty" : "git-changed" }, changed ? `${changed} changed` : "clean"));
    this.button.replaceChildren(...parts);
    this.button.title = `Branch ${name}${changed ? `, ${changed} changed files: click for the list` : ", nothing changed"}`;
    this.renderFiles(status, changed);
  }

  renderFiles(status, changed) {
    const files = status.files || [];
    const rows = files.map((file) =>
      el("li", { title: describeCode(file.status) },
        el("code", { class: "git-code" }, file.status.replace(/ /g, "\u00a0")),
        el("span", { class: "git-path" }, file.from ? `${file.from} → ${file.path}` : file.path)));
    const head = el("p", { class: "git-files-head" }, changed ? `${changed} changed on ${status.branch || "a detached HEAD"}` : "Nothing changed.");
    const more = changed > files.length ? el("p", { class: "muted small" }, `and ${changed - files.length} more`) : null;
    this.panel.replaceChildren(...[head, el("ul", {}, rows), more].filter(Boolean));
  }
}
