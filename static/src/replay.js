// The replay page: a terminal session's recording in asciinema-player, a marker at each command,
// the command list beside it (choosing one jumps there), the session's facts on top; while the
// terminal runs, "Watch live" attaches to it read-only. Anyone who may see the session may open
// it (the API decides): admins from the sessions page, users from their workspace's page.

import "./lib/style-nonce.js"; // first: the live xterm's <style> elements need the page's nonce
import * as AsciinemaPlayer from "asciinema-player";
import { api, download } from "./lib/api.js";
import { initChrome } from "./lib/chrome.js";
import { $, el, showMessage } from "./lib/dom.js";
import { controlSafe } from "./lib/escape.js";
import { deletedWorkspaces } from "./lib/deleted-workspaces.js";
import { durationText, exitText, workspaceLabel } from "./lib/session-facts.js";
import { fullTime } from "./audit/table.js";
import { CommandList, fetchCommands } from "./replay/commands.js";
import { LiveWatch } from "./replay/live-watch.js";
import { measureCharWidth, playerHeight, recordedSize } from "./replay/player-size.js";
import { fetchRecording, withMarkers } from "./replay/recording.js";

const LIVE_COMMANDS_EVERY_SECONDS = 3; // the command list while watching live
const IDLE_LIMIT_SECONDS = 3; // pauses longer than this play as this long (the list's times too)
const FONT_FAMILY = '"DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, ui-monospace, monospace';
const BOTTOM_MARGIN_PX = 16;
const sessionId = document.body.dataset.sessionId;
const message = $("#replay-message");
const playerBox = $("#player");
const liveBox = $("#live-terminal");
const state = { player: null, live: null, session: null, workspace: null, size: null, cast: null, speed: 1 };
const speedChoice = $("#replay-speed");

const commands = new CommandList({
  list: $("#command-list"),
  filter: $("#command-filter"),
  note: $("#commands-note"),
  onChoose: (index) => jumpTo(index),
});

async function jumpTo(index) {
  if (state.live) await showRecording(); // from watching live back to the recording, then there
  if (!state.player) return;
  await state.player.seek({ marker: index });
  commands.reached(index);
  // On a phone the list is below the player: the jump happened out of sight.
  const box = playerBox.getBoundingClientRect();
  if (box.top < 0 || box.bottom > window.innerHeight) playerBox.scrollIntoView({ block: "start", behavior: "smooth" });
}

function showFacts(session, workspace) {
  const facts = [
    ["User", controlSafe(session.owner)],
    ["Workspace", workspace && !workspace.deleted ? el("a", { href: `/workspaces/${encodeURIComponent(workspace.id)}` }, controlSafe(workspaceLabel(workspace)))
      : controlSafe(workspaceLabel(workspace, session.workspace_id))],
    ["Started", fullTime(session.created_at)],
    ["Duration", durationText(session) + (session.status === "running" ? " so far" : "")],
    [session.status === "running" ? "Status" : "Ended", session.status === "running" ? "running"
      : `${fullTime(session.ended_at)} (${exitText(session, workspace)})`],
    ["Size", `${session.cols}×${session.rows}`],
  ];
  $("#session-facts").replaceChildren(...facts.flatMap(([name, value]) => [
    el("div", { class: "fact" }, el("dt", {}, name), el("dd", { dataset: { fact: name.toLowerCase() } }, value)),
  ]));
  $("#replay-title").replaceChildren(...controlSafe(session.name || "Terminal session"),
    el("span", { class: session.status === "running" ? "status-dot running" : "status-dot" }, session.status === "running" ? "Running" : "Ended"));
  document.title = `${session.name || "Terminal"} · replay · aict`;
}

async function loadPlayer() {
  if (state.player) {
    state.player.dispose();
    state.player = null;
  }
  state.size = null;
  playerBox.style.height = "";
  playerBox.replaceChildren(el("p", { class: "muted" }, "Loading the recording…"));
  const [cast, listed] = await Promise.all([fetchRecording(sessionId), fetchCommands(sessionId)]);
  const { text, outputEvents } = withMarkers(cast, listed || [], IDLE_LIMIT_SECONDS);
  commands.show(listed, state.session.owner); // with each command's place on the player's clock
  playerBox.replaceChildren();
  if (!outputEvents) {
    playerBox.append(el("p", { class: "muted empty-recording" }, "Nothing was recorded: this terminal showed no output."));
    return;
  }
  state.size = { ...recordedSize(text), charWidth: measureCharWidth(FONT_FAMILY) };
  state.cast = text;
  sizePlayerBox();
  createPlayer();
  speedChoice.closest("label").hidden = false;
}

/** The player for the recording at the chosen speed; `at` (seconds), where it starts. */
function createPlayer(at = null) {
  state.player = AsciinemaPlayer.create({ data: state.cast }, playerBox, {
    preload: true,
    idleTimeLimit: IDLE_LIMIT_SECONDS,
    speed: state.speed,
    startAt: at ?? undefined,
    fit: "both", // into the box sizePlayerBox made: the recording's shape, within the window
    theme: "asciinema",
    terminalFontFamily: FONT_FAMILY,
  });
  state.player.addEventListener("marker", ({ index }) => commands.reached(index));
  state.playing = false;
  state.player.addEventListener("play", () => { state.playing = true; });
  state.player.addEventListener("playing", () => { state.playing = true; });
  state.player.addEventListener("pause", () => { state.playing = false; });
  state.player.addEventListener("ended", () => { state.playing = false; });
  window.aictPlayer = state.player; // for a reviewer's console and the browser tests
}

