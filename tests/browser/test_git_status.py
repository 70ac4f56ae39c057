"""The terminal page's git status: the branch, ahead/behind and changed files in the header,
following what is typed in the terminal and what changes outside it (watch-workspace), live."""

from __future__ import annotations

import time
from pathlib import Path

from tests.browser.conftest import PHONE, login_with_tokens, open_terminal, poll, run

BRANCH = "#git-status .git-branch"


def _shown_branch(page) -> str:
    return page.locator(BRANCH).inner_text() if page.locator(BRANCH).count() else ""


def test_a_branch_made_in_the_terminal_shows_in_the_header_within_2_s(page, server, workspace):
    login_with_tokens(page, server)
    open_terminal(page, server, workspace["id"])
    assert page.locator("#git-status").is_hidden()  # no repository yet: no badge
    run(page, "git init -q -b main && git -c user.name=t -c user.email=t@example.org commit -q --allow-empty -m one")
    poll(lambda: _assert_equal(_shown_branch(page), "main"), timeout=10)
    assert page.locator("#git-status .git-changed").inner_text() == "clean"

    run(page, "git checkout -q -b x")
    typed = time.monotonic()  # Enter pressed: the command runs from here
    poll(lambda: _assert_equal(_shown_branch(page), "x"), timeout=5, interval=0.02)
    assert time.monotonic() - typed < 2.0, f"the branch showed after {time.monotonic() - typed:.2f} s"

    # a file made outside the terminal: counted, and listed with its code on a click
    (Path(workspace["path"]) / "from-outside.txt").write_text("x\n")
    poll(lambda: _assert_equal(page.locator("#git-status .git-changed").inner_text(), "1 changed"), timeout=5)
    page.click("#git-status")
    panel = page.locator("#git-files")
    assert panel.is_visible()
    page.screenshot(path="/tmp/shot-git-status.png")
    assert panel.bounding_box()["y"] < 80  # a popover under the header (styled), not text at the page's end
    assert panel.locator(".git-files-head").inner_text() == "1 changed on x"
    rows = panel.locator("li")
    assert rows.count() == 1
    assert rows.locator(".git-code").inner_text().replace("\u00a0", " ") == "??"
    assert rows.locator(".git-path").inner_text() == "from-outside.txt"
    page.keyboard.press("Escape")
    assert panel.is_hidden()

    # on a phone the badge keeps the branch (the count gives way), and the list still opens
    page.set_viewport_size(PHONE)
    assert page.locator("#git-status").is_visible() and _shown_branch(page) == "x"
    logout = page.locator("#logout").bounding_box()
    assert logout["x"] + logout["width"] <= PHONE["width"], "the badge pushed the header past the screen"
    page.click("#git-status")
    assert panel.is_visible()
    page.screenshot(path="/tmp/shot-git-status-phone.png")


def _assert_equal(actual, expected) -> None:
    assert actual == expected, (actual, expected)
