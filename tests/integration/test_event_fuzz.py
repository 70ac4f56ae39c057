"""Random socket events, well formed or not, from one connection while another watches a stream.

Every event sent with an ack id is answered, the watched stream arrives whole, and the connection
that sent the garbage still works. The seed is fixed, so a failure replays exactly. (This is how
"disconnect" sent as an ordinary event was found to run the socket's disconnect handler.)
Below it, property-based tests (hypothesis) draw the payloads of every client event and raw packets.
"""

from __future__ import annotations

import base64
import json
import random
import secrets
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aict import protocol
from tests.integration.contract import raw_websocket
from tests.integration.streams import ClientPool, contiguous, wait_until
from tests.server import RunningServer, TerminalClient

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


# ---- property-based: every client event, any payload shape ---------------------------------------
# Hypothesis draws each event's payload: the event's own fields with values of any JSON type (and
# real ids, so that well-formed events reach the handlers' insides), arbitrary JSON of any depth,
# binary where a string is expected, and raw packets no client library would send. The server must
# answer every event that asked for an answer, with ok or an error code (never internal_error), write
# no traceback, and keep the terminals working. max_examples bounds the run time (~a few seconds).

# Deep payloads make Hypothesis warn that their repr is large; it prints them only on a failure.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")
FUZZ_SETTINGS = settings(max_examples=250, deadline=None, database=None, derandomize=True,
                         suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
ANSWERED = {"bad_request", "not_found", "forbidden", "too_large", "too_many_sessions", "conflict", "throttled",
            "unauthorized", "invalid_token", "token_expired", "token_revoked"}  # (the last: authenticate's)
EVENT_FIELDS = {
    protocol.CREATE_TERMINAL: ("workspaceId", "cols", "rows", "name"),
    protocol.ATTACH_TERMINAL: ("sessionId", "since"),
    protocol.DETACH_TERMINAL: ("sessionId",),
    protocol.TERMINAL_INPUT: ("sessionId", "data"),
    protocol.TERMINAL_RESIZE: ("sessionId", "cols", "rows"),
    protocol.TERMINAL_ACK: ("sessionId", "offset"),
    protocol.KILL_TERMINAL: ("sessionId",),
    protocol.LIST_TERMINALS: ("workspaceId",),
    protocol.AUTHENTICATE: ("token",),
}

scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40)
           | st.sampled_from(["", "\x1b[2J", "\x00", "\ud800", "a" * 300, "../../etc/passwd", "0", "-1"]))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=20)


def _deep(depth: int, kind: str):
    value: object = 1
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


def payloads(event: str, ids: dict):
    """Payloads for one event: its fields with any values (real ids among them), or anything at all."""
    real = st.sampled_from(list(ids.values()))
    field_value = real | json_values | st.binary(max_size=32) | st.integers(min_value=0, max_value=2000)
    own_fields = st.fixed_dictionaries({}, optional={name: field_value for name in EVENT_FIELDS.get(event, ())})
    extra = st.dictionaries(st.text(max_size=12), json_values, max_size=3)
    shaped = st.builds(lambda own, more: {**more, **own}, own_fields, extra)
    # (deeper than this the client library itself cannot encode it: the raw packets below go deeper)
    deep = st.builds(_deep, st.integers(min_value=20, max_value=120), st.sampled_from(["list", "dict"]))
    return shaped | json_values | st.binary(max_size=64) | deep


