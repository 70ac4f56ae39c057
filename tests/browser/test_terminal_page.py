"""What a user sees in Chromium: login, workspaces, the terminal, reloads and reconnects."""

from __future__ import annotations

import os
import pwd
import re
import secrets
import time
from pathlib import Path

import pytest
import requests

from tests.browser.conftest import (
    PHONE,
    hook,
    login_with_tokens,
    open_terminal,
    poll,
    run,
    screen,
    screen_text,
    wait_for_terminal,
    wait_until,
)
from tests.server import SHELL_ACCOUNT

SEQ_END = 200_000
LAST_NUMBER_JS = """(() => {
  const b = window.aictTest.term.buffer.active;
  for (let y = b.length - 1; y >= 0; y--) {
    const text = b.getLine(y).translateToString(true).trim();
    if (/^[0-9]+$/.test(text)) return Number(text);
  }
  return 0;
})()"""
SEQ_BYTES = sum(len(str(n)) + 1 for n in range(1, SEQ_END + 1)) + SEQ_END  # "\n" becomes "\r\n"


def log_in_through_form(page, server) -> None:
    page.goto(server.url + "/")
    page.wait_for_url("**/login?next=*")
    page.fill("#username", server.admin_username)
    page.fill("#password", server.admin_password)
    page.click("button[type=submit]")
    page.wait_for_url(server.url + "/")


def create_workspace_through_form(page, prefix: str) -> str:
    """On the workspaces page: create a local workspace with the form and open it; its name."""
    name = f"{prefix}-{secrets.token_hex(3)}"
    page.fill("#ws-name", name)
    page.click("#create-form button[type=submit]")
    page.get_by_text(f"Workspace “{name}” created.").wait_for()
    page.get_by_role("link", name=name).click()
    page.wait_for_url("**/workspaces/*")
    return name


def test_login_create_workspace_and_run_a_command(page, server):
    log_in_through_form(page, server)
    create_workspace_through_form(page, "ui")
    wait_for_terminal(page)
    poll(lambda: _assert_true(screen_text(page).rstrip().endswith(("$", "#"))))

    run(page, "echo $((6*7))")

    poll(lambda: _assert_line(page, "42"))
    assert page.locator("#conn-status").inner_text() == "Connected"


def _assert_line(page, expected: str) -> None:
    assert expected in [row.strip() for row in screen(page)["visible"]], screen(page)["visible"]


def _stty_size(page) -> tuple[int, int]:
    marker = secrets.token_hex(3)
    run(page, f"echo {marker}-$(stty size | tr ' ' x)")

    def seen():
        found = re.findall(rf"^{marker}-(\d+)x(\d+)$", "\n".join(screen(page)["rows"]), re.M)
        assert found
        return int(found[-1][0]), int(found[-1][1])

    return poll(seen)


def test_resizing_the_window_resizes_the_terminal(page, server, workspace):
    login_with_tokens(page, server)
    open_terminal(page, server, workspace["id"])
    rows, cols = _stty_size(page)
    state = screen(page)
    assert (rows, cols) == (state["termRows"], state["termCols"])

    page.set_viewport_size({"width": 900, "height": 500})
    poll(lambda: _assert_resized(page, rows, cols))
    new_rows, new_cols = _stty_size(page)
    state = screen(page)
    assert (new_rows, new_cols) == (state["termRows"], state["termCols"])
    assert new_rows < rows and new_cols < cols


def _assert_resized(page, rows, cols) -> None:
    state = screen(page)
    assert state["termRows"] < rows and state["termCols"] < cols


