"""The terminal page's session list: switching between terminals, ending them, and what other tabs
on the same terminal see when it ends or is resized."""

from __future__ import annotations

import re
import secrets
from contextlib import contextmanager

from tests.browser.conftest import (
    assert_prompt,
    hook,
    login_with_tokens,
    open_terminal,
    poll,
    run,
    screen,
    wait_for_terminal,
)

# The list also refreshes itself every 15 s: a change the user made must show well before that.
LIST_UPDATE_SECONDS = 5
KILL_GRACE_SECONDS = 3  # aict.terminals.local: SIGHUP, then SIGKILL if the terminal lingers


def _rows(page) -> list[str]:
    """Every row of the terminal, scrollback included, as the user could scroll to it."""
    return [row.strip() for row in screen(page)["rows"]]


def _assert_shows(page, line: str) -> None:
    visible = [row.strip() for row in screen(page)["visible"]]
    assert line in visible, visible


def _listed(page) -> list[str]:
    return page.eval_on_selector_all("#session-list .session-item", "items => items.map((i) => i.dataset.id)")


def _assert_listed(page, expected: list[str]) -> None:
    assert _listed(page) == expected


def _item(page, session_id: str):
    return page.locator(f"#session-list .session-item[data-id='{session_id}']")


def _switch_to(page, session_id: str) -> None:
    _item(page, session_id).locator(".session-open").click()
    wait_for_terminal(page, session_id)
    poll(lambda: assert_prompt(page))


def _new_terminal(page) -> str:
    """Start another terminal with the sidebar's button; returns its id once its shell prompts."""
    before = hook(page, "sessionId")
    page.click("#sidebar [data-action=new-terminal]")
    session_id = wait_for_terminal(page, other_than=before)
    poll(lambda: assert_prompt(page))
    return session_id


def _end_from_list(page, session_id: str, confirm: bool = True) -> None:
    page.once("dialog", lambda dialog: dialog.accept() if confirm else dialog.dismiss())
    _item(page, session_id).locator(".session-kill").click()


def _echo(page, text: str) -> str:
    """Run an echo whose output differs from its command line; returns the output line."""
    run(page, f"echo {text}-$((6*7))")
    poll(lambda: _assert_shows(page, f"{text}-42"))
    return f"{text}-42"


@contextmanager
def _second_tab(page, server, session_id: str):
    """Another tab of the same browser on the session; fails on its page errors as `page` does."""
    tab = page.context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        tab.goto(f"{server.url}/sessions/{session_id}")
        wait_for_terminal(tab, session_id)
        poll(lambda: assert_prompt(tab))
        yield tab
    finally:
        tab.close()
    assert not errors, f"JavaScript errors in the second tab: {errors}"


DANGER_COLOR_JS = """() => {
  const probe = document.createElement('span');
  probe.style.color = 'var(--danger)';
  document.body.append(probe);
  const color = getComputedStyle(probe).color;
  probe.remove();
  return color;
}"""


def _assert_ended_by_sighup(page, here: bool = True) -> None:
    """The page says the terminal ended, neutrally: "You ended this terminal." on the page whose user
    pressed End; elsewhere, ended by its signal, not in the red of a crash."""
    assert "[process ended by signal SIGHUP]" in _rows(page), screen(page)["visible"]
    banner = page.locator("#exit-banner")
    assert banner.is_visible()
    said = "You ended this terminal." if here else "The terminal was ended (SIGHUP)."
    assert banner.locator("#exit-text").inner_text() == said
    assert banner.get_attribute("data-tone") == "neutral"
    color = banner.locator("#exit-text").evaluate("e => getComputedStyle(e).color")
    danger = page.evaluate(DANGER_COLOR_JS)
    assert color != danger, color
    assert banner.get_by_role("button", name="New terminal").is_visible()


def test_switching_terminals_shows_each_ones_own_screen_and_shell(page, server, workspace):
    login_with_tokens(page, server)
    first = open_terminal(page, server, workspace["id"])
    run(page, "name=first")
    first_output = _echo(page, "in-first")
    second = _new_terminal(page)
    run(page, "name=second")
    second_output = _echo(page, "in-second")
    assert first_output not in _rows(page), "a new terminal starts on a clean screen"
    poll(lambda: _assert_listed(page, [first, second]), timeout=LIST_UPDATE_SECONDS)
    assert _item(page, second).locator(".session-open").get_attribute("aria-current") == "true"

    _switch_to(page, first)
    poll(lambda: _assert_shows(page, first_output))
    assert second_output not in _rows(page)
    assert _item(page, first).locator(".session-open").get_attribute("aria-current") == "true"
    run(page, "echo back-in-$name")  # $name tells which shell ran it
    poll(lambda: _assert_shows(page, "back-in-first"))

    _switch_to(page, second)
    poll(lambda: _assert_shows(page, second_output))
    rows = _rows(page)
    assert first_output not in rows and "back-in-first" not in rows
    run(page, "echo back-in-$name")
    poll(lambda: _assert_shows(page, "back-in-second"))
    _assert_listed(page, [first, second])


