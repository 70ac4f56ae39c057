// The list of the workspace's running terminals in the sidebar: open one, end one, download its
// recording. The newest answer of the server wins, whatever order the answers land in.

import { api, download } from "../lib/api.js";
import { $, el, formatTime, formatTimeShort, KeyedRows } from "../lib/dom.js";

function label(session, index) {
  return session.name || `Terminal ${index + 1}`;
}

export class SessionList {
  /**
   * @param {object} opts
   * @param {string} opts.workspaceId
   * @param {import("./banners.js").Banners} opts.banners  where errors are said
   * @param {() => string|null} opts.shownId  the terminal of the active pane
   * @param {() => Set<string>} [opts.openIds]  the terminals the page's panes show
   * @param {(session: object) => void} opts.onOpen  the user chose a terminal of the list
   * @param {boolean} [opts.mayEnd]  the caller may end terminals (operators, owners, admins; not viewers)
   * @param {(sessionId: string) => Node|null} [opts.detail]  a line more for an entry (what it runs)
   * @param {(sessionIds: string[]) => void} [opts.onGone]  terminals listed before and not any more
   */
  constructor({ workspaceId, banners, shownId, openIds = () => new Set(), onOpen, mayEnd = true, onLoaded = () => {}, onGone = () => {},
                detail = () => null }) {
    this.detail = detail;
    this.mayEnd = mayEnd;
    this.box = $("#session-list");
    this.rows = new KeyedRows(this.box); // a click begun on an entry survives a refresh of the list
    this.workspaceId = workspaceId;
    this.banners = banners;
    this.shownId = shownId;
    this.openIds = openIds;
    this.onLoaded = onLoaded;
    this.onGone = onGone;
    this.onOpen = onOpen;
    this.sessions = [];
    this.requests = 0;
    this.failed = null; // what the last failed refresh said in the banner
  }

  /** Fetch the running terminals again and show them; resolves with the list (oldest first). */
  async load() {
    const request = ++this.requests;
    try {
      const query = `workspace_id=${encodeURIComponent(this.workspaceId)}&status=running`;
      const sessions = await api("GET", "/api/sessions?" + query);
      if (request !== this.requests) return this.sessions; // a later request's answer wins, whenever it lands
      const now = new Set(sessions.map((session) => session.id));
      const gone = this.sessions.filter((session) => !now.has(session.id)).map((session) => session.id);
      this.sessions = sessions;
      // Ended without this page hearing of it (its socket was down then, or the terminal host
      // stopped): the ended terminals' list has them now
      if (gone.length) this.onGone(gone);
      this.sessions.sort((a, b) => String(a.created_at).localeCompare(String(b.created_at)));
      this.render();
      this.onLoaded();
      // A refresh that failed while the server could not be reached said so; it is reached again
      this.banners.unsay(this.failed);
      this.failed = null;
    } catch (err) {
      this.failed = err.message;
      this.banners.say(err.message);
    }
    return this.sessions;
  }

  /** Access to the workspace was removed: nothing of it is shown any more. */
  revoked() {
    this.requests += 1; // an answer still on its way changes nothing
    this.sessions = [];
    this.rows.render([{ key: "revoked", signature: "", build: () => el("li", { class: "empty" }, "Your access to this workspace was removed.") }]);
  }

  render() {
    if (!this.sessions.length) {
      this.rows.render([{ key: "empty", signature: "", build: () => el("li", { class: "empty" }, "No running terminals.") }]);
      return;
    }
    const shown = this.shownId();
    const open = this.openIds();
    this.rows.render(this.sessions.map((session, index) => {
      const current = session.id === shown;
      const inPane = open.has(session.id);
      return {
        key: session.id,
        signature: JSON.stringify([session, index, current, inPane]),
        build: () => this.item(session, index, current, inPane),
      };
    }));
  }

  /** The name the list gives a running terminal ("Terminal 2" when it has none); null when not listed. */
  labelOf(sessionId) {
    const index = this.sessions.findIndex((session) => session.id === sessionId);
    return index < 0 ? null : label(this.sessions[index], index);
  }

  item(session, index, current, shown) {
    const open = el(
      "button",
      {
        type: "button",
        class: "session-open",
        "aria-current": current ? "true" : null,
        onclick: () => this.onOpen(session),
      },
      el("span", { class: "session-name" }, label(session, index), shown && !current ? el("span", { class: "pane-badge" }, "in a pane") : null),
      el(
        "span",
        { class: "muted small session-details" },
        // Each detail whole on its line: a narrow list wraps between them, never inside a date.
        ...[
          [session.owner],
          [formatTimeShort(session.created_at), formatTime(session.created_at)],
          [`${session.cols}×${session.rows}`],
        ]
          .filter(([detail]) => detail)
          .flatMap(([detail, title], i) => [i ? " · " : "", el("span", { class: "nowrap", title }, detail)]),
      ),
      this.detail(session.id),
    );
    const kill = el(
      "button",
      {
        type: "button",
        class: "session-kill danger small",
        title: "End this terminal",
        "aria-label": `End ${label(session, index)}`,
        onclick: (event) => this.kill(session, index, event.currentTarget),
      },
      "End",
    );
    const record = el(
      "button",
      {
        type: "button",
        class: "session-record ghost small",
        title: "Download the recording (asciicast, plays with asciinema)",
        "aria-label": `Download the recording of ${label(session, index)}`,
        onclick: () =>
          download(`/api/sessions/${encodeURIComponent(session.id)}/recording`, `aict-${session.id}.cast`).catch((err) =>
            this.banners.say(err.message),
          ),
      },
      "⤓",
    );
    // The buttons sit in the card's top right corner (app.css), beside the name, which leaves them room.
    return el(
      "li",
      { class: "session-item" + (shown ? " in-pane" : "") + (this.mayEnd ? " may-end" : ""), dataset: { id: session.id } },
      open,
      el("span", { class: "session-actions" }, record, this.mayEnd ? kill : null),
    );
  }

  async kill(session, index, button) {
    if (!confirm(`End ${label(session, index)}? Its programs are stopped.`)) return;
    // A program that ignores the hangup is killed 3 s later: say that the request is under way.
    button.disabled = true;
    button.textContent = "Ending…";
    this.banners.endingHere.add(session.id); // its exit event comes before the answer: "You ended this terminal."
    try {
      await api("DELETE", "/api/sessions/" + encodeURIComponent(session.id));
    } catch (err) {
      this.banners.endingHere.delete(session.id);
      this.banners.say(err.message);
      button.disabled = false; // the entry is kept as it is across refreshes: it says End again
      button.textContent = "End";
    }
    await this.load(); // DELETE answers once the terminal has ended
  }
}
