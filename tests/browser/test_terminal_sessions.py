"""Terminal page behaviour around sessions: exit, viewers, big pastes, stale tokens, two tabs."""

from __future__ import annotations

import json
import math
import secrets
from pathlib import Path

import pytest

from tests.browser.conftest import (
    assert_prompt,
    hook,
    login_with_tokens,
    open_terminal,
    poll,
    run,
    screen,
    wait_for_terminal,
    wait_until,
)
from tests.server import RunningServer


def _visible(page) -> list[str]:
    return [row.strip() for row in screen(page)["visible"]]


def _assert_line(page, expected: str) -> None:
    assert expected in _visible(page), _visible(page)


def _assert_row_contains(page, expected: str) -> None:
    assert any(expected in row for row in _visible(page)), _visible(page)


def test_exit_shows_the_code_and_offers_a_new_terminal(page, server, workspace):
    login_with_tokens(page, server)
    first = open_terminal(page, server, workspace["id"])
    run(page, "exit 3")

    poll(lambda: _assert_line(page, "[process exited with code 3]"))
    banner = page.locator("#exit-banner")
    banner.wait_for(state="visible")
    assert "exited with code 3" in banner.inner_text()

    banner.get_by_role("button", name="New terminal").click()
    second = wait_for_terminal(page, other_than=first)
    assert not banner.is_visible()
    run(page, "echo again-$((6*7))")
    poll(lambda: _assert_line(page, "again-42"))
    assert page.locator(f"#session-list [data-id='{second}']").count() == 1
    poll(lambda: _assert_true(page.locator(f"#session-list [data-id='{first}']").count() == 0))


def _assert_true(value) -> None:
    assert value


def _new_viewer(server, workspace) -> str:
    """A new user (password viewer-pass-123) made a viewer of the workspace: their username."""
    username, _ = server.create_user(password="viewer-pass-123")
    granted = server.api("POST", f"/api/workspaces/{workspace['id']}/members", server.admin_token,
                         json={"username": username, "access": "viewer"})
    assert granted.status_code == 201, granted.text
    return username


def test_a_viewer_watches_read_only(page, server, workspace, client):
    username = _new_viewer(server, workspace)
    operator = client()
    session_id = operator.create(workspace["id"], cols=100, rows=30)
    operator.send(session_id, "echo shared-$((6*7))\n")
    operator.wait_for(session_id, "shared-42\r\n")

    login_with_tokens(page, server, username, "viewer-pass-123")
    page.goto(f"{server.url}/sessions/{session_id}")
    wait_for_terminal(page, session_id)
    poll(lambda: _assert_line(page, "shared-42"))
    assert page.locator("#viewer-banner").is_visible()
    assert "Read-only" in page.locator("#viewer-banner").inner_text()
    state = screen(page)
    assert (state["termCols"], state["termRows"]) == (100, 30), "a viewer sees the session at its size"

    marker = secrets.token_hex(4)
    page.locator(".xterm-helper-textarea").focus()
    page.keyboard.type(f"echo {marker}\n")
    operator.send(session_id, "echo still-$((40+2))\n")
    poll(lambda: _assert_line(page, "still-42"))
    assert marker.encode() not in bytes(operator.streams[session_id]), "the viewer's keys reached the shell"


def test_a_viewer_in_a_smaller_window_sees_the_whole_terminal_in_a_smaller_font(page, server, workspace, client):
    """The operator's 140×40 in a 900×600 window: the viewer saw neither the last lines nor the
    prompt, with no scrollbar and nothing saying so. The font shrinks until it fits."""
    username = _new_viewer(server, workspace)
    operator = client()
    session_id = operator.create(workspace["id"], cols=140, rows=40)
    operator.send(session_id, "clear; seq 1 60; printf '%139s|\\n' right-edge-$((6*7))\n")
    operator.wait_for(session_id, "right-edge-42|")
    page.set_viewport_size({"width": 900, "height": 600})
    login_with_tokens(page, server, username, "viewer-pass-123")
    page.goto(f"{server.url}/sessions/{session_id}")
    wait_for_terminal(page, session_id)
    poll(lambda: _assert_line(page, "right-edge-42|"))

    def fits() -> None:
        box = page.evaluate("""() => {
          const screen = document.querySelector('.pane.active .xterm-screen').getBoundingClientRect();
          const box = document.querySelector('.pane.active .terminal-box').getBoundingClientRect();
          return {screen: [screen.right, screen.bottom], box: [box.right + 1, box.bottom + 1]};
        }""")
        assert box["screen"][0] <= box["box"][0] and box["screen"][1] <= box["box"][1], box
    poll(fits)
    state = screen(page)
    assert (state["termCols"], state["termRows"]) == (140, 40)  # still the operator's size, all of it on screen
    assert page.evaluate("window.aictTest.term.options.fontSize") < 14
    # the window of a newcomer's report: 117×39 at 6 px left the last rows out of an 800×500 window
    operator.call("terminal-resize", {"sessionId": session_id, "cols": 117, "rows": 39})
    page.set_viewport_size({"width": 800, "height": 500})
    poll(fits)


