// What the page tells the user above the terminal: the message line, and the viewer, exit and
// lost-output banners.

import { $, el, formatBytes, showMessage } from "../lib/dom.js";
import { describeTerminalError } from "../lib/ssh-errors.js";

// The signals an End sends (the hangup, the kill when a program ignores it) or a shutdown: an
// ending someone chose, not a crash.
const ENDING_SIGNALS = new Set(["SIGHUP", "SIGTERM", "SIGKILL"]);

/**
 * What a pane and the exit banner say of a terminal that ended (exitCode or signal; endedHere: this
 * page's user ended it with End), or `text`. A signal's name alone ("ended by SIGHUP") read like a crash.
 */
export function exitText(info) {
  if (info && info.endedHere) return "You ended this terminal.";
  if (info && Number.isInteger(info.exitCode)) return `The process exited with code ${info.exitCode}.`;
  if (info && info.signal) return `The terminal was ended (${info.signal}).`;
  if (info && info.text) return info.text;
  return "The session has ended.";
}

/** Whether an ending is trouble, said in red: a failed exit, or a signal no End sends (a crash). */
export function endedBadly(info) {
  if (!info || info.endedHere) return false;
  if (Number.isInteger(info.exitCode)) return info.exitCode !== 0;
  return Boolean(info.signal) && !ENDING_SIGNALS.has(info.signal);
}

export class Banners {
  constructor() {
    this.message = $("#page-message");
    this.viewer = $("#viewer-banner");
    this.exit = $("#exit-banner");
    this.exitText = $("#exit-text");
    this.loss = $("#loss-banner");
    this.lossText = $("#loss-text");
    this.held = $("#held-banner");
    this.heldText = $("#held-text");
    this.heldPane = null;
    $("[data-action=discard-held]").addEventListener("click", () => {
      const pane = this.heldPane;
      pane?.session.input.discard();
      pane?.focus(); // back to typing (the button it was is gone)
    });
    this.endingHere = new Set(); // terminals this page's user ended with End (session-list.js)
    // The lost output of one terminal adds up while its banner stays; another terminal starts over.
    this.lossFor = null;
    this.lostBytes = 0;
    $("[data-action=dismiss-loss]").addEventListener("click", () => {
      this.loss.hidden = true;
    });
  }

  /** Show a sentence in the message line (`kind` "error" or "info"); an empty text clears it. */
  say(text, kind) {
    showMessage(this.message, text, kind);
  }

  /** Clear the message line if it still says `text` (what was said is no longer so). */
  unsay(text) {
    if (text && !this.message.hidden && this.message.textContent === text) this.say("");
  }

  /** The page cannot show a terminal at all: say why and offer the way back. */
  fatal(text) {
    this.say(text);
    this.message.append(" ", el("a", { href: "/" }, "Back to your workspaces"));
    document.body.classList.add("no-terminal");
  }

  /** Say `text` now and keep it through the page's first terminal opening (which clears the line). */
  sayThroughOpening(text, kind) {
    this.kept = { text, kind };
    this.say(text, kind);
  }

  /** Before opening a terminal: no exit banner, no message (but one kept through the first opening). */
  clear() {
    this.exit.hidden = true;
    const kept = this.kept;
    this.kept = null;
    this.say(kept ? kept.text : "", kept?.kind);
  }

  /** The user's access to the workspace was removed: no banner says what they may do with its terminal. */
  accessRemoved() {
    this.noAccess = true;
    this.showViewer(false);
  }

  showViewer(isViewer) {
    if (this.noAccess) isViewer = false;
    this.viewer.hidden = !isViewer;
    document.body.classList.toggle("viewer", isViewer);
  }

  /** The terminal ended (exitCode or signal), or `text` says why there is none. */
  showExit(info) {
    this.exitText.textContent = exitText(info);
    this.exit.dataset.tone = endedBadly(info) ? "trouble" : "neutral";
    this.exit.hidden = false;
  }

  /**
   * The exit `info` of terminal `sessionId`, told whether this page's user ended it: the server's
   * exit event says only how (a signal), and arrives before the End's own answer.
   */
  withEnder(sessionId, info) {
    if (info && sessionId && this.endingHere.has(sessionId)) info.endedHere = true;
    return info;
  }

  /**
   * The banners are those of the active pane: what it knows of its terminal (ended, read-only,
   * output lost). Another pane's stay with it, in its header, until it is the active one.
   */
  showPane(pane) {
    if (pane.exitInfo) this.showExit(pane.exitInfo);
    else this.exit.hidden = true;
    this.showViewer(pane.session.access === "viewer");
    this.showHeld(pane);
    if (this.lossFor !== pane.sessionId) {
      this.loss.hidden = true;
      if (pane.lostBytes) this.showLoss(pane.sessionId, pane.lostBytes);
    }
  }

  /**
   * The terminal marks where output is missing, but the replay after the mark can scroll it far out
   * of sight (and out of the scrollback): say it where it stays until dismissed.
   */
  showLoss(sessionId, bytes) {
    if (this.lossFor !== sessionId || this.loss.hidden) this.lostBytes = 0;
    this.lossFor = sessionId;
    this.lostBytes += bytes;
    this.lossText.textContent = `${formatBytes(this.lostBytes)} of this terminal's output were dropped here: the ` +
      "server keeps only its latest output for replay, and this page was further behind. The terminal marks the gap.";
    this.loss.hidden = false;
  }

  /** Input of `pane` typed with no connection, waiting for one: said, with a way to drop it. */
  showHeld(pane) {
    const characters = pane.heldInput || 0;
    this.heldPane = characters ? pane : null;
    this.held.hidden = !characters;
    if (characters) {
      this.heldText.textContent = `Not connected: ${characters.toLocaleString()} ` +
        `${characters === 1 ? "character" : "characters"} typed or pasted meanwhile will be sent to the ` +
        "terminal once the connection is back.";
    }
  }

  hideLossUnlessFor(sessionId) {
    if (this.lossFor !== sessionId) this.loss.hidden = true;
  }

  /** An error answered to the terminal shown (`context`: "attach", "input", "resize"). */
  showSessionError(error, context, workspace) {
    if (context === "input" && error.code === "forbidden") {
      this.viewer.hidden = false;
      return;
    }
    this.say(describeTerminalError(error, workspace));
    if (context === "attach") {
      const ended = error.code === "conflict"; // its record is there, its process is not (a restart)
      this.showExit({ text: ended ? "This terminal has ended: the server no longer holds it." : "This terminal is not available." });
    }
  }
}
