// The workspace's ended terminals in the sidebar, newest first, each with a link to replay its
// recording (the replay page; anyone who may see the workspace's sessions may open it).

import { api } from "../lib/api.js";
import { $, el, formatTime, KeyedRows } from "../lib/dom.js";
import { controlSafe } from "../lib/escape.js";
import { durationText, exitText, replayPath } from "../lib/session-facts.js";

const SHOWN = 10;
// The terminal host stores ends in batches, a moment after it tells of them: a list asked for at
// once may not have the terminal yet, so it is asked again, a little later each time.
const EXPECT_RETRIES_MS = [500, 1000, 2000, 4000];

export class EndedList {
  constructor(workspaceId) {
    this.workspaceId = workspaceId;
    this.box = $("#ended-list");
    this.rows = new KeyedRows(this.box); // a click begun on a replay link survives a refresh of the list
    this.requests = 0;
    this.expected = new Set(); // terminals heard to have ended, not in the list yet
    this.retries = 0; // loads since the last expect() that lacked them
    this.retry = null;
  }

  /** A terminal of the workspace ended: load the list until it has it (or a few tries later). */
  expect(sessionId) {
    this.expected.add(sessionId);
    this.retries = 0;
    clearTimeout(this.retry); // one load for a burst (200 terminals ending at once)
    this.retry = setTimeout(() => this.load(), EXPECT_RETRIES_MS[0] / 2);
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
    this.names = new Map(sessions.map((session) => [session.id, session.name || null]));
    this.awaitExpected(sessions);
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

  /** The name of an ended terminal of the list; null when it has none or is not listed. */
  labelOf(sessionId) {
    return this.names?.get(sessionId) ?? null;
  }

  awaitExpected(sessions) {
    for (const session of sessions) this.expected.delete(session.id);
    if (!this.expected.size) return;
    const delay = EXPECT_RETRIES_MS[this.retries++];
    if (delay === undefined) {
      this.expected.clear(); // beyond the newest shown, or its end not stored: the next load shows it
      return;
    }
    clearTimeout(this.retry);
    this.retry = setTimeout(() => this.load(), delay);
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
