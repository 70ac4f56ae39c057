"""The settings dialog: saved for the user on the server, applied at once to every pane, and there in
another browser (another context: its own storage) where the same user logs in."""

from __future__ import annotations

from tests.browser.conftest import DESKTOP, PHONE, login_with_tokens, open_terminal, poll, run, screen_text
from tests.browser.test_terminal_panes import panes, shoot, wait_for_panes

PASSWORD = "settings-pass-123"


def _operator(server, workspace) -> str:
    """A user of their own (settings are per user: the admin's would leak into other tests)."""
    username, _ = server.create_user(password=PASSWORD)
    granted = server.api("POST", f"/api/workspaces/{workspace['id']}/members", server.admin_token,
                         json={"username": username, "access": "operator"})
    assert granted.status_code == 201, granted.text
    return username


def _look(page) -> dict:
    return page.evaluate("""() => ({
      theme: document.documentElement.dataset.theme,
      page: getComputedStyle(document.body).backgroundColor,
      panes: window.aictTest.panes.map((p) => ({
        fontSize: p.term.options.fontSize, fontFamily: p.term.options.fontFamily,
        cursorStyle: p.term.options.cursorStyle, cursorBlink: p.term.options.cursorBlink,
        scrollback: p.term.options.scrollback,
        background: getComputedStyle(p.term.element.querySelector('.xterm-viewport')).backgroundColor,
        cols: p.term.cols})),
    })""")


def _assert_true(value) -> None:
    assert value


def open_settings(page):
    """The Settings dialog, opened from the tab bar as a user does."""
    page.locator(".tab-tools [data-action=settings]").click()
    return page.locator("#settings-dialog")


def _operator_at_a_terminal(page, server, workspace) -> str:
    username = _operator(server, workspace)
    login_with_tokens(page, server, username, PASSWORD)
    open_terminal(page, server, workspace["id"])
    return username


def test_settings_apply_to_every_pane_at_once_and_follow_the_user_to_another_browser(browser, page, server, workspace):
    username = _operator_at_a_terminal(page, server, workspace)
    page.keyboard.press("Control+Shift+E")
    wait_for_panes(page, 2)
    before = _look(page)
    assert before["theme"] == "dark"
    assert [p["fontSize"] for p in before["panes"]] == [14, 14]

    dialog = open_settings(page)
    assert dialog.is_visible()
    dialog.locator("select[name=theme]").select_option("light")
    dialog.locator("input[name=font_size]").fill("20")
    dialog.locator("select[name=font_family]").select_option("Liberation Mono")
    dialog.locator("input[name=scrollback]").fill("12000")
    dialog.locator("select[name=cursor_style]").select_option("bar")
    assert dialog.locator("select[name=cursor_blink]").input_value() == "false"  # steady unless asked
    dialog.locator("select[name=cursor_blink]").select_option("true")
    shoot(page, "settings-dialog")
    dialog.get_by_role("button", name="Save").click()
    poll(lambda: _assert_true(not dialog.is_visible()))

    after = _look(page)
    assert after["theme"] == "light"
    assert after["page"] != before["page"]
    for pane, old in zip(after["panes"], before["panes"], strict=True):  # both panes, without a reload
        assert pane["fontSize"] == 20 and pane["cursorStyle"] == "bar" and pane["scrollback"] == 12000
        assert pane["cursorBlink"] is True and old["cursorBlink"] is False
        assert pane["fontFamily"].startswith('"Liberation Mono"')
        assert pane["background"] == "rgb(251, 251, 250)", pane  # the light terminal
        assert pane["cols"] < old["cols"]  # bigger letters, fewer columns (refitted)
    run(page, "printf '\\033[33myellow\\033[0m on white\\n'")
    poll(lambda: _assert_true("yellow on white" in screen_text(page)))
    shoot(page, "light-theme")
    assert server.api("GET", "/api/me/settings", server.login(username, PASSWORD)).json()["theme"] == "light"

    # Another browser: nothing of the first one's storage; the server's settings apply.
    context = browser.new_context(viewport=DESKTOP)
    try:
        other = context.new_page()
        login_with_tokens(other, server, username, PASSWORD)
        open_terminal(other, server, workspace["id"])
        look = _look(other)
        assert look["theme"] == "light"
        assert look["panes"][0]["fontSize"] == 20 and look["panes"][0]["cursorStyle"] == "bar"
        assert look["panes"][0]["background"] == "rgb(251, 251, 250)"
        # The other pages take the theme too.
        other.goto(server.url + "/")
        poll(lambda: _assert_true(other.evaluate("document.documentElement.dataset.theme") == "light"))
        shoot(other, "light-theme-workspaces")
        other.goto(server.url + "/account")  # where the settings are offered too
        summary = other.locator("#settings-summary")
        poll(lambda: _assert_true("Light theme" in summary.inner_text()))
        assert "Liberation Mono 20 px" in summary.inner_text() and "12000 lines" in summary.inner_text()
        other.locator("#settings-open").click()
        assert other.locator("#settings-dialog select[name=theme]").input_value() == "light"
        shoot(other, "account-settings")
    finally:
        context.close()


