"""The terminal page's tabs and split panes: several terminals of a workspace at once, each pane its own
attachment; the layout back after a reload; activity dots on tabs out of sight; search; the shortcuts."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from tests.browser.conftest import login_with_tokens, open_terminal, poll, wait_until

SHOTS = Path(os.environ.get("AICT_SCREENSHOTS", "/tmp/aict-screenshots"))

PANES_JS = """() => (window.aictTest ? window.aictTest.panes : []).map((p) => ({
  id: p.id, tab: p.tab, sessionId: p.sessionId, visible: p.visible, active: p.active, activity: p.activity,
  exited: p.exited, cols: p.term.cols, rows: p.term.rows}))"""

PANE_ROWS_JS = """(id) => {
  const pane = window.aictTest.panes.find((p) => p.id === id);
  const buffer = pane.term.buffer.active;
  const rows = [];
  for (let y = 0; y < buffer.length; y++) rows.push(buffer.getLine(y).translateToString(true).trim());
  return {rows, cursor: buffer.baseY + buffer.cursorY};
}"""


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def panes(page) -> list[dict]:
    return page.evaluate(PANES_JS)


def pane_rows(page, pane_id: str) -> list[str]:
    return page.evaluate(PANE_ROWS_JS, pane_id)["rows"]


def assert_pane_prompt(page, pane_id: str) -> None:
    state = page.evaluate(PANE_ROWS_JS, pane_id)
    assert state["rows"][state["cursor"]].endswith(("$", "#")), state["rows"][-5:]


def assert_pane_shows(page, pane_id: str, line: str) -> None:
    assert line in pane_rows(page, pane_id), pane_rows(page, pane_id)[-8:]


def type_in(page, pane_id: str, command: str) -> None:
    """Click into a pane as a user would, type a command, wait for its echo, press Enter."""
    page.locator(f".pane[data-pane-id='{pane_id}'] .xterm-screen").click()
    page.keyboard.type(command)
    def echoed():
        state = page.evaluate(PANE_ROWS_JS, pane_id)
        near = state["rows"][max(0, state["cursor"] - 3):state["cursor"] + 1]
        assert command[-12:] in "".join(near), near

    poll(echoed, timeout=10)
    page.keyboard.press("Enter")


def wait_for_panes(page, count: int) -> list[dict]:
    """Wait until the page has `count` panes, each on a running terminal with its shell prompting."""
    def ready():
        shown = panes(page)
        assert len(shown) == count and all(p["sessionId"] for p in shown), shown
        for p in shown:
            if p["visible"]:
                assert_pane_prompt(page, p["id"])
        return shown
    return poll(ready)


def _cursor_line(page, pane_id: str) -> str:
    state = page.evaluate(PANE_ROWS_JS, pane_id)
    return state["rows"][state["cursor"]]


def box(page, pane_id: str) -> dict:
    return page.locator(f".pane[data-pane-id='{pane_id}']").bounding_box()


def _assert_true(value) -> None:
    assert value


def test_two_panes_side_by_side_each_type_into_their_own_shell_and_come_back_after_a_reload(page, server, workspace):
    login_with_tokens(page, server)
    first = open_terminal(page, server, workspace["id"])
    full_cols = panes(page)[0]["cols"]
    page.keyboard.press("Control+Shift+E")  # split: a new terminal beside this one
    left, right = wait_for_panes(page, 2)
    assert left["sessionId"] == first and right["sessionId"] != first
    assert right["active"], "the new pane takes the keys"
    a, b = box(page, left["id"]), box(page, right["id"])
    assert abs(a["y"] - b["y"]) < 2 and b["x"] >= a["x"] + a["width"], (a, b)  # side by side
    assert left["cols"] < full_cols * 0.6 and right["cols"] < full_cols * 0.6, (left, right, full_cols)

    type_in(page, left["id"], "name=left; echo in-$name-$((6*7))")
    type_in(page, right["id"], "name=right; echo in-$name-$((6*7))")
    poll(lambda: assert_pane_shows(page, left["id"], "in-left-42"))
    poll(lambda: assert_pane_shows(page, right["id"], "in-right-42"))
    assert "in-right-42" not in pane_rows(page, left["id"])
    assert "in-left-42" not in pane_rows(page, right["id"])
    # Each pane's terminal has its pane's size, not the window's.
    type_in(page, left["id"], "echo cols-$(tput cols)")
    poll(lambda: assert_pane_shows(page, left["id"], f"cols-{left['cols']}"))
    shoot(page, "panes-side-by-side")

    page.reload()
    restored = wait_for_panes(page, 2)
    assert [p["sessionId"] for p in restored] == [left["sessionId"], right["sessionId"]]
    assert [p["id"] for p in restored if p["active"]] == [left["id"]]  # the one typed into last
    a, b = box(page, left["id"]), box(page, right["id"])
    assert abs(a["y"] - b["y"]) < 2 and b["x"] >= a["x"] + a["width"]
    poll(lambda: assert_pane_shows(page, left["id"], "in-left-42"))  # the screens are back
    poll(lambda: assert_pane_shows(page, right["id"], "in-right-42"))
    type_in(page, left["id"], "echo again-$name-$((6*7))")  # $name says which shell answers
    type_in(page, right["id"], "echo again-$name-$((6*7))")
    poll(lambda: assert_pane_shows(page, left["id"], "again-left-42"))
    poll(lambda: assert_pane_shows(page, right["id"], "again-right-42"))


def test_a_divider_moves_with_the_pointer_and_the_keyboard(page, server, workspace):
    login_with_tokens(page, server)
    open_terminal(page, server, workspace["id"])
    page.keyboard.press("Control+Shift+O")  # split: a new terminal below this one
    top, bottom = wait_for_panes(page, 2)
    a, b = box(page, top["id"]), box(page, bottom["id"])
    assert abs(a["x"] - b["x"]) < 2 and b["y"] >= a["y"] + a["height"], (a, b)  # one above the other

    divider = page.locator(".divider")
    assert divider.get_attribute("aria-valuenow") == "50"
    handle = divider.bounding_box()
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + 2)
    page.mouse.down()
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + 150, steps=5)
    page.mouse.up()
    poll(lambda: _assert_true(panes(page)[0]["rows"] > top["rows"] + 5))
    dragged = int(divider.get_attribute("aria-valuenow"))
    assert dragged > 60, dragged

    # from the terminal, by keyboard alone: Ctrl+Shift+M leaves it for the divider (Tab is the shell's)
    page.locator(".pane .xterm-helper-textarea").first.focus()
    page.keyboard.press("Control+Shift+M")
    assert page.evaluate("document.activeElement.classList.contains('divider')"), \
        page.evaluate("document.activeElement.outerHTML.slice(0, 120)")
    for _ in range(5):
        page.keyboard.press("ArrowUp")
    assert int(divider.get_attribute("aria-valuenow")) == dragged - 10
    page.keyboard.press("Home")
    assert divider.get_attribute("aria-valuenow") == "10"
    poll(lambda: _assert_true(panes(page)[0]["rows"] < top["rows"] // 2))

    page.reload()  # the ratio is part of the layout
    wait_for_panes(page, 2)
    assert page.locator(".divider").get_attribute("aria-valuenow") == "10"


def test_a_tab_out_of_sight_keeps_running_and_shows_a_dot_when_it_prints(page, server, workspace):
    login_with_tokens(page, server)
    open_terminal(page, server, workspace["id"])
    background = panes(page)[0]
    type_in(page, background["id"], "sleep 2; echo printed-in-the-background-$((6*7))")
    # The shell's answer to Enter (a new line) is in before the tab leaves the screen.
    poll(lambda: _assert_true(_cursor_line(page, background["id"]) == ""))
    page.keyboard.press("Control+Shift+Enter")  # a new terminal in a new tab
    shown = wait_for_panes(page, 2)
    assert [p["visible"] for p in shown] == [False, True]
    first_tab = page.locator(f".tab-item[data-tab-id='{background['tab']}']")
    assert first_tab.locator(".activity-dot").count() == 0  # the replay of its screen is no news

    poll(lambda: _assert_true(first_tab.locator(".activity-dot").is_visible()), timeout=10)
    assert page.locator(".tab-item.active .activity-dot").count() == 0
    shoot(page, "tabs-activity-dot")
    # It printed while out of sight: all of it is there when its tab is shown.
    assert_pane_shows(page, background["id"], "printed-in-the-background-42")

    first_tab.get_by_role("tab").click()
    poll(lambda: _assert_true(first_tab.locator(".activity-dot").count() == 0))
    assert [p["visible"] for p in panes(page)] == [True, False]
    page.keyboard.press("Control+Shift+2")  # tab 2 by the keyboard
    poll(lambda: _assert_true([p["visible"] for p in panes(page)] == [False, True]))
    page.keyboard.press("Control+Shift+PageDown")  # next tab, wrapping to the first
    poll(lambda: _assert_true([p["visible"] for p in panes(page)] == [True, False]))


def test_search_finds_a_word_in_the_scrollback_and_steps_through_the_matches(page, server, workspace):
    login_with_tokens(page, server)
    open_terminal(page, server, workspace["id"])
    pane = panes(page)[0]
    word = f"needle{secrets.token_hex(3)}"
    # Two matches, far up in the scrollback; the command line itself holds none ($w is spelled apart).
    type_in(page, pane["id"], f"w={word[:6]}; echo ${{w}}{word[6:]}; seq 1 200; echo ${{w}}{word[6:]}; seq 1 200")
    poll(lambda: _assert_true(pane_rows(page, pane["id"]).count(word) == 2))
    poll(lambda: assert_pane_prompt(page, pane["id"]))

    page.keyboard.press("Control+Shift+F")
    bar = page.locator("#search-bar")
    assert bar.is_visible()
    page.keyboard.type(word)
    count = page.locator("#search-count")
    poll(lambda: _assert_true(count.inner_text() in ("1 of 2", "2 of 2")))
    assert page.evaluate("window.aictTest.term.getSelection()") == word

    def match_in_view() -> bool:
        return page.evaluate("""(word) => {
          const term = window.aictTest.term, buffer = term.buffer.active;
          for (let y = buffer.viewportY; y < buffer.viewportY + term.rows; y++) {
            if (buffer.getLine(y).translateToString(true).trim() === word) return true;
          }
          return false;
        }""", word)

    assert match_in_view(), "the terminal scrolled to the match"
    assert page.evaluate("window.aictTest.term.buffer.active.viewportY < window.aictTest.term.buffer.active.baseY")
    # Every match highlighted (decorations are drawn on the next render frame).
    poll(lambda: _assert_true(page.locator(".xterm-decoration-container .xterm-decoration").count() >= 2))
    shoot(page, "search-bar")
    first = count.inner_text()
    page.keyboard.press("Enter")
    poll(lambda: _assert_true(count.inner_text() != first and count.inner_text().endswith("of 2")))
    assert match_in_view()
    page.locator("#search-previous").click()
    poll(lambda: _assert_true(count.inner_text() == first))
    page.keyboard.press("Escape")  # the focus on the ↑ button after its click: Esc closes the bar too
    assert not bar.is_visible()
    page.keyboard.press("Control+Shift+F")

    page.locator("#search-input").fill(f"{word}-nowhere")
    poll(lambda: _assert_true(count.inner_text() == "No matches"))
    page.keyboard.press("Escape")
    assert not bar.is_visible()
    assert page.locator(".xterm-decoration-container .xterm-decoration").count() == 0
    type_in(page, pane["id"], "echo typed-after-search-$((6*7))")  # the keys are the terminal's again
    poll(lambda: assert_pane_shows(page, pane["id"], "typed-after-search-42"))

    page.keyboard.press("Control+Shift+F")  # found, then closed: the match does not stay highlighted
    page.locator("#search-input").fill("typed-after-search")
    poll(lambda: _assert_true(page.evaluate("window.aictTest.term.hasSelection()")))
    page.keyboard.press("Escape")
    poll(lambda: _assert_true(not page.evaluate("window.aictTest.term.hasSelection()")))


def test_a_terminal_that_ended_shows_it_in_its_pane_after_a_reload(page, server, workspace):
    login_with_tokens(page, server)
    open_terminal(page, server, workspace["id"])
    page.locator("[data-action=split-right]").click()
    left, right = wait_for_panes(page, 2)
    type_in(page, right["id"], "exit 3")
    state = page.locator(f".pane[data-pane-id='{right['id']}'] .pane-state")
    poll(lambda: _assert_true(state.inner_text() == "The process exited with code 3."))
    assert page.locator("#exit-banner").is_visible()  # the active pane's banner

    page.reload()
    poll(lambda: _assert_true(len(panes(page)) == 2))
    poll(lambda: _assert_true(state.inner_text() == "The process exited with code 3."))
    assert_pane_shows(page, right["id"], "[process exited with code 3]")
    poll(lambda: assert_pane_prompt(page, left["id"]))  # its neighbour runs on
    shoot(page, "pane-ended")

    # Closing the ended pane leaves one; closing a pane leaves its terminal running, in the list.
    page.locator(f".pane[data-pane-id='{right['id']}'] .pane-close").click()
    poll(lambda: _assert_true(len(panes(page)) == 1))
    assert page.locator(".pane-close").is_hidden()  # a single pane has no header
    page.keyboard.press("Control+Shift+E")
    _, third = wait_for_panes(page, 2)
    page.keyboard.press("Control+Shift+X")  # close the active pane: the new one
    poll(lambda: _assert_true([p["id"] for p in panes(page)] == [left["id"]]))
    listed = page.locator(f"#session-list .session-item[data-id='{third['sessionId']}']")
    poll(lambda: _assert_true(listed.count() == 1))  # still running
    listed.locator(".session-open").click()  # shown again, in the active pane
    wait_until(page, f"window.aictTest.sessionId === {third['sessionId']!r}")


def test_the_switcher_goes_to_another_workspace(page, server, workspace):
    other = server.create_local_workspace(name=f"elsewhere-{secrets.token_hex(3)}")
    login_with_tokens(page, server)
    open_terminal(page, server, workspace["id"])
    page.keyboard.press("Control+Shift+K")
    dialog = page.locator("#switcher-dialog")
    assert dialog.is_visible()
    page.keyboard.type(other["name"])
    items = dialog.locator(".switcher-item")
    poll(lambda: _assert_true(items.count() == 1))
    shoot(page, "workspace-switcher")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/workspaces/{other['id']}")
    wait_until(page, "window.aictTest && window.aictTest.sessionId")
    assert page.locator("#ws-name").inner_text() == other["name"]


def test_the_help_lists_the_shortcuts_and_a_chord_reaches_no_program(page, server, workspace):
    login_with_tokens(page, server)
    open_terminal(page, server, workspace["id"])
    pane = panes(page)[0]
    page.locator("#help-open").click()
    dialog = page.locator("#help-dialog")
    assert dialog.is_visible()
    keys = dialog.locator("kbd").all_inner_texts()
    assert {"Ctrl+Shift+E", "Ctrl+Shift+F", "Ctrl+Shift+K", "Ctrl+Shift+Enter"} <= set(keys), keys
    shoot(page, "help")
    page.keyboard.press("Control+Shift+E")  # the help owns the keys while it is open
    assert len(panes(page)) == 1
    dialog.get_by_role("button", name="Close").click()

    # A chord the page takes never reaches the shell; the same key without Shift does.
    type_in(page, pane["id"], "cat -v")
    page.keyboard.press("Control+Shift+F")
    page.keyboard.press("Escape")
    page.locator(f".pane[data-pane-id='{pane['id']}'] .xterm-screen").click()
    page.keyboard.press("Control+E")
    page.keyboard.press("Enter")
    poll(lambda: _assert_true("^E" in pane_rows(page, pane["id"])))
    page.keyboard.press("Control+C")
    assert "^F" not in pane_rows(page, pane["id"])


def _resizes(server, session_id: str) -> list[str]:
    """The sizes the terminal was given, as its recording has them (what the shell was told)."""
    response = server.api("GET", f"/api/sessions/{session_id}/recording", server.admin_token)
    assert response.status_code == 200, response.text
    events = [json.loads(line) for line in response.text.splitlines()[1:] if line.strip()]
    return [event[2] for event in events if event[1] == "r"]


def test_going_to_another_tab_and_back_leaves_split_panes_at_their_size(page, server, workspace):
    """Split panes shown again after another tab was: each fitted while that tab was still laid out
    beside its own, so the terminals went through two sizes on the way back (27 columns, then 56,
    then 57), and the shell redrew its line at each, once erasing output above it."""
    login_with_tokens(page, server)
    open_terminal(page, server, workspace["id"])
    page.keyboard.press("Control+Shift+E")  # a pane beside
    left, right = wait_for_panes(page, 2)
    marker = f"in-right-pane-{secrets.token_hex(3)}"
    type_in(page, right["id"], f"echo {marker}")
    poll(lambda: assert_pane_shows(page, right["id"], marker))
    before = {p["sessionId"]: _resizes(server, p["sessionId"]) for p in (left, right)}
    sizes = {p["id"]: (p["cols"], p["rows"]) for p in panes(page)}

    page.keyboard.press("Control+Shift+Enter")  # a new terminal in a new tab
    wait_for_panes(page, 3)
    for tab, shown in (("1", [True, True, False]), ("2", [False, False, True]), ("1", [True, True, False])):
        page.keyboard.press(f"Control+Shift+{tab}")
        poll(lambda shown=shown: _assert_true([p["visible"] for p in panes(page)] == shown))
        page.wait_for_timeout(500)  # past the refit's debounce
    page.keyboard.press("Control+Shift+2")  # the third pane out of the comparison
    page.keyboard.press("Control+Shift+1")
    page.wait_for_timeout(500)
    sizes[panes(page)[2]["id"]] = (panes(page)[2]["cols"], panes(page)[2]["rows"])
    assert {p["id"]: (p["cols"], p["rows"]) for p in panes(page)} == sizes
    assert {p["sessionId"]: _resizes(server, p["sessionId"]) for p in (left, right)} == before
    assert_pane_shows(page, right["id"], marker)


def _recording_size(server, session_id: str) -> tuple[int, int]:
    """The size the terminal started at, as its recording's header has it."""
    response = server.api("GET", f"/api/sessions/{session_id}/recording", server.admin_token)
    header = json.loads(response.text.splitlines()[0])
    return header["width"], header["height"]


