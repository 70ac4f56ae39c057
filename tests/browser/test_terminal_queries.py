"""Programs ask the terminal things (device attributes, cursor position, colours, modes) and read
the answers from their input. Only live output is answered, and only by the tab in use: output
replayed to a page was asked long ago, and its answers would reach the shell as typed text."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import (
    DESKTOP,
    SHELL_PYTHON,
    assert_prompt,
    hook,
    login_with_tokens,
    open_terminal,
    poll,
    run,
    screen,
    wait_for_terminal,
)

# Asks, reads the answers for `wait` seconds in raw mode (so that the live tab's answers go to
# it, not to the shell after it), and says how many device-attributes answers came.
ASK = r"""
import os, re, select, sys, termios, time, tty
query, wait = bytes.fromhex(sys.argv[1]), float(sys.argv[2])
fd = sys.stdin.fileno()
saved = termios.tcgetattr(fd)
tty.setraw(fd)
try:
    os.write(1, query)
    answers, deadline = b"", time.monotonic() + wait
    while (left := deadline - time.monotonic()) > 0:
        if select.select([fd], [], [], left)[0]:
            answers += os.read(fd, 4096)
finally:
    termios.tcsetattr(fd, termios.TCSADRAIN, saved)
count = len(re.findall(rb"\x1b\[\?[0-9;]*c", answers))
print(f"answered-{count}-times")
"""

# What vim and friends ask at start-up: primary and secondary device attributes, foreground,
# background and cursor colours, the cursor position, a mode report, and focus reporting (xterm
# reports the focus state when it is turned on).
QUERIES = (b"\x1b[c\x1b[>c\x1b]10;?\x07\x1b]11;?\x07\x1b]12;?\x07\x1b[6n\x1b[?2004$p"
           b"\x1b[?1004h\x1b[?1004l")
ANSWER_TEXT = re.compile(r"rgb:|\$y|[0-9];[0-9]+R|;2c|;276;|\^\[")  # as the shell shows answers typed at it


def _ask(page, shell_dir, query: bytes, wait: float) -> None:
    script = shell_dir / "ask.py"
    if not script.exists():
        script.write_text(ASK)
    run(page, f"{SHELL_PYTHON} {script} {query.hex()} {wait}")


def _rows(page) -> list[str]:
    return [row.rstrip() for row in screen(page)["rows"]]


def _assert_ran_clean(page, command: str, output: str) -> None:
    """The command line holds the command alone (nothing typed before it) and its output follows."""
    rows = _rows(page)
    lines = [i for i, row in enumerate(rows) if row.endswith(command)]
    assert lines, rows
    line = lines[-1]
    assert re.fullmatch(r".*[#$] " + re.escape(command), rows[line]), rows[line]
    assert rows[line + 1] == output, rows[line:]
    assert not [row for row in rows if ANSWER_TEXT.search(row)], [row for row in rows if ANSWER_TEXT.search(row)]


def _caught_up(first, second) -> None:
    offset = hook(first, "renderedOffset")
    assert offset > 0 and hook(second, "renderedOffset") == offset


def test_queries_replayed_to_a_new_page_are_not_answered(page, browser, server, workspace, shell_dir):
    login_with_tokens(page, server)
    session_id = open_terminal(page, server, workspace["id"])
    _ask(page, shell_dir, QUERIES, 1)
    poll(lambda: _assert_row(page, "answered-1-times"))
    poll(lambda: assert_prompt(page))

    # A fresh browser profile: the ring is replayed, queries and all.
    context = browser.new_context(viewport=DESKTOP)
    other = context.new_page()
    try:
        login_with_tokens(other, server)
        other.goto(f"{server.url}/sessions/{session_id}")
        wait_for_terminal(other, session_id)
        poll(lambda: _caught_up(page, other))
        other.wait_for_timeout(500)  # answers, if any, would be on their way to the shell by now

        run(other, "echo after-$((6*7))")
        for tab in (page, other):
            poll(lambda tab=tab: _assert_ran_clean(tab, "echo after-$((6*7))", "after-42"))
    finally:
        context.close()


def test_a_saved_screen_restored_in_a_new_tab_answers_nothing(page, server, workspace, shell_dir):
    """A program turned focus reporting on: the saved screen turns it on again in the tab that
    restores it, where xterm reports the focus state at once. That report is not the user's."""
    login_with_tokens(page, server)
    session_id = open_terminal(page, server, workspace["id"])
    script = shell_dir / "focus.py"
    script.write_text(r"""
import os, select, termios, time, tty
saved = termios.tcgetattr(0)
tty.setraw(0)
os.write(1, b"\x1b[?1004h")  # the live tab's report goes here, not to cat
deadline = time.monotonic() + 1
while (left := deadline - time.monotonic()) > 0:
    if select.select([0], [], [], left)[0]:
        os.read(0, 1024)
termios.tcsetattr(0, termios.TCSADRAIN, saved)
print("reporting-focus")
os.execvp("cat", ["cat", "-v"])
""")
    run(page, f"{SHELL_PYTHON} {script}")
    poll(lambda: _assert_row(page, "reporting-focus"))
    page.evaluate("window.aictTest.saveResumePoint()")  # as a hidden or closed tab does

    second = page.context.new_page()  # the same profile: it starts from the saved screen
    try:
        second.goto(f"{server.url}/sessions/{session_id}")
        wait_for_terminal(second, session_id)
        poll(lambda: _caught_up(page, second))  # and so the saved screen, written before, is parsed
        assert second.evaluate("window.aictTest.term.modes.sendFocusMode")
        second.wait_for_timeout(500)
        run(second, "typed")
        for tab in (page, second):
            poll(lambda tab=tab: _assert_typed_alone(tab))
    finally:
        second.close()


