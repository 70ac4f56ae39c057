"""Tokens out of scripts' reach, and tokens that end without cutting off an open page: the refresh
token is an HttpOnly cookie, the access token lives in the page's memory, the socket renews it,
and saved screens go when the login does."""

from __future__ import annotations

import time

import pytest
import requests

from tests.browser.conftest import (
    DESKTOP,
    assert_prompt,
    login_with_tokens,
    open_terminal,
    poll,
    run,
    screen,
    wait_for_terminal,
    wait_until,
)

GUARD = {"X-Requested-With": "aict"}
NO_TOKENS_STORED = """() => {
  const values = [];
  for (const storage of [localStorage, sessionStorage]) {
    for (let i = 0; i < storage.length; i += 1) values.push(storage.key(i) + "=" + storage.getItem(storage.key(i)));
  }
  return {values, cookie: document.cookie};
}"""


def _assert_line(page, expected: str) -> None:
    rows = [row.strip() for row in screen(page)["visible"]]
    assert expected in rows, rows


def _log_in_with_the_form(page, server, username: str, password: str) -> None:
    page.goto(server.url + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(server.url + "/")
    wait_until(page, "() => !document.querySelector('#whoami').hidden")


def _refresh_cookie(page) -> dict | None:
    cookies = [c for c in page.context.cookies() if c["name"] == "aict_refresh"]
    return cookies[0] if cookies else None


def _saved_screens(page) -> list[str]:
    return page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('aict.resume.'))")


def test_after_login_no_script_can_read_a_token_and_a_reload_stays_logged_in(page, server, workspace):
    _log_in_with_the_form(page, server, server.admin_username, server.admin_password)
    stored = page.evaluate(NO_TOKENS_STORED)
    assert stored["cookie"] == "aict_login=1", "a cookie scripts can read holds more than a hint"
    assert not any("eyJ" in value for value in stored["values"]), stored["values"]  # no JWT anywhere
    cookie = _refresh_cookie(page)
    assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/api/auth"
    device = [c for c in page.context.cookies() if c["name"] == "aict_device"]
    assert device and device[0]["httpOnly"] and device[0]["path"] == "/api/auth/login"

    open_terminal(page, server, workspace["id"])
    run(page, "echo before-$((6*7))")
    poll(lambda: _assert_line(page, "before-42"))
    page.reload()
    wait_for_terminal(page)
    poll(lambda: assert_prompt(page))
    run(page, "echo after-reload-$((6*7))")
    poll(lambda: _assert_line(page, "after-reload-42"))
    assert "/login" not in page.url
    stored = page.evaluate(NO_TOKENS_STORED)
    assert stored["cookie"] == "aict_login=1" and not any("eyJ" in value for value in stored["values"]), stored

    # A new tab of the same browser is logged in too, through the cookie.
    second = page.context.new_page()
    try:
        second.goto(server.url + "/")
        wait_until(second, "() => !document.querySelector('#whoami').hidden")
        assert server.admin_username in second.locator("#whoami").inner_text()
    finally:
        second.close()


def _a_terminal_with_its_screen_saved(page, server, workspace) -> None:
    login_with_tokens(page, server)
    open_terminal(page, server, workspace["id"])
    run(page, "echo secret-output")
    poll(lambda: _assert_line(page, "secret-output"))
    page.evaluate("window.aictTest.saveResumePoint()")
    assert _saved_screens(page)


def test_logging_out_clears_the_saved_screens_and_the_cookie(page, server, workspace):
    _a_terminal_with_its_screen_saved(page, server, workspace)
    refresh = _refresh_cookie(page)["value"]
    page.click("#logout")
    page.wait_for_url("**/login")
    assert page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('aict.'))") == []
    assert _refresh_cookie(page) is None and page.evaluate("document.cookie") == ""
    # the login is over on the server too, not just forgotten by the page
    stale = requests.post(server.url + "/api/auth/refresh", headers=GUARD, cookies={"aict_refresh": refresh},
                          timeout=30)
    assert stale.status_code == 401
    page.goto(f"{server.url}/workspaces/{workspace['id']}")
    page.wait_for_url("**/login?next=*")


def test_a_login_ended_elsewhere_clears_the_saved_screens(page, server, workspace):
    _a_terminal_with_its_screen_saved(page, server, workspace)
    # The login ends outside this page (logged out from another device holding its cookie): the
    # server closes the socket, the page's refresh is refused, the page goes to the login form.
    ended = requests.post(server.url + "/api/auth/logout", headers=GUARD, timeout=30,
                          cookies={"aict_refresh": _refresh_cookie(page)["value"]})
    assert ended.status_code == 204
    page.wait_for_url("**/login?next=*", timeout=10_000)
    assert _saved_screens(page) == []


def test_a_page_that_finds_no_login_clears_the_saved_screens(page, server, workspace):
    _a_terminal_with_its_screen_saved(page, server, workspace)
    page.goto("about:blank")
    page.context.clear_cookies()  # the login's cookie is gone (expired, or cleared by the user)
    page.goto(f"{server.url}/workspaces/{workspace['id']}")
    page.wait_for_url("**/login?next=*")
    assert _saved_screens(page) == []


TOKEN_SECONDS = 6


@pytest.fixture
def short_token_server(start_server):
    return start_server({"AICT_ACCESS_TOKEN_SECONDS": str(TOKEN_SECONDS)})


