// The connection indicator in the header: connecting, connected, reconnecting (and why), disconnected.

import { $ } from "../lib/dom.js";
import { ATTACH_WAITING } from "../session/terminal-session.js";

const LABELS = {
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
  disconnected: "Disconnected",
  revoked: "No access", // connected, but removed from this workspace's members
};

export class ConnectionStatus {
  constructor(box = $("#conn-status")) {
    this.box = box;
    this.waiting = 0; // attaches unanswered past ATTACH_WAIT_SHOWN_MS
    this.shown = ["connecting", ""];
    window.addEventListener(ATTACH_WAITING, (event) => {
      this.waiting = Math.max(0, this.waiting + event.detail);
      this.render();
    });
  }

  /** `state` is one of LABELS' keys; `reason` says why it is not connected (shown in brackets). */
  show(state, reason) {
    this.shown = [state, reason];
    this.render();
  }

  render() {
    const [state, reason] = this.shown;
    this.box.dataset.state = state;
    if (state === "connected" && this.waiting) {
      this.box.dataset.waiting = "1";
      this.box.textContent = "Connected · waiting for the terminal host…";
      this.box.title = "The server is up; the process that runs the terminals is starting. Nothing typed is lost.";
      return;
    }
    delete this.box.dataset.waiting;
    this.box.textContent = LABELS[state] + (reason && state !== "connected" ? ` (${reason})` : "");
    this.box.title = reason || LABELS[state];
  }

  get state() {
    return this.box.dataset.state;
  }
}
