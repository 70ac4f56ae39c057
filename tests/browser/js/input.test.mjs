// Paste splitting and small helpers.
import assert from "node:assert/strict";
import { test } from "node:test";
import { binaryStringToBytes, InputQueue, splitUtf8 } from "../../../static/src/lib/input.js";

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

test("the queue sends pieces one at a time, in order", async () => {
  const sent = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const queue = new InputQueue(async (data) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((resolve) => setTimeout(resolve, 2));
    sent.push(data);
    inFlight -= 1;
    return { ok: true };
  }, () => assert.fail("no error expected"));
  queue.push("x".repeat(1_200_000));
  await queue.push("after");
  assert.equal(maxInFlight, 1);
  assert.equal(sent.at(-1), "after");
  assert.equal(sent.slice(0, -1).join(""), "x".repeat(1_200_000));
});
