// Paste splitting and small helpers.
import assert from "node:assert/strict";
import { test } from "node:test";
import { binaryStringToBytes, InputQueue, splitUtf8 } from "../../../static/src/session/input.js";

const size = (text) => Buffer.byteLength(text, "utf8");

test("small input is one piece", () => {
  assert.deepEqual(splitUtf8("ls -la\r"), ["ls -la\r"]);
});

test("a big ASCII paste splits into pieces of at most the limit, nothing lost", () => {
  const text = "abcdefghij".repeat(150_000); // 1.5 MB
  const pieces = splitUtf8(text, 512 * 1024);
  assert.ok(pieces.length >= 3);
  assert.ok(pieces.every((p) => size(p) <= 512 * 1024));
  assert.equal(pieces.join(""), text);
  assert.ok(size(pieces[0]) > 500 * 1024, "pieces are filled, not tiny");
});

test("multi-byte characters and surrogate pairs are never cut", () => {
  const text = "é€😀a".repeat(50_000);
  for (const limit of [7, 100, 4096, 65536]) {
    const pieces = splitUtf8(text.slice(0, 20_000), limit);
    assert.equal(pieces.join(""), text.slice(0, 20_000));
    for (const piece of pieces) {
      assert.ok(size(piece) <= limit, `${size(piece)} > ${limit}`);
      assert.equal(Buffer.from(piece, "utf8").toString("utf8"), piece, "no lone surrogate");
      const first = piece.charCodeAt(0);
      assert.ok(!(first >= 0xdc00 && first <= 0xdfff), "piece starts with a low surrogate");
    }
  }
});

test("binary strings from xterm become bytes", () => {
  assert.deepEqual([...binaryStringToBytes("\x00\x7f\x80\xff")], [0, 127, 128, 255]);
});

/** A queue whose server answers each event after `delayMs`; records what was sent and how many flew at once. */
function recordingQueue(delayMs = 2, maxBytes = undefined) {
  const record = { sent: [], inFlight: 0, maxInFlight: 0 };
  record.queue = new InputQueue(async (data) => {
    record.inFlight += 1;
    record.maxInFlight = Math.max(record.maxInFlight, record.inFlight);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    record.sent.push(data);
    record.inFlight -= 1;
    return { ok: true };
  }, () => assert.fail("no error expected"), maxBytes);
  return record;
}

test("the queue sends pieces one at a time, in order, within the limit", async () => {
  const record = recordingQueue();
  record.queue.push("x".repeat(1_200_000));
  await record.queue.push("after");
  assert.equal(record.maxInFlight, 1);
  assert.equal(record.sent.join(""), "x".repeat(1_200_000) + "after");
  assert.ok(record.sent.length >= 3 && record.sent.every((piece) => size(piece) <= 512 * 1024));
});

test("keys typed while one is in flight leave together, right after its answer", async () => {
  const record = recordingQueue(20);
  const typed = "echo hello\r";
  for (const key of typed) record.queue.push(key);
  await record.queue.push("");
  assert.deepEqual(record.sent, ["e", "cho hello\r"]); // two round trips, not eleven
  assert.equal(record.maxInFlight, 1);
});

test("bytes are never merged into text, and merged text stays within the limit", async () => {
  const record = recordingQueue(5, 8);
  record.queue.push("a");
  record.queue.push("bcd");
  record.queue.push(new Uint8Array([1, 2]));
  record.queue.push("efghijkl");
  record.queue.push("mn");
  await record.queue.push("o");
  assert.equal(record.sent.length, 5);
  assert.deepEqual(record.sent.filter((piece) => typeof piece === "string"), ["a", "bcd", "efghijkl", "mno"]);
  assert.deepEqual([...record.sent[2]], [1, 2]);
});

test("a piece answered throttled is sent again until taken, and what follows waits behind it", async () => {
  const answers = [{ ok: false, error: { code: "throttled" } }, { ok: false, error: { code: "throttled" } }];
  const sent = [];
  const errors = [];
  const queue = new InputQueue(async (data) => {
    sent.push(data);
    return (typeof data === "string" && data.startsWith("paste") && answers.shift()) || { ok: true };
  }, (error) => errors.push(error));
  queue.push("paste-1");
  await queue.push("typed after");
  assert.deepEqual(sent, ["paste-1", "paste-1", "paste-1", "typed after"]); // whole, in order
  assert.deepEqual(errors, []);
});

test("a piece still throttled after the retry time is an error, and the queue goes on", async () => {
  const sent = [];
  const errors = [];
  const queue = new InputQueue(async (data) => {
    sent.push(data);
    return data === "stuck" ? { ok: false, error: { code: "throttled", message: "not reading" } } : { ok: true };
  }, (error) => errors.push(error));
  queue.retryMs = 300;
  queue.push("stuck");
  await queue.push("next");
  assert.ok(sent.filter((d) => d === "stuck").length >= 2, sent); // tried again before giving up
  assert.equal(sent.at(-1), "next");
  assert.deepEqual(errors.map((e) => e.code), ["throttled"]);
});

test("other errors are not sent again", async () => {
  const sent = [];
  const errors = [];
  const queue = new InputQueue(async (data) => {
    sent.push(data);
    return { ok: false, error: { code: "forbidden" } };
  }, (error) => errors.push(error));
  await queue.push("x");
  assert.deepEqual(sent, ["x"]);
  assert.deepEqual(errors.map((e) => e.code), ["forbidden"]);
});

test("input typed with no connection waits, says how much, and goes once connected, in order", async () => {
  const sent = [];
  const held = [];
  const queue = new InputQueue(async (data) => { sent.push(data); return { ok: true }; }, () => {});
  let connect;
  let connected = false;
  queue.sendable = () => (connected ? null : new Promise((resolve) => { connect = resolve; }));
  queue.onHeld = (characters) => held.push(characters);
  const done = queue.push("ls");
  queue.push(" -l\r");
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(sent, []); // nothing into a socket's buffer, unseen
  assert.equal(held.at(-1), 6);
  connected = true;
  connect();
  await done;
  assert.deepEqual(sent.join(""), "ls -l\r");
  assert.equal(held.at(-1), 0);
});

test("input held for want of a connection can be dropped, and what is typed after goes", async () => {
  const sent = [];
  const queue = new InputQueue(async (data) => { sent.push(data); return { ok: true }; }, () => {});
  let connect;
  let connected = false;
  queue.sendable = () => (connected ? null : new Promise((resolve) => { connect = resolve; }));
  const done = queue.push("rm -rf build\r");
  queue.push("x");
  await new Promise((resolve) => setTimeout(resolve, 0));
  queue.discard();
  assert.equal(queue.heldCount(), 0);
  queue.push("echo after\r"); // typed after dropping, still offline: it waits in its turn
  connected = true;
  connect();
  await done;
  await queue.draining;
  assert.deepEqual(sent, ["echo after\r"]);
  assert.equal(queue.answered, queue.pushed); // predictive echo sees every key settled
});