def test_a_reload_leaves_background_tabs_as_they_were(page, server, workspace):
    """After a reload, a tab out of sight attached its terminals at its xterm's default size (80×24,
    never fitted): each was resized to it, its shell redrew its line, and the tab showed a dot for
    news it did not have. A terminal opened in a new tab starts at its pane's size."""
    login_with_tokens(page, server)
    open_terminal(page, server, workspace["id"])
    page.keyboard.press("Control+Shift+Enter")  # a second tab, shown; the first out of sight
    first, second = wait_for_panes(page, 2)
    assert _resizes(server, second["sessionId"]) == []  # created at its size, not 80×24 first
    assert _recording_size(server, second["sessionId"]) == (second["cols"], second["rows"])
    page.keyboard.press("Control+Shift+1")
    poll(lambda: _assert_true([p["visible"] for p in panes(page)] == [True, False]))
    before = _resizes(server, second["sessionId"])

    page.reload()
    poll(lambda: _assert_true(len(panes(page)) == 2 and all(p["sessionId"] for p in panes(page))))
    poll(lambda: assert_pane_prompt(page, first["id"]))
    page.wait_for_timeout(1500)  # what the reload would have set off has come
    tab = page.locator(f".tab-item[data-tab-id='{second['tab']}']")
    assert tab.locator(".activity-dot").count() == 0
    assert _resizes(server, second["sessionId"]) == before  # the shell was not told of any other size
    hidden = next(p for p in panes(page) if p["id"] == second["id"])
    assert (hidden["cols"], hidden["rows"]) == (second["cols"], second["rows"])  # drawn at the terminal's size
