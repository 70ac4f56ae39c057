"""What a page says while the terminal host does not answer (a deploy restarting it, a crash): the
web process is up, so the socket is connected, but the terminal is silent until the host is back."""

from __future__ import annotations

import os
import signal

from tests.browser.conftest import login_with_tokens, open_terminal, poll, run, screen
from tests.integration.test_terminal_host import node  # noqa: F401  (the fixture: a host and two web processes)


def _assert(condition, detail=None) -> None:
    assert condition, detail


def test_the_page_says_it_waits_for_the_terminal_host_and_goes_on_once_it_answers(page, node):  # noqa: F811
    host, web1, _ = node
    workspace = web1.create_local_workspace()
    login_with_tokens(page, web1)
    open_terminal(page, web1, workspace["id"])
    status = page.locator("#conn-status")
    os.kill(host.proc.pid, signal.SIGSTOP)  # up, but answering nothing
    try:
        page.reload()
        poll(lambda: _assert(status.get_attribute("data-waiting") == "1", status.inner_text()), timeout=20)
        assert status.inner_text() == "Connected · waiting for the terminal host…"  # not a bare "Connected"
    finally:
        os.kill(host.proc.pid, signal.SIGCONT)
    poll(lambda: _assert(status.inner_text() == "Connected", status.inner_text()), timeout=20)
    assert status.get_attribute("data-waiting") is None
    run(page, "echo back-$((6*7))")
    poll(lambda: _assert(any(row.strip() == "back-42" for row in screen(page)["rows"])))
