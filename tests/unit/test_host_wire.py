"""aict.host.wire's FrameLink over a real Unix socketpair: what one end queues, the other gets,
whole and in order, however the socket splits the writes (a queue far larger than the socket's
buffer, frames written in part, more parts than one writev takes)."""

from __future__ import annotations

import os

import gevent
from gevent import socket

from aict.host import wire


def _pair(received: list[tuple[int, bytes]]):
    near, far = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    sender = wire.FrameLink(near, on_frame=lambda kind, payload: None, name="sender")

    def on_frame(kind: int, payload: memoryview) -> None:
        assert kind == wire.OUTPUT
        _sid, _key, offset, data = wire.parse_output(payload)
        received.append((offset, data))

    receiver = wire.FrameLink(far, on_frame=on_frame, name="receiver")
    return sender, receiver


def _wait(condition, seconds: float = 10) -> None:
    with gevent.Timeout(seconds):
        while not condition():
            gevent.sleep(0.005)


def test_a_queue_many_times_the_sockets_buffer_arrives_whole_and_in_order():
    received: list[tuple[int, bytes]] = []
    sender, receiver = _pair(received)
    chunks = [os.urandom(256 * 1024 + i) for i in range(24)]  # ~6 MiB in one loop pass: many short writes
    offset = 0
    for chunk in chunks:
        sender.send(*wire.output("s1", "k1", offset, chunk))
        offset += len(chunk)
    assert sender.unsent > wire.HIGH_WATER
    drained = []
    sender.when_drained(lambda: drained.append(True))
    _wait(lambda: len(received) == len(chunks))
    assert [data for _, data in received] == chunks
    assert [o for o, _ in received] == [sum(map(len, chunks[:i])) for i in range(len(chunks))]
    assert sender.unsent == 0 and drained == [True]
    sender.close(), receiver.close()


def test_more_small_frames_than_one_writev_takes_arrive_in_order():
    received: list[tuple[int, bytes]] = []
    sender, receiver = _pair(received)
    count = 3 * wire.IOV_MAX  # two parts per frame: six writev calls' worth, queued in one pass
    for i in range(count):
        sender.send(*wire.output("s1", "k1", i, i.to_bytes(4, "big")))
    _wait(lambda: len(received) == count)
    assert received == [(i, i.to_bytes(4, "big")) for i in range(count)]
    assert sender.unsent == 0
    sender.close(), receiver.close()


def test_a_sender_that_waited_is_called_back_once_there_is_room_for_a_real_send():
    # The session core waits for a viewer's room when there is less than it needs, and resumes from the
    # call-back: called back at once, inside that very send, the call-back was lost and replays stalled.
    received: list[tuple[int, bytes]] = []
    sender, receiver = _pair(received)
    receiver._reader.kill()  # nobody reads yet: the link fills and stays full
    offset = 0
    while not sender.unsent:  # until the socket's buffer is full
        sender.send(*wire.output("s1", "k1", offset, bytes(64 * 1024)))
        offset += 64 * 1024
        gevent.sleep(0.01)
    head = sum(map(len, wire.output("s1", "k1", 0, b"")))
    size = wire.HIGH_WATER - 16 * 1024 - sender.unsent - head  # the link then lacks 16 KiB of HIGH_WATER
    sender.send(*wire.output("s1", "k1", offset, bytes(size)))
    gevent.sleep(0.01)
    assert wire.LOW_WATER < sender.unsent < wire.HIGH_WATER
    called = []
    sender.when_drained(lambda: called.append(sender.unsent))
    assert called == []  # under HIGH_WATER, but too little room to send anything worth it
    receiver._reader = gevent.spawn(receiver._read_loop)  # a reader again
    _wait(lambda: called)
    assert called[0] <= wire.LOW_WATER
    _wait(lambda: sender.unsent == 0)
    sender.close(), receiver.close()
