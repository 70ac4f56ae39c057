"""The workspace list page offers a user only what they may create."""

from __future__ import annotations

from tests.browser.conftest import login_with_tokens, poll


def _assert(condition, detail=None) -> None:
    assert condition, detail


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


def test_a_workspace_whose_shells_could_read_the_servers_secrets_says_it_is_for_admins_only(page, start_server):
    server = start_server({"AICT_SHELL_ACCOUNT": ""})  # shells as the server's own account (root here)
    workspace = server.api("POST", "/api/workspaces", server.admin_token,
                           json={"name": "admins-only", "kind": "local", "shell_account": "aict-shell"}).json()
    username, _ = server.create_user()
    granted = server.api("POST", f"/api/workspaces/{workspace['id']}/members", server.admin_token,
                         json={"username": username, "access": "operator"})
    assert granted.status_code == 201, granted.text
    server.api("PATCH", f"/api/workspaces/{workspace['id']}", server.admin_token, json={"shell_account": None})

    # The member reads it on the list, and the terminal page says it instead of trying.
    login_with_tokens(page, server, username, "password-123")
    page.goto(server.url + "/")
    note = page.locator(f".ws-item[data-id='{workspace['id']}'] [data-note=shell]")
    note.wait_for(state="visible")
    assert "run as root" in note.inner_text() and "only administrators may use them" in note.inner_text()
    page.goto(f"{server.url}/workspaces/{workspace['id']}")
    message = page.locator("#page-message")
    message.wait_for(state="visible")
    assert "only administrators may use them" in message.inner_text()
    assert server.api("GET", f"/api/sessions?workspace_id={workspace['id']}", server.admin_token).json() == []

    # The admin sees it too, and in the members panel before adding anyone.
    page.context.clear_cookies()
    login_with_tokens(page, server)
    page.goto(server.url + "/")
    item = page.locator(f".ws-item[data-id='{workspace['id']}']")
    item.locator("[data-note=shell]").wait_for(state="visible")
    item.get_by_role("button", name="Members of admins-only").click()
    item.locator("input[name=shell_account]").wait_for()
    assert not item.locator("[data-note=members]").is_visible()  # the card says it already: not twice

    # ... and assigns an account there, not through the API (found by a newcomer: no page offered it)
    account = item.locator("input[name=shell_account]")
    account.fill("no-such-account-here")
    item.get_by_role("button", name="Save account").click()
    alert = item.locator(".members-panel [role=alert]")
    alert.wait_for(state="visible")
    assert "no-such-account-here" in alert.inner_text()  # refused, and says why
    account.fill("aict-shell")
    item.get_by_role("button", name="Save account").click()
    poll(lambda: _assert("run as aict-shell" in alert.inner_text(), alert.inner_text()))
    # the card follows at once: it said "runs as root" and only administrators until a reload
    assert not item.locator("[data-note=shell]").is_visible()  # members may use its terminals now
    assert "runs as aict-shell" in item.locator(".ws-main").inner_text()
    record = server.api("GET", f"/api/workspaces/{workspace['id']}", server.admin_token).json()
    assert (record["shell_account"], record["admins_only"]) == ("aict-shell", False), record