def _assert_typed_alone(page) -> None:
    rows = _rows(page)
    at = rows.index("reporting-focus")
    assert [row for row in rows[at + 1:] if row] == ["typed", "typed"], rows[at:]


def _assert_row(page, text: str) -> None:
    assert text in _rows(page), _rows(page)[-8:]


def _count(page, text: str) -> int:
    return _rows(page).count(text)


def test_two_live_tabs_answer_a_query_once_from_the_tab_in_use(page, server, workspace, shell_dir):
    login_with_tokens(page, server)
    session_id = open_terminal(page, server, workspace["id"])
    second = page.context.new_page()
    try:
        second.goto(f"{server.url}/sessions/{session_id}")
        wait_for_terminal(second, session_id)
        poll(lambda: _caught_up(page, second))

        # Typed into: the first tab is in use; the second one stays silent.
        _ask(page, shell_dir, b"\x1b[c", 1.5)
        poll(lambda: _assert_row(page, "answered-1-times"))
        assert hook(page, "inUse") and not hook(second, "inUse")

        # Now the second one is typed into, at the same size: it takes over.
        _ask(second, shell_dir, b"\x1b[c", 1.5)
        for tab in (page, second):
            poll(lambda tab=tab: _assert_equal(_count(tab, "answered-1-times"), 2))
        assert hook(second, "inUse") and not hook(page, "inUse")
        assert "answered-2-times" not in _rows(page) + _rows(second)
    finally:
        second.close()


@pytest.mark.parametrize("reloaded", [False, True], ids=["live", "reloaded"])
def test_a_click_reaches_a_program_that_asked_for_the_mouse(page, server, workspace, shell_dir, reloaded):
    """Mouse reports are the user's input, not answers: they still reach the program, in the
    encoding it asked for (SGR), also from a page reloaded meanwhile (restored from its saved screen)."""
    login_with_tokens(page, server)
    session_id = open_terminal(page, server, workspace["id"])
    script = shell_dir / "mouse.py"
    script.write_text(r"""
import os, re, sys, termios, tty
fd = sys.stdin.fileno()
saved = termios.tcgetattr(fd)
tty.setraw(fd)
try:
    os.write(1, b"\x1b[?1000h\x1b[?1006hclick me\r\n")
    got = b""
    while not re.search(rb"\x1b\[<0;\d+;\d+m", got):
        got += os.read(fd, 1024)
finally:
    os.write(1, b"\x1b[?1000l\x1b[?1006l")
    termios.tcsetattr(fd, termios.TCSADRAIN, saved)
print("clicked at " + re.search(rb"\x1b\[<0;(\d+;\d+)M", got).group(1).decode())
""")
    run(page, f"{SHELL_PYTHON} {script}")
    poll(lambda: _assert_row(page, "click me"))
    if reloaded:
        page.reload()
        wait_for_terminal(page, session_id)
        poll(lambda: _assert_row(page, "click me"))
    box = page.locator("#terminal .xterm-screen").bounding_box()
    state = screen(page)
    cell_w, cell_h = box["width"] / state["termCols"], box["height"] / state["termRows"]
    page.mouse.click(box["x"] + cell_w * 4.5, box["y"] + cell_h * 2.5)  # column 5, row 3
    poll(lambda: _assert_row(page, "clicked at 5;3"))


def _assert_equal(a, b) -> None:
    assert a == b, (a, b)
