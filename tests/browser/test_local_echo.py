"""Predictive local echo in real Chromium, through a proxy that delays each direction by 75 ms (a
150 ms round trip): keys show in the next frame, the server's echo confirms or takes them back, the
screen ends exactly as without prediction, and nothing typed at a silent prompt or in vim is drawn."""

from __future__ import annotations

import shutil

import pytest

from tests.browser.conftest import (
    HOOK,
    assert_prompt,
    login_with_tokens,
    open_terminal,
    poll,
    screen,
    wait_for_terminal,
    wait_until,
)
from tests.browser.test_terminal_settings import open_settings
from tests.delay_proxy import DelayProxy

ONE_WAY_MS = 75

# What the user sees of the prediction layer, recorded from the page: every drawing of it
# (a MutationObserver), and the layer in the first frame after each key xterm hands over
# (requestAnimationFrame).
RECORD_JS = """() => {
  const pane = document.querySelector('.pane.active');
  const layer = pane.querySelector('.local-echo');
  const term = window.aictTest.term;
  const cells = () => [...layer.querySelectorAll('.local-echo-cell')].map((c) => c.textContent).join('');
  window.echoDrawn = [];
  window.echoFrames = [];
  new MutationObserver(() => {
    if (layer.childElementCount) window.echoDrawn.push(cells());
  }).observe(layer, {childList: true, subtree: true});
  term.onData((data) => {
    requestAnimationFrame(() => {
      const buffer = term.buffer.active;
      const row = buffer.getLine(buffer.baseY + buffer.cursorY).translateToString(true);
      window.echoFrames.push({key: data, drawn: cells(), row});
    });
  });
}"""


class Through:
    """The test server as a browser reaches it through the proxy."""

    def __init__(self, server, url: str):
        self._server = server
        self.url = url

    def __getattr__(self, name):
        return getattr(self._server, name)


@pytest.fixture
def slow_link(server):
    server.wait_for_host(timeout=180)  # a server just started on a busy machine: its terminal host may lag
    proxy = DelayProxy(server.port, ONE_WAY_MS).start()
    yield Through(server, proxy.url)
    proxy.stop()


def cursor_row(page) -> str:
    state = screen(page)
    return state["rows"][state["baseY"] + state["cursorY"]]


def drawn(page) -> list[str]:
    return page.evaluate("window.echoDrawn")


def layer_cells(page) -> int:
    return page.evaluate("document.querySelector('.pane.active .local-echo').childElementCount")


def typed_and_echoed(page, text: str, delay: float = 60) -> None:
    """Type `text` key by key and wait until the row ends with all of it (the server echoed it)."""
    page.keyboard.type(text, delay=delay)
    poll(lambda: _assert_equal(text in cursor_row(page), True), timeout=10)


def predicting_terminal(page, link, workspace) -> None:
    """Open a terminal through `link`, type until the page has measured the round trip."""
    login_with_tokens(page, link)
    open_slowly(page, link, workspace["id"])
    page.locator(".pane.active .xterm-helper-textarea").focus()
    typed_and_echoed(page, ": warming up")
    page.keyboard.press("Enter")
    poll(lambda: assert_prompt(page))
    page.evaluate(RECORD_JS)


def open_slowly(page, link, workspace_id: str) -> None:
    """open_terminal through the slow link: the page's requests and the socket's handshake each take
    a round trip or more, on a machine that may also be starting the server's terminal host."""
    page.goto(f"{link.url}/workspaces/{workspace_id}")
    wait_for_terminal(page, timeout=60)
    poll(lambda: assert_prompt(page), timeout=30)


def echo_state(page) -> dict:
    return page.evaluate(f"{HOOK}.localEcho")


