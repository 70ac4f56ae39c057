"""An SSH workspace made in the form, its unknown host key confirmed in the page's dialog."""

from __future__ import annotations

import secrets
import subprocess

from tests.browser.conftest import assert_prompt, login_with_tokens, poll, run, screen, wait_for_terminal


def test_new_ssh_workspace_asks_to_trust_the_host_key_then_connects(page, server, sshd):
    login_with_tokens(page, server)
    page.goto(server.url + "/")
    name = f"ssh-ui-{secrets.token_hex(3)}"
    page.fill("#ws-name", name)
    page.check("input[name=kind][value=ssh]")
    page.fill("#ws-host", sshd.host)
    page.fill("#ws-port", str(sshd.port))
    page.fill("#ws-ssh-username", sshd.username)
    page.fill("#ws-private-key", sshd.private_key)
    page.click("#create-form button[type=submit]")
    page.get_by_text(f"Workspace “{name}” created.").wait_for()
    page.get_by_role("link", name=name).click()

    dialog = page.locator("#hostkey-dialog")
    dialog.wait_for(state="visible")
    assert page.locator("#hostkey-fingerprint").inner_text() == sshd.host_fingerprint
    assert page.locator("#hostkey-key").inner_text().strip() == sshd.host_key
    dialog.get_by_role("button", name="Trust and connect").click()

    wait_for_terminal(page)
    poll(lambda: assert_prompt(page))
    run(page, "echo $(whoami)-$((6*7))")
    poll(lambda: _assert_has(page, f"{sshd.username}-42"))
    # The files panel was refused before the key was trusted: it lists the files now, with no refresh
    # asked of the user (it said "not trusted yet ... then refresh the files" until clicked).
    files = page.locator("#files-panel")
    poll(lambda: _assert_true("not trusted" not in files.inner_text() and files.locator(".file-list").is_visible()),
         timeout=10)
    workspaces = server.api("GET", "/api/workspaces", server.admin_token).json()
    pinned = [ws for ws in workspaces if ws["name"] == name][0]
    assert pinned["host_key_fingerprint"] == sshd.host_fingerprint


def test_ssh_failure_is_explained(page, server):
    workspace = server.api("POST", "/api/workspaces", server.admin_token, json={
        "name": f"ssh-down-{secrets.token_hex(3)}", "kind": "ssh", "host": "127.0.0.1", "port": 1,
        "username": "nobody", "password": "x"}).json()
    login_with_tokens(page, server)
    page.goto(f"{server.url}/workspaces/{workspace['id']}")
    message = page.locator("#page-message")
    poll(lambda: _assert_has_text(message.inner_text(), "Cannot reach 127.0.0.1 port 1:"))  # which port, too
    assert page.locator("#exit-banner").is_visible()


def _assert_has_text(text: str, needle: str) -> None:
    assert needle in text, text


def _assert_has(page, expected: str) -> None:
    assert expected in [row.strip() for row in screen(page)["visible"]], screen(page)["visible"]


def _assert_true(value) -> None:
    assert value


