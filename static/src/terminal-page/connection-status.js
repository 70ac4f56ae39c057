// The connection indicator in the header: connecting, connected, reconnecting (and why), disconnected.

import { $ } from "../lib/dom.js";

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
  }

  /** `state` is one of LABELS' keys; `reason` says why it is not connected (shown in brackets). */
  show(state, reason) {
    this.box.dataset.state = state;
    this.box.textContent = LABELS[state] + (reason && state !== "connected" ? ` (${reason})` : "");
    this.box.title = reason || LABELS[state];
  }

  get state() {
    return this.box.dataset.state;
  }
}
