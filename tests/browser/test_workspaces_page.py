"""The workspace list page offers a user only what they may create."""

from __future__ import annotations

from tests.browser.conftest import login_with_tokens


def _open_as_new_user(page, server) -> None:
    username, _ = server.create_user()
    login_with_tokens(page, server, username, "password-123")
    page.goto(server.url + "/")
    page.locator("#whoami").wait_for()  # /api/me has answered


def test_a_user_who_may_not_create_local_workspaces_is_told_so_and_offered_ssh(page, start_server):
    server = start_server({"AICT_SSH_ALLOWED_HOSTS": "*.example.com"})
    _open_as_new_user(page, server)

    note = page.locator("#local-note")
    note.wait_for(state="visible")
    assert "Only administrators" in note.inner_text()
    assert page.get_by_label("Local shell on this server").is_disabled()
    assert page.get_by_label("SSH to another host").is_checked()
    assert page.locator("#ws-host").is_visible()


def test_a_user_who_may_create_nothing_sees_no_form_but_how_to_get_a_workspace(page, server):
    _open_as_new_user(page, server)

    note = page.locator("#create-note")
    note.wait_for(state="visible")
    assert "add you as a member" in note.inner_text()
    assert not page.locator("#create-form").is_visible()
    page.get_by_text("No workspaces yet. An administrator can add you to one.").wait_for()


def test_the_form_stays_hidden_until_the_page_knows_what_the_user_may_create(page, server):
    username, _ = server.create_user()
    login_with_tokens(page, server, username, "password-123")
    page.route("**/api/me", lambda route: (page.wait_for_timeout(3000), route.continue_()))
    page.goto(server.url + "/")
    page.wait_for_timeout(1000)  # the page's script has run; /api/me has not answered yet
    assert not page.locator("#whoami").is_visible()
    assert not page.locator("#create-form").is_visible()
    assert not page.get_by_label("Local shell on this server").is_visible()
    page.locator("#create-note").wait_for(state="visible")  # then: what they may do instead
    assert not page.locator("#create-form").is_visible()


def test_an_admin_may_create_either_kind(page, server):
    login_with_tokens(page, server)
    page.goto(server.url + "/")
    page.locator("#whoami").wait_for()
    assert page.get_by_label("Local shell on this server").is_enabled()
    assert page.get_by_label("SSH to another host").is_enabled()
    assert not page.locator("#local-note").is_visible()
    assert not page.locator("#create-note").is_visible()
