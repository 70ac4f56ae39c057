"""Predictive local echo: how soon a typed character is on screen, through a slow link and without.

    .venv/bin/python -m bench.local_echo [--lines N] [--gap MS] [--one-way MS]

Real headless Chromium types lines of a comment key by key into the terminal page, reached on
loopback and through tests/delay_proxy.py (each direction delayed by --one-way ms). Per key: from
its keydown to the first animation frame in which the row, as drawn (the terminal's cells with the
prediction layer over them), shows it. Prints a table; within-run comparisons only.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bench import main as bench

CHROMIUM = "/usr/bin/chromium"
TEXT = "# the quick brown fox jumps over"  # one row: its first key proves the row echoes

# Times each key from keydown to the first frame whose drawn row has the text typed so far.
MEASURE_JS = """() => {
  const pane = document.querySelector('.pane.active');
  const term = window.aictTest.term;
  const layer = pane.querySelector('.local-echo');
  const screen = pane.querySelector('.xterm-screen');
  window.echoTimes = [];
  const drawnRow = () => {
    const buffer = term.buffer.active;
    const cells = [...buffer.getLine(buffer.baseY + buffer.cursorY).translateToString(false)];
    const width = screen.clientWidth / term.cols;
    for (const cell of layer.querySelectorAll('.local-echo-cell')) {
      cells[Math.round(parseFloat(cell.style.left) / width)] = cell.textContent;
    }
    return cells.join('');
  };
  let typed = '';
  pane.querySelector('.xterm-helper-textarea').addEventListener('keydown', (event) => {
    if (event.key.length !== 1) return;
    typed += event.key;
    const want = typed;
    const start = event.timeStamp;
    const look = (now) => {
      if (drawnRow().includes(want)) window.echoTimes.push({ms: now - start, first: want.length === 1});
      else requestAnimationFrame(look);
    };
    requestAnimationFrame(look);
  }, true);
  window.echoNewLine = () => { typed = ''; };
}"""


def measure(browser, url: str, server, workspace: str, lines: int, gap_ms: float) -> list[dict]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        login = page.context.request.post(url + "/api/auth/login", data={
            "username": server.admin_username, "password": server.admin_password, "refresh_cookie": True})
        assert login.ok, login.text()
        page.goto(url + "/login")
        page.goto(f"{url}/workspaces/{workspace}")
        wait(page, "window.aictTest && window.aictTest.status === 'connected' && window.aictTest.sessionId")
        page.locator(".pane.active .xterm-helper-textarea").focus()
        for key in ": warm up":  # round trips to measure before the first line counts
            page.keyboard.press(key)
            page.wait_for_timeout(gap_ms)
        page.keyboard.press("Enter")
        page.evaluate(MEASURE_JS)
        for _ in range(lines):
            page.wait_for_timeout(500)
            for key in TEXT:
                page.keyboard.press(key)
                page.wait_for_timeout(gap_ms)
            page.wait_for_timeout(500)
            page.keyboard.press("Enter")
            page.evaluate("window.echoNewLine()")
        page.wait_for_timeout(500)
        state = page.evaluate("window.aictTest.localEcho")
        times = page.evaluate("window.echoTimes")
        return [{**t, "on": state["on"], "roundTrip": state["roundTrip"]} for t in times]
    finally:
        context.close()


def wait(page, js: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not page.evaluate(js):
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {js}")
        time.sleep(0.05)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.local_echo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=4, help=f"lines of {len(TEXT)} keys per row of the table")
    parser.add_argument("--gap", type=float, default=250, help="ms between keys (a quick typist: 250)")
    parser.add_argument("--one-way", type=float, default=75, help="ms the proxy delays each direction")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(bench.ROOT))
    from playwright.sync_api import sync_playwright

    from tests.delay_proxy import DelayProxy

    procs, workdir = bench.Processes(), Path(tempfile.mkdtemp(prefix="aict-local-echo-"))
    proxy = None
    rows = []
    try:
        server = bench.start_aict(procs, workdir, "local-echo", AICT_SHELL="/bin/bash",
                                  AICT_SHELL_ARGS=bench.PLAIN_BASH_ARGS)
        proxy = DelayProxy(server.port, args.one_way).start()
        slow = f"{args.one_way:g} ms each way"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            for link, url, mode in (("loopback", server.url, "auto"), (slow, proxy.url, "off"),
                                    (slow, proxy.url, "auto")):
                saved = server.api("PUT", "/api/me/settings", server.admin_token, json={"local_echo": mode})
                assert saved.ok, saved.text
                workspace = server.create_local_workspace()["id"]
                bench.log(f"typing: {link}, local_echo={mode}")
                times = measure(browser, url, server, workspace, args.lines, args.gap)
                rows.append((link, mode, times))
            browser.close()
    finally:
        if proxy:
            proxy.stop()
        procs.cleanup()
    print(table(rows))
    return 0


def table(rows) -> str:
    out = ["| link | local_echo | predicting | round trip (median) | keys | keydown → on screen p50 | p95 | max |",
           "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for link, mode, times in rows:
        for label, chosen in (("all keys", times), ("a row's later keys", [t for t in times if not t["first"]])):
            ms = sorted(t["ms"] for t in chosen)
            if not ms:
                continue
            on = times[-1]["on"] if times else False
            trip = times[-1]["roundTrip"] if times else None
            out.append(f"| {link} | {mode} | {'yes' if on else 'no'} | {trip:.0f} ms | {len(ms)} {label} | "
                       f"{bench.percentile(ms, 50):.1f} ms | {bench.percentile(ms, 95):.1f} ms | {ms[-1]:.1f} ms |")
    return "\n".join(out)


if __name__ == "__main__":
    raise SystemExit(main())
