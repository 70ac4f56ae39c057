"""The LiveTerminal core over a real PTY (LocalPtyBackend), in process with gevent."""

import os
import signal

import pytest

from aict.errors import AppError
from aict.terminals.backend import ExitStatus
from aict.terminals.live import READ_SIZE, LiveTerminal, TerminalLimits
from aict.terminals.local import LocalPtyBackend
from tests.unit.session_doubles import RecordingViewer, settle, wait_until

KiB = 1024


@pytest.fixture
def run(tmp_path):
    sessions = []

    def start(script: str, ring_bytes: int = 1024 * KiB, window_bytes: int = 64 * KiB) -> LiveTerminal:
        backend = LocalPtyBackend(["/bin/sh", "-c", script], str(tmp_path))
        session = LiveTerminal(f"pty{len(sessions)}", backend,
                          limits=TerminalLimits(ring_bytes=ring_bytes, window_bytes=window_bytes))
        session.start()
        sessions.append(session)
        return session

    yield start
    for session in sessions:
        session.kill()
    for session in sessions:
        wait_until(lambda s=session: s.status == "exited", timeout=10)


def test_output_then_exit_code(run):
    session = run("printf 'last words'; exit 5")
    viewer = RecordingViewer("v", session=session, auto_ack=True)
    session.attach(viewer, "operator", 0)
    wait_until(lambda: viewer.exits, timeout=10)
    assert viewer.contiguous_stream() == (0, b"last words")
    assert viewer.events[-1] == ("exit", ExitStatus(exit_code=5))


def test_input_reaches_the_process(run):
    session = run("stty -echo; read line; echo \"got:$line\"")
    viewer = RecordingViewer("v", session=session, auto_ack=True)
    session.attach(viewer, "operator", 0)
    settle(0.2)
    session.write("héllo\r".encode())
    wait_until(lambda: viewer.exits, timeout=10)
    assert viewer.contiguous_stream()[1].endswith("got:héllo\r\n".encode())


