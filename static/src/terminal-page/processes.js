// The processes view: the shown terminal's process tree (GET /api/sessions/<id>/processes) in a
// dialog, refreshed every few seconds while it is open.

import { api } from "../lib/api.js";
import { el, formatBytes, formatTime } from "../lib/dom.js";

const REFRESH_MS = 2000;

/** Each process after its parent, with its depth under the terminal's shell. */
function ordered(processes) {
  const children = new Map();
  const pids = new Set(processes.map((p) => p.pid));
  for (const proc of processes) {
    const parent = pids.has(proc.ppid) ? proc.ppid : null;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(proc);
  }
  const rows = [];
  const walk = (parent, depth) => {
    for (const proc of children.get(parent) || []) {
      rows.push({ proc, depth });
      walk(proc.pid, depth + 1);
    }
  };
  walk(null, 0);
  return rows;
}

export class ProcessesDialog {
  constructor() {
    this.title = el("h2", { id: "processes-title" }, "Processes");
    this.note = el("p", { class: "muted small", role: "status" });
    this.body = el("tbody");
    const table = el(
      "table",
      { class: "process-table" },
      el("thead", {}, el("tr", {}, ...["PID", "Command", "CPU", "Memory", "Started"].map((h) =>
        el("th", { scope: "col", class: h === "CPU" || h === "Memory" ? "num" : null }, h)))),
      this.body,
    );
    this.dialog = el(
      "dialog",
      { id: "processes-dialog", class: "dialog processes-dialog", "aria-labelledby": "processes-title" },
      el(
        "form",
        { method: "dialog" },
        this.title,
        this.note,
        el("div", { class: "table-scroll" }, table),
        el("div", { class: "actions" }, el("button", { value: "close", class: "ghost" }, "Close")),
      ),
    );
    this.dialog.addEventListener("close", () => this.stop());
    document.body.append(this.dialog);
    this.timer = null;
    this.sessionId = null;
  }

  open(sessionId, label) {
    if (!sessionId) return;
    this.sessionId = sessionId;
    this.title.textContent = `Processes of ${label}`;
    this.note.textContent = "Loading…";
    this.body.replaceChildren();
    this.dialog.showModal();
    this.load();
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = null;
    this.sessionId = null;
  }

  async load() {
    const sessionId = this.sessionId;
    if (!sessionId) return;
    try {
      const processes = await api("GET", `/api/sessions/${encodeURIComponent(sessionId)}/processes`);
      if (sessionId !== this.sessionId) return;
      this.render(processes);
    } catch (err) {
      if (sessionId === this.sessionId) this.note.textContent = err.message;
    }
    if (sessionId === this.sessionId) this.timer = setTimeout(() => this.load(), REFRESH_MS);
  }

  render(processes) {
    this.note.textContent = processes.length
      ? `${processes.length} ${processes.length === 1 ? "process" : "processes"}, refreshed every ${REFRESH_MS / 1000} s.`
      : "No processes to show: the terminal has ended, or it runs on an SSH server, whose processes aict does not see.";
    this.body.replaceChildren(
      ...ordered(processes).map(({ proc, depth }) => {
        const command = el("td", { class: "mono process-command", title: proc.command }, proc.command);
        command.style.paddingLeft = `${0.6 + depth * 1.2}rem`; // the tree's depth (CSSOM: allowed by the page's CSP)
        return el(
          "tr",
          { dataset: { pid: String(proc.pid) } },
          el("td", { class: "mono" }, String(proc.pid)),
          command,
          el("td", { class: "num" }, `${proc.cpu_percent.toFixed(1)}%`),
          el("td", { class: "num" }, formatBytes(proc.rss_bytes)),
          el("td", {}, formatTime(proc.started_at)),
        );
      }),
    );
  }
}
