"""The browser benchmark of issue 21: what the user sees, in headless Chromium.

    .venv/bin/python -m bench.browser

The aict terminal page against a bare xterm.js page (the same @xterm/xterm from node_modules, the
aict page's options, renderer and size, local echo: `term.onData` → `term.write`), in one run, in
rounds that take turns: keystroke → character on screen, `seq 1 N` → its last line on screen,
Chromium's CPU per MB meanwhile (every process of the browser) and the longest frame while the
flood renders. The server's own echo round trip (bench/wire.py) is measured beside, the floor the
page adds to. bench/browser_probe.js does the timing inside every page.

Two more contenders tell where a gap comes from. Bare xterm.js writes bytes made in memory, so its
flood costs the machine nothing but the page; aict's runs `seq` on a PTY and carries its output
through the terminal host and a web process, on the same 2 cores as Chromium. "aict page, bytes from
memory" writes bare xterm.js's bytes into the aict page's own xterm (its layout, addons and options):
the page's drawing alone. "xterm.js + terminado" is the bare page fed by terminado (Jupyter's web
terminal) running the same `seq` on a PTY: what a web terminal without aict's server costs here.

BENCH_BROWSER_KEYS, _SEQ, _ROUNDS set the sizes; BENCH_BROWSER_RENDERERS ("dom", "webgl" or both,
comma-separated) the renderers measured; BENCH_BROWSER_BASELINE=PATH adds an aict page served from
another checkout (its static/dist built), for a paired before/after of a change;
BENCH_BROWSER_CHROMIUM_ARGS adds switches to Chromium's; BENCH_BROWSER_EXTRAS ("memory,terminado" unless set,
empty for neither) the two contenders below. BENCH_BROWSER_PIN=1 puts every Chromium on
the first CPU and the servers on the others: each page draws with the same one CPU, and aict's
server and shell no longer compete with its page for it (bare xterm.js has none).
"""

from __future__ import annotations

import http.server
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bench import cdp

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1280, "height": 990}  # the window: the aict page's terminal is about 117×42 in it (the table says)
KEYS = int(os.environ.get("BENCH_BROWSER_KEYS", 100))  # per contender, 200 ms apart
KEY_GAP = 0.2
SEQ = int(os.environ.get("BENCH_BROWSER_SEQ", 2_000_000))
ROUNDS = int(os.environ.get("BENCH_BROWSER_ROUNDS", 5))
RENDERERS = os.environ.get("BENCH_BROWSER_RENDERERS", "dom").split(",")
BASELINE = os.environ.get("BENCH_BROWSER_BASELINE")
# The contenders that tell where a gap comes from (the module's docstring): "memory", "terminado".
EXTRAS = [x for x in os.environ.get("BENCH_BROWSER_EXTRAS", "memory,terminado").split(",") if x]
EXTRA_ARGS = os.environ.get("BENCH_BROWSER_CHROMIUM_ARGS", "").split()  # e.g. --disable-features=...
# Pinned: every Chromium on the first CPU, the server, the shell and this script on the others, so each
# page gets the same CPU to draw with, and aict's server does not take it from its page.
PIN = os.environ.get("BENCH_BROWSER_PIN") == "1"
BROWSER_CPUS = {min(os.sched_getaffinity(0))}
ECHO_SAMPLES = int(os.environ.get("BENCH_BROWSER_ECHO", 200))
PROBE = (Path(__file__).with_name("browser_probe.js")).read_text()
BARE_ORIGIN = "http://bare.bench"
XTERM = ROOT / "node_modules" / "@xterm"
BARE_FILES = {"/xterm.js": XTERM / "xterm/lib/xterm.js", "/xterm.css": XTERM / "xterm/css/xterm.css",
              "/addon-webgl.js": XTERM / "addon-webgl/lib/addon-webgl.js"}
