// Pieces of the terminal session without a browser or a server: the size claim (which tab is in
// use) and what arrives while a terminal starts.
import assert from "node:assert/strict";
import { test } from "node:test";
import { SizeClaim } from "../../../static/src/session/size-claim.js";
import { Starting } from "../../../static/src/session/starting.js";

/** A socket double: records emits, answers when told. */
function fakeSocket() {
  const sent = [];
  const socket = {
    connected: true,
    sent,
    timeout: () => ({
      emit: (event, payload, callback) => sent.push({ event, payload, answer: (ack) => callback(null, ack) }),
    }),
  };
  return socket;
}

function claimOf(term, socket, sessionId = "s1") {
  const errors = [];
  const claim = new SizeClaim({ term, socket, claimable: () => sessionId, onError: (e) => errors.push(e) });
  return { claim, errors };
}

test("a claim sends the tab's size once; at the size the server has, a tab in use sends nothing", () => {
  const term = { cols: 100, rows: 30 };
  const socket = fakeSocket();
  const { claim } = claimOf(term, socket);
  claim.heard({ cols: 80, rows: 24 });
  claim.claim();
  assert.deepEqual(socket.sent.map((s) => s.payload), [{ sessionId: "s1", cols: 100, rows: 30 }]);
  assert.equal(claim.inUse, true);
  claim.claim();
  assert.equal(socket.sent.length, 1);
});

test("another tab's claim takes the terminal away, unless this tab's later claim is in flight", () => {
  const term = { cols: 100, rows: 30 };
  const socket = fakeSocket();
  const { claim } = claimOf(term, socket);
  claim.claim();
  assert.equal(claim.claimedElsewhere({ cols: 80, rows: 24 }), false); // ours went after it
  assert.equal(claim.inUse, true);
  socket.sent[0].answer({ ok: true });
  return Promise.resolve().then(() => {
    assert.equal(claim.claimedElsewhere({ cols: 80, rows: 24 }), true);
    assert.equal(claim.inUse, false);
    claim.claim(); // used again: takes it back at its own size
    assert.deepEqual(socket.sent.at(-1).payload, { sessionId: "s1", cols: 100, rows: 30 });
  });
});

test("a viewer, or a tab without a running terminal, claims nothing", () => {
  const socket = fakeSocket();
  const { claim } = claimOf({ cols: 100, rows: 30 }, socket, null);
  claim.claim();
  claim.resize(90, 20);
  assert.equal(socket.sent.length, 0);
  assert.equal(claim.inUse, false);
});

test("a refused claim is reported, unless it is a viewer's forbidden", async () => {
  const socket = fakeSocket();
  const { claim, errors } = claimOf({ cols: 100, rows: 30 }, socket);
  claim.resize(90, 20);
  claim.resize(91, 20);
  socket.sent[0].answer({ ok: false, error: { code: "forbidden" } });
  socket.sent[1].answer({ ok: false, error: { code: "throttled" } });
  await Promise.resolve();
  assert.deepEqual(errors, [{ code: "throttled" }]);
});

test("while a terminal starts, its early output and the keys typed are kept for it alone", () => {
  const starting = new Starting();
  starting.keepOutput("other", 0, "ignored: not starting");
  starting.begin();
  starting.keepOutput("new", 0, "a");
  starting.keepOutput("other", 5, "b");
  starting.keepTyped("ls\r");
  assert.equal(starting.active, true);
  assert.deepEqual(starting.end("new"), {
    output: [{ sessionId: "new", offset: 0, bytes: "a", msg: { sessionId: "new", offset: 0 } }],
    typed: ["ls\r"],
  });
  assert.equal(starting.active, false);
});

test("a terminal that did not start gets nothing of what was kept", () => {
  const starting = new Starting();
  starting.begin();
  starting.keepOutput("x", 0, "a");
  starting.keepTyped("k");
  assert.deepEqual(starting.end(null), { output: [], typed: [] });
});
