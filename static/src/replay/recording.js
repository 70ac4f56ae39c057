// A session's recording (asciicast v2) made ready for the player, with a marker at each command.
// The markers go into the recording itself, as "m" events at their times, rather than through the
// player's `markers` option: the player shortens idle pauses before it places that option's markers,
// so those would land late; events in the recording are shifted with everything else.

import { fetchWithToken } from "../lib/api.js";
import { escapeControls } from "../lib/escape.js";

const EVENT_START = /^\[\s*(-?[0-9.eE+-]+)\s*,\s*"([a-z])"/;
const LABEL_MAX = 80;
// The server times a command from the shell's mark in its output, a few microseconds before the
// recorder stamps the read that carried the mark (and rounds it to the millisecond). Output this
// close after a command's time is that read: the command's echoed line, and a quick command's
// output, which a jump to the command should show.
const SAME_READ_SECONDS = 0.002;

/**
 * The commands that have a place in the recording (`time`, seconds into it; a command the server
 * could not place has none), in the order of their markers: the player's marker i is the i-th.
 */
export function timedCommands(commands) {
  return commands.filter((c) => Number.isFinite(c.time)).sort((a, b) => a.time - b.time);
}

/** The recording's text as the server has it (while a terminal runs: what is written so far). */
export async function fetchRecording(sessionId) {
  const response = await fetchWithToken(`/api/sessions/${encodeURIComponent(sessionId)}/recording`);
  return response.text();
}

function markerLine(command, at) {
  let label = escapeControls(command.command);
  if (label.length > LABEL_MAX) label = label.slice(0, LABEL_MAX - 1) + "…";
  return JSON.stringify([at, "m", label]);
}

/**
 * The recording with one marker per timed command (timedCommands) and none of its own, and how
 * many output events it holds. With `idleLimit` (the player's idleTimeLimit, seconds), each timed
 * command also gets `playerTime`: where the player, which plays pauses longer than that as that
 * long, shows its marker (a list that said the real time disagreed with the player's clock).
 */
export function withMarkers(cast, commands, idleLimit = null) {
  const lines = cast.split("\n").filter((line) => line.trim());
  if (!lines.length) throw new Error("The recording is empty.");
  const [header, ...events] = lines;
  const markers = timedCommands(commands);
  const out = [header];
  let next = 0;
  let output = 0;
  let lastTime = 0;
  let markerAt = null; // the time of a marker that is the last line so far
  // The player's clock, as asciinema-player shortens each pause between events (markers included)
  let previous = 0;
  let shortened = 0;
  const onPlayerClock = (time) => {
    if (idleLimit !== null && time - previous > idleLimit) shortened += time - previous - idleLimit;
    previous = Math.max(previous, time);
    return time - shortened;
  };
  const placeMarker = () => {
    markerAt = Math.max(0, markers[next].time, lastTime); // the events stay in time order
    const at = onPlayerClock(markerAt);
    if (idleLimit !== null) markers[next].playerTime = at;
    out.push(markerLine(markers[next++], markerAt));
  };
  for (const line of events) {
    const match = EVENT_START.exec(line);
    if (match && match[2] === "m") continue; // this page's markers only: their order is the list's
    const time = match ? Number(match[1]) : lastTime;
    while (next < markers.length && Number(markers[next].time) + SAME_READ_SECONDS < time) placeMarker();
    lastTime = Math.max(lastTime, time);
    onPlayerClock(time);
    if (match && match[2] === "o") output += 1;
    out.push(line);
    markerAt = null;
  }
  while (next < markers.length) placeMarker();
  // The player shows only markers before the recording's end: one at the very end (the `exit` that
  // ended the terminal) gets an empty output event just after it.
  if (markerAt !== null) out.push(JSON.stringify([markerAt + 0.01, "o", ""]));
  return { text: out.join("\n") + "\n", outputEvents: output };
}