BARE_HTML = """<!doctype html><html><head><link rel="stylesheet" href="xterm.css">
<script src="xterm.js"></script><script src="addon-webgl.js"></script>
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

}"""
# The bare page fed by terminado from its own origin: its JSON messages, the terminal's text.
TERMINADO_OPEN = """({options, cols, rows, webgl}) => new Promise((resolve, reject) => {
  const term = new Terminal({...options, cols, rows});
  term.open(document.getElementById("t"));
  if (webgl) term.loadAddon(new WebglAddon.WebglAddon());
  const ws = new WebSocket(`ws://${location.host}/websocket`);
  window.benchWritten = 0;
  ws.onmessage = (event) => {
    const [kind, data] = JSON.parse(event.data);
    if (kind === "stdout") {
      window.benchWritten += data.length;
      term.write(data);
    } else if (kind === "setup") resolve(true);
  };
  ws.onerror = () => reject(new Error("terminado's WebSocket failed"));
  ws.onopen = () => ws.send(JSON.stringify(["set_size", rows, cols]));
  term.onData((data) => ws.send(JSON.stringify(["stdin", data])));
  term.focus();
  window.term = term;
})"""
# The same bytes `seq 1 N` gives through a PTY (\\n → \\r\\n), made before the flood (not in its CPU)...
BARE_FLOOD_BYTES = """({n}) => {
  const text = [];
  for (let i = 1; i <= n; i += 1) text.push(i);
  window.benchFloodBytes = new TextEncoder().encode(text.join("\\r\\n") + "\\r\\n");
  return window.benchFloodBytes.length;
}"""
# ...then written as the socket delivers them.
BARE_FLOOD = """async ({n, chunk, termJs}) => {
  const bytes = window.benchFloodBytes, term = eval(termJs);
  const shown = window.benchProbe.watchFlood(String(n));
  for (let at = 0; at < bytes.length; at += chunk) term.write(bytes.subarray(at, at + chunk));
  return {...(await shown), bytes: bytes.length};
}"""


def cursor_line(term: str) -> str:
    """JS: the text of the terminal's cursor line."""
    buffer = f"{term}.buffer.active"
    return f"{buffer}.getLine({buffer}.baseY + {buffer}.cursorY).translateToString(true)"


CURSOR_LINE = cursor_line("window.aictTest.term")
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


