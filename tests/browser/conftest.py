"""Real Chromium against the real server: fixtures and helpers for the browser tests.

The pages run under the server's strict Content-Security-Policy, so helpers poll with
page.evaluate (not wait_for_function, which needs eval)."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import pytest

from tests.ssh.conftest import sshd  # noqa: F401  (a real sshd for the host-key test)

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
DIST = Path(__file__).resolve().parents[2] / "static" / "dist"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

# The terminal page's test hook (static/src/terminal-page/test-hooks.js): the xterm as `term`, and
# sessionId, status, renderedOffset, droppedBytes, notKeptBytes, inUse, transport, saveResumePoint()
# and dropConnection(). Only pages of a server started with AICT_TEST_HOOKS have it (tests/server.py
# sets it); production pages have nothing on window.
HOOK = "window.aictTest"

ROWS_JS = """() => {
  const term = window.aictTest.term;
  const buffer = term.buffer.active;
  const rows = [];
  for (let y = 0; y < buffer.length; y++) rows.push(buffer.getLine(y).translateToString(true));
  return {rows, viewportY: buffer.viewportY, baseY: buffer.baseY, cursorY: buffer.cursorY,
          type: buffer.type, termRows: term.rows, termCols: term.cols};
}"""


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run the suite through `make test`, which installs it")
    if not (DIST / "terminal.js").exists():
        pytest.fail("static/dist is not built: run the suite through `make test` (npm ci && npm run build)")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Programs a test runs in a terminal: local shells run as the test servers' shell account
# (tests/server.py), which can reach neither the venv's interpreter (under /root) nor pytest's
# private folders. Debian's python3 and a folder of the test's, open to read, then.
SHELL_PYTHON = "/usr/bin/python3"


@pytest.fixture
def shell_dir():
    """A folder for scripts a terminal's shell runs (readable by the shell account)."""
    folder = Path(tempfile.mkdtemp(prefix="aict-shell-scripts-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def page(browser):
    """A fresh browser context (own storage) at desktop size; fails the test on page errors."""
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def wait_until(page, js: str, timeout: float = 20, arg=None):
    """Poll a JS expression/function in the page until it is truthy; returns its value."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = page.evaluate(js, arg) if arg is not None else page.evaluate(js)
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {js!r}; last value {value!r}")


def poll(check, timeout: float = 20, interval: float = 0.05):
    """Call `check()` until it stops raising AssertionError (expect(...).to_pass style)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(interval)


def hook(page, name: str):
    """A value the page's test hook gives: hook(page, "renderedOffset")."""
    return page.evaluate(f"{HOOK}.{name}")


def wait_for_terminal(page, session_id: str | None = None, *, other_than: str | None = None,
                      timeout: float = 20) -> str:
    """Wait until the page shows a terminal (`session_id`, or any but `other_than`, or any) and is
    connected; returns the terminal's id."""
    shown = f"{HOOK}.sessionId"
    if session_id is not None:
        shown += f" === {session_id!r}"
    elif other_than is not None:
        shown += f" && {HOOK}.sessionId !== {other_than!r}"
    return wait_until(page, f"{HOOK} && {HOOK}.status === 'connected' && {shown} && {HOOK}.sessionId", timeout)


def screen(page) -> dict:
    """The terminal's buffer as the user sees it: all rows plus the visible window."""
    state = page.evaluate(ROWS_JS)
    top = state["viewportY"]
    state["visible"] = state["rows"][top:top + state["termRows"]]
    return state


def screen_text(page) -> str:
    return "\n".join(screen(page)["visible"])


def login_with_tokens(page, server, username: str | None = None, password: str | None = None) -> None:
    """Skip the form: log in as the page does (admin by default), so the browser context holds the
    login's HttpOnly refresh cookie; pages get their access token from it."""
    response = page.context.request.post(server.url + "/api/auth/login", data={
        "username": username or server.admin_username, "password": password or server.admin_password,
        "refresh_cookie": True})
    assert response.ok, response.text()
    page.goto(server.url + "/login")
    page.wait_for_url(server.url + "/")  # logged in already: the login page goes on to the workspaces


def open_terminal(page, server, workspace_id: str) -> str:
    """Open a workspace's terminal page and wait for a shell prompt; returns the session id."""
    page.goto(f"{server.url}/workspaces/{workspace_id}")
    session_id = wait_for_terminal(page)
    poll(lambda: assert_prompt(page))
    return session_id


def assert_prompt(page) -> None:
    state = screen(page)
    line = state["rows"][state["baseY"] + state["cursorY"]]
    assert line.rstrip().endswith(("$", "#")), state["visible"]


def run(page, command: str) -> None:
    """Type a command as a user would (into the active pane), wait for the shell to echo all of it, press Enter."""
    page.locator(".pane.active .xterm-helper-textarea").focus()
    page.keyboard.type(command)
    tail = command[-12:]

    def echoed():
        state = screen(page)
        cursor = state["baseY"] + state["cursorY"]
        assert tail in "".join(state["rows"][max(0, cursor - 3):cursor + 1]), state["visible"]

    poll(echoed, timeout=10)
    page.keyboard.press("Enter")
