// Who is watching the shown terminal (terminal-viewers): initials above the terminal, and a menu
// listing each attached tab, where the workspace's owner and administrators detach one
// (DELETE /api/sessions/<id>/viewers/<viewer id>). A page that is detached says so and stays
// detached until its user attaches again.

import { api } from "../lib/api.js";
import { $, el, formatTime, KeyedRows } from "../lib/dom.js";
import { ERROR, TERMINAL_VIEWERS } from "../lib/protocol.js";

const AVATARS_SHOWN = 5;

function initials(username) {
  const letters = String(username || "?").replace(/[^\p{L}\p{N}]/gu, "");
  return (letters.slice(0, 2) || "?").toUpperCase();
}

/** A stable hue per user, so that the same person has the same colour on every page. */
function hueOf(username) {
  let hash = 0;
  for (const char of String(username)) hash = (hash * 31 + char.codePointAt(0)) % 360;
  return hash;
}

export class Viewers {
  /**
   * @param {object} opts
   * @param {import("socket.io-client").Socket} opts.socket
   * @param {HTMLElement} opts.box  where the initials go
   * @param {() => string|null} opts.shownId
   * @param {() => string|null} opts.ownViewerId  this page's attachment, to tell "you" apart
   * @param {boolean} opts.mayDetach  the caller owns the workspace or is an administrator
   * @param {(text: string) => void} opts.say  where errors are told
   */
  constructor({ socket, box, shownId, ownViewerId, mayDetach, say }) {
    this.box = box;
    this.shownId = shownId;
    this.ownViewerId = ownViewerId;
    this.mayDetach = mayDetach;
    this.say = say;
    this.lists = new Map(); // session id -> viewers, as last heard
    this.toggle = el("button", { type: "button", class: "ghost small viewers-toggle", "aria-expanded": "false",
      "aria-controls": "viewers-menu", onclick: () => this.setMenu(this.menu.hidden) });
    this.menu = el("div", { id: "viewers-menu", class: "viewers-menu", role: "region", "aria-label": "Who is watching", hidden: true });
    this.head = el("p", { class: "viewers-head" });
    const list = el("ul", { class: "viewers-list" });
    this.menu.append(this.head, list);
    this.box.append(this.toggle, this.menu);
    // Every terminal-viewers message renders again: unchanged rows stay as they are, so that a
    // Detach pressed as another tab attaches is still a click (and a pending one stays disabled).
    this.rows = new KeyedRows(list);
    this.avatars = new KeyedRows(this.toggle);
    document.addEventListener("click", (event) => {
      if (!this.menu.hidden && !this.box.contains(event.target)) this.setMenu(false);
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !this.menu.hidden) {
        this.setMenu(false);
        this.toggle.focus();
      }
    });
    socket.on(TERMINAL_VIEWERS, (message) => {
      if (!message || typeof message.sessionId !== "string" || !Array.isArray(message.viewers)) return;
      this.lists.set(message.sessionId, message.viewers);
      if (message.sessionId === this.shownId()) this.render();
    });
    this.render();
  }

  /** The terminal shown changed: its list as last heard, or asked for. */
  async shown() {
    this.setMenu(false);
    this.render();
    const sessionId = this.shownId();
    if (!sessionId || this.lists.has(sessionId)) return;
    try {
      const viewers = await api("GET", `/api/sessions/${encodeURIComponent(sessionId)}/viewers`);
      if (!this.lists.has(sessionId)) this.lists.set(sessionId, viewers);
      if (sessionId === this.shownId()) this.render();
    } catch {
      // the list comes with the next terminal-viewers
    }
  }

  /** This page is no longer attached to the terminal: what it heard of it is out of date. */
  forget(sessionId) {
    this.lists.delete(sessionId);
    this.setMenu(false);
    if (sessionId === this.shownId()) this.render();
  }

  setMenu(open) {
    this.menu.hidden = !open;
    this.toggle.setAttribute("aria-expanded", String(open));
  }

  render() {
    const viewers = this.lists.get(this.shownId()) || [];
    this.box.hidden = !viewers.length;
    const own = this.ownViewerId();
    const avatars = viewers.slice(0, AVATARS_SHOWN).map((viewer) => ({
      key: viewer.id,
      signature: JSON.stringify([viewer.username, viewer.access, viewer.id === own]),
      build: () => this.avatar(viewer, own),
    }));
    const hidden = viewers.length - AVATARS_SHOWN;
    if (hidden > 0) avatars.push({ key: "more", signature: String(hidden), build: () => el("span", { class: "avatar more" }, `+${hidden}`) });
    const names = viewers.map((v) => (v.id === own ? `${v.username} (you)` : v.username)).join(", ");
    this.avatars.render(avatars);
    this.toggle.title = `Watching: ${names}`;
    this.toggle.setAttribute("aria-label", `${viewers.length} watching: ${names}`);
    this.head.textContent = `${viewers.length} attached to this terminal`;
    this.rows.render(viewers.map((viewer) => ({
      key: viewer.id,
      signature: JSON.stringify([viewer, viewer.id === own]),
      build: () => this.row(viewer, own),
    })));
  }

  avatar(viewer, own) {
    const avatar = el("span", { class: "avatar", dataset: { access: viewer.access, you: viewer.id === own ? "1" : null } },
      initials(viewer.username));
    avatar.style.setProperty("--hue", String(hueOf(viewer.username)));
    return avatar;
  }

  row(viewer, own) {
    const you = viewer.id === own;
    const detach = this.mayDetach && !you
      ? el("button", { type: "button", class: "danger small", "aria-label": `Detach ${viewer.username}`,
        onclick: (event) => this.detach(viewer, event.currentTarget) }, "Detach")
      : "";
    return el(
      "li",
      { class: "viewer-row", dataset: { viewerId: viewer.id } },
      el("span", { class: "viewer-name" }, you ? `${viewer.username} (you)` : viewer.username),
      el("span", { class: "muted small" }, `${viewer.access === "viewer" ? "watching" : "operator"} · since ${formatTime(viewer.since)}`),
      detach,
    );
  }

  async detach(viewer, button) {
    const sessionId = this.shownId();
    button.disabled = true;
    try {
      await api("DELETE", `/api/sessions/${encodeURIComponent(sessionId)}/viewers/${encodeURIComponent(viewer.id)}`);
    } catch (err) {
      button.disabled = false;
      this.say(err.message);
    }
  }
}

/**
 * The server detached this page from its terminal (an owner or admin did): say so above the
 * terminal, and attach again only when the user asks (never by itself after a reconnect).
 */
export function followDetaches({ socket, sessionOf, reattach, detached }) {
  let detachedId = null;
  const banner = el(
    "div",
    { id: "detached-banner", class: "banner detached-banner", role: "alert", hidden: true },
    el("span", { id: "detached-text" }),
    el("button", { type: "button", class: "primary small", onclick: () => {
      banner.hidden = true;
      if (detachedId) reattach(detachedId);
    } }, "Attach again"),
  );
  $(".terminal-stage").before(banner);
  socket.on(ERROR, (err) => {
    const session = err && err.code === "detached" ? sessionOf(err.sessionId) : null;
    if (!session) return;
    session.holdOff();
    detachedId = err.sessionId;
    detached(err.sessionId);
    $("#detached-text").textContent = `${err.message || "You were detached from this terminal."} ` +
      "It keeps running; you see no more of its output here.";
    banner.hidden = false;
  });
  return { hide: () => { banner.hidden = true; } };
}