def test_an_operators_other_tab_shows_the_terminal_at_the_size_in_use_until_used_again(page, server, workspace):
    """Two tabs of one operator in windows of different widths: the one not in use kept its own
    width, so the program's wide lines (top's) wrapped into a scrambled screen there."""
    page.set_viewport_size({"width": 1280, "height": 800})
    login_with_tokens(page, server)
    session_id = open_terminal(page, server, workspace["id"])
    wide = screen(page)["termCols"]
    narrow = page.context.new_page()
    try:
        narrow.set_viewport_size({"width": 900, "height": 600})
        narrow.goto(f"{server.url}/sessions/{session_id}")
        wait_for_terminal(narrow, session_id)
        poll(lambda: _assert_true(screen(narrow)["termCols"] < wide))  # its own size, once it is used
        narrow.locator(".xterm-helper-textarea").focus()
        run(narrow, "echo narrow-in-use")
        small = screen(narrow)["termCols"]
        page.bring_to_front()
        run(page, f"printf '%{wide - 1}s|\\n' wide-line-$((6*7))")  # the wide tab is used: its width again
        poll(lambda: _assert_true(screen(narrow)["termCols"] == wide), timeout=10)  # followed, not wrapped
        poll(lambda: _assert_true(any(row.rstrip().endswith("wide-line-42|") for row in screen(narrow)["rows"])))
        assert narrow.evaluate("window.aictTest.term.options.fontSize") < 14  # smaller, all of it on screen
        narrow.bring_to_front()
        run(narrow, "echo narrow-again")  # used again: it takes the terminal back at its own size
        poll(lambda: _assert_true(screen(narrow)["termCols"] == small), timeout=10)
        poll(lambda: _assert_true(screen(page)["termCols"] == small), timeout=10)
        # keys typed offline in the wide tab count as using it once they are sent
        page.bring_to_front()
        page.context.set_offline(True)
        page.wait_for_function("window.aictTest.status !== 'connected'")
        page.locator(".xterm-helper-textarea").focus()
        page.keyboard.type("echo typed-offline\n")
        page.context.set_offline(False)
        poll(lambda: _assert_true(server.api("GET", f"/api/sessions/{session_id}", server.admin_token).json()["cols"]
                                  == wide), timeout=20)  # the terminal's own size, not only this page's
    finally:
        narrow.close()


def test_a_viewer_made_operator_types_and_made_viewer_again_watches_without_a_reload(page, server, workspace,
                                                                                     client):
    """The page followed a change of access only after a reload: a promoted viewer kept the read-only
    banner and typed into nothing; a demoted operator's keys were dropped with no word, his New
    terminal and End buttons still there."""
    username, _ = server.create_user(password="viewer-pass-123")

    def grant(access: str) -> None:
        granted = server.api("POST", f"/api/workspaces/{workspace['id']}/members", server.admin_token,
                             json={"username": username, "access": access})
        assert granted.status_code == 201, granted.text
    grant("viewer")
    operator = client()
    session_id = operator.create(workspace["id"], cols=100, rows=30)
    login_with_tokens(page, server, username, "viewer-pass-123")
    page.goto(f"{server.url}/sessions/{session_id}")
    wait_for_terminal(page, session_id)
    page.locator("#viewer-banner").wait_for()
    new_terminal = page.locator("[data-action=new-terminal]")
    assert not new_terminal.first.is_visible()

    grant("operator")
    message = page.locator("#page-message")
    poll(lambda: _assert_true("you are an operator now and may type" in message.inner_text()), timeout=15)
    wait_for_terminal(page, session_id)
    assert not page.locator("#viewer-banner").is_visible()
    assert new_terminal.first.is_visible()
    page.wait_for_timeout(500)
    size = server.api("GET", f"/api/sessions/{session_id}", server.admin_token).json()
    assert (size["cols"], size["rows"]) == (100, 30), size  # loaded by itself: it took nobody's size
    run(page, "echo promoted-$((6*7))")
    operator.wait_for(session_id, "promoted-42\r\n")

    grant("viewer")
    poll(lambda: _assert_true("you are a viewer now and may only watch" in message.inner_text()), timeout=15)
    wait_for_terminal(page, session_id)
    page.locator("#viewer-banner").wait_for()
    assert not new_terminal.first.is_visible()


