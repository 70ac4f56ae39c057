// What goes on in the workspace's terminals besides their screens: what each runs (process-info.js,
// processes.js), who watches the shown one (viewers.js), and commands that finish out of sight
// (notifications.js). A bar above the panes holds them, for the active pane's terminal; terminal.js wires it in with a few calls.

import { $, el } from "../lib/dom.js";
import { CommandNotifications } from "./notifications.js";
import { ProcessInfo } from "./process-info.js";
import { ProcessesDialog } from "./processes.js";
import { followDetaches, Viewers } from "./viewers.js";

/**
 * @param {object} opts
 * @param {import("socket.io-client").Socket} opts.socket
 * @param {object} opts.workspace  with the caller's `access`
 * @param {() => import("../session/terminal-session.js").TerminalSession|null} opts.activeSession  the active pane's
 * @param {(sessionId: string) => import("../session/terminal-session.js").TerminalSession|null} opts.sessionOf
 *        the session of the pane showing a terminal, if one does
 * @param {(sessionId: string) => string} opts.labelOf
 * @param {(sessionId: string) => void} opts.show  bring a terminal on screen
 * @param {(text: string, kind?: string) => void} opts.say
 * @param {(sessionId: string) => void} [opts.unlisted]  the first report of a terminal came (it may
 *        have been started elsewhere, and be missing from the sidebar's list)
 */
export function installActivity({ socket, workspace, activeSession, sessionOf, labelOf, show, say,
                                  unlisted = () => {} }) {
  const shownId = () => activeSession()?.sessionId ?? null;
  const label = el("div", { id: "term-proc", class: "term-proc" });
  const viewerBox = el("div", { id: "viewers", class: "viewers" });
  const processesButton = el("button", { type: "button", id: "show-processes", class: "ghost small",
    onclick: () => dialog.open(shownId(), labelOf(shownId())) }, "Processes");
  const notifyButton = el("button", { type: "button", id: "allow-notifications", class: "ghost small",
    title: "Let the browser tell you when a command finishes in a terminal you are not looking at",
    hidden: !("Notification" in window) || Notification.permission !== "default",
    onclick: async () => {
      const answer = await CommandNotifications.allow();
      notifyButton.hidden = answer !== "default"; // dismissed: it may be asked again
      if (answer === "granted") {
        say("The browser will tell you when a command finishes in a terminal you are not looking at.", "info");
      } else if (answer === "denied") {
        say("The browser blocks notifications for this site: allow them in its site settings to be told.", "info");
      } else {
        say("Notifications were not allowed (the browser's question was dismissed). Ask again with Notify me.", "info");
      }
    } }, "Notify me");
  $(".terminal-stage").before(el("div", { id: "term-bar", class: "term-bar" }, label, viewerBox, processesButton, notifyButton));

  const info = new ProcessInfo({ socket, workspaceId: workspace.id, shownId, label, reported: workspace.kind === "local",
    unlisted });
  const dialog = new ProcessesDialog();
  const viewers = new Viewers({ socket, box: viewerBox, shownId, ownViewerId: () => activeSession()?.viewerId,
    mayDetach: workspace.access === "owner" || workspace.access === "admin", say });
  const notifications = new CommandNotifications({ socket, shownId, labelOf, show });
  const detaches = followDetaches({ socket, sessionOf, reattach: (sessionId) => show(sessionId, { again: true }),
    detached: (sessionId) => viewers.forget(sessionId) });

  return {
    /** After every (re)connect. */
    connected: () => info.connected(),
    /** The terminal shown changed. */
    shown() {
      detaches.hide();
      info.showShown();
      viewers.shown();
      notifications.shownChanged();
    },
    /** What a terminal of the list runs, for its entry. */
    listLine: (sessionId) => info.lineFor(sessionId),
  };
}