// Another speed: the player is made again at it, where the old one was, playing if it played.
speedChoice.addEventListener("change", async () => {
  state.speed = Number(speedChoice.value) || 1;
  if (!state.player || !state.cast) return;
  const old = state.player;
  const at = await old.getCurrentTime();
  const playing = state.playing;
  old.dispose();
  playerBox.replaceChildren();
  createPlayer(at);
  if (playing && at > 0) await state.player.play();
});

/** The player's box: the recording's shape, its controls within the window (replay/player-size.js). */
function sizePlayerBox() {
  if (!state.size || playerBox.hidden) return;
  // A player further down than a third of the window (a phone's stacked facts) is scrolled to anyway.
  const top = Math.min(playerBox.getBoundingClientRect().top + window.scrollY, window.innerHeight / 3);
  const room = window.innerHeight - top - BOTTOM_MARGIN_PX;
  playerBox.style.height = `${playerHeight({ ...state.size, width: playerBox.clientWidth, room })}px`;
}

function showRecording() {
  if (state.live) {
    state.live.close();
    state.live = null;
  }
  clearInterval(state.liveTimer);
  liveBox.hidden = true;
  $("#live-banner").hidden = true;
  playerBox.hidden = false;
  $("#show-recording").hidden = true;
  $("#watch-live").hidden = state.session.status !== "running";
  return loadPlayer().catch((err) => showMessage(message, err.message));
}

function watchLive() {
  if (state.player) state.player.pause();
  playerBox.hidden = true;
  liveBox.hidden = false;
  $("#live-banner").hidden = false;
  $("#watch-live").hidden = true;
  $("#show-recording").hidden = false;
  speedChoice.closest("label").hidden = true; // a live terminal plays at its own pace
  state.live = new LiveWatch({
    box: liveBox,
    status: $("#live-status"),
    session: state.session,
    onExit: (info) => {
      showMessage(message, `The terminal ended (${exitText({ status: "exited", exit_code: info.exitCode, signal: info.signal })}). ` +
        "Its whole recording is under “Replay the recording”.", "info");
      state.session.status = "exited";
    },
    onError: (text) => showMessage(message, text),
  });
  // What a reviewer reads beside it goes on too: its duration, and the commands it runs
  let ticks = 0;
  state.liveTimer = setInterval(() => {
    if (++ticks % LIVE_COMMANDS_EVERY_SECONDS) return;
    fetchCommands(sessionId).then((listed) => {
      const seen = JSON.stringify(listed); // rebuilt only when it changed: a click begun on it stays one
      if (seen !== state.liveCommands) commands.show(listed, state.session.owner);
      state.liveCommands = seen;
    }).catch(() => {});
  }, 1000);
}

$("#watch-live").addEventListener("click", watchLive);
window.addEventListener("resize", sizePlayerBox);
$("#show-recording").addEventListener("click", () => {
  showMessage(message, "");
  api("GET", `/api/sessions/${encodeURIComponent(sessionId)}`).then((session) => {
    state.session = session;
    showFacts(session, state.workspace);
  }).catch(() => {});
  showRecording();
});
$("#download-recording").addEventListener("click", () =>
  download(`/api/sessions/${encodeURIComponent(sessionId)}/recording`, `aict-${sessionId}.cast`).catch((err) => showMessage(message, err.message)));

async function start() {
  const me = await initChrome();
  try {
    state.session = await api("GET", `/api/sessions/${encodeURIComponent(sessionId)}`);
  } catch (err) {
    showNoSession(err.status === 404 ? "This session does not exist, or you may not see it." : err.message,
      me?.role === "admin");
    return;
  }
  // A running terminal's duration goes on, live or replayed ("so far" stood still under the player).
  // Its text alone: the facts rebuilt each second would lose a click begun on a link among them.
  setInterval(() => {
    const duration = $("[data-fact=duration]");
    if (state.session.status === "running" && duration) duration.textContent = durationText(state.session) + " so far";
  }, 1000);
  state.workspace = await api("GET", `/api/workspaces/${encodeURIComponent(state.session.workspace_id)}`).catch(() => null);
  if (!state.workspace && me?.role === "admin") { // deleted: the name it had, from the audit log
    state.workspace = (await deletedWorkspaces().catch(() => new Map())).get(state.session.workspace_id) || null;
  }
  showFacts(state.session, state.workspace);
  if (state.session.status === "running" && new URLSearchParams(location.search).get("live") === "1") {
    watchLive();
    fetchCommands(sessionId).then((listed) => commands.show(listed, state.session.owner)).catch(() => {});
  } else {
    showRecording();
  }
}

/** No session to show: the message and a way back, not an empty player and a download button. */
function showNoSession(text, admin) {
  $("#download-recording").hidden = true;
  document.querySelector(".replay-layout").hidden = true;
  showMessage(message, text);
  // The sessions page is an administrator's; anyone else finds their sessions in their workspaces
  message.append(" ", admin ? el("a", { href: "/sessions" }, "Back to the sessions")
    : el("a", { href: "/" }, "Back to your workspaces"));
}

start().catch((err) => {
  showMessage(message, err.message);
  playerBox.replaceChildren();
  $("#commands-note").textContent = "";
});
