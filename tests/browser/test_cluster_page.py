"""The production shape in a real browser: a page behind nginx (make cluster) whose web process is
killed mid-flood reconnects by itself, through another web process, and loses nothing."""

from __future__ import annotations

import os
import re
import signal

import requests

from tests.browser.conftest import hook, login_with_tokens, open_terminal, poll, run, screen, wait_until
from tests.cluster import ClusterServer

LINES = 800


def _serving(cluster: ClusterServer) -> int:
    """The pid of the web process that holds the page's socket (each one's own /metrics says)."""
    for port, pid in zip(cluster.web_ports, cluster.web_pids().values(), strict=True):
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        if re.search(r"^aict_socket_connections [1-9]", metrics, re.M):
            return pid
    raise AssertionError("no web process holds the page's socket")


# Every text the page's connection indicator shows from now on.
STATUS_WATCH = """() => {
  window.statusShown = [];
  const indicator = document.getElementById("conn-status");
  new MutationObserver(() => window.statusShown.push(indicator.textContent.trim()))
    .observe(indicator, {childList: true, characterData: true, subtree: true, attributes: true});
}"""


def test_a_page_whose_web_process_is_killed_mid_flood_reconnects_and_loses_nothing(page, tmp_path_factory):
    cluster = ClusterServer(tmp_path_factory.mktemp("aict-cluster-page"))
    cluster.env["AICT_TEST_HOOKS"] = "1"  # the page's test hook, to read its terminal
    cluster.start()
    try:
        workspace = cluster.create_local_workspace()
        login_with_tokens(page, cluster)
        open_terminal(page, cluster, workspace["id"])
        run(page, f"clear; for i in $(seq 1 {LINES}); do echo n-$i; sleep 0.01; done; echo done-$((6*7))")
        page.keyboard.press("Enter")
        poll(lambda: assert_row(page, "n-100"))
        page.evaluate(STATUS_WATCH)
        os.kill(_serving(cluster), signal.SIGKILL)  # mid-flood
        # Seen by the page's indicator, however briefly (the other web process may take the page
        # back within a poll's interval):
        wait_until(page, "window.statusShown.some((text) => text !== 'Connected')", timeout=10)
        wait_until(page, "window.aictTest.status === 'connected'", timeout=30)  # by itself, through nginx
        poll(lambda: assert_row(page, "done-42"), timeout=60)
        rows = screen(page)["rows"]
        numbers = [int(m.group(1)) for row in rows for m in [re.fullmatch(r"n-(\d+)", row.strip())] if m]
        assert numbers == list(range(1, LINES + 1))  # every line once, in order: nothing lost or doubled
        assert hook(page, "droppedBytes") == 0
    finally:
        cluster.stop()


def assert_row(page, text: str) -> None:
    assert any(row.strip() == text for row in screen(page)["rows"]), screen(page)["visible"]
