"""The terminal page with compressed output (`compress: "deflate-raw"`, decoded by the browser's
DecompressionStream) shows the same screen for a flood as without it."""

from __future__ import annotations

import base64
import json
import os
import random

from tests.browser.conftest import (
    DESKTOP,
    hook,
    login_with_tokens,
    open_terminal,
    poll,
    run,
    screen,
    wait_for_terminal,
)

# The page's rule leaves compression off on loopback (docs/performance.md); this override turns it on.
COMPRESS = "localStorage.setItem('aict.compress', {!r})"


def _flood_file(folder) -> str:
    """Mixed text (numbers, coloured log lines, base64 noise, long lines that wrap), the same every time."""
    rng = random.Random(7)
    lines = [f"{i}" for i in range(20000)]
    lines += [f"\x1b[3{i % 7 + 1}mlevel-{i % 5}\x1b[0m worker {i % 9} request {rng.getrandbits(40):x} ok"
              for i in range(6000)]
    lines += base64.encodebytes(rng.randbytes(150_000)).decode().splitlines()
    lines += ["wide " * 60 + str(i) for i in range(300)]
    path = folder / "flood.txt"
    path.write_text("\n".join(lines) + "\nFLOOD-DONE\n")
    path.chmod(0o644)
    return str(path)


def _open(browser, server, workspace_id: str, compress: str):
    context = browser.new_context(viewport=DESKTOP)
    context.add_init_script(COMPRESS.format(compress))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    compressed = []  # the uncompressed length of each compressed chunk the page received

    def received(payload) -> None:
        if isinstance(payload, str) and '"encoding":"deflate-raw"' in payload:
            compressed.append(json.loads(payload[payload.index("["):])[1]["length"])

    page.on("websocket", lambda ws: ws.on("framereceived", received))
    login_with_tokens(page, server)
    open_terminal(page, server, workspace_id)
    return context, page, errors, compressed


def _flooded_screen(page, path: str) -> list[str]:
    run(page, f"clear; cat {path}")
    poll(lambda: assert_done(page), timeout=60)
    rows = screen(page)["rows"]
    return [row.rstrip() for row in rows]


def assert_done(page) -> None:
    state = screen(page)
    assert any(row.startswith("FLOOD-DONE") for row in state["rows"]), state["visible"]
    cursor_line = state["rows"][state["baseY"] + state["cursorY"]]
    assert cursor_line.rstrip().endswith(("$", "#")), state["visible"]


def test_a_flood_shows_the_same_screen_compressed_as_not(browser, server, workspace, shell_dir):
    path = _flood_file(shell_dir)
    screens, opened = {}, []
    try:
        for compress in ("on", "off"):
            context, page, errors, compressed = _open(browser, server, workspace["id"], compress)
            opened.append(context)
            screens[compress] = _flooded_screen(page, path)
            rendered = hook(page, "renderedOffset")
            assert not errors, errors
            if compress == "on":  # the flood came compressed (how many chunks it came in is the server's pace)
                assert sum(compressed) > 0.9 * os.path.getsize(path), "the page did not get compressed output"
                assert hook(page, "droppedBytes") == 0
            else:
                assert not compressed
            assert rendered > 500_000
    finally:
        for context in opened:
            context.close()
    assert screens["on"] == screens["off"]
    assert any("FLOOD-DONE" in row for row in screens["on"])


def test_typing_echoes_and_a_reload_resumes_with_compression_on(browser, server, workspace):
    context = browser.new_context(viewport=DESKTOP)
    context.add_init_script(COMPRESS.format("on"))
    page = context.new_page()
    try:
        login_with_tokens(page, server)
        session_id = open_terminal(page, server, workspace["id"])
        run(page, "seq 1 5000; echo END-$((6*7))")
        poll(lambda: _shows(page, "END-42"))
        page.reload()
        wait_for_terminal(page, session_id)
        poll(lambda: _shows(page, "END-42"))
        run(page, "echo AGAIN-$((5*5))")
        poll(lambda: _shows(page, "AGAIN-25"))
        assert hook(page, "droppedBytes") == 0
    finally:
        context.close()


def _shows(page, text: str) -> None:
    rows = screen(page)["rows"]
    assert any(row.strip() == text for row in rows), screen(page)["visible"]
