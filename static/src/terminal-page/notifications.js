// A command that finished out of sight: when a terminal that is not on screen (another terminal is
// shown, or the page's tab is hidden) ends a command that ran there for a while unseen, the page
// says so (terminal-command, with the exit code; non-zero is an error), and so does the browser's
// notification centre if the user allowed it.

import { el } from "../lib/dom.js";
import { TERMINAL_COMMAND } from "../lib/protocol.js";

export const UNSEEN_MS = 2000; // a command must have run this long out of sight to be worth a word
const OK_STAYS_MS = 15_000; // a success leaves by itself after this; a failure stays until dismissed
const MAX_SHOWN = 5;

function seconds(duration) {
  if (typeof duration !== "number") return "";
  if (duration < 60) return `${duration.toFixed(duration < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(duration / 60);
  return `${minutes} min ${Math.round(duration - minutes * 60)} s`;
}

export class CommandNotifications {
  /**
   * @param {object} opts
   * @param {import("socket.io-client").Socket} opts.socket
   * @param {() => string|null} opts.shownId
   * @param {(sessionId: string) => string} opts.labelOf  how the page names a terminal
   * @param {(sessionId: string) => void} opts.show  bring a terminal on screen
   */
  constructor({ socket, shownId, labelOf, show }) {
    this.shownId = shownId;
    this.labelOf = labelOf;
    this.show = show;
    this.outOfSight = new Map(); // session id -> since when (ms) it has not been on screen
    this.onScreen = shownId();
    this.box = el("div", { id: "notifications", class: "notifications", role: "log", "aria-live": "polite",
      "aria-label": "Finished commands" });
    document.body.append(this.box);
    socket.on(TERMINAL_COMMAND, (message) => this.finished(message));
    document.addEventListener("visibilitychange", () => this.shownChanged());
  }

  /** Call when the terminal shown changes (the page's tab being hidden or shown is followed here). */
  shownChanged() {
    const now = Date.now();
    const visible = document.visibilityState === "visible" ? this.shownId() : null;
    if (this.onScreen && this.onScreen !== visible) this.outOfSight.set(this.onScreen, now);
    if (visible) this.outOfSight.delete(visible);
    this.onScreen = visible;
  }

  /** Ask the browser's permission for notifications (from a click: browsers want a user's gesture). */
  static async allow() {
    if (!("Notification" in window)) return "unsupported";
    if (Notification.permission === "default") return Notification.requestPermission();
    return Notification.permission;
  }

  finished(message) {
    if (!message || typeof message.sessionId !== "string") return;
    const { sessionId } = message;
    if (sessionId === this.onScreen) return; // the user saw it end
    const since = this.outOfSight.get(sessionId); // none: never on screen in this page, unseen all along
    const ran = typeof message.duration === "number" ? message.duration * 1000 : Infinity;
    const unseen = Math.min(ran, since === undefined ? Infinity : Date.now() - since);
    if (unseen < UNSEEN_MS || unseen === Infinity) return;
    this.notify(message);
  }

  notify({ sessionId, command, exit_code: exitCode, duration }) {
    const failed = Number.isInteger(exitCode) && exitCode !== 0;
    const label = this.labelOf(sessionId);
    const outcome = Number.isInteger(exitCode) ? (failed ? `failed with exit code ${exitCode}` : "finished (exit code 0)") : "finished";
    const text = `${command} ${outcome}`;
    const where = `in ${label}${duration ? ` after ${seconds(duration)}` : ""}`;
    const toast = el(
      "div",
      { class: "notification", role: failed ? "alert" : "status", dataset: { kind: failed ? "error" : "ok", sessionId,
        exitCode: Number.isInteger(exitCode) ? String(exitCode) : "" } },
      el("span", { class: "notification-mark", "aria-hidden": "true" }, failed ? "✗" : "✓"),
      el("div", { class: "notification-text" }, el("strong", { class: "mono" }, command), ` ${outcome}`, el("br"),
        el("span", { class: "muted small" }, where)),
      el("button", { type: "button", class: "ghost small", onclick: () => {
        toast.remove();
        this.show(sessionId);
      } }, "Show"),
      el("button", { type: "button", class: "ghost small", "aria-label": "Dismiss", onclick: () => toast.remove() }, "×"),
    );
    this.box.append(toast);
    while (this.box.children.length > MAX_SHOWN) this.box.firstElementChild.remove();
    if (!failed) setTimeout(() => toast.remove(), OK_STAYS_MS);
    if ("Notification" in window && Notification.permission === "granted") {
      try {
        const note = new Notification(failed ? `✗ ${text}` : `✓ ${text}`, { body: where, tag: `aict-${sessionId}` });
        note.onclick = () => {
          window.focus();
          this.show(sessionId);
          note.close();
        };
      } catch {
        // some browsers allow notifications only from a service worker: the page's own one is enough
      }
    }
  }
}
