"""Every page (login, workspaces, terminal, account, users, audit, sessions, replay) runs under the server's
Content-Security-Policy with nothing refused: scripts, styles and the websocket all come from the
page's own origin, no inline style is needed (xterm.js's own <style> elements carry the
response's nonce), and the terminal works and shows colour."""

from __future__ import annotations

import re

from tests.browser.conftest import poll, run, screen_text, wait_for_terminal, wait_until
from tests.browser.test_terminal_page import create_workspace_through_form, log_in_through_form

LISTEN = """() => document.addEventListener("securitypolicyviolation", (e) => window.cspViolation({
  directive: e.effectiveDirective, blocked: e.blockedURI, sample: e.sample, source: e.sourceFile,
  line: e.lineNumber, page: location.pathname}))"""


def test_every_page_runs_under_the_csp_without_a_violation(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(20_000)
    violations: list[dict] = []
    refused: list[str] = []
    errors: list[str] = []
    context.expose_function("cspViolation", lambda violation: violations.append(violation))
    context.add_init_script(f"({LISTEN})()")
    page = context.new_page()
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        log_in_through_form(page, server)  # the login page, then the workspaces page

        create_workspace_through_form(page, "csp")
        wait_for_terminal(page)
        assert wait_until(page, "window.aictTest.transport") == "websocket"  # connect-src 'self' lets it through

        session_id = wait_until(page, "window.aictTest.sessionId")
        run(page, "printf '\\033[31mred-%s\\033[0m\\n' $((6*7))")
        poll(lambda: _assert(re.search(r"^red-42$", screen_text(page), re.M), screen_text(page)))
        # xterm's theme reached the page (its <style> elements applied): the red cell is red
        colour = cell_colour(page, "red-42")
        red, green, blue = map(int, re.findall(r"\d+", colour)[:3])
        assert red > 150 and green < 100 and blue < 100, colour
        # a colour the palette does not hold (24-bit): xterm sets it as a style attribute
        run(page, "printf '\\033[38;2;0;200;255mtrue-%s\\033[0m\\n' $((6*7))")
        assert cell_colour(page, "true-42") == "rgb(0, 200, 255)"
        # and its cell sizes: rows are as tall as the style element says, not collapsed
        height = page.evaluate("() => document.querySelector('.xterm-rows > div').getBoundingClientRect().height")
        assert height > 5, height

        # the account page (with its QR code, an image made in the page) and the users page
        page.goto(server.url + "/account")
        page.locator("#totp-section").wait_for()
        page.click("#totp-start")
        wait_until(page, "() => document.querySelector('#totp-qr').naturalWidth > 0")
        page.goto(server.url + "/users")
        page.locator(f'#user-rows tr[data-username="{server.admin_username}"]').wait_for()
        page.wait_for_load_state("networkidle")
        # the review pages, and the replay's player (its terminal emulator is WebAssembly) playing
        page.goto(server.url + "/audit")
        page.locator("#event-rows tr[data-id]").first.wait_for()
        page.goto(server.url + "/sessions")
        page.locator(f"#session-rows tr[data-id='{session_id}']").wait_for()
        page.goto(f"{server.url}/sessions/{session_id}/replay")
        page.locator("#player .ap-player").click()
        poll(lambda: _assert("red-42" in page.inner_text("#player"), page.inner_text("#player")), timeout=30)
        page.wait_for_load_state("networkidle")
        page.goto(server.url + "/login")
        page.wait_for_load_state("networkidle")
    finally:
        context.close()
    assert not errors, errors
    assert not violations, violations
    assert not refused, refused


def cell_colour(page, text: str) -> str:
    """The colour the browser draws the terminal's cell with `text` in."""
    return wait_until(page, """(text) => {
      const cell = [...document.querySelectorAll('.xterm-rows span')].find((s) => s.textContent.includes(text));
      return cell && getComputedStyle(cell).color;
    }""", arg=text)


def _assert(condition, detail) -> None:
    assert condition, detail


def test_the_policy_allows_only_this_origin_and_no_inline_style(server):
    first = server.api("GET", "/login").headers["Content-Security-Policy"]
    second = server.api("GET", "/login").headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in first.split(";"))
    assert directives["connect-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert "unsafe-inline" not in first and "ws:" not in first and "wss:" not in first
    assert re.fullmatch(r"'self' 'nonce-[A-Za-z0-9_-]{20,}'", directives["style-src"]), directives["style-src"]
    assert first != second  # a nonce for each response
    page = server.api("GET", "/login").text
    assert 'name="aict-style-nonce"' in page
    assert "style=" not in page  # no inline style attribute in the markup
    assert "wasm-unsafe-eval" not in first  # only the replay page's player compiles WebAssembly


def test_only_the_replay_page_may_compile_webassembly(server):
    replay = server.api("GET", "/sessions/anything/replay").headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in replay.split(";"))
    assert directives["script-src"] == "'self' 'wasm-unsafe-eval'"  # WebAssembly, never eval() of script
    assert directives["default-src"] == "'self'" and "unsafe-inline" not in replay
    for path in ("/audit", "/sessions", "/sessions/anything", "/"):
        assert "wasm" not in server.api("GET", path).headers["Content-Security-Policy"], path
