// The command list beside the player: each command the terminal ran (GET /api/sessions/<id>/commands),
// oldest first, with when, where and how it ended. Choosing one moves the player to its marker;
// the one the player passed last is highlighted.

import { api } from "../lib/api.js";
import { el } from "../lib/dom.js";
import { controlSafe, escapeControls } from "../lib/escape.js";
import { timedCommands } from "./recording.js";

/** 75.2 s into the recording as 1:15, 3725 s as 1:02:05. */
export function clock(seconds) {
  const total = Math.max(0, Math.floor(Number(seconds) || 0));
  const pad = (n) => String(n).padStart(2, "0");
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  return h ? `${h}:${pad(m)}:${pad(total % 60)}` : `${m}:${pad(total % 60)}`;
}

/** What the list says above its commands: "1 command: choose it to jump there", "2 of 5 commands". */
export function commandsNote(shown, total, filtered) {
  const noun = total === 1 ? "command" : "commands";
  if (filtered) return `${shown} of ${total} ${noun}`;
  return total === 1 ? "1 command: choose it to jump there" : `${total} commands: choose one to jump there`;
}

const CAPTURE = {
  shell: "recorded by the shell",
  typed: "the line as typed (SSH: what the shell made of it is not known)",
};

/**
 * The commands, or null when this server does not keep command history (the endpoint is not there:
 * a 404 for a session the page has just read).
 */
export async function fetchCommands(sessionId) {
  try {
    const commands = await api("GET", `/api/sessions/${encodeURIComponent(sessionId)}/commands`);
    return Array.isArray(commands) ? commands : [];
  } catch (err) {
    if (err.status === 404) return null;
    throw err;
  }
}

export class CommandList {
  /**
   * @param {object} opts
   * @param {HTMLOListElement} opts.list
   * @param {HTMLInputElement} opts.filter
   * @param {HTMLElement} opts.note
   * @param {(index: number, command: object) => void} opts.onChoose  the command's marker index
   */
  constructor({ list, filter, note, onChoose }) {
    Object.assign(this, { list, filter, note, onChoose });
    this.commands = [];
    this.items = [];
    filter.addEventListener("input", () => this.applyFilter());
  }

  say(text) {
    this.note.textContent = text;
    this.note.hidden = !text;
  }

  /**
   * Show `commands` (oldest first, as the markers are), or why there are none. `owner`: the
   * terminal's user; where others typed in it too (an operator of the workspace), each command
   * says who ran it.
   */
  show(commands, owner = null) {
    if (commands === null) {
      this.filter.hidden = true;
      this.say("This server does not record commands, so there is nothing to jump to: play or seek the recording.");
      return;
    }
    this.commands = commands; // oldest first, as the server lists them
    this.typists = owner && commands.some((c) => c.username && c.username !== owner);
    const markers = new Map(timedCommands(commands).map((command, index) => [command, index]));
    this.items = this.commands.map((command) => this.item(command, markers.get(command)));
    this.list.replaceChildren(...this.items);
    this.filter.hidden = !this.commands.length;
    this.applyFilter();
  }

  /** A command's line in the list; `marker` is its marker's index (undefined: it has no place to jump to). */
  item(command, marker) {
    const failed = Number.isInteger(command.exit_code) && command.exit_code !== 0;
    const facts = [
      this.typists && command.username ? el("span", { class: "typist" }, controlSafe(`by ${command.username}`)) : null,
      Number.isInteger(command.exit_code) ? el("span", { class: failed ? "exit failed" : "exit" }, `exit ${command.exit_code}`) : null,
      command.cwd ? el("span", { class: "cwd", title: "working directory" }, controlSafe(command.cwd)) : null,
      command.capture ? el("span", { title: CAPTURE[command.capture] || command.capture }, controlSafe(command.capture)) : null,
      command.truncated ? el("span", { title: "The line was longer than the server keeps" }, "cut short") : null,
    ].filter(Boolean);
    const placed = marker !== undefined;
    const button = el(
      "button",
      {
        type: "button",
        class: "command-jump",
        disabled: !placed,
        onclick: () => this.onChoose(marker, command),
        title: placed ? `Jump to ${clock(command.playerTime ?? command.time)}` : "Its place in the recording is not known",
      },
      el("span", { class: "command-time mono" }, placed ? clock(command.playerTime ?? command.time) : "–"),
      el("span", { class: "command-line mono", title: escapeControls(command.command) }, controlSafe(command.command)),
      facts.length ? el("span", { class: "command-facts muted small" }, facts.flatMap((f, i) => (i ? [" · ", f] : [f]))) : null,
    );
    return el("li", { dataset: placed ? { marker: String(marker) } : {} }, button);
  }

  applyFilter() {
    const wanted = this.filter.value.trim().toLowerCase();
    let shown = 0;
    this.items.forEach((item, index) => {
      const { command, username } = this.commands[index];
      const match = !wanted || String(command).toLowerCase().includes(wanted) ||
        (this.typists && String(username).toLowerCase() === wanted);
      item.hidden = !match;
      if (match) shown += 1;
    });
    if (!this.commands.length) this.say("No command was recorded in this terminal.");
    else if (!shown) this.say("No command contains that.");
    else this.say(commandsNote(shown, this.commands.length, wanted));
  }

  /** The player passed marker `index`: highlight its command. */
  reached(index) {
    for (const item of this.items) item.classList.toggle("current", item.dataset.marker === String(index));
  }
}
