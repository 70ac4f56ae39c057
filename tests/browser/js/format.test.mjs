// Formatting shown to users, without a browser.
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatBytes } from "../../../static/src/lib/dom.js";

test("byte counts read as people compare them", () => {
  assert.equal(formatBytes(1), "1 byte");
  assert.equal(formatBytes(999), "999 bytes");
  assert.equal(formatBytes(1000), "1.0 KB");
  assert.equal(formatBytes(397_234), "397 KB");
  assert.equal(formatBytes(4_500_000), "4.5 MB");
  assert.equal(formatBytes(12_300_000_000), "12 GB");
});

test("a moment of today reads as its time alone, another day's with its date", async () => {
  const { formatTime, formatTimeShort } = await import("../../../static/src/lib/dom.js");
  const now = new Date(2026, 11, 7, 15, 0);
  const today = new Date(2026, 11, 7, 2, 29).toISOString();
  const yesterday = new Date(2026, 11, 6, 2, 29).toISOString();
  assert.ok(formatTimeShort(today, now).includes("29") && !formatTimeShort(today, now).includes("26"), formatTimeShort(today, now));
  assert.equal(formatTimeShort(yesterday, now), formatTime(yesterday));
  assert.equal(formatTimeShort("", now), "");
});