def test_vim_opens_takes_text_and_quits_back_to_the_prompt(page, server, workspace):
    login_with_tokens(page, server)
    open_terminal(page, server, workspace["id"])
    run(page, "vim -u NONE -N")

    def in_vim():
        state = screen(page)
        assert state["type"] == "alternate"
        assert any(row.startswith("~") for row in state["visible"]), state["visible"]

    poll(in_vim)
    page.keyboard.press("i")
    page.keyboard.type("hello from the browser")

    poll(lambda: _assert_line(page, "hello from the browser"))
    page.keyboard.press("Escape")
    page.keyboard.type(":q!")
    page.keyboard.press("Enter")

    def back_at_prompt():
        state = screen(page)
        assert state["type"] == "normal"
        visible = "\n".join(state["visible"])
        assert "hello from the browser" not in visible
        assert not any(row.startswith("~") for row in state["visible"])
        cursor_row = state["rows"][state["baseY"] + state["cursorY"]]
        assert cursor_row.rstrip().endswith(("$", "#")), state["visible"]

    poll(back_at_prompt)


def _server_end_offset(server, session_id: str, since: int) -> int:
    client = server.socket()
    try:
        answer = client.call("attach-terminal", {"sessionId": session_id, "since": since})
        assert answer["ok"], answer
        client.call("detach-terminal", {"sessionId": session_id})
        return answer["offset"]
    finally:
        client.close()


def test_reload_during_a_flood_continues_without_gap_or_duplicate(page, server, workspace, shell_dir):
    login_with_tokens(page, server)
    session_id = open_terminal(page, server, workspace["id"])
    start = hook(page, "renderedOffset")
    # The numbers flood out, slow down for a few thousand lines (where the test reloads the
    # page), and wait at a gate file, so that the seam between the screen restored by the
    # reload and the resumed stream stays inside the scrollback, where the test can see it.
    gate = shell_dir / "gate"  # the shell (its own account) must see it
    gate.touch()
    pause, slow = SEQ_END // 2, 3000
    run(page, f"seq 1 {SEQ_END} | awk '{{print}} NR > {pause - slow} && NR <= {pause} && NR % 100 == 0 "
              f"{{fflush(); system(\"sleep 0.1\")}} NR == {pause} "
              f"{{while (system(\"test -e {gate}\") == 0) system(\"sleep 0.05\")}}'")

    last_seen = wait_until(page, f"{LAST_NUMBER_JS} > {pause - slow + 300} && {LAST_NUMBER_JS}", timeout=20)
    page.reload()
    assert last_seen < pause, "the page had rendered everything before the reload"

    assert wait_for_terminal(page) == session_id
    wait_until(page, f"{LAST_NUMBER_JS} === {pause}", timeout=20)
    poll(lambda: _assert_caught_up(server, page, session_id))
    numbers = _assert_consecutive_numbers(screen(page))
    assert numbers[0] < last_seen < numbers[-1], "the restored screen and the resumed stream are both on screen"

    gate.unlink()

    def finished():
        state = screen(page)
        assert re.search(rf"^{SEQ_END}$", "\n".join(state["rows"]), re.M), state["visible"][-5:]
        cursor_row = state["rows"][state["baseY"] + state["cursorY"]]
        assert cursor_row.rstrip().endswith(("$", "#"))

    poll(finished)
    state = screen(page)
    numbers = _assert_consecutive_numbers(state)
    assert len(numbers) > state["termRows"] // 2
    assert numbers[-1] == SEQ_END
    visible_numbers = [int(row) for row in state["visible"] if row.strip().isdigit()]
    assert visible_numbers and visible_numbers[-1] == SEQ_END
    assert hook(page, "droppedBytes") == 0
    assert page.locator("text=bytes of output were dropped").count() == 0
    assert hook(page, "renderedOffset") - start >= SEQ_BYTES
    poll(lambda: _assert_caught_up(server, page, session_id))


def _assert_caught_up(server, page, session_id: str) -> None:
    rendered = hook(page, "renderedOffset")
    assert _server_end_offset(server, session_id, rendered) == rendered


def _assert_consecutive_numbers(state: dict) -> list[int]:
    """The number rows of the whole buffer (but the cursor's, maybe half written) count up by one."""
    cursor = state["baseY"] + state["cursorY"]
    numbers = [int(row) for y, row in enumerate(state["rows"]) if y != cursor and row.strip().isdigit()]
    assert numbers, state["visible"]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), "gap or duplicate in the rendered rows"
    return numbers


