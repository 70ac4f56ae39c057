// How a review page says a terminal ended.
import assert from "node:assert/strict";
import { test } from "node:test";
import { exitText } from "../../../static/src/lib/session-facts.js";

test("an exit code or a signal is said as it is", () => {
  assert.equal(exitText({ status: "exited", exit_code: 0, signal: null }), "exit 0");
  assert.equal(exitText({ status: "exited", exit_code: null, signal: "SIGHUP" }), "signal SIGHUP");
  assert.equal(exitText({ status: "running" }), "running");
});

test("with neither, a local shell is not said to be closed by a remote end", () => {
  const ended = { status: "exited", exit_code: null, signal: null };
  assert.equal(exitText(ended, { kind: "ssh" }), "closed by the remote end");
  assert.equal(exitText(ended, { kind: "local" }), "no exit status (its terminal host stopped)");
  assert.equal(exitText(ended), "no exit status");
});
