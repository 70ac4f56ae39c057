"""The terminal page's view of what runs in its terminals and who watches them: the bar above the
terminal, the list's lines, the processes view, viewers' initials and detaching one."""

from __future__ import annotations

import secrets

from tests.browser.conftest import (
    DESKTOP,
    login_with_tokens,
    open_terminal,
    poll,
    run,
    screen,
    wait_for_terminal,
)

SHOTS = "/tmp/aict-shots-procs"


def _shot(page, name: str) -> None:
    page.screenshot(path=f"{SHOTS}-{name}.png")


def _visible_text(page) -> str:
    return "\n".join(screen(page)["visible"])


# Every cell of the processes table against the dialog's scroll box: [cell right edge, box right edge],
# and whether the table is wider than its box.
CELLS_WITHIN = """() => {
  const box = document.querySelector('#processes-dialog .table-scroll');
  const right = box.getBoundingClientRect().right;
  const cells = [...box.querySelectorAll('th, td')].map((c) => [c.textContent, c.getBoundingClientRect().right]);
  return {right, outside: cells.filter(([, r]) => r > right + 0.5), wider: box.scrollWidth > box.clientWidth};
}"""


def test_the_bar_and_the_list_show_what_runs_and_the_processes_view_lists_the_tree(page, server, workspace):
    page.set_viewport_size({"width": 1366, "height": 800})  # a laptop's; the table was cut at "Mem"
    login_with_tokens(page, server)
    session_id = open_terminal(page, server, workspace["id"])
    bar = page.locator("#term-proc")
    poll(lambda: _assert_in("bash", bar.inner_text()))
    assert "% CPU" in bar.inner_text()

    # cat reads its stdin first; the long path (never reached) makes a command wider than the dialog
    run(page, "sleep 30 | cat - /nonexistent/a-path-long-enough-to-fill-the-command-column-of-the-processes-dialog")
    poll(lambda: _assert_in("sleep 30", bar.inner_text()))
    line = page.locator(f"#session-list [data-id='{session_id}'] .session-proc")
    poll(lambda: _assert_in("sleep 30", line.inner_text()))
    _shot(page, "bar")

    page.get_by_role("button", name="Processes").click()
    dialog = page.locator("#processes-dialog")
    dialog.wait_for(state="visible")
    poll(lambda: _assert_in("sleep 30", dialog.locator("tbody").inner_text()))
    rows = dialog.locator("tbody tr")
    commands = [rows.nth(i).locator("td").nth(1).inner_text() for i in range(rows.count())]
    assert "bash" in commands[0] and "sleep 30" in commands, commands
    assert any(c.startswith("cat - /nonexistent/") for c in commands), commands
    assert "MB" in dialog.locator("tbody").inner_text() or "KB" in dialog.locator("tbody").inner_text()
    within = page.evaluate(CELLS_WITHIN)
    assert not within["outside"] and not within["wider"], within  # every column whole, no sideways scroll
    assert dialog.locator("th", has_text="Started").is_visible()
    _shot(page, "processes")
    dialog.get_by_role("button", name="Close").click()
    page.locator(".xterm-helper-textarea").focus()
    page.keyboard.press("Control+C")
    poll(lambda: _assert_in("bash", bar.inner_text()))

    # Ended, it runs nothing: the bar said "bash 0.0% CPU · 3.8 MB" over the exit banner for good
    run(page, "sleep 0.2; exit")
    page.locator("#exit-banner").wait_for()
    poll(lambda: _assert_equal(bar.inner_text().strip(), ""))