def _assert_equal(a, b) -> None:
    assert a == b, (a, b)


@pytest.mark.parametrize(("saved_at", "restored_at", "command", "count"), [
    (480, 900, "seq 1 100", 100),  # the screen scrolled: its last line at the bottom
    (900, 480, "clear; seq 1 5", 5),  # blank rows below the cursor
    # Blank rows below the cursor, and scrollback above: the screen erased as Ctrl+L does (ED 2).
    (900, 480, r"seq 101 200; printf '\033[H\033[2J'; seq 1 5", 5),
], ids=["taller", "shorter", "shorter, erased"])
def test_a_screen_saved_at_one_height_comes_back_whole_at_another(page, server, workspace, saved_at, restored_at,
                                                                  command, count):
    """The saved screen is redrawn at the size of the page that restores it (another window, the
    phone layout): the cursor must land after the last line, so the stream resumes below it."""
    page.set_viewport_size({"width": 1280, "height": saved_at})
    login_with_tokens(page, server)
    session_id = open_terminal(page, server, workspace["id"])
    run(page, command)
    poll(lambda: _assert_line(page, str(count)))
    page.goto("about:blank")  # the page saves its screen as it goes
    page.set_viewport_size({"width": 1280, "height": restored_at})
    page.goto(f"{server.url}/sessions/{session_id}")
    wait_for_terminal(page, session_id)

    run(page, "echo after-$((6*7))")
    poll(lambda: _assert_resumed_below(page, count))


def _assert_resumed_below(page, count: int) -> None:
    """1..count, the command typed after the restore, its output, one prompt, then nothing."""
    rows = [row.strip() for row in screen(page)["rows"]]
    assert str(count) in rows, rows
    last = rows.index(str(count))
    assert rows[last - count + 1:last + 1] == [str(n) for n in range(1, count + 1)], rows
    after = rows[last + 1:]
    assert len(after) >= 3 and after[0].endswith("echo after-$((6*7))") and after[1] == "after-42", after
    assert after[2].endswith(("$", "#")) and not any(after[3:]), after  # one prompt, then nothing


def test_a_line_that_fills_the_width_keeps_its_last_character_across_a_reload(page, server, workspace):
    """A full line leaves the cursor waiting to wrap: restored, the next character goes on the
    next line, as it would have without the reload, instead of over the line's last character."""
    login_with_tokens(page, server)
    session_id = open_terminal(page, server, workspace["id"])
    cols = screen(page)["termCols"]
    run(page, f"printf '%{cols - 1}s' | tr ' ' y; printf Z; read -r line")
    full = "y" * (cols - 1) + "Z"
    poll(lambda: _assert_line(page, full))
    page.reload()
    wait_for_terminal(page, session_id)
    page.locator(".xterm-helper-textarea").focus()
    page.keyboard.type("W")
    poll(lambda: _assert_line(page, "W"))
    rows = [row.strip() for row in screen(page)["visible"]]
    assert rows[rows.index(full) + 1] == "W", rows


CELLS_JS = """(text) => {
  const buffer = window.aictTest.term.buffer.active;
  for (let y = buffer.length - 1; y >= 0; y--) {
    const line = buffer.getLine(y);
    if (line.translateToString(true) !== text) continue;
    const cells = [];
    for (let x = 0; x < line.length; x++) {
      const c = line.getCell(x);
      cells.push([c.getChars(), c.getWidth(), c.getFgColorMode(), c.getFgColor(), c.getBgColorMode(),
                  c.getBgColor(), c.isBold(), c.isItalic(), c.isUnderline(), c.isInverse()]);
    }
    return cells;
  }
  return null;
}"""


