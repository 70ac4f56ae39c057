"""GET /api/sessions/<id>/recording: asciicast v2 of what the terminal showed."""

import fcntl
import os
import subprocess
import termios
import tty

from tests.integration.casts import output_of, parse


def test_a_running_session_has_a_recording_with_its_output_and_resizes(server, client, workspace):
    c = client()
    session_id = c.create(workspace["id"], cols=90, rows=20)
    c.send(session_id, "printf 'caf\\303'; sleep 0.2; printf '\\251 \\377 done-%s\\n' $((6*7))\n")
    c.wait_for(session_id, "done-42")
    assert c.call("terminal-resize", {"sessionId": session_id, "cols": 100, "rows": 30})["ok"]

    response = server.api("GET", f"/api/sessions/{session_id}/recording", server.admin_token)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/x-asciicast")
    header, events = parse(response.text)
    assert (header["version"], header["width"], header["height"]) == (2, 90, 20)
    output = output_of(events)
    assert "café \ufffd done-42" in output
    assert ["r", "100x30"] in [[kind, data] for _, kind, data in events]
    times = [at for at, _, _ in events]
    assert times == sorted(times)


def test_an_exited_sessions_recording_ends_with_its_last_output(server, client, workspace):
    c = client()
    session_id = c.create(workspace["id"])
    c.send(session_id, "echo last-$((2+3)); exit\n")
    c.wait_exit(session_id)
    response = server.api("GET", f"/api/sessions/{session_id}/recording", server.admin_token)
    _, events = parse(response.text)
    assert "last-5" in output_of(events)


def test_recordings_follow_the_workspace_rules(server, client, workspace):
    c = client()
    session_id = c.create(workspace["id"])
    _, stranger = server.create_user()
    response = server.api("GET", f"/api/sessions/{session_id}/recording", stranger)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def played_by_asciinema(cast: bytes, tmp_path) -> bytes:
    """What Debian's `asciinema cat` prints for `cast`, run under a pseudo-terminal of its own (it
    opens /dev/tty) in raw mode, so that its output arrives as it wrote it."""
    path = tmp_path / "session.cast"
    path.write_bytes(cast)
    controller, terminal = os.openpty()
    tty.setraw(terminal)
    try:
        player = subprocess.Popen(["asciinema", "cat", str(path)], stdin=terminal, stdout=terminal,
                                  stderr=subprocess.PIPE, start_new_session=True,
                                  preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))  # its /dev/tty
        os.close(terminal)
        printed = bytearray()
        while True:
            try:
                data = os.read(controller, 65536)
            except OSError:  # EIO: the player closed its side
                break
            if not data:
                break
            printed += data
        assert player.wait(30) == 0, player.stderr.read()
    finally:
        os.close(controller)
    return bytes(printed)


def test_asciinema_plays_a_recording_as_the_terminal_showed_it_split_characters_included(server, client, workspace,
                                                                                         tmp_path):
    c = client()
    session_id = c.create(workspace["id"])
    # "é" printed in two halves, a read apart, and a download between them: the first half ends one
    # stored row (a download stores what was gathered) and the second starts the next.
    c.send(session_id, "stty -echo; printf 'caf\\303'; read _; printf '\\251 \\342\\202\\254 \\377 na%sve\\n' "
                       "$'\\303\\257'; stty echo\n")
    c.wait_for(session_id, b"caf\xc3")
    assert server.api("GET", f"/api/sessions/{session_id}/recording", server.admin_token).status_code == 200
    c.send(session_id, "\n")
    c.wait_for(session_id, "naïve")
    c.send(session_id, "exit\n")
    c.wait_exit(session_id)

    response = server.api("GET", f"/api/sessions/{session_id}/recording", server.admin_token)
    header, events = parse(response.text)
    assert header["version"] == 2
    shown = c.text(session_id)  # what the terminal showed: its bytes as UTF-8, invalid ones as U+FFFD
    assert "café € \ufffd naïve" in shown
    assert output_of(events) == shown
    assert played_by_asciinema(response.content, tmp_path).decode() == shown


def test_a_big_recording_streams_whole(server, client, workspace):
    c = client()
    session_id = c.create(workspace["id"])
    c.send(session_id, "stty -echo; seq 1 2000000; echo fini''shed\n")  # ~15 MB
    c.wait_for(session_id, "finished", timeout=60)
    with server.api("GET", f"/api/sessions/{session_id}/recording", server.admin_token, stream=True) as response:
        assert response.status_code == 200
        assert "Content-Length" not in response.headers  # streamed, not built first
        pieces = list(response.iter_content(chunk_size=None))
    assert len(pieces) > 10
    header, events = parse(b"".join(pieces).decode())
    output = output_of(events)
    assert "".join(f"{n}\r\n" for n in range(1, 2000001)) + "finished\r\n" in output
    assert output == c.text(session_id)[:len(output)]
