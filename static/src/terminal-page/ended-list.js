// The workspace's ended terminals in the sidebar, newest first, each with a link to replay its
// recording (the replay page; anyone who may see the workspace's sessions may open it).

import { api } from "../lib/api.js";
import { $, el, formatTime, KeyedRows } from "../lib/dom.js";
import { controlSafe } from "../lib/escape.js";
import { durationText, exitText, replayPath } from "../lib/session-facts.js";

const SHOWN = 10;

export class EndedList {
  constructor(workspaceId) {
    this.workspaceId = workspaceId;
    this.box = $("#ended-list");
    this.rows = new KeyedRows(this.box); // a click begun on a replay link survives a refresh of the list
    this.requests = 0;
  }

  async load() {
    const request = ++this.requests;
    const query = `workspace_id=${encodeURIComponent(this.workspaceId)}&status=exited&limit=${SHOWN}`;
    let sessions;
    try {
      sessions = await api("GET", "/api/sessions?" + query);
    } catch (err) {
      if (request === this.requests) this.say(err.message);
      return;
    }
    if (request !== this.requests) return;
    if (!sessions.length) {
      this.say("None yet.");
      return;
    }
    this.rows.render(sessions.slice(0, SHOWN).map((session) => ({
      key: session.id,
      signature: JSON.stringify(session),
      build: () => this.item(session),
    })));
  }

  say(text) {
    this.rows.render([{ key: "message", signature: text, build: () => el("li", { class: "empty" }, text) }]);
  }

  item(session) {
    const link = el(
      "a",
      { class: "session-open button-link", href: replayPath(session.id), title: "Replay its recording" },
      el("span", { class: "session-name" }, controlSafe(session.name || "Terminal"), " ▸ Replay"),
      el(
        "span",
        { class: "muted small" },
        ...[session.owner, formatTime(session.ended_at), durationText(session), exitText(session)]
          .filter(Boolean)
          .flatMap((detail, i) => [i ? " · " : "", el("span", { class: "nowrap" }, detail)]),
      ),
    );
    return el("li", { class: "session-item", dataset: { id: session.id } }, link);
  }
}