@pytest.fixture(scope="module")
def fuzz_world(tmp_path_factory):
    """A server whose terminals are `cat` (what the fuzzer types goes nowhere harmful), a terminal the
    fuzzing socket may poke at, and one it never learns of."""
    server = RunningServer(tmp_path_factory.mktemp("aict-fuzz"), {
        "AICT_SHELL": "/bin/cat", "AICT_SHELL_ARGS": "[]", "AICT_SOCKET_EVENT_RATE": "100000 per second",
        "AICT_MAX_SESSIONS_PER_USER": "12"}).start()
    workspace_id = server.create_local_workspace()["id"]
    bystander = server.socket()
    hidden = bystander.create(workspace_id)
    fuzzer = server.socket()
    target = fuzzer.create(workspace_id)
    log_start = server.log_path.stat().st_size
    try:
        yield server, fuzzer, {"workspace": workspace_id, "session": target, "token": server.admin_token}, \
            (bystander, hidden)
        # afterwards: nothing in the log, the server healthy, the terminals still echo
        written = server.log_path.read_bytes()[log_start:].decode(errors="replace")
        assert "Traceback" not in written and " ERROR " not in written, written[-4000:]
        assert server.api("GET", "/healthz").status_code == 200
        _echoes(bystander, hidden)
        fresh = server.socket()
        try:
            listed = fresh.call(protocol.LIST_TERMINALS, {})
            assert listed["ok"] is True
            for session in listed["sessions"]:  # room for one more terminal
                if session["id"] != hidden and session["status"] == "running":
                    fresh.call(protocol.KILL_TERMINAL, {"sessionId": session["id"]})
            _echoes(fresh, fresh.create(workspace_id))
        finally:
            fresh.close()
    finally:
        bystander.close()
        fuzzer.close()
        server.stop()


def _echoes(client: TerminalClient, session_id: str) -> None:
    """The terminal (cat) still takes input and answers: a line typed comes back."""
    line = f"still-here-{secrets.token_hex(4)}"
    assert client.send(session_id, line + "\n") == {"ok": True}
    client.wait_for(session_id, f"{line}\r\n{line}\r\n")  # the terminal's echo, then cat's copy


def _call(client: TerminalClient, event: str, payload) -> object:
    done = threading.Event()
    answers: list = []

    def answered(*args):
        answers.append(args[0] if args else None)
        done.set()

    client.sio.emit(event, payload, callback=answered)
    assert done.wait(15), f"{event} with {payload!r:.200} was not answered"
    return answers[0]


@FUZZ_SETTINGS
@given(data=st.data())
def test_any_payload_of_any_client_event_is_answered(fuzz_world, data):
    server, fuzzer, ids, _ = fuzz_world
    event = data.draw(st.sampled_from([*protocol.CLIENT_EVENTS, "no-such-event", "connect", "disconnect"]),
                      label="event")
    payload = data.draw(payloads(event, ids), label="payload")
    answer = _call(fuzzer, event, payload)
    if event == protocol.TERMINAL_ACK and answer is None:  # answered with nothing, unless malformed as a packet
        return
    assert isinstance(answer, dict) and isinstance(answer.get("ok"), bool), answer
    if not answer["ok"]:
        assert answer["error"]["code"] in ANSWERED, (event, answer)
        assert isinstance(answer["error"]["message"], str) and answer["error"]["message"]
    assert fuzzer.sio.connected


def _deep_packet(event: str, depth: int, opener: str) -> str:
    closer = {"[": "]", '{"a":': "}"}[opener]
    return json.dumps([event])[:-1] + "," + opener * depth + "1" + closer * depth + "]"


raw_bodies = (st.text(max_size=200) | st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode())
              | st.builds(_deep_packet, st.sampled_from(protocol.CLIENT_EVENTS),
                          st.integers(min_value=100, max_value=50_000), st.sampled_from(["[", '{"a":'])))


@FUZZ_SETTINGS
@given(body=raw_bodies, ack_id=st.integers(min_value=1, max_value=10**9))
def test_any_raw_event_packet_with_an_ack_id_is_answered(fuzz_world, body, ack_id):
    server, _, _, _ = fuzz_world
    if body[:1].isdigit() or body[:1] in ("/", "-"):
        body = "[" + body  # the digits would extend the ack id; '/' names a namespace, '-' a binary count
    ws = raw_websocket(server)
    try:
        ws.send(f"42{ack_id}{body}")
        answer = _answer_to(ws, ack_id)
    finally:
        ws.close()
    if answer is None:  # terminal-ack answers a callback with nothing
        assert body.startswith(f'["{protocol.TERMINAL_ACK}"'), body[:200]
        return
    assert isinstance(answer, dict) and answer.get("ok") in (True, False), answer
    if not answer["ok"]:
        assert answer["error"]["code"] in ANSWERED, answer
