// What each terminal of the workspace runs, as the server reports it (terminal-process): the page
// watches the workspace (watch-terminals) so that terminals not on screen report too. Shown above
// the terminal (its foreground program, CPU and memory) and on each terminal of the list.

import { request } from "../lib/connection.js";
import { el, formatBytes } from "../lib/dom.js";
import { TERMINAL_EXIT, TERMINAL_PROCESS, TERMINAL_STATE, WATCH_TERMINALS } from "../lib/protocol.js";

/** "bash -l" for "/bin/bash -l": the program's name without its folder, then its arguments. */
export function programOf(command) {
  if (!command) return "";
  const [first, ...rest] = command.split(" ");
  return [first.slice(first.lastIndexOf("/") + 1), ...rest].join(" ");
}

/** "12% CPU · 3.4 MB" (`short`: "12% · 3.4 MB", for the list's narrow entries) */
export function usageOf(process, short = false) {
  const cpu = process.cpu_percent;
  return `${cpu < 10 ? cpu.toFixed(1) : Math.round(cpu)}%${short ? "" : " CPU"} · ${formatBytes(process.rss_bytes)}`;
}

export class ProcessInfo {
  /**
   * @param {object} opts
   * @param {import("socket.io-client").Socket} opts.socket
   * @param {string} opts.workspaceId
   * @param {() => string|null} opts.shownId  the terminal the page shows
   * @param {HTMLElement} opts.label  where the shown terminal's program and usage go
   * @param {boolean} [opts.reported]  the server reports these terminals' processes (local ones, not SSH)
   * @param {(sessionId: string) => void} [opts.unlisted]  the first report of each terminal came (one
   *        started elsewhere, in another tab or by another member, may be missing from the list)
   */
  constructor({ socket, workspaceId, shownId, label, reported = true, unlisted = () => {} }) {
    this.socket = socket;
    this.reported = reported;
    this.unlisted = unlisted;
    this.workspaceId = workspaceId;
    this.shownId = shownId;
    this.label = label;
    this.latest = new Map(); // session id -> its last terminal-process payload
    socket.on(TERMINAL_PROCESS, (payload) => this.heard(payload));
    // An ended terminal runs nothing: its bar and list line said its last program for good
    socket.on(TERMINAL_EXIT, (payload) => this.ended(payload?.sessionId));
    socket.on(TERMINAL_STATE, (state) => {
      if (state?.status === "exited") this.ended(state.sessionId);
    });
  }

  ended(sessionId) {
    if (typeof sessionId !== "string" || !this.latest.delete(sessionId)) return;
    if (sessionId === this.shownId()) this.showShown();
    for (const line of document.querySelectorAll(".session-proc")) {
      if (line.dataset.procFor === sessionId) this.fill(line, sessionId);
    }
  }

  /** After every (re)connect: watch the workspace's terminals again, and take what is known now. */
  async connected() {
    const answer = await request(this.socket, WATCH_TERMINALS, { workspaceId: this.workspaceId });
    if (answer.ok) for (const payload of answer.processes || []) this.heard(payload);
  }

  heard(payload) {
    if (!payload || typeof payload.sessionId !== "string") return;
    if (!this.latest.has(payload.sessionId)) this.unlisted(payload.sessionId);
    this.latest.set(payload.sessionId, payload);
    if (payload.sessionId === this.shownId()) this.showShown();
    for (const line of document.querySelectorAll(".session-proc")) {
      if (line.dataset.procFor === payload.sessionId) this.fill(line, payload.sessionId);
    }
  }

  /** The terminal shown changed (or its figures did). */
  showShown() {
    const payload = this.latest.get(this.shownId());
    const program = payload && payload.foreground ? programOf(payload.foreground.command) : "";
    this.label.replaceChildren(
      el("span", { class: "proc-program", title: payload && payload.foreground ? payload.foreground.command : null }, program),
      payload ? el("span", { class: "proc-usage muted" }, usageOf(payload)) : "",
    );
  }

  /** The line of a terminal in the list: what it runs. */
  lineFor(sessionId) {
    const line = el("span", { class: "session-proc small", dataset: { procFor: sessionId } });
    this.fill(line, sessionId);
    return line;
  }

  fill(line, sessionId) {
    const payload = this.latest.get(sessionId);
    // A line to come keeps its place, invisible: the list below (the files) does not move under
    // the pointer when the first report lands a moment after the page opens.
    line.hidden = !payload && !this.reported;
    line.classList.toggle("pending", !payload);
    if (!payload) {
      line.replaceChildren("\u00a0");
      return;
    }
    const program = payload.foreground ? programOf(payload.foreground.command) : "";
    line.replaceChildren(el("span", { class: "proc-program" }, program), " ", el("span", { class: "muted" }, usageOf(payload, true)));
    line.title = payload.foreground ? payload.foreground.command : "";
  }
}