def test_a_second_user_shows_up_among_the_viewers_and_can_be_detached(browser, page, server, workspace):
    username, password = server.create_user(password="member-pass-123")
    granted = server.api("POST", f"/api/workspaces/{workspace['id']}/members", server.admin_token,
                         json={"username": username, "access": "operator"})
    assert granted.status_code == 201, granted.text
    login_with_tokens(page, server)
    session_id = open_terminal(page, server, workspace["id"])
    viewers = page.locator(".viewers-toggle")
    poll(lambda: _assert_equal(viewers.locator(".avatar").count(), 1))

    other_context = browser.new_context(viewport=DESKTOP)
    other = other_context.new_page()
    errors: list[str] = []
    other.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        login_with_tokens(other, server, username, "member-pass-123")
        other.goto(f"{server.url}/sessions/{session_id}")
        wait_for_terminal(other, session_id)
        poll(lambda: _assert_equal(viewers.locator(".avatar").count(), 2))  # the owner's page sees them come
        assert username in viewers.get_attribute("title")
        viewers.click()
        menu = page.locator("#viewers-menu")
        menu.wait_for(state="visible")
        assert "admin (you)" in menu.inner_text() and username in menu.inner_text()
        assert menu.get_by_role("button", name="Detach admin").count() == 0  # not oneself
        # On screen, not only in the DOM: the bar's overflow cut the menu off, so nothing showed
        on_top = page.evaluate("""() => {
          const r = document.querySelector('#viewers-menu').getBoundingClientRect();
          const hit = document.elementFromPoint(r.left + r.width / 2, r.bottom - 8);
          return Boolean(hit && hit.closest('#viewers-menu'));
        }""")
        assert on_top, "the viewers menu is hidden behind or clipped by something"
        _shot(page, "viewers-menu")
        # the member is no owner: no Detach button on their page
        other.locator(".viewers-toggle").click()
        assert other.locator("#viewers-menu").get_by_role("button", name="Detach").count() == 0

        menu.get_by_role("button", name=f"Detach {username}").click()
        banner = other.locator("#detached-banner")
        banner.wait_for(state="visible")
        assert "detached" in banner.inner_text()
        poll(lambda: _assert_equal(viewers.locator(".avatar").count(), 1))
        assert other.locator(".viewers").is_hidden()  # detached, its list of viewers would be stale
        _shot(other, "detached")

        marker = secrets.token_hex(4)
        run(page, f"echo after-{marker}")
        poll(lambda: _assert_in(f"after-{marker}", _visible_text(page)))
        other.evaluate("window.aictTest.dropConnection()")  # a reconnect does not attach it again
        poll(lambda: _assert_equal(other.evaluate("window.aictTest.status"), "connected"))
        run(page, f"echo again-{marker}")
        poll(lambda: _assert_in(f"again-{marker}", _visible_text(page)))
        other.wait_for_timeout(1000)
        assert f"after-{marker}" not in _visible_text(other) and f"again-{marker}" not in _visible_text(other)
        assert viewers.locator(".avatar").count() == 1

        banner.get_by_role("button", name="Attach again").click()  # the user's own choice
        poll(lambda: _assert_in(f"again-{marker}", _visible_text(other)))
        assert banner.is_hidden()
        poll(lambda: _assert_equal(viewers.locator(".avatar").count(), 2))
    finally:
        other_context.close()
    assert not errors, errors


def _assert_in(needle: str, haystack: str) -> None:
    assert needle in haystack, haystack


def _assert_equal(a, b) -> None:
    assert a == b, (a, b)


def test_a_detach_pressed_as_another_tab_attaches_still_detaches(page, server, workspace):
    """Pressed on Detach, another viewer attaches meanwhile (the menu renders again), released: the
    viewer pressed on is detached. The menu was rebuilt on every terminal-viewers message, and a
    press and a release on two different elements are no click."""
    username, token = server.create_user()
    granted = server.api("POST", f"/api/workspaces/{workspace['id']}/members", server.admin_token,
                         json={"username": username, "access": "operator"})
    assert granted.status_code == 201, granted.text
    login_with_tokens(page, server)
    session_id = open_terminal(page, server, workspace["id"])
    member, late = server.socket(token), server.socket()
    try:
        assert member.call("attach-terminal", {"sessionId": session_id})["ok"]
        viewers = page.locator(".viewers-toggle")
        poll(lambda: _assert_equal(viewers.locator(".avatar").count(), 2))
        viewers.click()
        detach = page.locator("#viewers-menu").get_by_role("button", name=f"Detach {username}")
        detach.hover()
        page.mouse.down()
        assert late.call("attach-terminal", {"sessionId": session_id})["ok"]  # a third viewer
        poll(lambda: _assert_equal(page.locator("#viewers-menu .viewer-row").count(), 3))
        page.mouse.up()
        poll(lambda: _assert_equal([e.get("code") for e in member.errors], ["detached"]))
        poll(lambda: _assert_equal(page.locator("#viewers-menu .viewer-row").count(), 2))
        assert username not in page.locator("#viewers-menu").inner_text()
    finally:
        member.close()
        late.close()
