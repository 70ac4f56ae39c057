"""An SSH workspace made in the form, its unknown host key confirmed in the page's dialog."""

from __future__ import annotations

import secrets

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
    poll(lambda: _assert_has_text(message.inner_text(), "Cannot reach 127.0.0.1"))
    assert page.locator("#exit-banner").is_visible()


def _assert_has_text(text: str, needle: str) -> None:
    assert needle in text, text


def _assert_has(page, expected: str) -> None:
    assert expected in [row.strip() for row in screen(page)["visible"]], screen(page)["visible"]


def _assert_true(value) -> None:
    assert value