def chromium_processes(chromium: cdp.Chromium) -> list[psutil.Process]:
    """Every process of one contender's Chromium."""
    try:
        root = psutil.Process(chromium.pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def cpu_seconds(processes: list[psutil.Process]) -> float:
    return sum(cpu_by_kind(processes).values())


def cpu_by_kind(processes: list[psutil.Process]) -> dict[str, float]:
    """CPU seconds of each kind of Chromium process: the page's renderer, the GPU process (which
    composites and rasterizes, in software here), the network service (the WebSocket), the browser."""
    seconds: dict[str, float] = {}
    for p in processes:
        try:
            t, kind = p.cpu_times(), process_kind(p.cmdline())
        except psutil.Error:
            continue
        seconds[kind] = seconds.get(kind, 0.0) + t.user + t.system
    return seconds


def process_kind(cmdline: list[str]) -> str:
    flags = dict(arg[2:].split("=", 1) for arg in cmdline if arg.startswith("--") and "=" in arg)
    kind = flags.get("type", "browser")
    if kind == "utility":
        return "network" if "network" in flags.get("utility-sub-type", "").lower() else "utility"
    return {"gpu-process": "GPU"}.get(kind, kind)


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


@dataclass
class Contender:
    label: str
    kind: str  # "aict" | "aict-memory" (the aict page, bytes from memory) | "terminado" | "bare"
    renderer: str  # "dom" | "webgl"
    server: object | None = None
    page: object | None = None
    keys_ms: list[float] = field(default_factory=list)
    mb_per_s: list[float] = field(default_factory=list)
    cpu_ms_per_mb: list[float] = field(default_factory=list)
    longest_frame_ms: list[float] = field(default_factory=list)
    longest_task_ms: list[float] = field(default_factory=list)
    renders_per_mb: list[float] = field(default_factory=list)
    cpu_kinds_ms_per_mb: dict[str, list[float]] = field(default_factory=dict)  # process kind -> per round
    active_renderer: str = ""
    workspace: str = ""
    shares_page: bool = False  # another contender's page (closed by that one)

    @property
    def term_js(self) -> str:
        return "window.aictTest.term" if self.kind.startswith("aict") else "window.term"

    @property
    def served(self) -> bool:
        """A shell behind the page types and floods (else the bytes come from memory)."""
        return self.kind in ("aict", "terminado")

    @property
    def progress_js(self) -> str:
        """JS: a number that grows with each piece of output the page writes."""
        return "window.aictTest.renderedOffset" if self.kind == "aict" else "window.benchWritten"


@dataclass
class BrowserResults:
    contenders: list[Contender]
    echo_ms: list[float]
    server_mb_per_s: list[float] = field(default_factory=list)  # the flood read by bench/wire.py, per round
    size: str = ""
    cpu: str = ""
    chromium: str = ""
    seq: int = SEQ
    keys: int = KEYS
    rounds: int = ROUNDS
    notes: list[str] = field(default_factory=list)


# ---- pages ----------------------------------------------------------------------------------
def launch() -> cdp.Chromium:
    return cdp.Chromium(CHROMIUM, CHROMIUM_ARGS + EXTRA_ARGS, VIEWPORT["width"], VIEWPORT["height"],
                        cpus=BROWSER_CPUS if PIN else None)


def open_aict(contender: Contender, workspace_id: str) -> None:
    server = contender.server
    page = contender.page = launch()
    page.goto(server.url + "/login")
    login = {"username": server.admin_username, "password": server.admin_password, "refresh_cookie": True}
    status = page.evaluate("""async ({login, renderer}) => {
      localStorage.setItem("aict.renderer", renderer);
      const response = await fetch("/api/auth/login", {method: "POST", headers: {"Content-Type": "application/json"},
        body: JSON.stringify(login)});
      return response.status;
    }""", {"login": login, "renderer": contender.renderer})
    assert status == 200, status
    page.goto(f"{server.url}/workspaces/{workspace_id}")
    wait_for(page, "window.aictTest && window.aictTest.status === 'connected' && window.aictTest.sessionId")
    wait_for(page, f"{CURSOR_LINE}.trim().endsWith('$')")
    page.evaluate(f"({PROBE})(window.aictTest.term)")
    contender.active_renderer = renderer_in_use(page, "window.aictTest.term")
    page.evaluate("document.querySelector('.pane.active .xterm-helper-textarea').focus()")
    run_command(contender, "PS1='$ '; clear")


class BareFiles(http.server.BaseHTTPRequestHandler):
    """The bare xterm.js page and its files, from node_modules."""

    def do_GET(self):  # noqa: N802 (http.server's name)
        if self.path == "/":
            body, kind = BARE_HTML.encode(), "text/html"
        elif self.path in BARE_FILES:
            body = BARE_FILES[self.path].read_bytes()
            kind = "text/css" if self.path.endswith(".css") else "text/javascript"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve_bare() -> http.server.ThreadingHTTPServer:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), BareFiles)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def open_bare(contender: Contender, shape: dict, origin: str) -> None:
    page = contender.page = launch()
    page.goto(origin + "/")
    page.evaluate(BARE_OPEN, {**shape, "webgl": contender.renderer == "webgl"})
    page.evaluate(f"({PROBE})(window.term)")
    contender.active_renderer = renderer_in_use(page, "window.term")


def open_terminado(contender: Contender, shape: dict, terminado) -> None:
    page = contender.page = launch()
    page.goto(terminado.origin + "/page/index.html")
    page.evaluate(TERMINADO_OPEN, shape)
    page.evaluate(f"({PROBE})(window.term)")
    contender.active_renderer = renderer_in_use(page, "window.term")
    wait_for(page, f"/[$#]$/.test({cursor_line('window.term')}.trim())")  # bash's prompt (as root: #)
    run_command(contender, "PS1='$ '; clear")


