// A session's recording (asciicast v2) made ready for the player, with a marker at each command.
// The markers go into the recording itself, as "m" events at their times, rather than through the
// player's `markers` option: the player shortens idle pauses before it places that option's markers,
// so those would land late; events in the recording are shifted with everything else.

import { fetchWithToken } from "../lib/api.js";
import { escapeControls } from "../lib/escape.js";

const EVENT_START = /^\[\s*(-?[0-9.eE+-]+)\s*,\s*"([a-z])"/;
const LABEL_MAX = 80;

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

function markerLine(command) {
  let label = escapeControls(command.command);
  if (label.length > LABEL_MAX) label = label.slice(0, LABEL_MAX - 1) + "…";
  return JSON.stringify([Math.max(0, command.time), "m", label]);
}

/**
 * The recording with one marker per timed command (timedCommands) and none of its own, and how
 * many output events it holds.
 */
export function withMarkers(cast, commands) {
  const lines = cast.split("\n").filter((line) => line.trim());
  if (!lines.length) throw new Error("The recording is empty.");
  const [header, ...events] = lines;
  const markers = timedCommands(commands);
  const out = [header];
  let next = 0;
  let output = 0;
  let lastTime = 0;
  for (const line of events) {
    const match = EVENT_START.exec(line);
    if (match && match[2] === "m") continue; // this page's markers only: their order is the list's
    const time = match ? Number(match[1]) : lastTime;
    lastTime = Math.max(lastTime, time);
    while (next < markers.length && Number(markers[next].time) <= time) out.push(markerLine(markers[next++]));
    if (match && match[2] === "o") output += 1;
    out.push(line);
  }
  while (next < markers.length) out.push(markerLine(markers[next++]));
  // The player shows only markers before the recording's end: one at the very end (the `exit` that
  // ended the terminal) gets an empty output event just after it.
  if (markers.length && markers[markers.length - 1].time >= lastTime) {
    out.push(JSON.stringify([markers[markers.length - 1].time + 0.01, "o", ""]));
  }
  return { text: out.join("\n") + "\n", outputEvents: output };
}
