"""The watcher agent: watches workspaces' directories for the terminal host, as their shell account.

Started by the terminal host (aict/watching/agents.py) as `python -I agent.py`, dropped to the
workspace's shell account as its shells are: the directories are watched, and git runs, with that
account's rights alone (a repository's own configuration may run programs during `git status`;
they run as the account, as they would in its shell). One agent serves every watched workspace of
one account; it imports nothing of aict but its two sibling files, and ends when the host closes
its standard input.

In (standard input), one JSON object a line:
  {"op": "watch", "id", "path", "home", "exclude": [folders]}   {"op": "unwatch", "id"}
Out (standard output), one JSON object a line:
  {"id", "status": {...}}   when the git state changed (porcelain.parse_status, or {} outside a repository)
  {"id", "changes": [...]}  file-change items (changes.Classifier)
  {"id", "log": "..."}      something the host should log (a watch that fell back to polling)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from changes import Classifier  # noqa: E402  (a sibling file: this script runs without the aict package)
from porcelain import parse_status  # noqa: E402

GIT_TIMEOUT = 5.0  # a status that takes longer is given up (a huge repository): reported as before
DEBOUNCE_MS = 1000  # changes are gathered at most this long before they are reported
STEP_MS = 200  # ...and reported once nothing changed for this long; also how often a watch wakes
MIN_STATUS_GAP = 0.5  # seconds between two `git status` of one workspace, at least...
STATUS_COST_FACTOR = 4  # ...and at least this many times the last one's duration (big repositories)
POLL_SECONDS = 5.0  # a workspace whose directory cannot be watched (inotify limits): git status this often
GIT = ["git", "--no-optional-locks", "status", "--porcelain=v2", "--branch", "-z"]


class Output:
    def __init__(self, stream):
        self.stream = stream
        self.lock = threading.Lock()

    def send(self, **message) -> None:
        line = json.dumps(message, separators=(",", ":")).encode() + b"\n"
        with self.lock:
            try:
                self.stream.write(line)
                self.stream.flush()
            except (BrokenPipeError, ValueError):  # the host is gone
                os._exit(0)


class Wake:
    """The stop_event watchfiles polls at every step: set to stop, or to have a status run now."""

    def __init__(self):
        self.stopped = False
        self.poked = False

    def is_set(self) -> bool:
        return self.stopped or self.poked


class Watch(threading.Thread):
    def __init__(self, out: Output, watch_id: str, path: str, home: str | None, exclude: list[str]):
        super().__init__(daemon=True, name=f"watch {watch_id}")
        self.out, self.id, self.path = out, watch_id, path
        # A repository above the workspace is not the workspace's (server-made workspaces live inside
        # the server's instance, which may itself be a clone): git looks no higher than the workspace.
        self.env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": home or path,
                    "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0",
                    "GIT_CEILING_DIRECTORIES": os.path.dirname(os.path.abspath(path))}
        self.classifier = Classifier(path, exclude)
        self.wake = Wake()
        self.last_status: dict | None = None
        self.status_due = True
        self.next_status = 0.0

    def stop(self) -> None:
        self.wake.stopped = True

    def run(self) -> None:
        # The watch first, then the first status (the host's answer to the watch): a change made once
        # the page has its answer is always seen.
        try:
            from watchfiles._rust_notify import RustNotify

            notify = RustNotify([self.path], False, False, 0, True, True)
        except Exception as error:  # a missing directory, or the account's inotify limits reached
            self.out.send(id=self.id, log=f"cannot watch {self.path} ({error}); polling git status")
            self.poll()
            return
        try:
            self.run_status()
            self.loop(notify)
        finally:
            notify.close()

    def loop(self, notify) -> None:
        while not self.wake.stopped:
            wait = 0 if not self.status_due else max(1, int((self.next_status - time.monotonic()) * 1000))
            result = notify.watch(DEBOUNCE_MS, STEP_MS, wait, self.wake)
            if self.wake.stopped:
                return
            if self.wake.poked:
                self.wake.poked = False
                self.status_due = True
            if isinstance(result, set):
                git_changed, items = self.classifier.classify(result)
                if items:
                    self.out.send(id=self.id, changes=items)
                self.status_due = self.status_due or git_changed
            if self.status_due and time.monotonic() >= self.next_status:
                self.run_status()

    def poll(self) -> None:
        while not self.wake.stopped:
            self.run_status()
            deadline = time.monotonic() + POLL_SECONDS
            while time.monotonic() < deadline and not self.wake.is_set():
                time.sleep(STEP_MS / 1000)
            self.wake.poked = False

    def run_status(self) -> None:
        self.status_due = False
        started = time.monotonic()
        status = self.git_status()
        took = time.monotonic() - started
        self.next_status = time.monotonic() + max(MIN_STATUS_GAP, STATUS_COST_FACTOR * took)
        if status is not None and status != self.last_status:
            self.last_status = status
            self.out.send(id=self.id, status=status)

    def git_status(self) -> dict | None:
        """The status; {} outside a repository; None when git did not answer in time."""
        try:
            done = subprocess.run(GIT, cwd=self.path, env=self.env, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=GIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.out.send(id=self.id, log=f"git status in {self.path} took over {GIT_TIMEOUT:g} s")
            return None
        except OSError:  # no git, or the directory is gone
            return {}
        return parse_status(done.stdout) if done.returncode == 0 else {}


def serve(lines, out: Output) -> None:
    watches: dict[str, Watch] = {}
    for line in lines:
        try:
            command = json.loads(line)
        except ValueError:
            continue
        watch_id, op = command.get("id"), command.get("op")
        if op == "watch" and watch_id not in watches:
            watch = watches[watch_id] = Watch(out, watch_id, command["path"], command.get("home"),
                                              command.get("exclude") or [])
            watch.start()
        elif op == "unwatch" and watch_id in watches:
            watches.pop(watch_id).stop()
        elif op == "refresh" and watch_id in watches:
            watches[watch_id].wake.poked = True
    for watch in watches.values():
        watch.stop()


def main() -> None:
    os.chdir("/")
    serve(sys.stdin.buffer, Output(sys.stdout.buffer))
    os._exit(0)  # standard input closed: the host is gone or wants no more; watch threads end with us


if __name__ == "__main__":
    main()
