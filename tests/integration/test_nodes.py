"""Nodes: a terminal host and its web processes; several share one database and one Redis.

Two servers started with start_pair are two nodes (each its own instance folder, host and node
name). A web process on one node drives a terminal on the other through Redis; a node whose host
dies has its terminals recorded as ended once its lease runs out, and the other's are untouched."""

from __future__ import annotations

import os
import signal

import psutil

from tests.integration.contract import assert_echoes, wait_until
from tests.integration.shared import redis_client, start_pair


def _host_of(web) -> psutil.Process:
    hosts = [p for p in psutil.Process(web.proc.pid).children() if "host.py" in " ".join(p.cmdline())]
    assert len(hosts) == 1, hosts
    return hosts[0]


def _status(web, session_id: str) -> str:
    return web.api("GET", f"/api/sessions/{session_id}", web.admin_token).json()["status"]


def test_a_terminal_on_one_node_is_driven_from_another_and_a_dead_node_ends_alone(start_server, tmp_path,
                                                                                   redis_prefix):
    a, b = start_pair(start_server, tmp_path, redis_prefix, {"AICT_NODE_LEASE_SECONDS": "3"})
    workspace = a.create_local_workspace()
    maker_b, maker_a, driver = b.socket(), a.socket(), a.socket()
    try:
        on_b, also_on_b = maker_b.create(workspace["id"]), maker_b.create(workspace["id"])
        on_a = maker_a.create(workspace["id"])
        record = a.api("GET", f"/api/sessions/{on_b}", a.admin_token).json()
        assert record["node"] == b.env["AICT_NODE"] != a.env["AICT_NODE"], record

        # node a's web process finds node b's host through Redis within a few seconds (a loaded machine
        # took 10 s to start a host: the bound leaves room for that, and says what the attach answered)
        replies = []
        wait_until(lambda: replies.append(driver.call("attach-terminal", {"sessionId": on_b, "since": 0}))
                   or replies[-1]["ok"], timeout=30, message="node a reached the terminal on node b",
                   seen=lambda: replies[-1])
        assert_echoes(driver, on_b)  # typed on node a, run on node b, echoed back
        # byte-exact on both nodes (waited for whole: the echo ends in a prompt like the first one)
        wait_until(lambda: bytes(maker_b.streams[on_b]) == bytes(driver.streams[on_b]), timeout=10,
                   message="node b's socket holding the very bytes node a's has")
        driver.send(on_b, "seq 1 200000 | tail -c 20; echo flow-$((3*3))\n")  # flow control across nodes
        driver.wait_for(on_b, "flow-9\r\n", timeout=30)
        assert driver.call("terminal-resize", {"sessionId": on_b, "cols": 100, "rows": 33}) == {"ok": True}
        wait_until(lambda: {"sessionId": on_b, "cols": 100, "rows": 33} in maker_b.resized, timeout=5,
                   message="a resize made on node a reached node b's socket")
        assert driver.call("kill-terminal", {"sessionId": on_b}) == {"ok": True}
        assert maker_b.wait_exit(on_b)["sessionId"] == on_b

        host_b = _host_of(b)
        os.kill(b.proc.pid, signal.SIGKILL)  # node b dies (its web process, then its host) with a terminal running
        os.kill(host_b.pid, signal.SIGKILL)
        wait_until(lambda: _status(a, also_on_b) == "exited", timeout=20,
                   message="node b's terminal recorded as ended once its lease ran out")
        assert _status(a, on_a) == "running"
        assert_echoes(maker_a, on_a)  # node a's own terminal is untouched
        events = a.api("GET", "/api/audit?type=session_end", a.admin_token).json()["events"]
        ends = [e for e in events if e["session_id"] == also_on_b]
        assert len(ends) == 1 and ends[0]["detail"]["reason"] == "node_lost", ends
    finally:
        for client in (maker_b, maker_a, driver):
            client.close()

    # A node stopped cleanly has ended and recorded its terminals: it leaves the set of nodes whose
    # terminals others end when the lease runs out; the dead one stays in it.
    nodes = f"{redis_prefix}:nodes"
    assert a.env["AICT_NODE"].encode() in redis_client().smembers(nodes)
    a.stop()
    assert redis_client().smembers(nodes) == {b.env["AICT_NODE"].encode()}