def test_a_paste_bigger_than_one_message_arrives_whole(page, server, workspace):
    login_with_tokens(page, server)
    open_terminal(page, server, workspace["id"])
    size = 1_500_000  # more than the server takes in one terminal-input (1 MiB)
    run(page, f"stty raw -echo; echo paste-ready-$((6*7)); head -c {size} | wc -c; stty sane")
    # Paste only once the terminal is raw: until then the tty would echo the paste and drop what
    # overflows its 4 KiB line buffer (bash restores a cooked terminal before running a command).
    poll(lambda: _assert_row_contains(page, "paste-ready-42"))
    page.evaluate("(n) => window.aictTest.term.paste('0123456789'.repeat(n / 10))", size)
    poll(lambda: _assert_line(page, str(size)))


def test_two_tabs_share_one_session(page, server, workspace):
    login_with_tokens(page, server)
    session_id = open_terminal(page, server, workspace["id"])
    second = page.context.new_page()
    try:
        second.goto(f"{server.url}/sessions/{session_id}")
        wait_for_terminal(second, session_id)
        run(second, "echo from-tab-two")
        poll(lambda: _assert_line(page, "from-tab-two"))
        poll(lambda: _assert_line(second, "from-tab-two"))
        assert hook(page, "renderedOffset") == hook(second, "renderedOffset")
    finally:
        second.close()


def test_tab_completes_and_ctrl_c_interrupts_in_the_shell(page, server, workspace):
    login_with_tokens(page, server)
    open_terminal(page, server, workspace["id"])
    run(page, "touch completion-target-file")
    page.keyboard.type("ls completion-tar")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    poll(lambda: _assert_line(page, "completion-target-file"))
    assert page.evaluate("document.activeElement.classList.contains('xterm-helper-textarea')"), "Tab moved focus"

    run(page, "sleep 30; echo not-interrupted")
    page.keyboard.press("Control+c")
    run(page, "echo interrupted-$((6*7))")
    poll(lambda: _assert_line(page, "interrupted-42"))
    assert "not-interrupted" not in _visible(page)


def test_the_recording_downloads_from_the_session_list(page, server, workspace):
    login_with_tokens(page, server)
    session_id = open_terminal(page, server, workspace["id"])
    run(page, "echo recorded-$((6*7))")
    poll(lambda: _assert_line(page, "recorded-42"))
    with page.expect_download() as info:
        page.click(f"#session-list [data-id='{session_id}'] .session-record")
    lines = Path(info.value.path()).read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0])["version"] == 2
    assert "recorded-42" in "".join(lines[1:])


SMALL_RING = 80 * 1024


@pytest.fixture(scope="module")
def small_ring_server(tmp_path_factory):
    """A server with a small ring (what a terminal prints while nobody watches outgrows it, as on a
    busy day; small enough that the note stays in the scrollback, where the test can read it); each
    test has a workspace and a terminal of its own on it."""
    running = RunningServer(tmp_path_factory.mktemp("aict-small-ring"), {
        "AICT_RING_BYTES": str(SMALL_RING), "AICT_FLOW_WINDOW_BYTES": str(16 * 1024)}).start().wait_for_host()
    yield running
    running.stop()


def _leave_a_terminal_that_will_outgrow_its_ring(page, server, delay: int):
    """A terminal on the small-ring server that prints 10,000 lines of 60 bytes after `delay`
    seconds, left before they start. Returns (server, workspace, session id)."""
    workspace = server.create_local_workspace()
    login_with_tokens(page, server)
    session_id = open_terminal(page, server, workspace["id"])
    run(page, f"sleep {delay}; seq -f %058g 1 10000; echo END-$((6*7))")
    page.goto("about:blank")  # its screen is saved: new tabs of this profile start from it
    return server, workspace, session_id


def test_output_that_left_the_ring_while_away_is_announced_on_return(page, small_ring_server):
    ring = SMALL_RING
    server, workspace, session_id = _leave_a_terminal_that_will_outgrow_its_ring(page, small_ring_server, delay=2)

    time_away = 6
    page.wait_for_timeout(time_away * 1000)
    page.goto(f"{server.url}/workspaces/{workspace['id']}")
    assert wait_for_terminal(page) == session_id  # the same terminal
    poll(lambda: _assert_line(page, "END-42"))

    dropped = hook(page, "droppedBytes")
    assert 600_000 - ring <= dropped <= 600_000  # all that seq printed but what the ring still held
    # The replay after the note fills more than the screen: the banner is what the user sees.
    banner = page.locator("#loss-banner")
    assert banner.is_visible()
    kilobytes = math.floor(dropped / 1000 + 0.5)  # as the page rounds (Math.round), not banker's round()
    assert f"{kilobytes} KB of this terminal's output were dropped here" in banner.inner_text()
    rows = [row.strip() for row in screen(page)["rows"]]  # the scrollback, where the note is
    note = next(i for i, row in enumerate(rows) if "bytes of output were dropped" in row)
    assert rows[note] == f"[aict: {dropped} bytes of output were dropped]"
    numbers = [int(row) for row in rows[note + 1:] if row.isdigit()]
    assert numbers and numbers == list(range(numbers[0], 10001))  # then the rest, gapless
    assert rows.index("END-42") > note

    banner.get_by_role("button", name="Dismiss").click()
    assert not banner.is_visible()


