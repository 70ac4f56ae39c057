"""The review pages: the audit log and the sessions list for administrators, and the replay of a
terminal's recording (asciinema-player) for whoever may see the session; what a non-administrator
gets instead; an escape sequence typed as a username shown as text.

Set AICT_SHOTS=<folder> to keep the pages' screenshots there (to look at them)."""

from __future__ import annotations

import csv
import io
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser.conftest import PHONE, login_with_tokens, open_terminal, poll, wait_until

HOSTILE = "\x1b]0;pwned\x07<b>x</b>"  # retitles a terminal that shows it raw; bold text in a page that parses it
HOSTILE_SHOWN = "\\x1b]0;pwned\\x07<b>x</b>"


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("AICT_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _column(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "cells => cells.map((c) => c.textContent.trim())")


def _ids(page, rows: str) -> list[str]:
    return page.eval_on_selector_all(rows, "rows => rows.map((r) => r.dataset.id)")


def _assert(condition, detail=None) -> None:
    assert condition, detail


def _ended_session(server, token: str, workspace_id: str, lines: list[str], expect: str | list[str]) -> str:
    """A terminal that ran `lines` and ended; returns its id once its record says it ended. With a
    list of `expect`, each line is typed once the one before has printed its own."""
    client = server.socket(token)
    try:
        session_id = client.create(workspace_id)
        for line, printed in zip(lines, expect if isinstance(expect, list) else [None] * len(lines), strict=True):
            client.send(session_id, line + "\n")
            if printed:
                client.wait_for(session_id, printed, timeout=20)
        if not isinstance(expect, list):
            client.wait_for(session_id, expect)
        client.send(session_id, "exit\n")
        client.wait_exit(session_id)
    finally:
        client.close()
    poll(lambda: _assert(server.api("GET", f"/api/sessions/{session_id}", token).json()["status"] == "exited"))
    return session_id


# ---- the audit page ----------------------------------------------------------------------------

def test_an_admin_filters_pages_exports_and_verifies_the_audit_log(page, server, shots):
    username, _ = server.create_user()
    for _ in range(2):
        server.login(username, "password-123")  # three logins of theirs in all, with create_user's
    login_with_tokens(page, server)

    page.goto(server.url + "/audit?limit=2")
    page.fill("#filter-user", username)
    page.select_option("#filter-type", "login")
    page.click("#audit-filters button[type=submit]")

    def first_page():
        assert _column(page, "#event-rows tr td:nth-child(2)") == ["login", "login"]
        assert _column(page, "#event-rows tr td:nth-child(3)") == [username, username]
    poll(first_page)
    assert "user=" + username in page.url and "type=login" in page.url  # a reload shows the same
    first_ids = _ids(page, "#event-rows tr")
    page.click("#page-older")
    poll(lambda: _assert(_column(page, "#event-rows tr td:nth-child(3)") == [username]))
    last_id = page.eval_on_selector("#event-rows tr", "row => row.dataset.id")
    assert int(last_id) < min(map(int, first_ids))  # older, none shown twice
    assert page.is_disabled("#page-older")
    # the page's place is in the address: a reload shows the same events, and Newer still works
    older_url, older_info = page.url, page.text_content("#page-info")
    assert "cursor=" in older_url and older_info == "Events 3–3, newest first", (older_url, older_info)
    page.reload()
    poll(lambda: _assert(_ids(page, "#event-rows tr") == [last_id]))
    poll(lambda: _assert(page.text_content("#page-info") == older_info, page.text_content("#page-info")))
    page.click("#page-newer")
    poll(lambda: _assert(_ids(page, "#event-rows tr") == first_ids))
    assert "cursor=" not in page.url
    page.go_back()  # Back returns to the page before (it left the audit pages)
    poll(lambda: _assert(_ids(page, "#event-rows tr") == [last_id]))
    assert page.text_content("#page-info") == older_info
    page.go_forward()
    poll(lambda: _assert(_ids(page, "#event-rows tr") == first_ids))
    # the same address opened as a link (no history of its own): the same events, Newer to the newest
    linked = page.context.new_page()
    linked.goto(older_url)
    poll(lambda: _assert(_ids(linked, "#event-rows tr") == [last_id]))
    assert linked.text_content("#page-info") == f"1 event from #{last_id}, newest first"
    linked.click("#page-newer")
    poll(lambda: _assert(_ids(linked, "#event-rows tr") == first_ids))
    linked.close()

    # the chain's state, checked when the page opened
    poll(lambda: _assert(page.get_attribute("#verify-state", "data-state") == "ok", page.text_content("#verify-state")))
    assert "Intact" in page.text_content("#verify-state")
    page.click("#verify-now")
    poll(lambda: _assert(page.get_attribute("#verify-state", "data-state") == "ok"))
    page.screenshot(path=str(shots / "audit-filtered.png"), full_page=True)

    # exports of what the filters match, all of it (no paging), oldest first
    with page.expect_download() as started:
        page.click("[data-export=jsonl]")
    lines = Path(started.value.path()).read_text().splitlines()
    events = [json.loads(line) for line in lines]
    assert [(e["type"], e["username"]) for e in events] == [("login", username)] * 3
    assert [e["id"] for e in events] == sorted((e["id"] for e in events), key=int)
    poll(lambda: _assert("Exported 3 events" in page.text_content("#export-text"), page.text_content("#export-text")))
    with page.expect_download() as started:
        page.click("[data-export=csv]")
    rows = list(csv.DictReader(io.StringIO(Path(started.value.path()).read_text())))
    assert [(r["type"], r["username"]) for r in rows] == [("login", username)] * 3
    assert started.value.suggested_filename.endswith(".csv")


BULK = """
from aict import create_app
from aict.audit.events import record
from aict.extensions import db
with create_app().app_context():
    for i in range({count}):
        record("login_failed", username=f"bulk-{{i}}", ip="127.0.0.1", detail={{"n": i}}, commit=i % 1000 == 999)
    db.session.commit()
"""
# What the page does for an export of any size (measured with 100,000 events, 23 MB: 9.5 s, the
# page's 10 ms timer late by 60 ms at most), on a size the suite can afford.
BULK_EVENTS = 3000
# Every text the export's status line shows, as the page shows it (a quick export is over before a
# poll from here would see it under way).
STATUS_WATCH = """() => {
  window.statusTexts = [];
  const text = document.getElementById("export-text");
  new MutationObserver(() => window.statusTexts.push(text.textContent)).observe(text,
    {childList: true, characterData: true, subtree: true});
}"""
TICKER = """() => {
  window.gaps = [];
  let last = performance.now();
  window.ticker = setInterval(() => { const now = performance.now(); window.gaps.push(now - last); last = now; }, 10);
}"""


def test_a_big_export_streams_with_its_progress_and_the_page_stays_responsive(browser, start_server):
    server = start_server({"AICT_LOGIN_RATE": "10000 per minute"})
    subprocess.run([sys.executable, "-c", BULK.format(count=BULK_EVENTS)], cwd=server.root, env=server.env,
                   check=True, timeout=300)
    context = browser.new_context()
    context.set_default_timeout(60_000)
    page = context.new_page()
    try:
        login_with_tokens(page, server)
        page.goto(server.url + "/audit?type=login_failed")
        page.locator("#event-rows tr[data-id]").first.wait_for()
        page.wait_for_load_state("networkidle")
        page.evaluate(STATUS_WATCH)
        page.evaluate(TICKER)
        with page.expect_download() as started:
            page.click("[data-export=csv]")
        page.locator("#export-text", has_text="Exported").wait_for()
        seen = page.evaluate("window.statusTexts")
        rows = Path(started.value.path()).read_text().splitlines()
        assert len(rows) == BULK_EVENTS + 1  # the header, then every event the filter matches
        assert page.text_content("#export-text").startswith(f"Exported {BULK_EVENTS:,} events")
        assert seen[0] == "Export starting…" and seen[-1].startswith("Exported"), seen  # it said it was under way
        longest = page.evaluate("() => { clearInterval(window.ticker); return Math.max(...window.gaps); }")
        assert longest < 500, f"the page stalled for {longest:.0f} ms during the export"
    finally:
        context.close()


# Whether anything of the page reaches past the window's right edge, and the cells that do.
SIDEWAYS_JS = """() => {
  const width = document.documentElement.clientWidth;
  const box = document.querySelector('#events-section .table-scroll');
  const cells = [...document.querySelectorAll('#event-rows td')].filter((c) => c.getClientRects().length);
  return {page: document.documentElement.scrollWidth > width, table: box.scrollWidth > box.clientWidth,
          outside: cells.filter((c) => c.getBoundingClientRect().right > width + 0.5).map((c) => c.dataset.label)};
}"""


def test_the_audit_log_reads_on_a_phone_without_scrolling_sideways(page, server, shots):
    server.login()  # an event with a user and an IP at least
    page.set_viewport_size(PHONE)
    login_with_tokens(page, server)
    page.goto(server.url + "/audit?type=login")
    first = page.locator("#event-rows tr[data-id]").first
    first.wait_for()
    sideways = page.evaluate(SIDEWAYS_JS)
    assert not sideways["page"] and not sideways["table"] and not sideways["outside"], sideways
    for label in ("Time", "Type", "User", "IP"):  # each field labelled, on the screen
        cell = first.locator(f"td[data-label={label}]")
        assert cell.is_visible() and cell.bounding_box()["x"] + cell.bounding_box()["width"] <= PHONE["width"]
    assert first.locator("td[data-label=User]").inner_text() == server.admin_username
    page.screenshot(path=str(shots / "audit-phone.png"))


def test_the_sessions_page_reads_on_a_phone_with_its_replay_on_screen(page, server, shots):
    """On a phone the sessions' Review column (Replay, Watch live) was reached only by swiping the
    table sideways, with no hint that it scrolled: each session is labelled lines now, as audit events."""
    workspace = server.create_local_workspace(name=f"phone-{secrets.token_hex(3)}")
    session_id = _ended_session(server, server.admin_token, workspace["id"], ["echo phone-$((6*7))"], "phone-42")
    page.set_viewport_size(PHONE)
    login_with_tokens(page, server)
    page.goto(server.url + "/sessions")
    row = page.locator(f"#session-rows tr[data-id='{session_id}']")
    row.wait_for()
    wide = page.evaluate("""() => {
      const box = document.querySelector('#sessions-section .table-scroll');
      return {page: document.documentElement.scrollWidth > document.documentElement.clientWidth,
              table: box.scrollWidth > box.clientWidth};
    }""")
    assert not wide["page"] and not wide["table"], wide
    for label in ("Status", "Terminal", "User", "Started", "Review"):
        cell = row.locator(f"td[data-label={label}]")
        assert cell.is_visible() and cell.bounding_box()["x"] + cell.bounding_box()["width"] <= PHONE["width"], label
    replay = row.get_by_role("link", name="Replay")
    assert replay.is_visible() and replay.bounding_box()["x"] + replay.bounding_box()["width"] <= PHONE["width"]
    page.screenshot(path=str(shots / "sessions-phone.png"), full_page=True)
    replay.click()
    page.wait_for_url(f"**/sessions/{session_id}/replay")


def test_a_failed_login_with_an_escape_sequence_shows_as_text(page, server, shots):
    name = HOSTILE + secrets.token_hex(3)
    refused = server.api("POST", "/api/auth/login", json={"username": name, "password": "nope-nope-1"})
    assert refused.status_code in (400, 401), refused.text
    login_with_tokens(page, server)
    page.goto(server.url + "/audit?type=login_failed")
    title = page.title()
    cell = page.locator("#event-rows tr td.user-cell", has_text=name[-6:]).first
    cell.wait_for()
    assert cell.text_content() == HOSTILE_SHOWN + name[-6:]
    assert page.locator("#event-rows b").count() == 0  # no markup made of it
    assert page.locator("#event-rows .ctl").count() >= 2  # \x1b and \x07, set apart from real backslashes
    assert page.title() == title == "Audit log · aict"  # no title change
    page.screenshot(path=str(shots / "audit-hostile-username.png"))


# ---- what a non-administrator gets ----------------------------------------------------------------

def test_a_non_admin_is_refused_every_admin_endpoint_and_the_pages_say_so(page, server, shots):
    username, token = server.create_user()
    for path in ("/api/audit", "/api/audit/export?format=jsonl", "/api/audit/export?format=csv",
                 "/api/audit/verify", "/api/users"):
        answer = server.api("GET", path, token)
        assert answer.status_code == 403, (path, answer.text)
        assert answer.json()["error"]["code"] == "forbidden"
    login_with_tokens(page, server, username, "password-123")
    for path, heading in (("/audit", "Audit log"), ("/sessions", "Terminal sessions")):
        page.goto(server.url + path)
        notice = page.locator("#admins-only")
        notice.wait_for()
        assert "Only administrators can open this page" in notice.text_content()
        assert page.text_content("h1") == heading
        for admin_part in page.query_selector_all("[data-admin-only]"):
            assert not admin_part.is_visible()
        for link in ("#nav-audit", "#nav-sessions", "#nav-users"):
            assert not page.is_visible(link)
    page.screenshot(path=str(shots / "sessions-non-admin.png"))


# ---- sessions and their replay -------------------------------------------------------------------

def test_an_unknown_session_or_workspace_says_so_and_offers_the_way_back(page, server, shots):
    """Not an empty player with a download button, nor a lone workspace menu caret (tried as a newcomer)."""
    login_with_tokens(page, server, server.admin_username, server.admin_password)
    page.goto(server.url + "/sessions/no-such-session/replay")
    message = page.locator("#replay-message")
    message.wait_for()
    assert "This session does not exist, or you may not see it." in message.text_content()
    assert message.locator("a").get_attribute("href") == "/sessions"
    assert not page.is_visible("#download-recording") and not page.is_visible("#player")
    assert not page.is_visible("#command-filter")
    page.screenshot(path=str(shots / "replay-unknown-session.png"))
    username, _ = server.create_user(password="password-123")  # the sessions page is not theirs
    login_with_tokens(page, server, username, "password-123")
    page.goto(server.url + "/sessions/no-such-session/replay")
    message.wait_for()
    assert message.locator("a").get_attribute("href") == "/"
    assert message.locator("a").text_content() == "Back to your workspaces"
    login_with_tokens(page, server, server.admin_username, server.admin_password)
    page.goto(server.url + "/workspaces/no-such-workspace")
    page.wait_for_selector("body.no-terminal", state="attached")
    assert "This workspace does not exist" in page.text_content("#page-message")
    assert not page.is_visible("#ws-switch")
    page.screenshot(path=str(shots / "unknown-workspace.png"))


def test_a_deleted_workspace_is_named_on_the_review_pages(page, server):
    """Its sessions and events are kept; reviewers read the name it had (from its deletion's audit
    event), not an id with no name."""
    name = f"gone-{secrets.token_hex(3)}"
    workspace = server.create_local_workspace(name=name)
    session_id = _ended_session(server, server.admin_token, workspace["id"], ["echo gone-$((6*7))"], "gone-42")
    assert server.api("DELETE", f"/api/workspaces/{workspace['id']}", server.admin_token).status_code == 204
    login_with_tokens(page, server)

    page.goto(f"{server.url}/sessions?workspace_id={workspace['id']}")
    row = page.locator(f"#session-rows tr[data-id='{session_id}']")
    row.wait_for()
    assert f"{name} (deleted)" in row.text_content(), row.text_content()
    assert page.locator("#filter-workspace option:checked").text_content() == f"{name} (deleted)"

    page.goto(f"{server.url}/audit?workspace_id={workspace['id']}")
    poll(lambda: _assert("workspace_delete" in _column(page, "#event-rows tr td:nth-child(2)")))
    shown = page.locator("#event-rows").text_content()
    assert f"{name} (deleted)" in shown and workspace["id"] not in shown.replace(f"{name} (deleted)", ""), shown

    page.goto(f"{server.url}/sessions/{session_id}/replay")
    facts = page.locator("#session-facts")
    poll(lambda: _assert(f"{name} (deleted)" in facts.text_content(), facts.text_content()))
    assert facts.locator("a").count() == 0  # no link to a workspace page that no longer exists


# Each control's id, top and bottom edges.
EDGES_JS = """controls => controls.map((c) => {
  const r = c.getBoundingClientRect();
  return [c.id, Math.round(r.top), Math.round(r.bottom)];
})"""


def test_an_admin_finds_a_session_and_replays_it(page, server, shots):
    username, token = server.create_user()
    workspace = server.create_local_workspace(name=f"replay-{secrets.token_hex(3)}")
    granted = server.api("POST", f"/api/workspaces/{workspace['id']}/members", server.admin_token,
                         json={"username": username, "access": "operator"})
    assert granted.status_code == 201, granted.text
    session_id = _ended_session(server, token, workspace["id"], ["echo replay-$((6*7))"], "replay-42")
    login_with_tokens(page, server)

    page.goto(server.url + "/sessions")
    page.fill("#filter-user", username)
    page.click("#session-filters button[type=submit]")
    poll(lambda: _assert(_ids(page, "#session-rows tr") == [session_id]))
    row = page.locator(f"#session-rows tr[data-id='{session_id}']")
    assert username in row.text_content() and workspace["name"] in row.text_content()
    assert "exit 0" in row.text_content() and "Ended" in row.text_content()
    page.set_viewport_size({"width": 1366, "height": 800})
    controls = page.eval_on_selector_all("#session-filters .filter-grid :is(input, select)", EDGES_JS)
    assert len({(top, bottom) for _, top, bottom in controls}) == 1, controls  # text boxes sat lower than dropdowns
    page.screenshot(path=str(shots / "sessions.png"), full_page=True)

    # the filters are in the address: a reload (or the back button from a replay) shows the same list
    assert f"user={username}" in page.url, page.url
    page.reload()
    poll(lambda: _assert(_ids(page, "#session-rows tr") == [session_id]))
    assert page.input_value("#filter-user") == username

    row.locator("a", has_text="Replay").click()
    page.wait_for_url(f"**/sessions/{session_id}/replay")
    facts = page.locator("#session-facts")
    facts.wait_for()
    poll(lambda: _assert(username in facts.text_content() and "exit 0" in facts.text_content(), facts.text_content()))
    page.locator("#player .ap-player").wait_for()
    page.locator("#player .ap-player").click()  # play
    poll(lambda: _assert("replay-42" in page.inner_text("#player"), page.inner_text("#player")), timeout=30)
    page.screenshot(path=str(shots / "replay.png"))


def test_a_user_replays_their_ended_terminal_from_the_workspace_page(page, server, shots):
    username, token = server.create_user()
    workspace = server.create_local_workspace(name=f"mine-{secrets.token_hex(3)}")
    server.api("POST", f"/api/workspaces/{workspace['id']}/members", server.admin_token,
               json={"username": username, "access": "operator"})
    session_id = _ended_session(server, token, workspace["id"], ["echo mine-$((6*7))"], "mine-42")
    login_with_tokens(page, server, username, "password-123")
    page.goto(f"{server.url}/workspaces/{workspace['id']}")
    link = page.locator(f"#ended-list .session-item[data-id='{session_id}'] a")
    link.wait_for()
    page.screenshot(path=str(shots / "workspace-ended-terminals.png"))
    link.click()
    page.wait_for_url(f"**/sessions/{session_id}/replay")
    page.locator("#player .ap-player").click()
    poll(lambda: _assert("mine-42" in page.inner_text("#player"), page.inner_text("#player")), timeout=30)
    assert not page.is_visible("#nav-audit")


def test_a_replay_link_pressed_as_the_ended_list_refreshes_still_opens_the_replay(page, server):
    """Pressed on an ended terminal's Replay, the page's own terminal ends meanwhile (the list of
    ended terminals loads again, one more on top), released: the replay pressed on opens. The list
    was rebuilt on each load, and a press and a release on two different elements are no click."""
    workspace = server.create_local_workspace(name=f"ended-{secrets.token_hex(3)}")
    first = _ended_session(server, server.admin_token, workspace["id"], ["echo first-$((6*7))"], "first-42")
    login_with_tokens(page, server)
    shown = open_terminal(page, server, workspace["id"])
    link = page.locator(f"#ended-list .session-item[data-id='{first}'] a")
    link.wait_for()
    link.hover()
    page.mouse.down()
    other = server.socket()
    try:
        assert other.call("attach-terminal", {"sessionId": shown})["ok"]
        other.send(shown, "exit\n")  # the page's terminal ends: its list of ended ones loads again
        other.wait_exit(shown)
    finally:
        other.close()
    listed = lambda: _ids(page, "#ended-list .session-item")  # noqa: E731
    poll(lambda: _assert(listed() == [shown, first], listed()))
    page.mouse.up()
    page.wait_for_url(f"**/sessions/{first}/replay")


def test_an_admin_watches_a_running_terminal_read_only(page, server, shots):
    page.set_viewport_size({"width": 1280, "height": 800})
    workspace = server.create_local_workspace()
    operator = server.socket()
    try:
        session_id = operator.create(workspace["id"], cols=117, rows=39)  # a full-width terminal of the page
        operator.send(session_id, "echo before-$((6*7))\n")
        operator.wait_for(session_id, "before-42")
        login_with_tokens(page, server)
        page.goto(f"{server.url}/sessions/{session_id}/replay?live=1")
        page.locator("#live-banner").wait_for()
        assert "read-only" in page.text_content("#live-banner")
        rows = "() => document.querySelector('#live-terminal .xterm-rows').textContent"
        wait_until(page, f"() => ({rows})().includes('before-42')")
        # the terminal is on screen, whole: the box holds all its rows, and its columns fit the width
        box, screen = _box(page, "#live-terminal"), _box(page, "#live-terminal .xterm-screen")
        assert box["bottom"] - box["top"] > 200, box  # it was a 12 px strip
        assert screen["bottom"] <= box["bottom"] + 1 and screen["right"] <= box["right"] + 1, (box, screen)
        operator.send(session_id, "echo during-$((6*7))\n")
        wait_until(page, f"() => ({rows})().includes('during-42')")
        # typing on the page reaches nothing: the xterm takes no input, and the server would refuse it
        page.locator("#live-terminal").click()
        page.keyboard.type("echo typed-by-watcher\n")
        operator.send(session_id, "echo after-$((6*7))\n")
        wait_until(page, f"() => ({rows})().includes('after-42')")
        assert "typed-by-watcher" not in operator.text(session_id)
        # beside it, its duration goes on and its commands are listed as they run
        duration = page.text_content("[data-fact=duration]")
        poll(lambda: _assert(page.text_content("[data-fact=duration]") != duration, duration), timeout=5)
        poll(lambda: _assert("echo after-$((6*7))" in _column(page, "#command-list .command-line"),
                             _column(page, "#command-list .command-line")), timeout=10)
        page.screenshot(path=str(shots / "watch-live.png"))
        # its recording, while it runs: the duration goes on there too (it stood still, "so far")
        page.locator("#show-recording").click()
        page.locator("#player .ap-player").wait_for()
        duration = page.text_content("[data-fact=duration]")
        poll(lambda: _assert(page.text_content("[data-fact=duration]") != duration, duration), timeout=5)

        # the same over the socket: a read-only attachment is a viewer's, whatever the caller may do
        watcher = server.socket()
        try:
            answer = watcher.call("attach-terminal", {"sessionId": session_id, "readOnly": True})
            assert answer["ok"] and answer["access"] == "viewer", answer
            refused = watcher.send(session_id, "echo sneaked\n")
            assert refused["ok"] is False and refused["error"]["code"] == "forbidden", refused
            resize = watcher.call("terminal-resize", {"sessionId": session_id, "cols": 50, "rows": 10})
            assert resize["error"]["code"] == "forbidden", resize
            bad = watcher.call("attach-terminal", {"sessionId": session_id, "readOnly": "yes"})
            assert bad["error"]["code"] == "bad_request", bad
        finally:
            watcher.close()
        assert "sneaked" not in operator.text(session_id)
    finally:
        operator.close()


# ---- commands: markers, the list beside the player, search ----------------------------------------

def _commands(server, session_id: str, count: int) -> list[dict]:
    """The session's commands once `count` of them are stored with their place in the recording."""
    found: list[dict] = []

    def stored() -> None:
        found[:] = server.api("GET", f"/api/sessions/{session_id}/commands", server.admin_token).json()
        assert len(found) >= count and all(isinstance(c.get("time"), float) for c in found), found
    poll(stored, timeout=15)
    return found


def test_a_reviewer_jumps_to_where_they_ran_sudo(page, server, shots):
    workspace = server.create_local_workspace()
    # A pause longer than the player's idle limit before the sudo: the marker must move with the
    # shortened time (6 s play as 3), or the jump lands seconds late, past the commands after it.
    session_id = _ended_session(server, server.admin_token, workspace["id"], [
        "echo first-$((6*7))", "sleep 6; echo slept-$((6*7))",
        "sudo -n true 2>/dev/null; echo after-sudo-$((6*7)); (exit 3)", "echo last-$((6*7))",
    ], ["first-42", "slept-42", "after-sudo-42", "last-42"])
    commands = _commands(server, session_id, 4)
    login_with_tokens(page, server)
    page.goto(f"{server.url}/sessions/{session_id}/replay")
    items = page.locator("#command-list li")
    poll(lambda: _assert(items.count() >= 4, items.count()))
    listed = _column(page, "#command-list .command-line")
    assert listed[:4] == [c["command"] for c in commands[:4]]
    page.locator("#player .ap-player").wait_for()
    markers = "() => document.querySelectorAll('#player .ap-marker-container').length"
    poll(lambda: _assert(page.evaluate(markers) == len(commands) == items.count(), page.evaluate(markers)))

    sudo = page.locator("#command-list li", has_text="sudo -n true")
    assert sudo.locator(".exit.failed").text_content() == "exit 3"  # it failed, and says so
    sudo.locator("button").click()

    def at_the_sudo():
        shown = page.inner_text("#player")
        # A quick command's output comes in the same read as the command's start, so it shows too;
        # the next command has not run yet.
        assert "slept-42" in shown and "sudo -n true" in shown, shown
        assert "last-42" not in shown, shown
    poll(at_the_sudo)
    at = page.evaluate("() => window.aictPlayer.getCurrentTime()")
    assert 2.5 < at < 4, at  # 6.1 s into the terminal's life, with the 6 s pause played as 3
    listed_at = sudo.locator(".command-time").text_content()  # the player's clock, not the real 0:06
    assert listed_at == f"0:{int(at):02d}", (listed_at, at)
    assert "current" in (sudo.get_attribute("class") or "")
    assert sudo.locator(".typist").count() == 0  # one user typed in it all: no "by" on each line
    page.screenshot(path=str(shots / "replay-jump-to-sudo.png"))

    page.fill("#command-filter", "SUDO")  # the list narrows, any case
    poll(lambda: _assert(_column(page, "#command-list li:not([hidden]) .command-line")
                         == ["sudo -n true 2>/dev/null; echo after-sudo-$((6*7)); (exit 3)"]))


def test_a_replay_says_who_ran_each_command_where_a_member_typed_too(page, server, client):
    """The header said the owner and the list named nobody: what an operator member ran in the
    owner's terminal read as the owner's."""
    workspace = server.create_local_workspace()
    username, token = server.create_user()
    granted = server.api("POST", f"/api/workspaces/{workspace['id']}/members", server.admin_token,
                         json={"username": username, "access": "operator"})
    assert granted.status_code == 201, granted.text
    owner, member = client(), client(token)
    session_id = owner.create(workspace["id"])
    owner.send(session_id, "echo mine-$((6*7))\n")
    owner.wait_for(session_id, "mine-42")
    assert member.call("attach-terminal", {"sessionId": session_id})["ok"]
    member.send(session_id, "echo theirs-$((6*7))\n")
    owner.wait_for(session_id, "theirs-42")
    owner.send(session_id, "exit\n")
    owner.wait_exit(session_id)
    _commands(server, session_id, 2)
    login_with_tokens(page, server)
    page.goto(f"{server.url}/sessions/{session_id}/replay")
    theirs = page.locator("#command-list li", has_text="echo theirs")
    theirs.wait_for()
    assert theirs.locator(".typist").text_content() == f"by {username}"
    mine = page.locator("#command-list li", has_text="echo mine")
    assert mine.locator(".typist").text_content() == f"by {server.admin_username}"
    page.fill("#command-filter", username)  # a reviewer finds what that user ran
    poll(lambda: _assert(_column(page, "#command-list li:not([hidden]) .command-line")
                         == ["echo theirs-$((6*7))"]))


def test_an_admin_finds_the_sessions_that_ran_a_command(page, server, shots):
    workspace = server.create_local_workspace()
    tag = secrets.token_hex(4)
    ran = _ended_session(server, server.admin_token, workspace["id"], [f"echo needle-{tag}-$((6*7))"],
                         f"needle-{tag}-42")
    other = _ended_session(server, server.admin_token, workspace["id"], [f"echo hay-{tag}-$((6*7))"], f"hay-{tag}-42")
    _commands(server, ran, 1)
    _commands(server, other, 1)
    login_with_tokens(page, server)
    page.goto(server.url + "/sessions")
    page.locator(f"#session-rows tr[data-id='{other}']").wait_for()
    page.fill("#filter-command", f"NEEDLE-{tag}")
    page.click("#session-filters button[type=submit]")
    poll(lambda: _assert(_ids(page, "#session-rows tr") == [ran]))
    assert page.text_content("#command-note") == ""  # the server searched: no "not available"
    page.screenshot(path=str(shots / "sessions-by-command.png"), full_page=True)
    page.fill("#filter-command", f"nowhere-{tag}")
    page.click("#session-filters button[type=submit]")
    poll(lambda: _assert("No session matches" in page.text_content("#session-rows")))


def _box(page, selector: str) -> dict:
    return page.eval_on_selector(selector, "e => { const r = e.getBoundingClientRect(); "
                                           "return {left: r.left, top: r.top, right: r.right, bottom: r.bottom}; }")


def test_a_tall_narrow_recording_fits_the_window_with_its_controls(page, server, shots):
    """A pane of a split records tall and narrow (63×38): fit to the page's width alone, the player
    grew past the window's bottom, its text small at the top and its controls out of sight."""
    page.set_viewport_size({"width": 1366, "height": 800})
    workspace = server.create_local_workspace()
    client = server.socket()
    try:
        session_id = client.create(workspace["id"], cols=63, rows=38)
        client.send(session_id, "echo tall-$((6*7))\n")
        client.wait_for(session_id, "tall-42")
        client.send(session_id, "exit\n")
        client.wait_exit(session_id)
    finally:
        client.close()
    _commands(server, session_id, 2)  # the echo and the exit
    login_with_tokens(page, server)
    page.goto(f"{server.url}/sessions/{session_id}/replay")
    page.locator("#player .ap-player").wait_for()
    page.locator("#player .ap-player").click()  # play to the end
    poll(lambda: _assert("tall-42" in page.inner_text("#player"), page.inner_text("#player")), timeout=30)
    page.hover("#player .ap-player")  # the controls show

    box, player, controls = (_box(page, s) for s in ("#player", "#player .ap-player", "#player .ap-control-bar"))
    assert player["bottom"] <= 800 and controls["bottom"] <= 800, (player, controls)  # in view, no scrolling
    assert box["left"] <= player["left"] and player["right"] <= box["right"], (box, player)  # not clipped
    assert player["bottom"] - player["top"] > 500  # it uses the room there is
    assert page.is_visible("#player .ap-control-bar")
    page.screenshot(path=str(shots / "replay-tall-recording.png"))


def test_a_short_recording_is_not_blown_up_and_one_command_reads_as_one(page, server, shots):
    page.set_viewport_size({"width": 1366, "height": 800})
    workspace = server.create_local_workspace()
    client = server.socket()
    try:
        session_id = client.create(workspace["id"], cols=63, rows=17)
        client.send(session_id, "echo short-$((6*7)); exit\n")
        client.wait_exit(session_id)
    finally:
        client.close()
    _commands(server, session_id, 1)
    login_with_tokens(page, server)
    page.goto(f"{server.url}/sessions/{session_id}/replay")
    page.locator("#player .ap-player").wait_for()
    poll(lambda: _assert(page.text_content("#commands-note") == "1 command: choose it to jump there",
                         page.text_content("#commands-note")))
    player = _box(page, "#player .ap-player")
    # 17 rows at the largest font (18 px, line height 4/3) and the control bar: no taller
    assert player["bottom"] - player["top"] <= 17 * 24 + 32 + 2, player
    assert player["bottom"] <= 800
    page.screenshot(path=str(shots / "replay-short-recording.png"))


def test_a_long_command_takes_three_lines_in_the_list_and_shows_whole_when_chosen(page, server, shots):
    page.set_viewport_size({"width": 1280, "height": 900})
    workspace = server.create_local_workspace()
    long_line = "echo " + "a-rather-long-argument_" * 14 + "$((6*7))"
    session_id = _ended_session(server, server.admin_token, workspace["id"], [long_line, "echo next-$((6*7))"],
                                ["_42", "next-42"])
    _commands(server, session_id, 2)
    login_with_tokens(page, server)
    page.goto(f"{server.url}/sessions/{session_id}/replay")
    page.locator("#player .ap-player").wait_for()
    first = page.locator("#command-list li").first
    line = first.locator(".command-line")
    line_height = float(line.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"))
    height = line.bounding_box()["height"]
    assert height <= 3 * line_height + 1, (height, line_height)  # three lines, not the whole command (13 here)
    assert line.get_attribute("title") == long_line  # the whole command on hover
    assert line.text_content() == long_line  # the text is all there (copy, search): only its box is clamped
    next_top = page.locator("#command-list li").nth(1).bounding_box()["y"]
    assert next_top < first.bounding_box()["y"] + 200, next_top  # the next command stays in view
    page.screenshot(path=str(shots / "replay-long-command-listed.png"))

    first.locator("button").click()
    poll(lambda: _assert("current" in (first.get_attribute("class") or "")))
    poll(lambda: _assert(line.bounding_box()["height"] > 6 * line_height, line.bounding_box()))  # chosen: whole
    page.screenshot(path=str(shots / "replay-long-command-chosen.png"))


def test_a_reviewer_plays_a_recording_faster_from_where_it_was(page, server, shots):
    workspace = server.create_local_workspace()
    session_id = _ended_session(server, server.admin_token, workspace["id"], [
        "for i in 1 2 3 4 5 6 7 8 9 10; do echo tick-$i; sleep 0.5; done; echo done-$((6*7))"], "done-42")
    login_with_tokens(page, server)
    page.goto(f"{server.url}/sessions/{session_id}/replay")
    page.locator("#player .ap-player").wait_for()
    page.evaluate("() => window.aictPlayer.play()")
    page.wait_for_timeout(700)
    before = page.evaluate("() => window.aictPlayer.getCurrentTime()")
    page.select_option("#replay-speed", "4")
    poll(lambda: _assert(page.evaluate("() => window.aictPlayer.getCurrentTime()") >= before, before))
    start = page.evaluate("() => window.aictPlayer.getCurrentTime()")
    assert abs(start - before) < 1.0, (before, start)  # from where it was, not from the start
    page.wait_for_timeout(1000)
    played = page.evaluate("() => window.aictPlayer.getCurrentTime()") - start
    assert played > 2.0, played  # a second of wall time plays about four of the recording
    page.screenshot(path=str(shots / "replay-speed.png"))
