"""The browser benchmark of issue 21: what the user sees, in headless Chromium.

    .venv/bin/python -m bench.browser

The aict terminal page against a bare xterm.js page (the same @xterm/xterm from node_modules, the
aict page's options, renderer and size, local echo: `term.onData` → `term.write`), in one run, in
rounds that take turns: keystroke → character on screen, `seq 1 N` → its last line on screen,
Chromium's CPU per MB meanwhile (every process of the browser) and the longest frame while the
flood renders. The server's own echo round trip (bench/wire.py) is measured beside, the floor the
page adds to. bench/browser_probe.js does the timing inside both pages.

BENCH_BROWSER_KEYS, _SEQ, _ROUNDS set the sizes; BENCH_BROWSER_RENDERERS ("dom", "webgl" or both,
comma-separated) the renderers measured; BENCH_BROWSER_BASELINE=PATH adds an aict page served from
another checkout (its static/dist built), for a paired before/after of a change.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1280, "height": 800}  # the aict page's terminal is 119×42 there
KEYS = int(os.environ.get("BENCH_BROWSER_KEYS", 100))  # per contender, 200 ms apart
KEY_GAP = 0.2
SEQ = int(os.environ.get("BENCH_BROWSER_SEQ", 2_000_000))
ROUNDS = int(os.environ.get("BENCH_BROWSER_ROUNDS", 5))
RENDERERS = os.environ.get("BENCH_BROWSER_RENDERERS", "dom").split(",")
BASELINE = os.environ.get("BENCH_BROWSER_BASELINE")
ECHO_SAMPLES = 200
PROBE = (Path(__file__).with_name("browser_probe.js")).read_text()
BARE_ORIGIN = "http://bare.bench"
XTERM = ROOT / "node_modules" / "@xterm"
BARE_FILES = {"/xterm.js": XTERM / "xterm/lib/xterm.js", "/xterm.css": XTERM / "xterm/css/xterm.css",
              "/addon-webgl.js": XTERM / "addon-webgl/lib/addon-webgl.js"}
BARE_HTML = """<!doctype html><html><head><link rel="stylesheet" href="/xterm.css">
<script src="/xterm.js"></script><script src="/addon-webgl.js"></script>
<style>body{margin:0;background:#101418}#t{width:1200px;height:760px}</style></head>
<body><div id="t"></div></body></html>"""
# The bare page: the aict page's options, its size, its renderer; local echo.
BARE_OPEN = """({options, cols, rows, webgl}) => {
  const term = new Terminal({...options, cols, rows});
  term.open(document.getElementById("t"));
  if (webgl) term.loadAddon(new WebglAddon.WebglAddon());
  term.onData((data) => term.write(data));
  term.focus();
  window.term = term;
  return term;
}"""
# The same bytes `seq 1 N` gives through a PTY (\\n → \\r\\n), written as the socket delivers them.
BARE_FLOOD = """async ({n, chunk}) => {
  const text = [];
  for (let i = 1; i <= n; i += 1) text.push(i);
  const bytes = new TextEncoder().encode(text.join("\\r\\n") + "\\r\\n");
  await new Promise((resolve) => term.write("\\x1b[H\\x1b[2J", resolve));
  const shown = window.benchProbe.watchFlood(String(n));
  for (let at = 0; at < bytes.length; at += chunk) term.write(bytes.subarray(at, at + chunk));
  return {...(await shown), bytes: bytes.length};
}"""
OPTIONS_JS = """() => {
  const term = window.aictTest.term, o = term.options;
  const names = ["allowProposedApi", "cursorBlink", "cursorStyle", "convertEol", "fontFamily", "fontSize",
    "lineHeight", "letterSpacing", "scrollback", "theme", "minimumContrastRatio", "fontWeight", "fontWeightBold"];
  return {options: Object.fromEntries(names.map((k) => [k, o[k]])), cols: term.cols, rows: term.rows};
}"""


def log(message: str) -> None:
    print(f"[bench browser {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def seq_bytes(n: int) -> int:
    """Bytes of `seq 1 n` through a PTY: every line ends in \\r\\n."""
    return sum(len(str(i)) for i in range(1, n + 1)) + 2 * n


def chromium_processes() -> list[psutil.Process]:
    """Every Chromium process this benchmark started (under Playwright's driver, our child)."""
    return [p for p in psutil.Process().children(recursive=True) if "chrom" in p.name().lower()]


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for p in processes:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


@dataclass
class Contender:
    label: str
    kind: str  # "aict" | "bare"
    renderer: str  # "dom" | "webgl"
    server: object | None = None
    page: object | None = None
    keys_ms: list[float] = field(default_factory=list)
    mb_per_s: list[float] = field(default_factory=list)
    cpu_ms_per_mb: list[float] = field(default_factory=list)
    longest_frame_ms: list[float] = field(default_factory=list)
    longest_task_ms: list[float] = field(default_factory=list)
    active_renderer: str = ""
    workspace: str = ""


@dataclass
class BrowserResults:
    contenders: list[Contender]
    echo_ms: list[float]
    size: str = ""
    cpu: str = ""
    chromium: str = ""
    seq: int = SEQ
    keys: int = KEYS
    rounds: int = ROUNDS
    notes: list[str] = field(default_factory=list)


# ---- pages ----------------------------------------------------------------------------------
def open_aict(browser, contender: Contender, workspace_id: str) -> None:
    server = contender.server
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(f"localStorage.setItem('aict.renderer', {json.dumps(contender.renderer)})")
    page = context.new_page()
    response = context.request.post(server.url + "/api/auth/login", data={
        "username": server.admin_username, "password": server.admin_password, "refresh_cookie": True})
    assert response.ok, response.text()
    page.goto(f"{server.url}/workspaces/{workspace_id}")
    wait_for(page, "window.aictTest && window.aictTest.status === 'connected' && window.aictTest.sessionId")
    wait_for(page, "window.aictTest.term.buffer.active.getLine(window.aictTest.term.buffer.active.baseY"
                   " + window.aictTest.term.buffer.active.cursorY).translateToString(true).trim().endsWith('$')")
    page.evaluate(f"({PROBE})(window.aictTest.term)")
    contender.page = page
    contender.active_renderer = renderer_in_use(page, "window.aictTest.term")
    page.locator(".pane.active .xterm-helper-textarea").focus()
    run_command(contender, "PS1='$ '; clear")


def open_bare(browser, contender: Contender, shape: dict) -> None:
    context = browser.new_context(viewport=VIEWPORT)

    def serve(route):
        path = route.request.url[len(BARE_ORIGIN):] or "/"
        if path == "/":
            route.fulfill(body=BARE_HTML, content_type="text/html")
        else:
            route.fulfill(path=str(BARE_FILES[path]), content_type="text/javascript" if path.endswith(".js")
                          else "text/css")

    context.route(BARE_ORIGIN + "/**", serve)
    page = context.new_page()
    page.goto(BARE_ORIGIN + "/")
    page.evaluate(BARE_OPEN, {**shape, "webgl": contender.renderer == "webgl"})
    page.evaluate(f"({PROBE})(window.term)")
    contender.page = page
    contender.active_renderer = renderer_in_use(page, "window.term")
    page.locator(".xterm-helper-textarea").focus()


def renderer_in_use(page, term: str) -> str:
    """What draws the terminal: a canvas of WebGL's, or xterm's DOM rows."""
    return page.evaluate(f"() => {term}.element.querySelector('canvas') ? 'webgl' : 'dom'")


def wait_for(page, js: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not page.evaluate(f"() => Boolean({js})"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"page never showed {js}")
        time.sleep(0.05)


def run_command(contender: Contender, command: str) -> None:
    """Type a command into the aict page and wait for the next prompt."""
    page = contender.page
    before = page.evaluate("() => window.aictTest.renderedOffset")
    page.keyboard.type(command)
    page.keyboard.press("Enter")
    wait_for(page, f"window.aictTest.renderedOffset > {before} && window.aictTest.term.buffer.active.getLine("
                   "window.aictTest.term.buffer.active.baseY + window.aictTest.term.buffer.active.cursorY)"
                   ".translateToString(true) === '$ '")


# ---- measurements ---------------------------------------------------------------------------
def type_keys(contender: Contender, count: int) -> None:
    """Type `count` letters 200 ms apart; the probe times each. The line is cleared now and then."""
    page = contender.page
    letters = "abcdefghijklmnopqrstuvwxyz"
    for i in range(count):
        if i and i % 40 == 0:
            if contender.kind == "aict":
                page.keyboard.press("Control+U")  # readline: erase the line typed so far
            else:
                page.evaluate("() => term.write('\\r\\x1b[K')")
            time.sleep(KEY_GAP)
        page.keyboard.press(letters[i % 26])
        time.sleep(KEY_GAP)
    if contender.kind == "aict":
        page.keyboard.press("Control+U")
    contender.keys_ms += page.evaluate("() => benchProbe.takeKeys()")
    time.sleep(KEY_GAP)


def flood(contender: Contender) -> None:
    """`seq 1 SEQ` to the screen: MB/s to its last line, Chromium's CPU per MB, the longest frame."""
    page = contender.page
    processes = chromium_processes()
    if contender.kind == "aict":
        run_command(contender, "clear")
        page.evaluate(f"() => {{ window.benchFlood = benchProbe.watchFlood('{SEQ}'); }}")
        cpu = cpu_seconds(processes)
        page.keyboard.type(f"seq 1 {SEQ}")
        page.keyboard.press("Enter")
        result = page.evaluate("() => window.benchFlood")
        size = seq_bytes(SEQ)
    else:
        page.evaluate("() => new Promise((resolve) => term.write('\\x1b[H\\x1b[2J', resolve))")
        cpu = cpu_seconds(processes)
        result = page.evaluate(BARE_FLOOD, {"n": SEQ, "chunk": 64 * 1024})
        size = result["bytes"]
    cpu = cpu_seconds(processes) - cpu
    mb = size / 1e6
    contender.mb_per_s.append(mb / (result["ms"] / 1000))
    contender.cpu_ms_per_mb.append(cpu * 1000 / mb)
    contender.longest_frame_ms.append(result["longestFrame"])
    contender.longest_task_ms.append(result["longestTask"])
    if contender.kind == "aict":
        wait_for(page, "window.aictTest.term.buffer.active.getLine(window.aictTest.term.buffer.active.baseY + "
                       "window.aictTest.term.buffer.active.cursorY).translateToString(true) === '$ '")


def server_echo(main, server, workspace_id: str) -> list[float]:
    """The server's own echo round trip at typing pace: the floor under the page's keystroke time."""
    from bench.wire import WireClient, aict_echo

    client = WireClient(server.url, server.admin_token)
    sid = main.prepared_session(client, workspace_id)
    try:
        return aict_echo(client, sid, ECHO_SAMPLES, (0.02, 0.05))
    finally:
        client.call("kill-terminal", {"sessionId": sid})
        client.close()


def measure(main, procs, workdir: Path, say=log) -> BrowserResults:
    from playwright.sync_api import sync_playwright

    settings = {"AICT_SHELL": "/bin/bash", "AICT_SHELL_ARGS": main.PLAIN_BASH_ARGS}
    server = main.start_aict(procs, workdir, "aict-browser", **settings)
    servers = [("aict", server)]
    if BASELINE:
        servers.append(("aict (baseline)", main.start_aict(procs, workdir, "aict-browser-base",
                                                          root=Path(BASELINE), **settings)))
    contenders = []
    for renderer in RENDERERS:
        suffix = f" {renderer}" if len(RENDERERS) > 1 else ""
        contenders += [Contender(label + suffix, "aict", renderer, server=s) for label, s in servers]
        contenders.append(Contender("bare xterm.js" + suffix, "bare", renderer))
    results = BrowserResults(contenders, [], cpu=f"{os.cpu_count()} cores ({cpu_model()})")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        results.chromium = f"Chromium {browser.version}"
        shape = None
        for c in contenders:
            if c.kind == "aict":
                c.workspace = c.server.create_local_workspace()["id"]
                open_aict(browser, c, c.workspace)
                shape = shape or c.page.evaluate(OPTIONS_JS)
        for c in contenders:
            if c.kind == "bare":
                open_bare(browser, c, shape)
        results.size = f"{shape['cols']}×{shape['rows']}"
        say(f"pages open at {results.size}: " + ", ".join(f"{c.label} ({c.active_renderer})" for c in contenders))
        for c in contenders:
            if c.active_renderer != c.renderer:
                results.notes.append(f"{c.label}: asked for {c.renderer}, drawn by {c.active_renderer}")
        results.echo_ms = server_echo(main, server, contenders[0].workspace)
        for round_ in range(ROUNDS):
            order = contenders if round_ % 2 == 0 else contenders[::-1]
            for c in order:
                type_keys(c, max(1, KEYS // ROUNDS))
            for c in order:
                flood(c)
            say(f"round {round_ + 1}/{ROUNDS}: " + "; ".join(
                f"{c.label} {c.mb_per_s[-1]:.1f} MB/s, {c.cpu_ms_per_mb[-1]:.0f} ms CPU/MB, "
                f"frame {c.longest_frame_ms[-1]:.0f} ms" for c in contenders))
        browser.close()
    return results


# ---- report ---------------------------------------------------------------------------------
def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def table(r: BrowserResults) -> str:
    cols = r.contenders
    echo = statistics.median(r.echo_ms)
    rows = ["| Browser: " + " | ".join([""] + [c.label for c in cols]) + " |",
            "| --- |" + " ---: |" * len(cols)]

    def row(name: str, cell) -> None:
        rows.append(f"| {name} | " + " | ".join(cell(c) for c in cols) + " |")

    row("Keystroke → character on screen, p50 / p95 (ms)",
        lambda c: f"{percentile(c.keys_ms, 50):.1f} / {percentile(c.keys_ms, 95):.1f}")
    row(f"`seq 1 {r.seq}` ({seq_bytes(r.seq) / 1e6:.1f} MB) → last line on screen, MB/s (median)",
        lambda c: f"{statistics.median(c.mb_per_s):.1f}")
    row("Chromium CPU per MB meanwhile, ms (median)", lambda c: f"{statistics.median(c.cpu_ms_per_mb):.0f}")
    row("Longest frame while the flood renders, ms (worst round)", lambda c: f"{max(c.longest_frame_ms):.0f}")
    row("Longest task meanwhile, ms (worst round)", lambda c: f"{max(c.longest_task_ms):.0f}")
    rows.append("")
    rows.append(f"The server's own echo round trip meanwhile (bench/wire.py, {len(r.echo_ms)} keys): p50 "
                f"{echo:.2f} ms.")
    for renderer in RENDERERS:
        aict = next((c for c in cols if c.kind == "aict" and c.renderer == renderer), None)
        bare = next((c for c in cols if c.kind == "bare" and c.renderer == renderer), None)
        if not (aict and bare):
            continue
        key_floor = percentile(bare.keys_ms, 50) + echo + 2
        rate = statistics.median(aict.mb_per_s) / statistics.median(bare.mb_per_s)
        cpu = statistics.median(aict.cpu_ms_per_mb) / statistics.median(bare.cpu_ms_per_mb)
        frame = max(aict.longest_frame_ms)
        rows.append(
            f"Targets ({renderer}): keystroke p50 {percentile(aict.keys_ms, 50):.1f} ≤ bare + echo + 2 = "
            f"{key_floor:.1f} ms {mark(percentile(aict.keys_ms, 50) <= key_floor)}; flood {rate:.2f}× bare ≥ 0.9 "
            f"{mark(rate >= 0.9)}; CPU per MB {cpu:.2f}× bare ≤ 1.15 {mark(cpu <= 1.15)}; longest frame "
            f"{frame:.0f} ≤ 50 ms {mark(frame <= 50)}.")
    return "\n".join(rows)


def mark(ok: bool) -> str:
    return "✅" if ok else "❌"


def conditions(r: BrowserResults) -> str:
    lines = [
        f"- Browser: headless {r.chromium} ({', '.join(CHROMIUM_ARGS)}), viewport "
        f"{VIEWPORT['width']}×{VIEWPORT['height']}, terminal {r.size}, on {r.cpu} shared with the server and the "
        f"shell; {r.rounds} rounds in which every page takes its turn (the order reversed every other round). "
        f"Keystrokes: {r.keys} letters per page typed {KEY_GAP * 1000:.0f} ms apart (Playwright), from the keydown "
        "event's time stamp to the xterm render that moved the cursor (bench/browser_probe.js). Bare xterm.js: the "
        "same @xterm/xterm build with the aict page's options and size, local echo (`term.onData` → "
        f"`term.write`); its flood writes the bytes `seq 1 {r.seq}` gives through a PTY in 64 KiB pieces, "
        "timed from the first write; aict's from the Enter key. CPU: user + system time of every Chromium "
        "process over the flood. Frames: the longest gap between animation frames; tasks: the longest "
        "`longtask` entry.",
    ]
    lines += [f"- Note: {n}" for n in r.notes]
    return "\n".join(lines)


def run(procs, workdir: Path, main, say=log) -> BrowserResults:
    """The `browser` part of `make bench`."""
    return measure(main, procs, workdir, say)


def main() -> int:
    from bench import main as bench_main

    procs = bench_main.Processes()
    workdir = Path(tempfile.mkdtemp(prefix="aict-bench-browser-"))
    try:
        results = measure(bench_main, procs, workdir)
    finally:
        procs.cleanup()
    print()
    print(table(results))
    print()
    print(conditions(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