# Each key must be drawn in its next frame: on a machine loaded several times over, an echo late by
# more than the page's grace (250 ms) rightly stops predicting, which is what this must not measure.
@pytest.mark.serial
def test_keys_show_in_the_next_frame_through_a_slow_link_and_the_screen_ends_as_without(browser, page, server,
                                                                                        slow_link, workspace):
    predicting_terminal(page, slow_link, workspace)
    state = echo_state(page)
    assert state["mode"] == "auto" and state["on"], state
    assert state["roundTrip"] >= 2 * ONE_WAY_MS

    # The row's first key is not drawn (the row may not echo); once it came back, keys show at once.
    typed_and_echoed(page, "e")
    keys = ["c", "h", "o", " ", "w", "r", "l", "d", "ArrowLeft", "ArrowLeft", "ArrowLeft", "o",
            "ArrowRight", "ArrowRight", "ArrowRight", "x", "Backspace", "!"]
    page.evaluate("window.echoFrames = []")
    for key in keys:
        page.keyboard.press(key)
        page.wait_for_timeout(40)
    poll(lambda: _assert_equal(cursor_row(page).rstrip().split("$ ", 1)[-1], "echo world!"), timeout=10)
    frames = [f for f in page.evaluate("window.echoFrames") if len(f["key"]) == 1 and f["key"] not in " \x7f"]
    assert [f["key"] for f in frames] == [k for k in keys if len(k) == 1 and k != " "]
    for frame in frames:  # drawn in the first frame after its key, before the server had echoed it
        assert frame["key"] in frame["drawn"], frame
    poll(lambda: _assert_equal(layer_cells(page), 0))  # all confirmed: nothing drawn over the screen
    page.keyboard.press("Enter")
    poll(lambda: assert_prompt(page))
    predicted_screen = _after_prompt(page, "echo world!")

    # The same keys on loopback, where auto does not predict: the very same screen.
    plain = browser.new_page(viewport=page.viewport_size)
    try:
        login_with_tokens(plain, server)
        open_terminal(plain, server, server.create_local_workspace()["id"])
        plain.locator(".pane.active .xterm-helper-textarea").focus()
        plain.keyboard.type("e")
        for key in keys:
            plain.keyboard.press(key)
        poll(lambda: _assert_equal(cursor_row(plain).rstrip().split("$ ", 1)[-1], "echo world!"), timeout=10)
        plain.keyboard.press("Enter")
        poll(lambda: assert_prompt(plain))
        assert _after_prompt(plain, "echo world!") == predicted_screen
        assert plain.evaluate(f"{HOOK}.localEcho.on") is False
    finally:
        plain.close()


def _after_prompt(page, command: str) -> list[str]:
    """The rows from the one where `command` was typed to the cursor's, and the cursor's column."""
    state = screen(page)
    rows = state["rows"][: state["baseY"] + state["cursorY"] + 1]
    start = max(i for i, row in enumerate(rows) if row.endswith(command))
    return [*rows[start:], f"cursor at {page.evaluate('window.aictTest.term.buffer.active.cursorX')}"]


def _assert_equal(actual, expected) -> None:
    assert actual == expected, actual


def test_a_mispredicted_key_is_taken_back_with_no_trace(page, slow_link, workspace):
    predicting_terminal(page, slow_link, workspace)
    typed_and_echoed(page, "bind '\"x\": \"y\"'")
    page.keyboard.press("Enter")
    poll(lambda: assert_prompt(page))
    typed_and_echoed(page, "echo ab")
    page.evaluate("window.echoDrawn = []")
    page.keyboard.press("x")  # drawn as x, echoed as y
    page.keyboard.press("z")
    poll(lambda: _assert_equal(cursor_row(page).rstrip().endswith("echo abyz"), True), timeout=10)
    poll(lambda: _assert_equal(layer_cells(page), 0))
    assert "x" in "".join(drawn(page)), "the key was predicted"
    page.keyboard.press("q")  # refuted on this line: nothing more is predicted until it settles
    poll(lambda: _assert_equal(cursor_row(page).rstrip().endswith("echo abyzq"), True), timeout=10)
    assert not [d for d in drawn(page) if "q" in d]
    assert layer_cells(page) == 0
    page.keyboard.press("Enter")
    poll(lambda: _assert_equal("abyzq" in screen(page)["rows"][screen(page)["baseY"] + screen(page)["cursorY"] - 1],
                               True))


def test_a_program_in_raw_mode_leaves_no_trace_of_a_prediction(page, slow_link, workspace):
    predicting_terminal(page, slow_link, workspace)
    # The tty echoes each key and dd copies it: every key shows twice, which no prediction expects.
    typed_and_echoed(page, "stty raw; printf 'RAW%s\\r\\n' -READY; dd bs=1 count=3 2>/dev/null; stty sane; echo")
    page.keyboard.press("Enter")
    # Keys typed before the terminal is raw would be read by the shell's line discipline instead.
    poll(lambda: _assert_equal("RAW-READY" in screen(page)["rows"], True), timeout=10)
    def row_after_ready() -> str:
        rows = screen(page)["rows"]
        return rows[rows.index("RAW-READY") + 1]

    shown = ""
    for key in "abc":  # the next key once this one's echo and copy are back: sent together (a slow
        page.keyboard.press(key)  # link's input queue does that), two keys' echoes come before their copies
        shown += key * 2
        poll(lambda want=shown: _assert_equal(row_after_ready(), want), timeout=10)  # exactly the server's bytes
    poll(lambda: assert_prompt(page))
    assert row_after_ready() == "aabbcc"  # and nothing predicted left behind (a row's first key is never drawn)
    assert layer_cells(page) == 0


