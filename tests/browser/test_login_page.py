"""The login form without its script: the password never lands in an address or a log."""

from __future__ import annotations

import secrets

import pytest

from tests.browser.conftest import DESKTOP, login_with_tokens


@pytest.mark.parametrize("failure", ["javascript off", "script not loaded"])
def test_the_login_form_never_puts_the_password_in_the_address(browser, server, failure):
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=failure != "javascript off")
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        if failure == "script not loaded":  # as when static/dist was not built
            page.route("**/static/dist/login.js", lambda route: route.abort())
        page.goto(server.url + "/login?next=/")
        password = f"pw-{secrets.token_hex(8)}"
        page.fill("#username", server.admin_username)
        page.fill("#password", password)
        with page.expect_navigation():
            page.click("button[type=submit]")

        assert password not in page.url and "password" not in page.url, page.url
        notice = page.locator("#login-message")
        assert notice.is_visible()
        assert "not logged in" in notice.inner_text()
        assert password not in page.content()
        assert password not in server.log_path.read_text(errors="replace")
    finally:
        context.close()


def test_the_workspace_form_without_its_script_sends_nothing_in_the_address(browser, server):
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(server.url + "/")
        page.fill("#ws-name", "typed-name")
        page.fill("#ws-path", "/typed/path")
        with page.expect_navigation():
            page.click("#create-form button[type=submit]")
        assert page.url == server.url + "/"
        assert "No workspace was created" in page.locator("#create-message").inner_text()
        assert "typed-name" not in [w["name"] for w in server.api("GET", "/api/workspaces", server.admin_token).json()]
    finally:
        context.close()


def test_a_locked_login_says_how_long_to_wait_once(browser, start_server):
    """Past the failures a username may have, the page says so and how long to wait, in minutes and
    once (it said "try again in 900 seconds. Try again in 15 minutes.")."""
    server = start_server({"AICT_LOGIN_USER_FAILURES": "2"})  # the shared server's logins stay unlocked
    username, _ = server.create_user()
    context = browser.new_context(viewport=DESKTOP)
    try:
        page = context.new_page()
        page.goto(server.url + "/login")
        message = page.locator("#login-message")
        for attempt in range(3):
            page.fill("#username", username)
            page.fill("#password", f"wrong-{attempt}")
            page.click("button[type=submit]")
            page.wait_for_function("() => !document.querySelector('button[type=submit]').disabled")
        text = message.inner_text()
        assert "Too many failed logins" in text, text
        assert text.lower().count("try again") == 1 and "15 minutes" in text, text
    finally:
        context.close()


def test_the_login_page_of_someone_logged_in_goes_on_to_where_they_were_going(page, server):
    """A bookmark of /login, or the back button after logging in, showed the form again."""
    login_with_tokens(page, server)  # ends on the workspaces page: /login went on to "/"
    page.goto(server.url + "/login?next=/audit")
    page.wait_for_url(server.url + "/audit")
    page.locator("#event-rows tr").first.wait_for()
    page.goto(server.url + "/login?next=/.//evil.example/")  # resolves to //evil.example: another site
    page.wait_for_url(server.url + "/")  # and never off this site
    page.locator("#whoami").wait_for()
    page.goto("about:blank")  # no page left to renew the login's cookie
    page.context.clear_cookies()  # logged out: the form stays
    page.goto(server.url + "/login?next=/audit")
    page.wait_for_timeout(500)
    assert page.url == server.url + "/login?next=/audit" and page.locator("#username").is_visible()