def test_colours_and_wide_characters_come_back_alike_after_a_reload(page, start_server):
    """The saved screen redraws every cell as it was: its character, width, colours and style. (The
    line is older than what the server's ring holds: the reloaded page has it from its saved screen.)"""
    ring = 80 * 1024
    server = start_server({"AICT_RING_BYTES": str(ring), "AICT_FLOW_WINDOW_BYTES": str(16 * 1024)})
    workspace = server.create_local_workspace()
    login_with_tokens(page, server)
    session_id = open_terminal(page, server, workspace["id"])
    shown = "bold-red orange-bg rgb 中文字 ✓ underlined inverse end"
    run(page, r"printf '\033[1;31mbold-red\033[0m \033[48;5;208morange-bg\033[0m \033[38;2;1;2;3mrgb\033[0m "
              r"中文字 ✓ \033[3;4munderlined\033[0m \033[7minverse\033[0m end\n'; seq -f %058g 1 1500")
    poll(lambda: _assert_line(page, "0" * 54 + "1500"))
    before = page.evaluate(CELLS_JS, shown)
    assert before
    page.reload()
    wait_for_terminal(page, session_id)
    assert hook(page, "notKeptBytes") == 0  # from its own screen: nothing to say about the ring
    assert page.evaluate(CELLS_JS, shown) == before


ALL_LINES_JS = """() => {
  const b = window.aictTest.term.buffer.active, lines = [];
  for (let y = 0; y < b.length; y++) lines.push(b.getLine(y).translateToString(true));
  return lines;
}"""


def test_characters_cut_between_the_pieces_xterm_is_given_show_whole(page, server, workspace):
    """The page hands output to xterm in pieces (2 KiB while the scrollback fills after `clear`,
    then 16 KiB): 2-, 3- and 4-byte characters cut between two pieces are shown whole, every line
    once, in order."""
    login_with_tokens(page, server)
    open_terminal(page, server, workspace["id"])
    run(page, "clear")
    group = "é€😀"  # 9 bytes: piece boundaries fall inside characters
    octal = "".join(f"\\{byte:03o}" for byte in group.encode())
    run(page, f"g=$(printf '{octal}'); s=; for k in $(seq 20); do s=$s$g; done; "
              f"for i in $(seq -w 0 599); do echo \"$i $s\"; done; echo END-$((6*7))")
    poll(lambda: _assert_line(page, "END-42"))
    lines = [line for line in page.evaluate(ALL_LINES_JS) if re.match(r"^[0-9]{3} ", line)]
    assert lines == [f"{i:03d} {group * 20}" for i in range(600)]


def test_connection_indicator_shows_the_drop_and_recovers(page, server, workspace):
    login_with_tokens(page, server)
    session_id = open_terminal(page, server, workspace["id"])
    status = page.locator("#conn-status")
    assert status.get_attribute("data-state") == "connected"

    state_after_drop = page.evaluate("""() => {
      window.aictTest.dropConnection();
      return document.querySelector('#conn-status').dataset.state;
    }""")
    assert state_after_drop in ("reconnecting", "disconnected")
    assert re.match(r"(Reconnecting|Disconnected)", status.inner_text())

    poll(lambda: _assert_equal(status.get_attribute("data-state"), "connected"))
    assert status.inner_text() == "Connected"
    assert hook(page, "sessionId") == session_id
    run(page, "echo reconnected-$((40+2))")
    poll(lambda: _assert_line(page, "reconnected-42"))


def test_coming_back_online_reconnects_at_once(page, server, workspace):
    """The page does not sit out socket.io's backoff (up to 5 s, grown while offline) once the
    device is online again: it reconnects straight away and the terminal goes on."""
    login_with_tokens(page, server)
    open_terminal(page, server, workspace["id"])
    page.context.set_offline(True)
    wait_until(page, "window.aictTest.status !== 'connected'")
    page.wait_for_timeout(8000)  # the backoff grows to its 5 s ceiling
    # all along it says the device is offline, not that the server cannot be reached
    assert "this device is offline" in page.inner_text("#conn-status"), page.inner_text("#conn-status")
    assert "cannot be reached" not in page.inner_text("body")
    page.context.set_offline(False)
    wait_until(page, "window.aictTest.status === 'connected'", timeout=2)  # the backoff alone: up to 7.5 s
    run(page, "echo online-$((6*7))")
    poll(lambda: _assert_line(page, "online-42"))