def test_an_owner_pins_a_changed_host_key_pasted_from_a_trusted_source(page, server, sshd, tmp_path):
    """The pinned key no longer matches: the page says so with both fingerprints and lets the owner
    or an admin paste the host's new key (never the one presented, which an attacker could send);
    one that is not a key is refused in the dialog; the right one pinned, the terminal connects."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "old")], check=True)
    old = " ".join((tmp_path / "old.pub").read_text().split()[:2])
    workspace = server.api("POST", "/api/workspaces", server.admin_token,
                           json=sshd.workspace_body(f"ssh-rekeyed-{secrets.token_hex(3)}", host_key=old)).json()
    login_with_tokens(page, server)
    page.goto(f"{server.url}/workspaces/{workspace['id']}")
    dialog = page.locator("#hostkey-changed-dialog")
    dialog.wait_for(state="visible")
    assert page.locator("#hostkey-changed-pinned").inner_text() == workspace["host_key_fingerprint"]
    assert page.locator("#hostkey-changed-presented").inner_text() == sshd.host_fingerprint
    page.fill("#hostkey-changed-key", "not a key")
    dialog.get_by_role("button", name="Pin this key and connect").click()
    poll(lambda: _assert_true(page.locator("#hostkey-changed-message").is_visible()))
    assert dialog.is_visible()
    page.fill("#hostkey-changed-key", sshd.host_key)
    dialog.get_by_role("button", name="Pin this key and connect").click()
    wait_for_terminal(page)
    poll(lambda: assert_prompt(page))
    assert not dialog.is_visible()
    pinned = server.api("GET", f"/api/workspaces/{workspace['id']}", server.admin_token).json()
    assert pinned["host_key_fingerprint"] == sshd.host_fingerprint


def test_a_member_is_told_to_ask_the_owner_about_a_changed_host_key(page, server, sshd, tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "old")], check=True)
    old = " ".join((tmp_path / "old.pub").read_text().split()[:2])
    workspace = server.api("POST", "/api/workspaces", server.admin_token,
                           json=sshd.workspace_body(f"ssh-rekeyed-{secrets.token_hex(3)}", host_key=old)).json()
    username, _ = server.create_user()
    granted = server.api("POST", f"/api/workspaces/{workspace['id']}/members", server.admin_token,
                         json={"username": username, "access": "operator"})
    assert granted.status_code == 201, granted.text
    login_with_tokens(page, server, username, "password-123")
    page.goto(f"{server.url}/workspaces/{workspace['id']}")
    message = page.locator("#page-message")
    poll(lambda: _assert_has_text(message.inner_text(), "an owner or admin must check the key"))
    assert not page.locator("#hostkey-changed-dialog").is_visible()


def test_an_owner_fixes_an_ssh_workspaces_port_credential_and_host_key_in_its_settings(page, server, sshd):
    """Made with a wrong port and password (through the API), corrected in the page's Edit form: the
    terminal then connects with the new key, to the pinned host key, with no dialog."""
    workspace = server.api("POST", "/api/workspaces", server.admin_token, json={
        "name": f"ssh-typo-{secrets.token_hex(3)}", "kind": "ssh", "host": sshd.host, "port": 1,
        "username": sshd.username, "password": "not-the-password"}).json()
    login_with_tokens(page, server)
    page.goto(server.url + "/")
    row = page.locator(f".ws-item[data-id='{workspace['id']}']")
    row.get_by_role("button", name=f"Settings of {workspace['name']}").click()
    settings = row.get_by_role("form", name=f"Settings of {workspace['name']}")
    settings.wait_for()
    assert settings.get_by_label("Host", exact=True).input_value() == sshd.host
    assert settings.get_by_label("Keep the stored one (never shown)").is_checked()
    assert "not-the-password" not in settings.inner_html()  # the stored credential is never shown
    settings.get_by_role("button", name="Save").click()
    settings.get_by_text("Nothing was changed.").wait_for()

    renamed = workspace["name"] + "-fixed"
    settings.get_by_label("Name", exact=True).fill(renamed)
    settings.get_by_label("Port", exact=True).fill(str(sshd.port))
    settings.get_by_label("Replace it with a private key").check()
    settings.get_by_role("button", name="Save").click()
    settings.get_by_text("Paste the new private key, or keep the stored credential.").wait_for()
    settings.get_by_label("New private key").fill(sshd.private_key)
    settings.get_by_label("Pin a new host key").fill(sshd.host_key)
    settings.get_by_role("button", name="Save").click()
    page.get_by_text(f"Workspace “{renamed}” saved.").wait_for()

    saved = server.api("GET", f"/api/workspaces/{workspace['id']}", server.admin_token).json()
    assert (saved["name"], saved["port"], saved["host_key_fingerprint"]) == (renamed, sshd.port, sshd.host_fingerprint)
    page.get_by_role("link", name=renamed).click()
    wait_for_terminal(page)
    poll(lambda: assert_prompt(page))
    run(page, "echo $(whoami)-$((6*7))")
    poll(lambda: _assert_has(page, f"{sshd.username}-42"))
    assert not page.locator("#hostkey-dialog").is_visible()
    audit = server.api("GET", f"/api/audit?type=workspace_update&workspace_id={workspace['id']}",
                       server.admin_token).json()
    changed = [e["detail"]["changed"] for e in audit["events"] if e["workspace_id"] == workspace["id"]]
    assert changed == [["credentials", "host_key", "name", "port"]], changed