def test_ending_the_terminal_on_screen_from_the_list_shows_it_ended(page, server, workspace):
    login_with_tokens(page, server)
    session_id = open_terminal(page, server, workspace["id"])
    _end_from_list(page, session_id)

    poll(lambda: _assert_ended_by_sighup(page))
    poll(lambda: _assert_listed(page, []), timeout=LIST_UPDATE_SECONDS)
    assert page.locator("#session-list").inner_text() == "No running terminals."


def test_ending_another_terminal_from_the_list_leaves_the_one_on_screen(page, server, workspace):
    login_with_tokens(page, server)
    first = open_terminal(page, server, workspace["id"])
    # A shell that ignores SIGHUP outlives the server's first signal (the SIGKILL comes 3 s later):
    # nothing but the list tells the user that this terminal, not on screen, has stopped.
    run(page, "trap '' HUP")
    second = _new_terminal(page)
    poll(lambda: _assert_listed(page, [first, second]), timeout=LIST_UPDATE_SECONDS)
    _end_from_list(page, first)
    ending = _item(page, first).locator(".session-kill")  # until the SIGKILL, the list says it is under way
    assert ending.inner_text() == "Ending…" and ending.is_disabled()

    poll(lambda: _assert_listed(page, [second]), timeout=KILL_GRACE_SECONDS + LIST_UPDATE_SECONDS)
    assert server.api("GET", f"/api/sessions/{first}", server.admin_token).json()["signal"] == "SIGKILL"
    assert hook(page, "sessionId") == second
    assert not page.locator("#exit-banner").is_visible()
    _echo(page, "still-here")


def test_dismissing_the_end_dialog_leaves_the_terminal_running(page, server, workspace):
    login_with_tokens(page, server)
    session_id = open_terminal(page, server, workspace["id"])
    _end_from_list(page, session_id, confirm=False)

    _echo(page, "not-ended")
    assert _listed(page) == [session_id]
    assert not page.locator("#exit-banner").is_visible()
    assert server.api("GET", f"/api/sessions/{session_id}", server.admin_token).json()["status"] == "running"


def test_another_tab_on_the_terminal_shows_that_it_was_ended(page, server, workspace):
    login_with_tokens(page, server)
    session_id = open_terminal(page, server, workspace["id"])
    with _second_tab(page, server, session_id) as tab:
        _end_from_list(page, session_id)

        poll(lambda: _assert_ended_by_sighup(tab, here=False))
        poll(lambda: _assert_listed(tab, []), timeout=LIST_UPDATE_SECONDS)
        poll(lambda: _assert_ended_by_sighup(page))


def _stty_size(page) -> tuple[int, int]:
    """What the shell says its window is, as (cols, rows), typed in this tab."""
    marker = secrets.token_hex(3)
    run(page, f"echo {marker}-$(stty size | tr ' ' x)")

    def printed():
        found = re.findall(rf"^{marker}-(\d+)x(\d+)$", "\n".join(_rows(page)), re.M)
        assert found
        return int(found[-1][1]), int(found[-1][0])

    return poll(printed)


def _size(page) -> tuple[int, int]:
    state = screen(page)
    return state["termCols"], state["termRows"]


def test_a_resize_in_one_tab_reaches_the_shell_and_the_other_tab_takes_it_back_when_typing(page, server, workspace):
    login_with_tokens(page, server)
    session_id = open_terminal(page, server, workspace["id"])
    big = _size(page)
    with _second_tab(page, server, session_id) as tab:
        tab.set_viewport_size({"width": 800, "height": 480})
        poll(lambda: _assert_smaller(_size(tab), big))
        small = _size(tab)
        assert _stty_size(tab) == small

        # The first tab shows the terminal at the size in use (a program's wide lines were wrapped
        # into its own wider screen) ...
        poll(lambda: _assert_equal(_size(page), small))
        # ... and, used again (typed in), gives the shell its own size back.
        assert _stty_size(page) == big
        assert _stty_size(tab) == small


def _assert_smaller(size: tuple[int, int], than: tuple[int, int]) -> None:
    assert size[0] < than[0] and size[1] < than[1], (size, than)


def test_keys_typed_while_a_new_terminal_starts_reach_its_shell(page, server, workspace):
    """Typing right after "New terminal" (or while an SSH login runs) is typed ahead, not lost."""
    login_with_tokens(page, server)
    first = open_terminal(page, server, workspace["id"])
    page.click("#sidebar [data-action=new-terminal]")
    page.keyboard.type("echo typed-ahead-$((6*7))\n")  # no wait: the terminal is still starting
    wait_for_terminal(page, other_than=first)
    poll(lambda: _assert_shows(page, "typed-ahead-42"))


