"""Which renderer draws the terminal (static/src/terminal-page/renderer.js): WebGL only where a GPU
draws it, xterm's DOM renderer elsewhere; `localStorage` `aict.renderer` chooses either."""

from __future__ import annotations

from tests.browser.conftest import DESKTOP, login_with_tokens, open_terminal, poll, run, screen_text

DRAWN_BY = """() => {
  const screen = document.querySelector('.pane.active .xterm-screen');
  return screen.querySelector('canvas') ? 'webgl' : screen.querySelector('.xterm-rows') ? 'dom' : 'none';
}"""


def _drawn_by(page) -> str:
    return page.evaluate(DRAWN_BY)


def test_without_a_gpu_the_dom_renderer_draws(page, server, workspace):
    # Headless Chromium with --disable-gpu has only SwiftShader's WebGL: drawn in software, slower.
    login_with_tokens(page, server)
    open_terminal(page, server, workspace["id"])
    assert _drawn_by(page) == "dom"
    run(page, "echo drawn-by-$((6*7))")
    poll(lambda: _assert_in(page, "drawn-by-42"))
    # In the buffer first, in the DOM rows at the next frame: what the user sees is the rows.
    poll(lambda: _assert_drawn(page, "drawn-by-42"))


def test_webgl_when_asked_draws_the_same_terminal(browser, server, workspace):
    context = browser.new_context(viewport=DESKTOP)
    context.add_init_script("localStorage.setItem('aict.renderer', 'webgl')")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        login_with_tokens(page, server)
        open_terminal(page, server, workspace["id"])
        assert _drawn_by(page) == "webgl"
        run(page, "echo drawn-by-$((6*7))")
        poll(lambda: _assert_in(page, "drawn-by-42"))
    finally:
        context.close()
    assert not errors, errors


def _assert_drawn(page, text: str) -> None:
    rows = page.locator(".pane.active .xterm-rows").inner_text()
    assert text in rows, rows


def _assert_in(page, text: str) -> None:
    assert text in screen_text(page).splitlines(), screen_text(page)