def terminado_page(folder: Path) -> Path:
    """The bare page and its files in a folder terminado serves."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.html").write_text(BARE_HTML)
    for name, source in BARE_FILES.items():
        (folder / name.lstrip("/")).write_bytes(source.read_bytes())
    return folder


def renderer_in_use(page: cdp.Chromium, term: str) -> str:
    """What draws the terminal: a canvas of WebGL's, or xterm's DOM rows."""
    return page.evaluate(f"{term}.element.querySelector('canvas') ? 'webgl' : 'dom'")


def wait_for(page: cdp.Chromium, js: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not page.evaluate(f"Boolean({js})"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"page never showed {js}")
        time.sleep(0.05)


def run_command(contender: Contender, command: str) -> None:
    """Type a command into a served page and wait for the next prompt."""
    page = contender.page
    before = page.evaluate(contender.progress_js)
    page.type(command)
    page.press("Enter")
    wait_for(page, f"{contender.progress_js} > {before} && {cursor_line(contender.term_js)} === '$ '")


# ---- measurements ---------------------------------------------------------------------------
def type_keys(contender: Contender, count: int) -> None:
    """Type `count` letters 200 ms apart; the probe times each. The line is cleared now and then."""
    page = contender.page
    if contender.kind == "aict-memory":
        return  # the aict page's keys go to its server: timed as "aict"
    letters = "abcdefghijklmnopqrstuvwxyz"
    page.evaluate("benchProbe.timing = true")
    for i in range(count):
        if i and i % 40 == 0:
            wait_for(page, "benchProbe.pending.length === 0")  # every key shown before the line goes
            if contender.served:
                page.press("Control+U")  # readline: erase the line typed so far
            else:
                page.evaluate("term.write('\\r\\x1b[K')")
            time.sleep(KEY_GAP)
        page.press(letters[i % 26])
        time.sleep(KEY_GAP)
    wait_for(page, "benchProbe.pending.length === 0")
    if contender.served:
        page.press("Control+U")
    contender.keys_ms += page.evaluate("benchProbe.takeKeys()")
    time.sleep(KEY_GAP)


def flood(contender: Contender) -> None:
    """`seq 1 SEQ` to the screen: MB/s to its last line, Chromium's CPU per MB, the longest frame."""
    page = contender.page
    processes = chromium_processes(page)
    if contender.served:
        run_command(contender, "clear")
        page.evaluate(f"window.benchFlood = benchProbe.watchFlood('{SEQ}'), true")
        before = cpu_by_kind(processes)
        page.type(f"seq 1 {SEQ}")
        page.press("Enter")
        result = page.evaluate("window.benchFlood")
        size = seq_bytes(SEQ)
    else:
        page.evaluate(BARE_FLOOD_BYTES, {"n": SEQ})
        # What the aict page's `clear` prints (TERM=xterm-256color): the scrollback emptied too, so both
        # pages fill it again during the flood (while it fills, xterm's every line costs more).
        page.evaluate(f"new Promise((resolve) => {contender.term_js}.write('\\x1b[H\\x1b[2J\\x1b[3J', resolve))")
        before = cpu_by_kind(processes)
        result = page.evaluate(BARE_FLOOD, {"n": SEQ, "chunk": 64 * 1024, "termJs": contender.term_js})
        size = result["bytes"]
    after = cpu_by_kind(processes)
    mb = size / 1e6
    cpu = sum(after.values()) - sum(before.values())
    for kind, seconds in after.items():
        contender.cpu_kinds_ms_per_mb.setdefault(kind, []).append((seconds - before.get(kind, 0.0)) * 1000 / mb)
    contender.mb_per_s.append(mb / (result["ms"] / 1000))
    contender.cpu_ms_per_mb.append(cpu * 1000 / mb)
    contender.longest_frame_ms.append(result["longestFrame"])
    contender.longest_task_ms.append(result["longestTask"])
    contender.renders_per_mb.append(result["renders"] / mb)
    if contender.kind == "aict":
        wait_for(page, f"{CURSOR_LINE} === '$ '")
    elif contender.kind == "aict-memory":  # the shell's prompt back where the screen's cursor is
        run_command(Contender("aict", "aict", contender.renderer, page=page), "clear")
    elif contender.kind == "terminado":
        wait_for(page, f"{cursor_line(contender.term_js)} === '$ '")


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


SERVER_FLOOD_MARK = b"BENCH_FLOOD_42_END"