def test_keys_typed_while_offline_are_said_to_wait_and_can_be_dropped(page, server, workspace, client):
    """Typed with no connection, keys waited unseen in the socket's buffer and ran a minute later,
    after the user had given up on them (and typed the command again: it ran twice)."""
    login_with_tokens(page, server)
    session_id = open_terminal(page, server, workspace["id"])
    watcher = client()
    assert watcher.call("attach-terminal", {"sessionId": session_id})["ok"]
    banner = page.locator("#held-banner")

    page.context.set_offline(True)
    wait_until(page, "window.aictTest.status !== 'connected'")
    page.locator(".xterm-helper-textarea").first.focus()
    page.keyboard.type("echo dropped-$((6*7))")
    page.keyboard.press("Enter")
    banner.wait_for()
    assert "22 characters typed or pasted meanwhile will be sent" in banner.inner_text(), banner.inner_text()
    banner.get_by_role("button", name="Don't send them").click()
    assert banner.is_hidden(), banner.inner_text()
    page.keyboard.type("echo kept-$((6*7))")  # typed after dropping: this one waits and goes
    page.keyboard.press("Enter")
    banner.wait_for()
    page.context.set_offline(False)
    poll(lambda: _assert_line(page, "kept-42"), timeout=20)
    assert banner.is_hidden()
    watcher.wait_for(session_id, "kept-42")
    assert b"dropped" not in bytes(watcher.streams[session_id]), "the dropped keys reached the shell"


def _transport(page) -> str:
    return page.evaluate("window.aictTest.transport")


def test_without_websocket_the_page_works_over_long_polling(page, server, workspace):
    """A browser without WebSocket (or a proxy that refuses the upgrade): the page falls back to
    HTTP long-polling at once, rather than retrying WebSocket for ever."""
    page.context.add_init_script("delete window.WebSocket;")
    polls: list[str] = []
    page.on("request", lambda request: polls.append(request.url) if "transport=polling" in request.url else None)
    login_with_tokens(page, server)
    open_terminal(page, server, workspace["id"])
    run(page, "echo poll-ok")
    poll(lambda: _assert_line(page, "poll-ok"))
    assert _transport(page) == "polling"
    assert len(polls) >= 3, polls  # the handshake, the connect, and polls for output
    assert page.locator("#conn-status").inner_text() == "Connected"


# A proxy that refuses the upgrade, until the test lets WebSocket through: refused, the
# connection goes to a closed port and fails as a refused upgrade does.
BLOCKABLE_WEBSOCKET = """(() => {
  const Real = window.WebSocket;
  window.aictBlockWebSocket = true;
  window.WebSocket = class extends Real {
    constructor(url, ...rest) {
      super(window.aictBlockWebSocket ? "ws://127.0.0.1:1/refused" : url, ...rest);
    }
  };
})();"""


def test_a_page_on_long_polling_comes_back_to_websocket_once_it_works(page, server, workspace):
    page.context.add_init_script(BLOCKABLE_WEBSOCKET)
    login_with_tokens(page, server)
    session_id = open_terminal(page, server, workspace["id"])
    assert _transport(page) == "polling"

    page.evaluate("window.aictBlockWebSocket = false")
    page.evaluate("window.aictTest.dropConnection()")  # the next connection probes WebSocket
    poll(lambda: _assert_equal(_transport(page), "websocket"))
    # The transport is upgraded before the terminal is attached again: the page then says connected.
    poll(lambda: _assert_equal(hook(page, "status"), "connected"))
    assert hook(page, "sessionId") == session_id
    run(page, "echo websocket-$((6*7))")
    poll(lambda: _assert_line(page, "websocket-42"))