# (the command, what shows once it has the password); sudo where it is installed.
SILENT_PROMPTS = [("read -s -p '[sudo] password: ' secret; echo; echo got ${#secret}", "got 7")]
if shutil.which("sudo"):
    SILENT_PROMPTS.append(("sudo -k true", "try again"))


@pytest.mark.parametrize(("command", "answered"), SILENT_PROMPTS)
def test_nothing_typed_at_a_silent_prompt_is_drawn(page, slow_link, workspace, command, answered):
    predicting_terminal(page, slow_link, workspace)
    typed_and_echoed(page, command)
    page.keyboard.press("Enter")
    poll(lambda: _assert_equal("password" in cursor_row(page), True), timeout=10)
    page.evaluate("window.echoDrawn = []")
    page.keyboard.type("hunter2", delay=120)
    page.wait_for_timeout(600)
    assert drawn(page) == []
    assert "hunter2" not in "\n".join(screen(page)["rows"])
    page.keyboard.press("Enter")
    poll(lambda: _assert_equal(answered in "\n".join(screen(page)["rows"]), True), timeout=15)
    page.keyboard.press("Control+C")
    poll(lambda: assert_prompt(page))
    assert drawn(page) == []
    assert "hunter2" not in "\n".join(screen(page)["rows"])


def test_vim_shows_no_predicted_characters(page, slow_link, workspace):
    assert shutil.which("vim"), "vim is not installed: run the suite through `make test` (system-test-deps)"
    predicting_terminal(page, slow_link, workspace)
    typed_and_echoed(page, "vim -u NONE -N")
    page.keyboard.press("Enter")
    wait_until(page, "window.aictTest.term.buffer.active.type === 'alternate'", timeout=15)
    page.evaluate("window.echoDrawn = []")
    page.keyboard.press("i")
    page.keyboard.type("predicted? no", delay=60)
    poll(lambda: _assert_equal("predicted? no" in "\n".join(screen(page)["rows"]), True), timeout=10)
    assert drawn(page) == []
    page.keyboard.press("Escape")
    page.keyboard.type(":q!", delay=40)
    page.keyboard.press("Enter")
    poll(lambda: assert_prompt(page), timeout=15)


def test_auto_does_not_predict_on_loopback(page, server, workspace):
    login_with_tokens(page, server)
    open_terminal(page, server, workspace["id"])
    page.locator(".pane.active .xterm-helper-textarea").focus()
    page.evaluate(RECORD_JS)
    typed_and_echoed(page, "echo on loopback")
    page.keyboard.press("Enter")
    poll(lambda: assert_prompt(page))
    typed_and_echoed(page, "echo again")
    state = echo_state(page)
    assert state["mode"] == "auto" and state["on"] is False, state
    assert drawn(page) == []


def test_off_in_the_settings_dialog_predicts_nothing_even_through_a_slow_link(page, server, slow_link, workspace):
    password = "echo-off-pass-123"
    username, _ = server.create_user(password=password)  # settings are per user: not the admin's
    granted = server.api("POST", f"/api/workspaces/{workspace['id']}/members", server.admin_token,
                         json={"username": username, "access": "operator"})
    assert granted.status_code == 201, granted.text
    login_with_tokens(page, slow_link, username, password)
    open_slowly(page, slow_link, workspace["id"])
    dialog = open_settings(page)
    dialog.locator("select[name=local_echo]").select_option("off")
    dialog.get_by_role("button", name="Save").click()
    poll(lambda: _assert_equal(echo_state(page)["mode"], "off"))
    page.locator(".pane.active .xterm-helper-textarea").focus()
    page.evaluate(RECORD_JS)
    typed_and_echoed(page, ": one")
    page.keyboard.press("Enter")
    poll(lambda: assert_prompt(page))
    typed_and_echoed(page, ": two")
    assert echo_state(page)["on"] is False
    assert echo_state(page)["roundTrip"] >= 2 * ONE_WAY_MS
    assert drawn(page) == []
    assert server.api("GET", "/api/me/settings", server.login(username, password)).json()["local_echo"] == "off"