def server_flood(main, server, workspace_id: str) -> float:
    """The same flood from the aict server to a Python client (bench/wire.py) while the pages wait,
    MB/s from typing the command to the end of its output: what the server, the shell and `seq`
    deliver on this machine with Chromium idle, the most a page reading through this server could show."""
    from bench.wire import WireClient

    client = WireClient(server.url, server.admin_token)
    sid = main.prepared_session(client, workspace_id)
    try:
        client.watch(sid, SERVER_FLOOD_MARK)
        start = time.perf_counter()
        client.type(sid, f"seq 1 {SEQ}; echo BENCH_FLOOD_$((6*7))_END\n")
        return seq_bytes(SEQ) / 1e6 / (client.wait_seen(300) - start)
    finally:
        client.call("kill-terminal", {"sessionId": sid})
        client.close()


def measure(main, procs, workdir: Path, say=log) -> BrowserResults:
    """Start a server and a Chromium per contender, and measure every contender."""
    settings = {"AICT_SHELL": "/bin/bash", "AICT_SHELL_ARGS": main.PLAIN_BASH_ARGS}
    if PIN:  # before anything starts: the servers and their shells inherit it
        os.sched_setaffinity(0, (os.sched_getaffinity(0) - BROWSER_CPUS) or BROWSER_CPUS)
    server = main.start_aict(procs, workdir, "aict-browser", **settings)
    servers = [("aict", server)]
    if BASELINE:
        servers.append(("aict (baseline)", main.start_aict(procs, workdir, "aict-browser-base",
                                                          root=Path(BASELINE), **settings)))
    contenders = []
    for renderer in RENDERERS:
        suffix = f" {renderer}" if len(RENDERERS) > 1 else ""
        contenders += [Contender(label + suffix, "aict", renderer, server=s) for label, s in servers]
        if "memory" in EXTRAS:
            contenders.append(Contender("aict page, bytes from memory" + suffix, "aict-memory", renderer,
                                        server=server, shares_page=True))
        if "terminado" in EXTRAS:
            contenders.append(Contender("xterm.js + terminado" + suffix, "terminado", renderer))
        contenders.append(Contender("bare xterm.js" + suffix, "bare", renderer))
    results = BrowserResults(contenders, [], cpu=f"{os.cpu_count()} cores ({cpu_model()})")
    bare_files = serve_bare()
    terminado = None
    if "terminado" in EXTRAS:
        from bench.terminado_ref import TerminadoServer

        terminado = TerminadoServer(procs, main.BENCH)
        terminado.start(["/bin/bash", *json.loads(main.PLAIN_BASH_ARGS)],
                        page=terminado_page(workdir / "terminado-page"))
    try:
        compare(results, main, f"http://127.0.0.1:{bare_files.server_address[1]}", terminado, say)
    finally:
        for c in contenders:
            if c.page is not None and not c.shares_page:
                c.page.close()
        bare_files.shutdown()
        if terminado:
            terminado.stop()
    return results