def test_a_page_refused_for_its_web_origin_says_why_and_stops_trying(page, server, workspace):
    """The server refuses a foreign origin (code forbidden_origin) whatever the token: retrying
    cannot help, so the page says why and stays disconnected, instead of retrying for ever."""
    page.context.add_init_script("delete window.WebSocket;")  # polling: every request passes page.route
    handshakes: list[str] = []

    def from_elsewhere(route, request):
        if "sid=" in request.url:
            route.continue_()
            return
        # The handshake, as a page of another origin sends it (Chromium keeps its own Origin header).
        handshakes.append(request.url)
        answer = requests.get(request.url, headers={"Origin": "http://evil.example"}, timeout=5)
        route.fulfill(status=answer.status_code, headers=dict(answer.headers), body=answer.content)

    page.route("**/socket.io/**", from_elsewhere)
    login_with_tokens(page, server)
    page.goto(f"{server.url}/workspaces/{workspace['id']}")
    status = page.locator("#conn-status")
    poll(lambda: _assert_equal(status.get_attribute("data-state"), "disconnected"))
    assert status.inner_text() == "Disconnected (Connections from this web origin are not allowed.)"
    page.wait_for_timeout(3000)  # a retry would have come by now (the first after 0.4-0.6 s)
    assert len(handshakes) == 1, handshakes
    assert status.get_attribute("data-state") == "disconnected"


def test_phone_width_login_and_terminal(browser, server, workspace):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        log_in_through_form(page, server)
        page.get_by_role("link", name=workspace["name"]).click()
        wait_for_terminal(page)
        # The session list is collapsed behind a button; the terminal gets the width.
        assert not page.locator("#sidebar").is_visible()
        assert page.locator("#sessions-toggle").is_visible()
        box = page.locator("#terminal").bounding_box()
        assert box["width"] >= 370
        state = screen(page)
        assert 30 <= state["termCols"] <= 60, state["termCols"]

        run(page, "echo phone-$((6*7))")
        poll(lambda: _assert_line(page, "phone-42"))

        # The extra-keys bar gives Ctrl: Ctrl, then c, interrupts a running command.
        run(page, "sleep 30; echo not-interrupted")
        page.click("#keybar [data-key=ctrl]")
        page.keyboard.type("c")
        run(page, "echo after-$((6*7))")
        poll(lambda: _assert_line(page, "after-42"))
        assert "not-interrupted" not in [row.strip() for row in screen(page)["rows"]]

        page.click("#sessions-toggle")
        poll(lambda: _assert_true(page.locator("#sidebar").is_visible()))
        assert page.locator("#session-list .session-item").count() >= 1
        page.click("#sessions-toggle")
        poll(lambda: _assert_true(not page.locator("#sidebar").is_visible()))
        time.sleep(0.05)
    finally:
        context.close()
    assert not errors, errors


def _assert_true(value) -> None:
    assert value


def test_reconnects_during_output_lose_and_repeat_nothing(page, server, workspace):
    login_with_tokens(page, server)
    session_id = open_terminal(page, server, workspace["id"])
    lines = 4000  # fits the scrollback, so every line can be checked
    run(page, f"seq 1 {lines} | awk '{{print}} NR % 100 == 0 {{fflush(); system(\"sleep 0.05\")}}'")
    for threshold in (500, 1500, 2500):
        wait_until(page, f"{LAST_NUMBER_JS} > {threshold}")
        page.evaluate("window.aictTest.dropConnection()")
        assert page.locator("#conn-status").get_attribute("data-state") != "connected"
        wait_until(page, "window.aictTest.status === 'connected'")

    wait_until(page, f"{LAST_NUMBER_JS} === {lines}")
    numbers = _assert_consecutive_numbers(screen(page))
    assert numbers == list(range(1, lines + 1))
    assert hook(page, "droppedBytes") == 0
    poll(lambda: _assert_caught_up(server, page, session_id))


