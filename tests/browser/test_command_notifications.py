"""A command that finishes in a terminal out of sight raises a notification in the page, with its
exit code (a failure flagged as an error), and the browser's own notification when allowed."""

from __future__ import annotations

from tests.browser.conftest import login_with_tokens, open_terminal, run, wait_for_terminal


def _new_terminal(page, other_than: str) -> str:
    page.locator("#sidebar [data-action=new-terminal]").click()
    return wait_for_terminal(page, other_than=other_than)


def test_a_command_failing_in_a_background_terminal_raises_a_notification(page, server, workspace):
    page.context.grant_permissions(["notifications"], origin=server.url)
    # what the browser is asked to show (Chromium headless shows nothing): record it in the page
    page.add_init_script("""
        window.shownNotifications = [];
        const Real = window.Notification;
        window.Notification = class extends Real {
          constructor(title, options) { super(title, options); window.shownNotifications.push({ title, ...options }); }
        };
    """)
    login_with_tokens(page, server)
    first = open_terminal(page, server, workspace["id"])
    run(page, "sleep 3; false")
    _new_terminal(page, first)  # the first terminal leaves the screen while the command runs

    toast = page.locator("#notifications .notification")
    toast.first.wait_for(state="visible", timeout=15_000)
    assert toast.count() == 1
    assert toast.get_attribute("data-kind") == "error" and toast.get_attribute("data-exit-code") == "1"
    assert toast.get_attribute("data-session-id") == first
    text = toast.inner_text()
    assert "sleep 3; false" in text and "exit code 1" in text, text
    assert toast.get_attribute("role") == "alert"
    shown = page.evaluate("window.shownNotifications")
    assert len(shown) == 1 and "exit code 1" in shown[0]["title"], shown
    page.screenshot(path="/tmp/aict-shots-procs-notification.png")

    toast.get_by_role("button", name="Show").click()  # brings the terminal on screen
    wait_for_terminal(page, first)
    assert toast.count() == 0

    run(page, "sleep 3; true")  # on screen: the user sees it end, no notification
    page.wait_for_timeout(4500)
    assert toast.count() == 0 and len(page.evaluate("window.shownNotifications")) == 1