def compare(results: BrowserResults, main, bare_origin: str, terminado=None, say=log) -> None:
    """Open every contender's page, then take turns: keystrokes, then floods, round after round."""
    contenders = results.contenders
    shape = None
    for c in contenders:
        if c.kind == "aict":
            c.workspace = c.server.create_local_workspace()["id"]
            open_aict(c, c.workspace)
            shape = shape or c.page.evaluate(OPTIONS_JS)
        elif c.kind == "aict-memory":  # the page of the aict contender before it, of the same renderer
            page_of = next(o for o in contenders if o.kind == "aict" and o.renderer == c.renderer)
            c.page, c.workspace, c.active_renderer = page_of.page, page_of.workspace, page_of.active_renderer
    for c in contenders:
        if c.kind == "bare":
            open_bare(c, shape, bare_origin)
        elif c.kind == "terminado":
            open_terminado(c, {**shape, "webgl": c.renderer == "webgl"}, terminado)
    results.chromium = contenders[0].page.version + (f" with {' '.join(EXTRA_ARGS)}" if EXTRA_ARGS else "")
    results.size = f"{shape['cols']}×{shape['rows']}"
    say(f"pages open at {results.size}: " + ", ".join(f"{c.label} ({c.active_renderer})" for c in contenders))
    for c in contenders:
        if c.active_renderer != c.renderer:
            results.notes.append(f"{c.label}: asked for {c.renderer}, drawn by {c.active_renderer}")
    results.echo_ms = server_echo(main, contenders[0].server, contenders[0].workspace)
    for round_ in range(ROUNDS):
        order = contenders if round_ % 2 == 0 else contenders[::-1]
        for c in order:
            type_keys(c, max(1, KEYS // ROUNDS))
        for c in order:
            flood(c)
        results.server_mb_per_s.append(server_flood(main, contenders[0].server, contenders[0].workspace))
        say(f"round {round_ + 1}/{ROUNDS}: server alone {results.server_mb_per_s[-1]:.1f} MB/s; " + "; ".join(
            f"{c.label} {c.mb_per_s[-1]:.1f} MB/s, {c.cpu_ms_per_mb[-1]:.0f} ms CPU/MB, "
            f"{c.renders_per_mb[-1]:.1f} draws/MB, frame {c.longest_frame_ms[-1]:.0f} ms ("
            + ", ".join(f"{k} {v[-1]:.0f}" for k, v in c.cpu_kinds_ms_per_mb.items()) + ")" for c in contenders))


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
        lambda c: f"{percentile(c.keys_ms, 50):.1f} / {percentile(c.keys_ms, 95):.1f}" if c.keys_ms else "–")
    row(f"`seq 1 {r.seq}` ({seq_bytes(r.seq) / 1e6:.1f} MB) → last line on screen, MB/s (median)",
        lambda c: f"{statistics.median(c.mb_per_s):.1f}")
    row("Chromium CPU per MB meanwhile, ms (median)", lambda c: f"{statistics.median(c.cpu_ms_per_mb):.0f}")
    kinds = sorted({k for c in cols for k in c.cpu_kinds_ms_per_mb}, key=KIND_ORDER.index)
    row(f"of which {' / '.join(kinds)}", lambda c: " / ".join(
        f"{statistics.median(c.cpu_kinds_ms_per_mb[k]):.0f}" if k in c.cpu_kinds_ms_per_mb else "–" for k in kinds))
    row("Frames xterm drew per MB of the flood (median)", lambda c: f"{statistics.median(c.renders_per_mb):.1f}")
    row("Longest frame while the flood renders, ms (worst round)", lambda c: f"{max(c.longest_frame_ms):.0f}")
    row("Longest task meanwhile, ms (worst round)", lambda c: f"{max(c.longest_task_ms):.0f}")
    rows.append("")
    rows.append(f"The server's own echo round trip meanwhile (bench/wire.py, {len(r.echo_ms)} keys): p50 "
                f"{echo:.2f} ms.")
    alone = statistics.median(r.server_mb_per_s) if r.server_mb_per_s else None
    if alone is not None:
        rows.append(f"The same flood from the same server to a Python client (bench/wire.py) while the pages "
                    f"waited, every round: {', '.join(f'{v:.1f}' for v in r.server_mb_per_s)} MB/s (median "
                    f"{alone:.1f}): the most a page reading through this server could show on this machine.")
    for renderer in RENDERERS:
        aict = next((c for c in cols if c.kind == "aict" and c.renderer == renderer), None)
        bare = next((c for c in cols if c.kind == "bare" and c.renderer == renderer), None)
        if not (aict and bare):
            continue
        key_floor = percentile(bare.keys_ms, 50) + echo + 2
        rate = statistics.median(aict.mb_per_s) / statistics.median(bare.mb_per_s)
        cpu = statistics.median(aict.cpu_ms_per_mb) / statistics.median(bare.cpu_ms_per_mb)
        frame = max(aict.longest_frame_ms)
        ceiling = "" if alone is None else f" (the server alone: {alone / statistics.median(bare.mb_per_s):.2f}× bare)"
        rows += [line for line in explained(cols, renderer, bare)]
        rows.append(
            f"Targets ({renderer}): keystroke p50 {percentile(aict.keys_ms, 50):.1f} ≤ bare + echo + 2 = "
            f"{key_floor:.1f} ms {mark(percentile(aict.keys_ms, 50) <= key_floor)}; flood {rate:.2f}× bare ≥ 0.9 "
            f"{mark(rate >= 0.9)}{ceiling}; CPU per MB {cpu:.2f}× bare ≤ 1.15 {mark(cpu <= 1.15)}; longest frame "
            f"{frame:.0f} ≤ 50 ms {mark(frame <= 50)}.")
    return "\n".join(rows)


def explained(cols: list[Contender], renderer: str, bare: Contender) -> list[str]:
    """What the extra contenders say about the gap between the aict page and bare xterm.js."""
    lines = []
    bare_rate, bare_cpu = statistics.median(bare.mb_per_s), statistics.median(bare.cpu_ms_per_mb)
    memory = next((c for c in cols if c.kind == "aict-memory" and c.renderer == renderer), None)
    if memory and memory.mb_per_s:
        lines.append(f"The aict page's own drawing ({renderer}), bare xterm.js's bytes written into its xterm "
                     "from memory: "
                     f"{statistics.median(memory.mb_per_s) / bare_rate:.2f}× bare xterm.js's flood, "
                     f"{statistics.median(memory.cpu_ms_per_mb) / bare_cpu:.2f}× its CPU per MB.")
    aict = next((c for c in cols if c.kind == "aict" and c.renderer == renderer), None)
    terminado = next((c for c in cols if c.kind == "terminado" and c.renderer == renderer), None)
    if aict and terminado and terminado.mb_per_s:
        rate = statistics.median(aict.mb_per_s) / statistics.median(terminado.mb_per_s)
        cpu = statistics.median(aict.cpu_ms_per_mb) / statistics.median(terminado.cpu_ms_per_mb)
        keys = (f", keystroke p50 {percentile(aict.keys_ms, 50):.1f} against {percentile(terminado.keys_ms, 50):.1f} ms"
                if aict.keys_ms and terminado.keys_ms else "")
        lines.append(f"The aict page against xterm.js + terminado ({renderer}), both with `seq` on a PTY behind them: "
                     f"flood {rate:.2f}×, Chromium CPU per MB {cpu:.2f}×{keys}.")
    return lines


KIND_ORDER = ["renderer", "GPU", "network", "browser", "utility", "zygote"]


def mark(ok: bool) -> str:
    return "✅" if ok else "❌"


def conditions(r: BrowserResults) -> str:
    lines = [
        f"- Browser: headless {r.chromium}, a browser per page driven over bare CDP (bench/cdp.py: no "
        f"Network domain copying every WebSocket frame, as Playwright's does), {' '.join(CHROMIUM_ARGS)}, window "
        f"{VIEWPORT['width']}×{VIEWPORT['height']}, terminal {r.size}, on {r.cpu} "
        + (f"pinned (BENCH_BROWSER_PIN=1): every Chromium on CPU {min(BROWSER_CPUS)}, the server and the shell on "
           "the others; " if PIN else "shared with the server and the shell; ")
        + f"{r.rounds} rounds in which every page takes its turn (the order reversed every other round). "
        f"Keystrokes: {r.keys} letters per page, {KEY_GAP * 1000:.0f} ms apart (CDP key events), from the keydown "
        "event's time stamp to the xterm render that moved the cursor (bench/browser_probe.js). Bare xterm.js: "
        "the same @xterm/xterm build with the aict page's options and size, local echo (`term.onData` → "
        f"`term.write`); its flood writes the bytes `seq 1 {r.seq}` gives through a PTY in 64 KiB pieces, "
        "timed from the first write; aict's from the Enter key. CPU: user + system time of every process of "
        "the page's browser over the flood, and by kind of process (its `--type`: the page's renderer, "
        "which also rasterizes without a GPU; the GPU process, which composites; the network service, "
        "which carries the WebSocket; the browser process). Frames: the longest gap between animation "
        "frames; tasks: the longest `longtask` entry."
        + (" aict page, bytes from memory: bare xterm.js's flood, the same bytes and pieces, written into the "
           "aict page's xterm (its layout, addons, options), between the aict page's floods: the page's drawing "
           "without its server." if "memory" in EXTRAS else "")
        + (" xterm.js + terminado: the bare page fed by terminado 0.18 (bench/terminado_server.py, its JSON "
           "messages, text) from a plain bash on a PTY; typed into and flooded as the aict page is."
           if "terminado" in EXTRAS else ""),
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