def test_the_pty_is_not_read_while_the_only_viewer_is_full_and_is_read_again_after_an_ack(run):
    session = run("exec yes")
    viewer = RecordingViewer("v", session=session)
    session.attach(viewer, "operator", 0)
    wait_until(lambda: viewer.received == 64 * KiB)
    settle(0.2)
    paused_at = session.ring.end
    assert paused_at <= 64 * KiB + READ_SIZE
    settle(0.3)
    assert session.ring.end == paused_at  # `yes` is blocked on its writes, as on a slow terminal
    session.ack("v", 64 * KiB)
    wait_until(lambda: viewer.received == 128 * KiB)
    assert viewer.contiguous_stream() == (0, b"y\r\n" * (128 * KiB // 3) + b"y\r\n"[:128 * KiB % 3])
    assert session.ring.start == 0


def test_with_no_viewer_the_pty_is_read_on_and_the_ring_keeps_the_tail(run):
    session = run("exec yes", ring_bytes=256 * KiB)
    viewer = RecordingViewer("v", session=session)
    session.attach(viewer, "operator", 0)
    wait_until(lambda: viewer.received == 64 * KiB)
    session.detach("v")
    wait_until(lambda: session.ring.start > 1024 * KiB, timeout=10)
    assert session.memory_bytes() == 256 * KiB


@pytest.mark.serial  # SIGHUP, then SIGKILL after a grace period: a starved `yes` outlives the grace
def test_killing_a_terminal_whose_only_viewer_is_full_ends_it(run):
    session = run("exec yes")
    viewer = RecordingViewer("v", session=session)
    session.attach(viewer, "operator", 0)
    wait_until(lambda: viewer.received == 64 * KiB)
    session.kill()
    wait_until(lambda: session.status == "exited", timeout=10)
    assert session.exit_status == ExitStatus(signal="SIGHUP")


def test_a_character_split_across_two_reads_stays_byte_exact(run):
    session = run("printf '\\342\\202'; sleep 0.3; printf '\\254'")
    viewer = RecordingViewer("v", session=session, auto_ack=True)
    session.attach(viewer, "operator", 0)
    wait_until(lambda: viewer.exits, timeout=10)
    assert viewer.contiguous_stream() == (0, "€".encode())
    assert [offset for offset, _ in viewer.chunks] == [0, 2]


def test_a_process_killed_from_elsewhere_while_its_only_viewer_is_full_is_seen_to_end(run):
    session = run("exec yes")
    viewer = RecordingViewer("v", session=session)
    session.attach(viewer, "operator", 0)
    wait_until(lambda: viewer.received == 64 * KiB)
    os.kill(session.backend.proc.pid, signal.SIGKILL)  # not through the session: nobody acks
    wait_until(lambda: session.status == "exited", timeout=10)
    assert session.exit_status == ExitStatus(signal="SIGKILL")
    # Once the viewer has caught up with the last bytes it is told how the process ended.
    wait_until(lambda: session.ack("v", viewer.received) or viewer.exits, timeout=10)
    assert viewer.events[-1] == ("exit", ExitStatus(signal="SIGKILL"))


def test_the_shell_owns_its_terminal_so_ctrl_c_interrupts_the_foreground_job(run):
    session = run("exec 3</dev/tty && echo has-a-terminal; "
                  "trap 'echo interrupted; exit 3' INT; while :; do sleep 0.05; done")
    viewer = RecordingViewer("v", session=session, auto_ack=True)
    session.attach(viewer, "operator", 0)
    wait_until(lambda: viewer.received and b"has-a-terminal" in viewer.contiguous_stream()[1], timeout=10)
    session.write(b"\x03")  # the line discipline signals the terminal's foreground process group
    wait_until(lambda: viewer.exits, timeout=10)
    assert b"interrupted" in viewer.contiguous_stream()[1]
    assert viewer.events[-1] == ("exit", ExitStatus(exit_code=3))


def test_the_shell_starts_in_the_workspace_directory(run, tmp_path):
    session = run("pwd")
    viewer = RecordingViewer("v", session=session, auto_ack=True)
    session.attach(viewer, "operator", 0)
    wait_until(lambda: viewer.exits, timeout=10)
    assert viewer.contiguous_stream()[1] == f"{tmp_path}\r\n".encode()


def test_a_shell_that_does_not_exist_is_a_clear_error(tmp_path):
    backend = LocalPtyBackend(["/nonexistent/shell"], str(tmp_path))
    with pytest.raises(AppError) as error:
        backend.start(80, 24)
    assert error.value.message == "The shell could not be started: No such file or directory."


def test_the_shell_inherits_no_descriptor_of_the_server(run, tmp_path):
    leaky = os.open(tmp_path / "server-file", os.O_CREAT | os.O_RDWR)
    os.set_inheritable(leaky, True)  # e.g. a listening socket gunicorn handed down
    try:
        session = run("ls /proc/$$/fd")
        viewer = RecordingViewer("v", session=session, auto_ack=True)
        session.attach(viewer, "operator", 0)
        wait_until(lambda: viewer.exits, timeout=10)
    finally:
        os.close(leaky)
    assert viewer.contiguous_stream()[1].split() == [b"0", b"1", b"2"]


def test_a_pipe_into_head_ends_quietly_as_in_any_terminal(run):
    # The server ignores SIGPIPE (as Python does); a shell must not inherit that.
    session = run("yes | head -2; grep '^SigIgn' /proc/self/status")
    viewer = RecordingViewer("v", session=session, auto_ack=True)
    session.attach(viewer, "operator", 0)
    wait_until(lambda: viewer.exits, timeout=10)
    lines = viewer.contiguous_stream()[1].decode().split("\r\n")
    assert lines[:2] == ["y", "y"] and "Broken pipe" not in lines[2]
    ignored = int(lines[2].split()[1], 16)
    assert not ignored & (1 << (signal.SIGPIPE - 1))


def test_a_stream_is_read_with_pauses_but_a_keystrokes_echo_never_waits_for_one(run, monkeypatch):
    # A reader woken by every byte of a stream spends a wake-up and a read per few KiB; once caught
    # up it pauses instead, and the kernel gathers the next KiBs. An echo must never wait for that.
    from aict.terminals.short_sleep import ShortSleeper

    pauses, real_sleep = [], ShortSleeper.sleep

    def sleep(self, seconds):
        pauses.append(seconds)
        return real_sleep(self, seconds)

    monkeypatch.setattr(ShortSleeper, "sleep", sleep)
    session = run("stty raw -echo; printf '%20000s|' burst; exec cat")
    viewer = RecordingViewer("v", session=session, auto_ack=True)
    session.attach(viewer, "operator", 0)
    wait_until(lambda: viewer.received == 20001)
    settle(0.1)
    assert pauses  # the burst was read, then the reader paused before waiting again
    pauses.clear()
    for key in b"keys":
        session.write(bytes([key]))  # cat sends each back: one byte at a time
        wait_until(lambda k=key: viewer.contiguous_stream()[1].endswith(bytes([k])))
    settle(0.1)
    assert viewer.contiguous_stream() == (0, b" " * 19995 + b"burst|keys")
    assert pauses == []