def test_a_value_the_server_refuses_is_said_in_the_dialog_and_nothing_changes(page, server, workspace):
    username = _operator_at_a_terminal(page, server, workspace)
    dialog = open_settings(page)
    # The field's own bounds stop a browser user; a value past them still reaches the server from
    # a page that does not check (or an old one): the server's sentence is shown.
    dialog.locator("input[name=font_size]").evaluate("(input) => { input.removeAttribute('max'); input.value = '99'; }")
    dialog.get_by_role("button", name="Save").click()
    message = dialog.locator("[role=alert]")
    poll(lambda: _assert_true(message.is_visible()))
    assert "font_size" in message.inner_text()
    assert dialog.is_visible()
    assert panes(page)[0]["cols"] and page.evaluate("window.aictTest.term.options.fontSize") == 14
    dialog.get_by_role("button", name="Cancel").click()
    assert server.api("GET", "/api/me/settings", server.login(username, PASSWORD)).json()["font_size"] == 14


def test_keys_typed_after_saving_the_settings_reach_the_terminal(page, server, workspace):
    """Saved, the dialog gave the keys back to the Settings button: the next command's space opened
    it again and the command was lost."""
    _operator_at_a_terminal(page, server, workspace)
    dialog = open_settings(page)
    dialog.locator("select[name=cursor_style]").select_option("bar")
    dialog.get_by_role("button", name="Save").click()
    poll(lambda: _assert_true(not dialog.is_visible()))
    page.keyboard.type("echo after-settings-$((6*7))")
    page.keyboard.press("Enter")
    poll(lambda: _assert_true("after-settings-42" in screen_text(page)))
    assert not dialog.is_visible()


def test_a_phone_reaches_the_settings_from_the_sidebar(browser, server, workspace):
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    try:
        page = context.new_page()
        login_with_tokens(page, server)
        open_terminal(page, server, workspace["id"])
        assert not page.locator(".tab-tools [data-action=settings]").is_visible()  # no room in the tab bar
        page.locator("#sessions-toggle").click()
        settings = page.locator("#sidebar [data-action=settings]")
        settings.click()
        dialog = page.locator("#settings-dialog")
        poll(lambda: _assert_true(dialog.is_visible()))
        box, view = dialog.bounding_box(), page.viewport_size
        assert box["x"] >= 0 and box["x"] + box["width"] <= view["width"], box
        dialog.get_by_role("button", name="Cancel").click()
        page.locator("#help-open").click()
        help_dialog = page.locator("#help-dialog")
        poll(lambda: _assert_true(help_dialog.is_visible()))
        table, within = page.locator(".help-keys").bounding_box(), help_dialog.bounding_box()
        assert table["x"] + table["width"] <= within["x"] + within["width"], (table, within)  # nothing past its edge
    finally:
        context.close()
