"""Bytes pass untouched both ways: split characters, invalid UTF-8, pastes bigger than the tty's buffer."""

import base64
import hashlib
import random
import secrets

from tests.integration.streams import contiguous

MiB = 1024 * 1024
EURO = "€".encode()  # e2 82 ac
REPLACEMENT = "\ufffd".encode()


def test_a_character_split_across_two_reads_arrives_byte_exact(server, connect, workspace):
    client = connect(server)
    session_id = client.create(workspace["id"])
    client.send(session_id, "printf '\\342\\202'; sleep 0.5; printf '\\254\\n'\n")
    client.wait_for(session_id, EURO)
    start, stream = contiguous(client.outputs(session_id))
    assert REPLACEMENT not in stream
    split_at = start + stream.index(EURO) + 2
    # It really was split: the last byte came in a later chunk than the first two.
    assert split_at in {offset for offset, _ in client.outputs(session_id)}


def test_invalid_utf8_output_arrives_raw(server, connect, workspace):
    client = connect(server)
    session_id = client.create(workspace["id"])
    client.send(session_id, "printf '<\\377\\376\\300>\\n'\n")
    client.wait_for(session_id, b"<\xff\xfe\xc0>\r\n")
    assert REPLACEMENT not in contiguous(client.outputs(session_id))[1]


def _send_in_events(client, session_id: str, data: bytes | str, size: int = MiB) -> None:
    for i in range(0, len(data), size):
        answer = client.send(session_id, data[i:i + size])
        assert answer["ok"], answer


def test_a_binary_paste_bigger_than_the_tty_buffer_arrives_byte_exact(server, connect, workspace):
    client = connect(server)
    session_id = client.create(workspace["id"])
    payload = random.Random(11).randbytes(1_500_000)  # every byte value, in two events of at most 1 MiB
    name = f"paste-{secrets.token_hex(4)}.bin"
    client.send(session_id, f"stty raw -echo; echo READY-$((3*3)); head -c {len(payload)} > {name}; stty sane; "
                            f"sha256sum {name}; rm {name}\n")
    client.wait_for(session_id, "READY-9")
    _send_in_events(client, session_id, payload)
    client.wait_for(session_id, hashlib.sha256(payload).hexdigest(), timeout=30)


def test_a_text_paste_of_a_megabyte_into_cat_arrives_byte_exact(server, connect, workspace):
    client = connect(server)
    session_id = client.create(workspace["id"])
    # Lines well below the canonical-mode limit of 4095 bytes, as a pasted file would have.
    text = base64.encodebytes(random.Random(12).randbytes(800_000)).decode()  # ~1.08 MB in 76-char lines
    name = f"paste-{secrets.token_hex(4)}.txt"
    client.send(session_id, f"stty -echo; echo READY-$((2*4)); cat > {name}; stty echo; sha256sum {name}; rm {name}\n")
    client.wait_for(session_id, "READY-8")
    _send_in_events(client, session_id, text, size=512 * 1024)
    client.send(session_id, "\x04")  # end of file at the start of a line
    client.wait_for(session_id, hashlib.sha256(text.encode()).hexdigest(), timeout=30)


def test_input_of_more_than_a_mebibyte_in_one_event_is_too_large(server, connect, workspace):
    client = connect(server)
    session_id = client.create(workspace["id"])
    answer = client.send(session_id, b"x" * (MiB + 1))
    assert answer["ok"] is False and answer["error"]["code"] == "too_large"
    client.send(session_id, "echo still-$((1+1))\n")
    client.wait_for(session_id, "still-2")


def test_long_polling_carries_binary_output_and_input_byte_exact(server, workspace):
    """The same stream over Engine.IO's HTTP long-polling transport (proxies without WebSocket)."""
    client = server.socket(transports=("polling",))
    try:
        session_id = client.create(workspace["id"])
        client.send(session_id, b"printf '<\\377\\376\\300>\\n'\n")  # input as bytes, output invalid UTF-8
        client.wait_for(session_id, b"<\xff\xfe\xc0>\r\n")
        chunks = client.chunks[session_id]  # (offset, length) in arrival order: contiguous from 0
        assert [offset for offset, _ in chunks] == [sum(n for _, n in chunks[:i]) for i in range(len(chunks))]
        assert REPLACEMENT not in client.streams[session_id]
        assert client.call("kill-terminal", {"sessionId": session_id})["ok"]
    finally:
        client.close()
