// TerminalReplies.write: big output reaches xterm in pieces (so that xterm can yield to the renderer
// between them), byte for byte, with the chunk's callback once, after its last piece.
import assert from "node:assert/strict";
import { test } from "node:test";
import { FILLING_PIECE_BYTES, TerminalReplies, WRITE_PIECE_BYTES } from "../../../static/src/session/replies.js";

function fakeTerm() {
  const term = { writes: [], handlers: [] };
  term.onData = (handler) => term.handlers.push(handler);
  term.onBinary = () => {};
  term.write = (data, callback) => term.writes.push({ data, callback });
  term.parseAll = () => {
    for (const write of term.writes.splice(0)) write.callback?.();
  };
  return term;
}

test("a chunk bigger than a piece is written in pieces, its callback once after the last", () => {
  const term = fakeTerm();
  const replies = new TerminalReplies(term, { input() {}, answer() {}, decide: () => "drop" });
  const chunk = new Uint8Array(2.5 * WRITE_PIECE_BYTES).map((_, i) => i % 251);
  let done = 0;
  replies.write(chunk, "live", () => (done += 1));
  assert.deepEqual(term.writes.map((w) => w.data.length), [WRITE_PIECE_BYTES, WRITE_PIECE_BYTES, WRITE_PIECE_BYTES / 2]);
  const joined = new Uint8Array(chunk.length);
  let at = 0;
  for (const w of term.writes) {
    joined.set(w.data, at);
    at += w.data.length;
  }
  assert.deepEqual(joined, chunk);
  term.writes.slice(0, -1).forEach((w) => w.callback());
  assert.equal(done, 0);
  term.writes.at(-1).callback();
  assert.equal(done, 1);
});

test("small chunks and strings go in one write", () => {
  const term = fakeTerm();
  const replies = new TerminalReplies(term, { input() {}, answer() {}, decide: () => "drop" });
  replies.write(new Uint8Array(WRITE_PIECE_BYTES), "live");
  replies.write("x".repeat(3 * WRITE_PIECE_BYTES), "replayed");
  assert.deepEqual(term.writes.map((w) => w.data.length), [WRITE_PIECE_BYTES, 3 * WRITE_PIECE_BYTES]);
});

test("an answer xterm gives while parsing a middle piece belongs to its chunk", async () => {
  const term = fakeTerm();
  const sent = [], typed = [];
  const replies = new TerminalReplies(term, {
    input: (data) => typed.push(data),
    answer: (data) => sent.push(data),
    decide: (tag) => (tag === "live" ? "send" : "drop"),
  });
  replies.write(new Uint8Array(2 * WRITE_PIECE_BYTES + 1), "live");
  term.writes[0].callback();
  term.handlers[0]("\x1b[?1;2c"); // the answer to a query in the second piece
  term.writes[1].callback();
  term.writes[2].callback();
  await Promise.resolve();
  assert.deepEqual(sent, ["\x1b[?1;2c"]);
  assert.deepEqual(typed, []);
});

test("while the scrollback fills, pieces are smaller; in the alternate screen they are not", () => {
  const term = fakeTerm();
  term.rows = 24;
  term.options = { scrollback: 1000 };
  term.buffer = { active: { type: "normal", length: 100 } };
  const replies = new TerminalReplies(term, { input() {}, answer() {}, decide: () => "drop" });
  replies.write(new Uint8Array(3 * FILLING_PIECE_BYTES), "live");
  assert.deepEqual(term.writes.splice(0).map((w) => w.data.length), [FILLING_PIECE_BYTES, FILLING_PIECE_BYTES, FILLING_PIECE_BYTES]);
  term.buffer.active.length = 1024; // full: scrollback and screen
  replies.write(new Uint8Array(3 * FILLING_PIECE_BYTES), "live");
  assert.deepEqual(term.writes.splice(0).map((w) => w.data.length), [3 * FILLING_PIECE_BYTES]);
  term.buffer.active = { type: "alternate", length: 24 };
  replies.write(new Uint8Array(3 * FILLING_PIECE_BYTES), "live");
  assert.deepEqual(term.writes.splice(0).map((w) => w.data.length), [3 * FILLING_PIECE_BYTES]);
});