def test_an_open_terminal_page_keeps_working_across_token_expiries(page, short_token_server):
    server = short_token_server
    workspace = server.create_local_workspace()
    login_with_tokens(page, server)
    open_terminal(page, server, workspace["id"])
    # Watch the connection: a cut-off would show as anything but "connected" for a while (the page
    # waits at least 375 ms before it reconnects).
    page.evaluate("""() => {
      window.__statuses = new Set();
      setInterval(() => window.__statuses.add(window.aictTest.status), 25);
    }""")
    time.sleep(TOKEN_SECONDS * 4)  # four lifetimes of the token the page opened with
    assert page.evaluate("[...window.__statuses]") == ["connected"], "the socket was cut off"
    run(page, "echo still-here-$((6*7))")
    poll(lambda: _assert_line(page, "still-here-42"))
    assert "/login" not in page.url


def test_brute_force_on_the_admin_leaves_a_known_device_and_other_users_in(browser, start_server):
    server = start_server({"AICT_TRUSTED_PROXIES": "1", "AICT_LOGIN_USER_FAILURES": "5",
                           "AICT_LOGIN_IP_FAILURES": "20", "AICT_LOGIN_LOCK_SECONDS": "900"})
    attacker_ip, admin_ip, stranger_ip = "203.0.113.50", "198.51.100.20", "192.0.2.30"
    username, password = server.create_user()[0], "password-123"

    def context(ip: str):
        made = browser.new_context(viewport=DESKTOP, extra_http_headers={"X-Forwarded-For": ip})
        made.set_default_timeout(20_000)
        return made

    known, stranger = context(admin_ip), context(stranger_ip)
    try:
        known_page = known.new_page()
        _log_in_with_the_form(known_page, server, server.admin_username, server.admin_password)
        known_page.click("#logout")
        known_page.wait_for_url("**/login")

        def attempt(name: str, secret: str, ip: str = attacker_ip):
            return requests.post(server.url + "/api/auth/login", json={"username": name, "password": secret},
                                 headers={"X-Forwarded-For": ip}, timeout=30)

        answers = [attempt(server.admin_username, f"guess-{n}").status_code for n in range(25)]
        assert answers[:5] == [401] * 5 and set(answers[5:]) == {429}, answers
        # the attacker's IP is held for every name, the right password included
        assert attempt(username, password).status_code == 429
        assert attempt(server.admin_username, server.admin_password).status_code == 429
        # an unknown device cannot get the admin in either while the name is locked
        stranger_page = stranger.new_page()
        stranger_page.goto(server.url + "/login")
        stranger_page.fill("#username", server.admin_username)
        stranger_page.fill("#password", server.admin_password)
        stranger_page.click("button[type=submit]")
        wait_until(stranger_page,
                   "() => /Too many failed logins/.test(document.querySelector('#login-message').textContent)")
        # the admin's own browser gets in
        _log_in_with_the_form(known_page, server, server.admin_username, server.admin_password)
        assert server.admin_username in known_page.locator("#whoami").inner_text()
        # another user is unaffected, from anywhere but the attacker's IP
        assert attempt(username, password, stranger_ip).status_code == 200
    finally:
        known.close()
        stranger.close()

    from tests.integration.audit_log import audit_events

    failed = audit_events(server, "login_failed", server.admin_username)
    assert len(failed) == 5 and {e["ip"] for e in failed} == {attacker_ip}, failed
    held = audit_events(server, "throttled")
    assert {(e["ip"], e["detail"]["lock"]) for e in held} == {
        (attacker_ip, "username"), (attacker_ip, "ip"), (stranger_ip, "username")}, held
    logins = audit_events(server, "login", server.admin_username)
    assert logins[-1]["ip"] == admin_ip, logins
    assert logins[-1]["detail"] == {"known_device": True, "username_locked": True}, logins


def test_a_page_cut_off_while_it_could_not_renew_comes_back_by_itself(page, short_token_server):
    """As after a laptop slept: the renewal could not get through, the server cut the socket off at
    its token's expiry; once the server answers again the page reconnects, no error shown."""
    server = short_token_server
    workspace = server.create_local_workspace()
    login_with_tokens(page, server)
    open_terminal(page, server, workspace["id"])
    page.route("**/api/auth/refresh", lambda route: route.abort())
    page.evaluate("""() => {
      window.__statuses = new Set();
      setInterval(() => window.__statuses.add(window.aictTest.status), 25);
    }""")
    wait_until(page, "() => window.__statuses.has('reconnecting')", timeout=TOKEN_SECONDS + 30)
    page.unroute("**/api/auth/refresh")
    wait_until(page, "() => window.aictTest.status === 'connected'", timeout=30)
    run(page, "echo back-again-$((6*7))")
    poll(lambda: _assert_line(page, "back-again-42"))
    assert page.locator("#page-message").inner_text().strip() == ""
    assert "/login" not in page.url


def test_a_visit_without_a_login_goes_to_the_form_without_a_failed_request(page, server):
    """No login cookie: the page does not ask the server for a refresh it cannot get (a 401 in the
    console of every first visit)."""
    asked, errors = [], []
    page.on("request", lambda request: asked.append(request.url) if "/api/auth/refresh" in request.url else None)
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(server.url + "/")
    page.wait_for_url("**/login*")
    page.locator("#username").wait_for()
    assert asked == [] and errors == [], (asked, errors)
