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