def test_a_page_of_a_server_without_the_test_setting_adds_nothing_to_window(page, start_server):
    """Production pages hand no script the terminal, the socket or a token: the test hook is there
    only under AICT_TEST_HOOKS, and the page makes no other global of its own."""
    server = start_server({"AICT_TEST_HOOKS": "0"})
    workspace = server.create_local_workspace()
    page.goto(f"{server.url}/no-such-page")  # one of the server's pages, with no script
    browser_globals = set(page.evaluate("Object.getOwnPropertyNames(window)"))
    login_with_tokens(page, server)
    page.goto(f"{server.url}/workspaces/{workspace['id']}")
    poll(lambda: _assert_equal(page.locator("#conn-status").get_attribute("data-state"), "connected"))
    poll(lambda: _assert_true(page.locator(".xterm-rows").inner_text().rstrip().endswith(("$", "#"))))
    assert page.evaluate("'testHooks' in document.body.dataset") is False
    page_globals = set(page.evaluate("Object.getOwnPropertyNames(window)")) - browser_globals
    assert page_globals == set()


BUFFER_LINES_JS = """() => {
  const b = window.aictTest.term.buffer.active;
  const lines = [];
  for (let y = 0; y < b.length; y++) lines.push(b.getLine(y).translateToString(true).trim());
  return lines;
}"""


def test_a_reload_keeps_a_scrollback_longer_than_a_saved_screen_holds(page, server, workspace):
    """A saved screen keeps 2,000 lines; with a longer scrollback a reload showed only its last
    2,000, silently (found by a newcomer, Find said 'No matches'). The server's replay has them."""
    from tests.integration.contract import login_tokens, new_user

    username, password = new_user(server, role="admin")  # settings of its own: the others' stay as they are
    token = login_tokens(server, username, password)["access_token"]
    assert server.api("PUT", "/api/me/settings", token, json={"scrollback": 50000}).status_code == 200
    login_with_tokens(page, server, username, password)
    session_id = open_terminal(page, server, workspace["id"])
    run(page, "seq -f 'n%g.' 1 8000")
    wait_until(page, f"({BUFFER_LINES_JS})().includes('n8000.')")
    assert "n1." in page.evaluate(BUFFER_LINES_JS)
    page.reload()
    wait_for_terminal(page, session_id)
    wait_until(page, f"({BUFFER_LINES_JS})().includes('n8000.')")
    lines = [line for line in page.evaluate(BUFFER_LINES_JS) if re.fullmatch(r"n\d+\.", line)]
    assert lines == [f"n{i}." for i in range(1, 8001)], (lines[:3], len(lines))  # all of them, once each


def test_a_rename_and_another_directory_reach_the_open_page(page, server, tmp_path):
    """Saved elsewhere (the workspace list's Edit), they did not reach an open terminal page: its
    header kept the old name and its files panel the old directory's files until a reload."""
    workspace = server.create_local_workspace()
    login_with_tokens(page, server)
    open_terminal(page, server, workspace["id"])
    page.locator("#files-panel .file-list").wait_for()
    elsewhere = Path(workspace["path"]).parent / f"moved-{secrets.token_hex(3)}"
    elsewhere.mkdir()
    (elsewhere / "in-the-new-place.txt").write_text("here\n")
    if os.geteuid() == 0:  # the shells' account may read it, as it may its own directory
        os.chown(elsewhere, pwd.getpwnam(SHELL_ACCOUNT).pw_uid, -1)
    changed = server.api("PATCH", f"/api/workspaces/{workspace['id']}", server.admin_token,
                         json={"name": "renamed-elsewhere", "path": str(elsewhere)})
    assert changed.status_code == 200, changed.text
    poll(lambda: _assert_equal(page.inner_text("#ws-name"), "renamed-elsewhere"), timeout=25)
    assert page.title().startswith("renamed-elsewhere")
    page.locator("#files-panel .file-entry[data-name='in-the-new-place.txt']").wait_for(timeout=25_000)
