"""Just enough of the Chrome DevTools Protocol to drive one page of a headless Chromium.

The browser benchmark does not use Playwright: Playwright turns on the Network domain of every page,
and Chromium then copies each WebSocket frame to it (and Playwright to its client): the aict page's
floods cost the browser process, the driver and the client half a second of CPU per 8 MB that bare
xterm.js, fed from memory, does not. Here nothing is enabled but what is asked for (Runtime
evaluations, key events), and each page gets a Chromium of its own, so that the CPU of a browser's
processes is that page's.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import tempfile
import time

import websocket

# The switches Playwright gives Chromium that keep a headless page's timers and frames as a
# foreground tab's, as in the browser tests.
QUIET = ["--disable-field-trial-config", "--disable-background-timer-throttling",
         "--disable-backgrounding-occluded-windows", "--disable-renderer-backgrounding",
         "--disable-ipc-flooding-protection", "--enable-unsafe-swiftshader", "--hide-scrollbars"]
KEYS = {"Enter": ("Enter", 13, "\r"), "Backspace": ("Backspace", 8, "")}


class CdpError(RuntimeError):
    pass


class Chromium:
    """A headless Chromium with one page, driven over its DevTools WebSocket."""

    def __init__(self, executable: str, args: list[str], width: int, height: int, cpus: set[int] | None = None):
        """`cpus`: the only CPUs Chromium and every process it starts may run on (None: any)."""
        self.profile = tempfile.TemporaryDirectory(prefix="aict-bench-chromium-", ignore_cleanup_errors=True)
        self.proc = subprocess.Popen(
            [executable, "--headless", *QUIET, *args, "--remote-debugging-port=0", f"--window-size={width},{height}",
             f"--user-data-dir={self.profile.name}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)
        url = self._devtools_url()
        self.ws = websocket.create_connection(url, timeout=120, suppress_origin=True)
        self.ids = itertools.count(1)
        targets = self.call("Target.getTargets")["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session = self.call("Target.attachToTarget", targetId=page["targetId"], flatten=True)["sessionId"]
        self.version = self.call("Browser.getVersion")["product"]

    def _devtools_url(self) -> str:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if match := re.search(r"DevTools listening on (ws://\S+)", line):
                return match.group(1)
            if not line and self.proc.poll() is not None:
                break
        raise CdpError("Chromium did not start")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def call(self, method: str, session: str | None = None, **params) -> dict:
        ident = next(self.ids)
        message = {"id": ident, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == ident:
                if "error" in reply:
                    raise CdpError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def page_call(self, method: str, **params) -> dict:
        return self.call(method, self.session, **params)

    # ---- what the benchmark does with its page ----
    def goto(self, url: str) -> None:
        self.page_call("Page.navigate", url=url)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.evaluate(f"location.href.startsWith({json.dumps(url)}) && document.readyState === 'complete'"):
                    return
            except CdpError:
                pass  # the old document went away mid-evaluation
            time.sleep(0.05)
        raise CdpError(f"{url} did not load")

    def evaluate(self, js: str, arg=None):
        """Evaluate an expression, or call a function expression with `arg`; awaits promises."""
        if arg is not None:
            expression = f"({js})({json.dumps(arg)})"
        elif re.match(r"\s*(async\s*)?\(\s*\)\s*=>", js):
            expression = f"({js})()"
        else:
            expression = js
        result = self.page_call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise CdpError(result["exceptionDetails"].get("exception", {}).get("description")
                           or result["exceptionDetails"].get("text"))
        return result["result"].get("value")

    def press(self, key: str) -> None:
        """A key as a user presses it: "a", "Enter", "Control+U"."""
        modifiers, name = 0, key
        if key.startswith("Control+"):
            modifiers, name = 2, key.split("+", 1)[1]
        if name in KEYS:
            code, vk, text = KEYS[name]
            key_name = name
        else:
            key_name = name.lower() if modifiers else name
            # Letters and digits carry their key code; others none (keyCode 39, "'" in ASCII, is ArrowRight).
            vk = ord(name.upper()) if name.isalnum() or name == " " else 0
            code, text = (f"Key{name.upper()}" if name.isalpha() else ""), name
        if modifiers:
            text = ""
        down = {"type": "keyDown" if text else "rawKeyDown", "key": key_name, "code": code,
                "windowsVirtualKeyCode": vk, "modifiers": modifiers}
        if text:
            down |= {"text": text, "unmodifiedText": text}
        self.page_call("Input.dispatchKeyEvent", **down)
        self.page_call("Input.dispatchKeyEvent", type="keyUp", key=key_name, code=code, windowsVirtualKeyCode=vk,
                       modifiers=modifiers)

    def type(self, text: str) -> None:
        for ch in text:
            self.press(ch)

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.profile.cleanup()