def test_a_first_view_of_a_terminal_that_outgrew_its_ring_says_quietly_that_older_output_is_not_kept(
        page, browser, small_ring_server):
    """A tab that never saw the output the ring no longer holds has lost nothing: no banner, one dim
    line where its view begins. (A page that fell behind gets the banner: the test above.)"""
    ring = SMALL_RING
    server, workspace, session_id = _leave_a_terminal_that_will_outgrow_its_ring(page, small_ring_server, delay=1)
    watcher = server.socket()
    try:
        assert watcher.call("attach-terminal", {"sessionId": session_id})["ok"]
        watcher.wait_for(session_id, "END-42\r\n")
    finally:
        watcher.close()

    # A new tab in the same profile: the first tab's saved screen, then what the ring holds.
    second = page.context.new_page()
    rows = _first_view(second, server, session_id, ring)
    note = next(i for i, row in enumerate(rows) if "is not kept here" in row)
    assert any(row.endswith("echo END-$((6*7))") for row in rows[:note]), rows[:note]  # the saved screen

    # A fresh browser profile: the ring alone.
    context = browser.new_context()
    try:
        rows = _first_view(context.new_page(), server, session_id, ring)
        assert "is not kept here" in rows[0], rows[:3]
    finally:
        context.close()


def _first_view(page, server, session_id: str, ring: int) -> list[str]:
    """Open the terminal in `page`: the rows once its output is in, after checking what it says."""
    login_with_tokens(page, server)
    page.goto(f"{server.url}/sessions/{session_id}")
    wait_for_terminal(page, session_id)
    poll(lambda: _assert_line(page, "END-42"))
    assert hook(page, "droppedBytes") == 0
    assert not page.locator("#loss-banner").is_visible()
    not_kept = hook(page, "notKeptBytes")
    assert 600_000 - ring <= not_kept <= 600_000
    rows = [row.strip() for row in screen(page)["rows"]]
    note = next(i for i, row in enumerate(rows) if "is not kept here" in row)
    kilobytes = math.floor(not_kept / 1000 + 0.5)
    assert rows[note] == f"[aict: earlier output ({kilobytes} KB) is not kept here]"
    assert "bytes of output were dropped" not in "\n".join(rows)
    numbers = [int(row) for row in rows[note + 1:] if row.isdigit()]
    assert numbers and numbers == list(range(numbers[0], 10001))  # then what the ring holds, gapless
    return rows


def test_a_terminal_lost_to_a_server_restart_says_so_and_offers_a_new_one(page, start_server):
    server = start_server()
    workspace = server.create_local_workspace()
    login_with_tokens(page, server)
    lost = open_terminal(page, server, workspace["id"])
    run(page, "echo before-$((6*7))")
    poll(lambda: _assert_line(page, "before-42"))

    server.proc.kill()  # a crash: no time to end its terminals (a clean stop ends them, and the page
    server.proc.wait()  # gets their exit; test_gunicorn.py checks their records)
    wait_until(page, "window.aictTest.status !== 'connected'")
    server.start()  # the same database: the terminal's record says it ended with the old process

    banner = page.locator("#exit-banner")
    banner.wait_for(state="visible")
    assert "no longer holds it" in banner.inner_text()
    assert "before-42" in _visible(page)  # what was on the screen stays readable
    assert hook(page, "status") == "connected"
    banner.get_by_role("button", name="New terminal").click()
    wait_for_terminal(page, other_than=lost)
    assert not banner.is_visible()
    poll(lambda: assert_prompt(page))
    run(page, "echo after-$((6*7))")
    poll(lambda: _assert_line(page, "after-42"))


def test_a_new_terminal_that_ends_at_once_is_not_shown_under_the_old_ones_name(page, server, workspace):
    """New terminal in a workspace whose directory its shell account cannot enter: the terminal
    ends at once, and its pane said the name of the terminal it replaced, beside the new one's exit."""
    login_with_tokens(page, server)
    open_terminal(page, server, workspace["id"])
    title = page.locator(".pane.active .pane-title")
    first = title.inner_text()
    moved = server.api("PATCH", f"/api/workspaces/{workspace['id']}", server.admin_token, json={"path": "/root"})
    assert moved.status_code == 200, moved.text
    try:
        page.locator("[data-action=new-terminal]").first.click()
        page.locator("#exit-banner").wait_for()
        poll(lambda: _assert_true(title.inner_text() != first), timeout=10)
    finally:
        server.api("PATCH", f"/api/workspaces/{workspace['id']}", server.admin_token, json={"path": workspace["path"]})
