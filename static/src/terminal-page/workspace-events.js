// The workspace's live events on the page's connection (watch-workspace): its git status and its
// file changes, watched again after every reconnect, handed to whatever part of the page listens.
//
//   const events = new WorkspaceEvents(socket, workspaceId);
//   const stop = events.on("status", (status) => ...);     // the workspace-status payload, also the ack's
//   events.on("changes", (changes, payload) => ...);       // file-change: [{path, change, to?}], "many" for a burst
//   events.on("watched", () => ...);                       // (re)watched: changes may have been missed, reload
//   events.status                                          // the last status, or null
//
// Listeners that throw do not stop the others. The server drives it all; the page never polls.

import { request } from "../lib/connection.js";
import { FILE_CHANGE, UNWATCH_WORKSPACE, WATCH_WORKSPACE, WORKSPACE_STATUS } from "../lib/protocol.js";

export class WorkspaceEvents {
  constructor(socket, workspaceId) {
    this.socket = socket;
    this.workspaceId = workspaceId;
    this.status = null;
    this.error = null;
    this.listeners = new Map();
    this.active = true;
    socket.on("connect", () => this.watch());
    socket.on(WORKSPACE_STATUS, (status) => {
      if (status && status.workspaceId === this.workspaceId) this.setStatus(status);
    });
    socket.on(FILE_CHANGE, (payload) => {
      if (payload && payload.workspaceId === this.workspaceId) this.emit("changes", payload.changes || [], payload);
    });
    if (socket.connected) this.watch();
  }

  /** Listen to "status", "changes", "watched" or "error"; returns the function that stops it. */
  on(type, listener) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(listener);
    return () => this.listeners.get(type).delete(listener);
  }

  emit(type, ...args) {
    for (const listener of this.listeners.get(type) || []) {
      try {
        listener(...args);
      } catch (err) {
        console.error(`workspace ${type} listener failed`, err);
      }
    }
  }

  setStatus(status) {
    this.status = status;
    this.emit("status", status);
  }

  async watch() {
    if (!this.active) return;
    const answer = await request(this.socket, WATCH_WORKSPACE, { workspaceId: this.workspaceId });
    if (answer.ok) {
      this.error = null;
      this.setStatus(answer.status);
      this.emit("watched");
    } else {
      this.error = answer.error;
      this.emit("error", answer.error);
    }
  }

  /** Stop watching (the page leaves the workspace); a reconnect will not watch again. */
  stop() {
    this.active = false;
    if (this.socket.connected) request(this.socket, UNWATCH_WORKSPACE, { workspaceId: this.workspaceId });
  }
}
