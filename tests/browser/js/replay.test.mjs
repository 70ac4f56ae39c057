// The replay page's sizing and wording, without a browser.
import assert from "node:assert/strict";
import { test } from "node:test";
import { commandsNote } from "../../../static/src/replay/commands.js";
import { CONTROL_BAR_PX, MAX_FONT_PX, MIN_HEIGHT_PX, playerHeight, recordedSize } from "../../../static/src/replay/player-size.js";

test("the command count reads as a sentence for one and for many", () => {
  assert.equal(commandsNote(1, 1, false), "1 command: choose it to jump there");
  assert.equal(commandsNote(3, 3, false), "3 commands: choose one to jump there");
  assert.equal(commandsNote(1, 1, true), "1 of 1 command");
  assert.equal(commandsNote(2, 5, true), "2 of 5 commands");
});

test("the recording's first size comes from its header", () => {
  assert.deepEqual(recordedSize('{"version": 2, "width": 63, "height": 38}\n[0.1, "o", "x"]\n'), { cols: 63, rows: 38 });
  assert.deepEqual(recordedSize("not a cast"), { cols: 80, rows: 24 });
});

test("a tall narrow recording stays within the room left in the window", () => {
  // 63×38 (a pane of a split) in a 782 px wide box: fit to the width alone it was 1067 px tall
  assert.equal(playerHeight({ cols: 63, rows: 38, width: 782, room: 600 }), 600);
});

test("a small recording in a wide box is not blown up past the largest font", () => {
  const height = playerHeight({ cols: 63, rows: 17, width: 782, room: 2000 });
  assert.equal(height, Math.round(17 * 1.3333333333 * MAX_FONT_PX + CONTROL_BAR_PX));
});

test("a wide recording is as tall as the width allows, and never below the least height", () => {
  assert.equal(playerHeight({ cols: 200, rows: 50, width: 600, room: 700 }), Math.round(50 * 1.3333333333 * 5 + CONTROL_BAR_PX));
  assert.equal(playerHeight({ cols: 80, rows: 24, width: 700, room: 40 }), MIN_HEIGHT_PX);
});

import { withMarkers } from "../../../static/src/replay/recording.js";

const CAST = ['{"version": 2, "width": 80, "height": 24}', '[0.5, "o", "$ "]',
  '[2.0002, "o", "sudo true\\r\\nok\\r\\n$ "]', '[9.0, "o", "echo next\\r\\n"]'].join("\n");
const eventsOf = (text) => text.trim().split("\n").slice(1).map((line) => JSON.parse(line));

test("a jump to a command shows the read that carried it: its echoed line and quick output", () => {
  // The command was timed at 2.000 (from its mark, rounded), the read that carried it stamped 2.0002.
  const { text, outputEvents } = withMarkers(CAST, [{ command: "sudo true", time: 2.0 }]);
  const events = eventsOf(text);
  assert.deepEqual(events.map((e) => e[1]), ["o", "o", "m", "o"]);
  assert.equal(events[2][0], 2.0002); // never before the event in front of it: the times stay in order
  assert.equal(outputEvents, 3);
});

test("a marker stays before output that came later than the command's own read", () => {
  const events = eventsOf(withMarkers(CAST, [{ command: "echo next", time: 8.99 }]).text);
  assert.deepEqual(events.map((e) => e[1]), ["o", "o", "m", "o"]);
  assert.equal(events[2][0], 8.99);
});

test("a marker at the very end gets an output event after it, so the player shows it", () => {
  const events = eventsOf(withMarkers(CAST, [{ command: "exit", time: 9.0 }]).text);
  assert.deepEqual(events.map((e) => e[1]), ["o", "o", "o", "m", "o"]);
  assert.equal(events[4][0], 9.01);
  assert.equal(events[4][2], "");
});

test("a command's time in the list is where the player shows its marker, pauses shortened", () => {
  // 2.0002 → 8.99 is a 7 s pause: the player (idleTimeLimit 3) plays it as 3 s, so the marker is at
  // 5.0002 on its clock; the list said 0:08 beside a marker at 0:05.
  const commands = [{ command: "sudo true", time: 2.0 }, { command: "echo next", time: 8.99 }];
  withMarkers(CAST, commands, 3);
  assert.ok(Math.abs(commands[0].playerTime - 2.0002) < 1e-9, commands[0].playerTime);
  assert.ok(Math.abs(commands[1].playerTime - 5.0002) < 1e-9, commands[1].playerTime);
  const untouched = [{ command: "echo next", time: 8.99 }];
  withMarkers(CAST, untouched);
  assert.equal(untouched[0].playerTime, undefined); // no limit given: the real times stand
});