def test_a_click_begun_as_the_list_refreshes_still_opens_the_terminal(page, server, workspace, client):
    """Pressed on a terminal of the list, a terminal started elsewhere meanwhile (the list refreshes),
    released: the terminal pressed on opens. The list was rebuilt on each refresh, and a press and
    a release on two different elements are no click."""
    login_with_tokens(page, server)
    first = open_terminal(page, server, workspace["id"])
    second = _new_terminal(page)
    poll(lambda: _assert_listed(page, [first, second]), timeout=LIST_UPDATE_SECONDS)
    target = _item(page, first).locator(".session-open")
    target.hover()
    page.mouse.down()
    assert target.evaluate("b => b.matches(':active')"), "the press landed elsewhere"
    third = client().create(workspace["id"])  # started by another client: listed last
    poll(lambda: _assert_listed(page, [first, second, third]), timeout=LIST_UPDATE_SECONDS)
    page.mouse.up()
    wait_for_terminal(page, first)
    poll(lambda: _assert_equal_current(page, first))


def _assert_equal_current(page, session_id: str) -> None:
    assert _item(page, session_id).locator(".session-open").get_attribute("aria-current") == "true"


def test_a_terminal_ended_elsewhere_leaves_the_list_and_joins_the_ended_ones_at_once(page, server, workspace, client):
    """Started and ended by another client (another tab, another member): the page's lists say so
    within seconds (terminal-state), not at their 15 s refresh."""
    login_with_tokens(page, server)
    shown = open_terminal(page, server, workspace["id"])
    other = client()
    elsewhere = other.create(workspace["id"])
    poll(lambda: _assert_listed(page, [shown, elsewhere]), timeout=LIST_UPDATE_SECONDS)
    assert other.call("kill-terminal", {"sessionId": elsewhere})["ok"]
    poll(lambda: _assert_listed(page, [shown]), timeout=LIST_UPDATE_SECONDS)
    ended = page.locator(f"#ended-list .session-item[data-id='{elsewhere}']")
    poll(lambda: _assert_equal(ended.count(), 1), timeout=LIST_UPDATE_SECONDS)


def test_a_terminal_that_ended_while_the_page_was_offline_joins_the_ended_ones(page, server, workspace, client):
    """The page heard nothing of its end (its socket was down; or the terminal host stopped and no
    one told of it): once the running list no longer has it, the ended list shows it (it stayed
    out of the ended list until a click on refresh)."""
    login_with_tokens(page, server)
    shown = open_terminal(page, server, workspace["id"])
    other = client()
    elsewhere = other.create(workspace["id"])
    poll(lambda: _assert_listed(page, [shown, elsewhere]), timeout=LIST_UPDATE_SECONDS)
    page.context.set_offline(True)
    assert other.call("kill-terminal", {"sessionId": elsewhere})["ok"]
    page.wait_for_timeout(1000)
    page.context.set_offline(False)
    poll(lambda: _assert_listed(page, [shown]), timeout=20)  # the list is loaded again on reconnecting
    ended = page.locator(f"#ended-list .session-item[data-id='{elsewhere}']")
    poll(lambda: _assert_equal(ended.count(), 1), timeout=LIST_UPDATE_SECONDS)


def _assert_equal(a, b) -> None:
    assert a == b, (a, b)


def test_a_new_terminal_refused_leaves_the_one_on_screen_running_and_shown(page, start_server):
    """New terminal refused (here: the user's limit of terminals; for SSH an unreachable host or a
    changed key): the pane went blank and said its terminal had ended, though it ran on; a new tab
    for it stayed, named "Terminal ended", for a terminal that never began."""
    server = start_server({"AICT_MAX_SESSIONS_PER_USER": "1"})
    login_with_tokens(page, server)
    shown = open_terminal(page, server, server.create_local_workspace()["id"])
    run(page, "echo still-here-$((6*7))")
    poll(lambda: _assert_shows(page, "still-here-42"))

    page.click("#sidebar [data-action=new-terminal]")
    banner = page.locator("#page-message")
    poll(lambda: _assert_equal("terminal" in banner.inner_text().lower(), True))
    poll(lambda: _assert_equal(hook(page, "sessionId"), shown))
    poll(lambda: _assert_shows(page, "still-here-42"))
    assert page.locator(".pane.active.ended").count() == 0  # not said to have ended
    tabs = page.locator(".tab-item").count()
    page.click("[data-action=new-tab]")
    poll(lambda: _assert_equal("terminal" in banner.inner_text().lower(), True))
    poll(lambda: _assert_equal(page.locator(".tab-item").count(), tabs))  # the new tab went again
    run(page, "echo typed-after-$((6*7))")  # the terminal on screen still takes keys
    poll(lambda: _assert_shows(page, "typed-after-42"))
