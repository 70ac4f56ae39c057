// The client's stream bookkeeping without a browser: order, duplicates, gaps, acks.
import assert from "node:assert/strict";
import { test } from "node:test";
import { OutputStream, lossNote, notKeptNote } from "../../../static/src/session/stream.js";

function harness() {
  const written = [];
  const acks = [];
  const pending = [];
  const losses = [];
  const stream = new OutputStream({
    write: (data, done) => {
      written.push(typeof data === "string" ? data : Buffer.from(data).toString("latin1"));
      pending.push(done);
    },
    ack: (offset) => acks.push(offset),
    lost: (bytes) => losses.push(bytes),
  });
  const render = () => pending.splice(0).forEach((done) => done());
  return { stream, written, acks, render, losses };
}

const bytes = (text) => new Uint8Array(Buffer.from(text, "latin1"));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test("chunks in order are written as they come and acked once rendered", async () => {
  const { stream, written, acks, render } = harness();
  stream.start(0);
  stream.receive(0, bytes("abc"));
  stream.receive(3, bytes("def"));
  assert.deepEqual(written, ["abc", "def"]);
  assert.deepEqual(acks, []);
  render();
  await sleep(30);
  assert.deepEqual(acks, [6]);
  assert.equal(stream.rendered, 6);
});

test("bytes seen before are dropped, a partly new chunk is trimmed", () => {
  const { stream, written } = harness();
  stream.start(10);
  stream.receive(4, bytes("xxxxxx")); // 4..10: all old
  stream.receive(8, bytes("xxYY")); // 8..12: two old, two new
  stream.receive(12, bytes("Z"));
  assert.deepEqual(written, ["YY", "Z"]);
  assert.equal(stream.expected, 13);
});

test("a jump in offsets writes a visible note with the number of lost bytes", () => {
  const { stream, written } = harness();
  stream.start(0);
  stream.receive(0, bytes("ab"));
  stream.receive(7, bytes("hi"));
  assert.deepEqual(written, ["ab", lossNote(5), "hi"]);
  assert.equal(stream.droppedBytes, 5);
  assert.match(lossNote(5), /\[aict: 5 bytes of output were dropped\]/);
});

test("an attach whose replay starts after `since` reports the loss once", () => {
  const { stream, written, losses } = harness();
  stream.start(100);
  stream.attached(150);
  stream.receive(150, bytes("ok"));
  assert.deepEqual(written, [lossNote(50), "ok"]);
  assert.deepEqual(losses, [50]); // the page's banner hears of it once too
  // Replay chunks that overtake the ack: the chunk reports the jump, the ack adds nothing.
  const other = harness();
  other.stream.start(100);
  other.stream.receive(150, bytes("ok"));
  other.stream.attached(150);
  assert.deepEqual(other.written, [lossNote(50), "ok"]);
});

test("without a starting offset the first chunk or the ack sets it, with no note from the start", () => {
  const { stream, written } = harness();
  stream.start(null, { firstView: true });
  stream.receive(0, bytes("head"));
  stream.attached(0);
  assert.deepEqual(written, ["head"]);
  assert.equal(stream.resumeOffset(), 4);
});

test("a first view of a stream whose start is no longer held says quietly that it is not kept", () => {
  for (const ackFirst of [false, true]) {
    const { stream, written, losses } = harness();
    stream.start(null, { firstView: true });
    if (ackFirst) stream.attached(5000);
    stream.receive(5000, bytes("tail"));
    if (!ackFirst) stream.attached(5000);
    assert.deepEqual(written, [notKeptNote(5000), "tail"]);
    assert.match(notKeptNote(5000), /^\x1b\[2m\[aict: earlier output \(5\.0 KB\) is not kept here\]/);
    assert.deepEqual(losses, []); // no banner: this page lost nothing
    assert.equal(stream.droppedBytes, 0);
    assert.equal(stream.notKeptBytes, 5000);
    assert.equal(stream.resumeOffset(), 5004);
  }
});

test("another tab's saved screen followed by a replay that starts later: not kept, not lost", () => {
  const { stream, written, losses } = harness();
  stream.start(100, { firstView: true });
  stream.receive(150, bytes("ok"));
  stream.attached(150);
  stream.receive(160, bytes("later")); // a jump after the first view is this page's own loss
  assert.deepEqual(written, [notKeptNote(50, true), "ok", lossNote(8), "later"]);
  assert.deepEqual(losses, [8]);
  assert.equal(stream.notKeptBytes, 50);
  assert.equal(stream.droppedBytes, 8);
});

test("acks are batched, and a large rendered amount is acked at once", async () => {
  const { stream, acks, render } = harness();
  stream.start(0);
  for (let i = 0; i < 10; i += 1) stream.receive(i * 10, bytes("x".repeat(10)));
  render();
  assert.deepEqual(acks, []);
  await sleep(30);
  assert.deepEqual(acks, [100]);
  stream.receive(100, new Uint8Array(70 * 1024));
  render();
  assert.deepEqual(acks, [100, 100 + 70 * 1024]);
});

test("writes of an older stream do not move the new stream's offsets", async () => {
  const { stream, acks, render } = harness();
  stream.start(0);
  stream.receive(0, bytes("old"));
  stream.start(1000);
  render();
  await sleep(30);
  assert.equal(stream.rendered, 1000);
  assert.deepEqual(acks, []);
});

test("after a re-attach the current place is acked again for the new window", async () => {
  const { stream, acks, render } = harness();
  stream.start(0);
  stream.receive(0, bytes("abc"));
  render();
  await sleep(30);
  assert.deepEqual(acks, [3]);
  stream.attached(3);
  await sleep(30);
  assert.deepEqual(acks, [3, 3]);
});
