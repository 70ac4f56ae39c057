"""The account, users and members pages in a real browser: two-factor enrolment and login with a
code, an admin disabling a user whose terminal page then logs out, members managed from the page."""

from __future__ import annotations

import time

import pyotp

from tests.browser.conftest import DESKTOP, login_with_tokens, open_terminal, poll, wait_for_terminal
from tests.server import own_server_failing_logins

# Its tests fail logins on purpose: on the shared server they would add up to the per-IP block.
server = own_server_failing_logins


def _log_in_with_the_form(page, server, username: str, password: str) -> None:
    page.goto(server.url + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")


def _grant(server, workspace_id: str, username: str, access: str) -> None:
    response = server.api("POST", f"/api/workspaces/{workspace_id}/members", server.admin_token,
                          json={"username": username, "access": access})
    assert response.status_code == 201, response.text


def _members(server, workspace_id: str) -> list[dict]:
    return server.api("GET", f"/api/workspaces/{workspace_id}/members", server.admin_token).json()


def test_enrol_totp_from_the_qr_codes_secret_then_log_in_with_a_code(page, server):
    username, _ = server.create_user()
    _log_in_with_the_form(page, server, username, "password-123")
    page.locator("#whoami").wait_for()
    page.get_by_role("link", name="Account").click()
    page.get_by_role("button", name="Set up two-factor authentication").click()

    qr = page.get_by_alt_text("QR code of your two-factor secret")
    qr.wait_for()
    poll(lambda: _assert(qr.evaluate("img => img.complete && img.naturalWidth > 100")))
    secret = poll(lambda: _shown_secret(page))
    authenticator = pyotp.TOTP(secret)
    assert authenticator.provisioning_uri(name=username, issuer_name="aict")  # a valid base32 secret
    page.get_by_label("Code from the app").fill(authenticator.now())
    page.get_by_role("button", name="Turn on").click()
    page.get_by_text("Two-factor authentication is on. From now on").wait_for()
    assert page.locator("#totp-state").inner_text().startswith("On")
    assert not page.locator("#totp-qr").is_visible()

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")
    page.fill("#username", username)
    page.fill("#password", "password-123")
    assert not page.locator("#otp").is_visible()
    page.click("button[type=submit]")
    page.get_by_label("One-time code").wait_for()  # the server answered otp_required
    assert "one-time code" in page.locator("#login-message").inner_text()
    page.get_by_label("One-time code").fill("000000" if authenticator.now() != "000000" else "111111")
    page.click("button[type=submit]")
    poll(lambda: _assert("wrong" in page.locator("#login-message").inner_text()))
    # The code just used to confirm works no more; the next step's code is accepted (clock drift).
    page.get_by_label("One-time code").fill(authenticator.at(time.time() + 30))
    page.click("button[type=submit]")
    page.wait_for_url(server.url + "/")
    poll(lambda: _assert(page.locator("#whoami").inner_text() == username))


def test_an_admin_disables_a_user_whose_open_terminal_page_is_logged_out_within_5_seconds(browser, page, server):
    username, _ = server.create_user()
    workspace = server.create_local_workspace()
    _grant(server, workspace["id"], username, "operator")
    login_with_tokens(page, server, username, "password-123")
    open_terminal(page, server, workspace["id"])

    admin = browser.new_context(viewport=DESKTOP).new_page()
    admin.on("dialog", lambda dialog: dialog.accept())
    try:
        login_with_tokens(admin, server)
        admin.goto(server.url + "/users")
        row = admin.locator(f"tr[data-username='{username}']")
        row.get_by_role("button", name="Disable").click()
        clicked = time.monotonic()
        page.wait_for_url("**/login?next=*", timeout=5_000)
        assert time.monotonic() - clicked < 5
        admin.get_by_text(f"{username} is disabled and logged out.").wait_for()
        poll(lambda: _assert(row.locator("td").nth(1).inner_text() == "Disabled"))
        assert row.get_by_role("button", name="Enable").is_visible()
    finally:
        admin.context.close()
    # Logged out for real: the page's stored login is gone, and the password no longer works.
    assert page.evaluate("localStorage.getItem('aict.access')") is None
    refused = server.api("POST", "/api/auth/login", json={"username": username, "password": "password-123"})
    assert refused.status_code == 401


def test_an_admin_manages_the_members_of_a_workspace_from_the_page(browser, page, server):
    member, _ = server.create_user()
    workspace = server.create_local_workspace()
    page.on("dialog", lambda dialog: dialog.accept())
    login_with_tokens(page, server)
    page.goto(server.url + "/")
    item = page.locator(f"li.ws-item[data-id='{workspace['id']}']")
    item.get_by_role("button", name=f"Members of {workspace['name']}").click()
    item.get_by_text("No members yet").wait_for()

    item.get_by_label("Username to add").fill(f"{member}-nobody")
    item.get_by_role("button", name="Add member").click()
    item.get_by_text(f"There is no user named “{member}-nobody”.").wait_for()

    item.get_by_label("Username to add").fill(member)
    item.get_by_label("Access of the new member").select_option("viewer")
    item.get_by_role("button", name="Add member").click()
    item.get_by_text(f"{member} is now a member (viewer).").wait_for()
    assert _members(server, workspace["id"]) == [{"username": member, "access": "viewer"}]

    item.get_by_label(f"Access of {member}").select_option("operator")
    item.get_by_text(f"{member} is now an operator.").wait_for()
    assert _members(server, workspace["id"]) == [{"username": member, "access": "operator"}]

    item.locator(f"li.member[data-username='{member}']").get_by_role("button", name="Remove").click()
    item.get_by_text(f"{member} was removed.").wait_for()
    assert _members(server, workspace["id"]) == []


def test_a_member_sees_no_controls_they_may_not_use(page, server):
    member, _ = server.create_user()
    workspace = server.create_local_workspace()
    _grant(server, workspace["id"], member, "operator")
    login_with_tokens(page, server, member, "password-123")
    page.goto(server.url + "/")
    item = page.locator(f"li.ws-item[data-id='{workspace['id']}']")
    item.wait_for()
    assert item.get_by_text(f"owner {server.admin_username}").is_visible()
    assert item.get_by_role("button").count() == 0  # no Members, no Delete
    assert not page.locator("#nav-users").is_visible()

    page.get_by_role("link", name="Account").click()
    page.locator("#password-form").wait_for()
    # a mistyped current password is said on the form; the login stays (it was taken for a stale token)
    form = page.locator("#password-form")
    form.locator("[name=current_password]").fill("not-my-password")
    form.locator("[name=new_password]").fill("a-new-password-1")
    form.locator("[name=repeat_password]").fill("a-new-password-1")
    form.locator("button[type=submit]").click()
    page.get_by_text("The current password is wrong.").wait_for()
    assert page.url.endswith("/account"), page.url
    page.goto(server.url + "/users")
    page.get_by_text("Only administrators manage users.").wait_for()
    assert not page.locator("#create-user-form").is_visible()
    assert not page.locator("#user-rows").is_visible()


def test_the_users_page_creates_users_and_says_why_the_last_admin_stays(page, start_server):
    server = start_server()
    page.on("dialog", lambda dialog: dialog.accept())
    login_with_tokens(page, server)
    page.goto(server.url + "/")
    page.get_by_role("link", name="Users").click()
    page.wait_for_url("**/users")
    page.get_by_label("Username", exact=True).fill("carol")
    page.get_by_label("Password (at least 8 characters)").fill("carols-password")
    page.get_by_role("button", name="Create user").click()
    page.get_by_text("User “carol” created.").wait_for()
    carol = page.locator("tr[data-username='carol']")
    assert carol.locator("td").nth(0).locator("select").input_value() == "user"

    # The last enabled administrator: the page does not offer what the server would refuse, and says why.
    own = page.locator(f"tr[data-username='{server.admin_username}']")
    role, disable = own.get_by_label(f"Role of {server.admin_username}"), own.get_by_role("button", name="Disable")
    assert role.is_disabled() and disable.is_disabled()
    assert "last enabled administrator" in role.get_attribute("title")
    assert "last enabled administrator" in disable.get_attribute("title")
    carol.get_by_label("Role of carol").select_option("admin")
    page.get_by_text("carol is now an administrator.").wait_for()
    poll(lambda: _assert(role.is_enabled() and disable.is_enabled()))  # two admins: either may step down
    page.locator("tr[data-username='carol']").get_by_label("Role of carol").select_option("user")
    page.get_by_text("carol is now a user.").wait_for()
    poll(lambda: _assert(role.is_disabled()))
    assert own.locator("td").nth(1).inner_text() == "Active"

    carol.get_by_role("button", name="Reset password").click()
    carol.get_by_label("New password for carol").fill("carols-new-password")
    carol.get_by_role("button", name="Set password", exact=True).click()
    page.get_by_text("carol has a new password").wait_for()
    assert server.login("carol", "carols-new-password")


def test_an_admin_is_taken_to_enrolment_first_when_the_server_requires_totp(page, start_server):
    server = start_server({"AICT_REQUIRE_TOTP_FOR_ADMINS": "1"})
    _log_in_with_the_form(page, server, server.admin_username, server.admin_password)
    page.wait_for_url("**/account")
    page.get_by_text("This server requires administrators to use two-factor authentication").wait_for()
    assert not page.locator("#password-form").is_visible()
    assert not page.locator("#nav-users").is_visible()  # refused until enrolled: not offered either
    page.get_by_role("button", name="Set up two-factor authentication").click()
    secret = poll(lambda: _shown_secret(page))
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on").click()
    page.get_by_text("Two-factor authentication is on.").wait_for()
    assert page.locator("#password-form").is_visible()
    assert not page.locator("#totp-off-form").is_visible()  # admins keep it on here
    page.goto(server.url + "/")
    page.locator("#whoami").wait_for()
    assert page.url == server.url + "/"
    assert page.locator("#nav-users").is_visible()


def _assert(condition: bool) -> None:
    assert condition


def _shown_secret(page) -> str:
    """The secret the page shows as text (in groups of four), once it does."""
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    assert len(secret) >= 26, secret
    return secret


def test_members_are_managed_beside_the_terminals_too_and_only_by_those_who_may(browser, page, server):
    member, _ = server.create_user()
    workspace = server.create_local_workspace()
    login_with_tokens(page, server)
    open_terminal(page, server, workspace["id"])
    sidebar = page.locator("#sidebar")
    sidebar.get_by_role("button", name="Members").click()
    sidebar.get_by_label("Username to add").fill(member)
    sidebar.get_by_role("button", name="Add member").click()
    sidebar.get_by_text(f"{member} is now a member (operator).").wait_for()
    assert _members(server, workspace["id"]) == [{"username": member, "access": "operator"}]
    page.screenshot(path="/tmp/shot-terminal-members.png")

    other = browser.new_context(viewport=DESKTOP).new_page()
    try:
        login_with_tokens(other, server, member, "password-123")
        open_terminal(other, server, workspace["id"])
        assert other.locator("#sidebar").get_by_role("button", name="Members").count() == 0
    finally:
        other.context.close()


def test_a_viewer_is_offered_only_what_a_viewer_may_do_and_sees_when_access_ends(browser, page, server):
    viewer, _ = server.create_user()
    workspace = server.create_local_workspace()
    _grant(server, workspace["id"], viewer, "viewer")
    login_with_tokens(page, server, viewer, "password-123")
    page.goto(f"{server.url}/workspaces/{workspace['id']}")
    # Nothing runs yet: the page says so instead of trying (and failing) to start a terminal.
    page.get_by_text("No terminal is running in this workspace.").wait_for()
    assert page.locator("[data-action=new-terminal]:visible").count() == 0
    assert server.api("GET", f"/api/sessions?workspace_id={workspace['id']}", server.admin_token).json() == []

    admin = browser.new_context(viewport=DESKTOP).new_page()
    try:
        login_with_tokens(admin, server)
        open_terminal(admin, server, workspace["id"])  # an operator (the admin) starts one
        page.click("#refresh-sessions")
        item = page.locator("#session-list li.session-item")
        item.wait_for()
        assert item.get_by_role("button", name="End").count() == 0  # viewers cannot end terminals
        item.locator(".session-open").click()
        wait_for_terminal(page)
        page.locator("#viewer-banner").wait_for()  # "Read-only: you are watching this terminal as a viewer"

        response = server.api("DELETE", f"/api/workspaces/{workspace['id']}/members/{viewer}", server.admin_token)
        assert response.status_code == 204, response.text
        poll(lambda: _assert(page.locator("#conn-status").text_content() == "No access"))
        page.get_by_text("Your access to this workspace was removed.").first.wait_for()
        assert page.locator("#session-list li.session-item").count() == 0
    finally:
        admin.context.close()


def test_a_removed_operators_page_stops_offering_the_workspaces_files(page, server):
    """The Files listing and its Upload stayed on a removed member's page until a reload (which then
    said the workspace does not exist), and the bar still showed who watched."""
    workspace = server.create_local_workspace()
    operator, _ = server.create_user(password="password-123")
    _grant(server, workspace["id"], operator, "operator")
    login_with_tokens(page, server, operator, "password-123")
    open_terminal(page, server, workspace["id"])
    page.locator("#files-panel .file-list").wait_for()
    response = server.api("DELETE", f"/api/workspaces/{workspace['id']}/members/{operator}", server.admin_token)
    assert response.status_code == 204, response.text
    page.get_by_text("Your access to this workspace was removed.").first.wait_for()
    poll(lambda: _assert(page.locator("#files-panel").is_hidden()))
    assert page.locator("button:visible", has_text="Upload").count() == 0
    assert page.locator(".viewers").is_hidden()
    assert page.locator("#show-processes").is_hidden() and page.locator(".ended-section").is_hidden()


def _assert(condition) -> None:
    assert condition


def test_pages_without_a_terminal_follow_the_login_too(page, server):
    """A demoted admin's Users page (demotion ends their logins) and a disabled user's Account page
    go to the login form within seconds, and it says why; they stayed as they were, offering what
    the server would refuse (only terminal pages followed, through their socket)."""
    username, token = server.create_user(role="admin")
    user_id = next(u["id"] for u in server.api("GET", "/api/users", server.admin_token).json()
                   if u["username"] == username)
    login_with_tokens(page, server, username, "password-123")
    page.goto(server.url + "/users")
    page.locator("#create-user-form").wait_for()
    demoted = server.api("PATCH", f"/api/users/{user_id}", server.admin_token, json={"role": "user"})
    assert demoted.status_code == 200, demoted.text
    page.wait_for_url("**/login?**", timeout=20_000)
    assert "You were logged out" in page.inner_text("#login-message")

    login_with_tokens(page, server, username, "password-123")
    page.goto(server.url + "/account")
    page.locator("#password-form").wait_for()
    disabled = server.api("PATCH", f"/api/users/{user_id}", server.admin_token, json={"disabled": True})
    assert disabled.status_code == 200, disabled.text
    page.wait_for_url("**/login?**", timeout=20_000)
    assert "You were logged out" in page.inner_text("#login-message")
