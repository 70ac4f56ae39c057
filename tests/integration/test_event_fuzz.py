"""Random socket events, well formed or not, from one connection while another watches a stream.

Every event sent with an ack id is answered, the watched stream arrives whole, and the connection
that sent the garbage still works. The seed is fixed, so a failure replays exactly. (This is how
"disconnect" sent as an ordinary event was found to run the socket's disconnect handler.)
"""

from __future__ import annotations

import json
import random

from tests.integration.contract import raw_websocket
from tests.integration.streams import ClientPool, contiguous, wait_until

SEED = 20261127
EVENTS_SENT = 1500
LINES = 1_000_000  # "x\n" each: every terminal of this server streams 2 MB, then echoes with cat
PRODUCER = f"yes x | head -n {LINES}; echo END_$((6*7)); exec cat"
EVENTS = ["create-terminal", "attach-terminal", "detach-terminal", "terminal-input", "terminal-resize",
          "terminal-ack", "kill-terminal", "list-terminals", "no-such-event", "disconnect", "connect", ""]
FIELDS = ["sessionId", "workspaceId", "data", "cols", "rows", "since", "offset", "name"]
BROKEN = ["[", "[1]", "{}", "[]", '["list-terminals"', "null", '"x"', "[null]", "\ufffd", "[[[[[[]]]]]]"]


def _value(rng: random.Random, depth: int = 0):
    kind = rng.randrange(10)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.choice([0, -1, 1, 80, 1000, 1001, 2**31, 2**63, -(2**70), 10**30])
    if kind == 2:
        return rng.choice([1e308, -0.0, 1.5, float("1e-300")])
    if kind == 3:
        return "".join(chr(rng.randrange(0, 0x2FFF)) for _ in range(rng.randrange(0, 40)))
    if kind == 4:
        return "\x1b[31m\x00\ud7ff\u202e" * rng.randrange(0, 5)
    if kind == 5 and depth < 3:
        return [_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    if kind == 6 and depth < 3:
        return {rng.choice(FIELDS): _value(rng, depth + 1) for _ in range(rng.randrange(0, 4))}
    if kind == 7:
        return "a" * rng.choice([0, 1, 1 << 16, (1 << 20) + 1])
    return rng.choice(["", "0", "null", "ffffffffffffffffffffffffffffffff"])


def _body(rng: random.Random, ids: list[str], workspace_id: str) -> str:
    if rng.random() < 0.05:
        return rng.choice(BROKEN)
    event = rng.choice(EVENTS)
    if rng.random() < 0.3:
        return json.dumps([event, _value(rng)])
    payload = {name: _value(rng) for name in rng.sample(FIELDS, rng.randrange(0, 4))}
    if rng.random() < 0.7:
        payload["sessionId"] = rng.choice(ids) if ids and rng.random() < 0.7 else _value(rng)
    if rng.random() < 0.5:
        payload["workspaceId"] = workspace_id
    return json.dumps([event, payload])


def _answer_to(ws, ack_id: int):
    """Read until the answer to `ack_id` (answering pings, skipping output); its first argument."""
    prefix = f"43{ack_id}["
    while True:
        message = ws.recv()
        if isinstance(message, bytes):
            continue  # output of the terminals this socket created: never acked, so it stops at the window
        if message == "2":
            ws.send("3")
        elif message.startswith(prefix):
            args = json.loads(message[len(prefix) - 1:])
            return args[0] if args else None


def test_random_events_are_all_answered_and_a_watched_stream_stays_whole(start_server):
    server = start_server({"AICT_SHELL": "/bin/sh", "AICT_SHELL_ARGS": json.dumps(["-c", PRODUCER]),
                           "AICT_SOCKET_EVENT_RATE": "100000 per second", "AICT_MAX_SESSIONS_PER_USER": "8"})
    workspace_id = server.create_local_workspace()["id"]
    pool = ClientPool()
    ws = raw_websocket(server)
    try:
        watcher = pool.connect(server)
        watched = watcher.create(workspace_id)  # the fuzzing socket never learns this id
        rng = random.Random(SEED)
        own: list[str] = []
        codes: dict[str, int] = {}
        for ack_id in range(1, EVENTS_SENT + 1):
            body = _body(rng, own, workspace_id)
            ws.send(f"42{ack_id}{body}")
            answer = _answer_to(ws, ack_id)
            if answer is None:  # terminal-ack answers a callback with nothing
                assert body.startswith('["terminal-ack"'), body
                continue
            assert isinstance(answer, dict) and isinstance(answer.get("ok"), bool), (body[:200], answer)
            if answer["ok"]:
                if "sessionId" in answer and body.startswith('["create-terminal"'):
                    own.append(answer["sessionId"])
            else:
                codes[answer["error"]["code"]] = codes.get(answer["error"]["code"], 0) + 1
        # The garbage was refused for what it was, and real work got done in between.
        assert {"bad_request", "not_found"} <= codes.keys(), codes
        assert own, "no terminal was created"
        assert set(codes) <= {"bad_request", "not_found", "too_large", "too_many_sessions", "conflict"}, codes

        ws.send("42" + str(EVENTS_SENT + 1) + json.dumps(["list-terminals", {}]))
        assert _answer_to(ws, EVENTS_SENT + 1)["ok"] is True  # the fuzzing socket still works
        wait_until(lambda: b"END_42\r\n" in watcher.streams.get(watched, b""), timeout=60,
                   what="the watched stream's end")
        first, stream = contiguous(watcher.outputs(watched))
        assert first == 0
        assert stream == b"x\r\n" * LINES + b"END_42\r\n"
        assert server.api("GET", "/healthz").status_code == 200
    finally:
        ws.close()
        pool.close()
