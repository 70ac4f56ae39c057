// How review pages write a moment: in the browser's zone, and saying which.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fullTime } from "../../../static/src/audit/table.js";

test("a full time names its zone (exports and the API say UTC; the pages the browser's zone)", () => {
  const shown = fullTime("2026-12-07T19:12:30Z");
  assert.match(shown, /\d{1,2}:\d\d:\d\d/);
  assert.match(shown, /(UTC|GMT|[A-Z]{2,5})([+-]\d{1,2}(:\d\d)?)?$/, shown); // "7:12:30 PM UTC", "… GMT+5:30"
});

test("a time that is not one is shown as it came", () => {
  assert.equal(fullTime("not a time"), "not a time");
  assert.equal(fullTime(null), "");
});
