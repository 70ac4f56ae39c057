"""RecordingWriter against a real SQLite database: small commits, the event loop running between them."""

import json

import gevent
from sqlalchemy import event

from aict.extensions import db
from aict.models import RecordingChunk, TerminalSession, User, Workspace
from aict.models.base import new_id
from aict.recordings.recorder import BATCH_ROWS, Recorder

SESSIONS = 40


def sessions_with_output(app) -> list[Recorder]:
    writer = app.extensions["aict"].sessions.recordings
    with app.app_context():
        user = User(id=new_id(), username="rec", password_hash="x", role="admin")
        workspace = Workspace(id=new_id(), name="w", kind="local", path="/tmp", owner_id=user.id)
        rows = [TerminalSession(id=new_id(), workspace_id=workspace.id, owner_id=user.id, cols=80, rows=24,
                                name=f"s{n}") for n in range(SESSIONS)]
        session_ids = [row.id for row in rows]
        db.session.add_all([user, workspace, *rows])
        db.session.commit()
    recorders = []
    for n, session_id in enumerate(session_ids):
        recorder = Recorder(session_id, 80, 24)
        recorder.output(0, f"output of session {n}\r\n".encode())
        writer.recorders[session_id] = recorder
        recorders.append(recorder)
    return recorders


def test_many_sessions_are_stored_in_small_commits_with_the_loop_running_between(host_app):
    app = host_app
    recorders = sessions_with_output(app)
    writer = app.extensions["aict"].sessions.recordings
    ticks_at_commit = []
    ticks = 0

    def tick():
        # A timer, not sleep(0): a ticker that never lets the loop block holds the GIL, and each
        # commit's thread then waits the 5 ms switch interval per hand-over (30 s on some machines).
        nonlocal ticks
        while True:
            ticks += 1
            gevent.sleep(0.0001)  # the loop's floor: every ~1 ms, and the commits pause 1 ms between

    with app.app_context():
        event.listen(db.engine, "commit", lambda _conn: ticks_at_commit.append(ticks))
    ticker = gevent.spawn(tick)
    try:
        gevent.spawn(writer.flush).join(timeout=30)
    finally:
        ticker.kill()
    commits = ticks_at_commit
    assert len(commits) == -(-SESSIONS // BATCH_ROWS) > 1  # a row per session here: several commits, not one
    assert commits == sorted(set(commits))  # the ticker ran between every two commits
    with app.app_context():
        stored = db.session.scalar(db.select(db.func.count()).select_from(RecordingChunk))
        names = {r.session_id for r in db.session.execute(db.select(RecordingChunk.session_id)).all()}
    assert stored == SESSIONS and names == {r.session_id for r in recorders}


def test_a_flood_is_recorded_whole_while_what_waits_to_be_stored_stays_bounded(host_app):
    app = host_app
    """A terminal printing faster than the database stores is read no faster than it is recorded:
    the recording is complete, and what waits in memory never passes its backlog by much."""
    from aict.recordings.playback import recording_lines
    from aict.recordings.recorder import ROW_BYTES
    from aict.terminals.live import READ_SIZE, LiveTerminal
    from tests.unit.session_doubles import ScriptedBackend, wait_until

    writer = app.extensions["aict"].sessions.recordings
    session_id = sessions_with_output(app)[0].session_id
    writer.recorders.clear()
    backend = ScriptedBackend()
    terminal = LiveTerminal(session_id, backend)
    recorder = writer.attach(terminal)
    most_pending = 0

    def watch(_offset, _data):
        nonlocal most_pending
        most_pending = max(most_pending, recorder.pending_bytes)

    terminal.add_output_hook(watch)
    terminal.start()
    line = b"".join(b"%07d ........................................................\r\n" % n for n in range(500))
    flood = line * 200  # 6.4 MB, in reads of 32 KB
    backend.output(*(flood[i:i + 32000] for i in range(0, len(flood), 32000)))
    wait_until(lambda: terminal.ring.end == len(flood), timeout=60)
    terminal.kill()
    wait_until(lambda: terminal.status == "exited")
    writer.finish(session_id)
    assert most_pending <= writer.backlog_bytes + ROW_BYTES + READ_SIZE
    with app.app_context():
        events = [json.loads(line) for line in recording_lines(session_id)][1:]
    assert "".join(e[2] for e in events if e[1] == "o").encode() == flood  # every byte, once, in order


def flood_through(app, flood: bytes) -> str:
    """Run `flood` through a terminal recorded by the app's writer; its session id once stored."""
    from aict.terminals.live import LiveTerminal
    from tests.unit.session_doubles import ScriptedBackend, wait_until

    writer = app.extensions["aict"].sessions.recordings
    session_id = sessions_with_output(app)[0].session_id
    writer.recorders.clear()
    backend = ScriptedBackend()
    terminal = LiveTerminal(session_id, backend)
    writer.attach(terminal)
    terminal.start()
    backend.output(*(flood[i:i + 32000] for i in range(0, len(flood), 32000)))
    wait_until(lambda: terminal.ring.end == len(flood), timeout=60)
    terminal.kill()
    wait_until(lambda: terminal.status == "exited")
    writer.finish(session_id)
    return session_id


def test_past_its_limit_a_recording_keeps_its_head_and_its_newest_output_and_says_what_it_left_out(host_app):
    from aict.recordings.playback import recording_lines
    from aict.recordings.recorder import ROW_BYTES
    from aict.terminals.live import READ_SIZE

    app = host_app
    writer = app.extensions["aict"].sessions.recordings
    writer.head_bytes, writer.tail_bytes = 1 << 20, 2 << 20  # a 3 MiB limit: 1 MiB head, 2 MiB tail
    lines = [b"%07d %s\r\n" % (n, bytes(range(97, 123)) * 2) for n in range(120_000)]  # 7.3 MB, each line unique
    flood = b"".join(lines)
    session_id = flood_through(app, flood)
    with app.app_context():
        stored = db.session.execute(db.select(RecordingChunk.codec, db.func.length(RecordingChunk.data),
                                              RecordingChunk.output_offset)
                                    .where(RecordingChunk.session_id == session_id).order_by(RecordingChunk.seq)).all()
        text = "".join(json.loads(line)[2] for line in list(recording_lines(session_id))[1:])
    assert {codec for codec, _, _ in stored} == {"zstd"}
    limit = writer.head_bytes + writer.tail_bytes
    head, rest = text.split("\r\n[aict: ", 1)
    left_out = int(rest.split(" ", 1)[0])
    note_end = rest.index("]\r\n") + 3
    tail = rest[note_end:]
    assert flood.startswith(head.encode()) and flood.endswith(tail.encode())  # every byte kept is in place
    assert len(head) + left_out + len(tail) == len(flood)  # and the note says how much is missing
    assert writer.head_bytes <= len(head) <= writer.head_bytes + ROW_BYTES + READ_SIZE
    assert writer.tail_bytes - ROW_BYTES <= len(tail) <= writer.tail_bytes
    assert len(head) + len(tail) <= limit + ROW_BYTES + READ_SIZE
    assert sum(size for _, size, _ in stored) < limit / 3  # compressed
