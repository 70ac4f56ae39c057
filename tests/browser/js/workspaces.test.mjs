// The workspace list's forms, without a browser.
import assert from "node:assert/strict";
import { test } from "node:test";

import { inFormWords } from "../../../static/src/workspaces/editor.js";

test("the workspace forms say a refused field as their labels do", () => {
  assert.equal(inFormWords("'host_key' must start with a key type."), "The host key must start with a key type.");
  assert.equal(inFormWords("'port' must be a whole number from 1 to 65535."), "The port must be a whole number from 1 to 65535.");
  assert.equal(inFormWords("'other' is odd."), "'other' is odd.");
  assert.equal(inFormWords("The terminal host failed."), "The terminal host failed.");
});
