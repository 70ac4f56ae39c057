"""`make cluster`: the production shape on one machine, for trying and testing.

nginx (serving deploy/nginx/aict.conf) on AICT_HOST:AICT_PORT in front of AICT_WEB_PROCESSES web
processes on the next ports, the terminal host (host.py), Redis (the machine's on 127.0.0.1:6379, or one
started here) and the database of AICT_DATABASE_URL. Everything it starts is its child and ends
with it (Ctrl+C or SIGTERM); SIGHUP (`make cluster-reload`) restarts the web processes one at a
time, each healthy before the next. A plain subprocess supervisor: no gevent here.
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from aict.config import ROOT, load_settings
from aict.runtime.redis_guard import open_redis_problem, redis_ping

NGINX_SITE = ROOT / "deploy" / "nginx" / "aict.conf"
START_SECONDS = 60  # a child that is not ready by then has failed
STOP_SECONDS = 10  # then SIGKILL
CRASH_LOOP_SECONDS = 5  # a child that dies this soon after its start, before it was ready, is not restarted


class ClusterError(RuntimeError):
    """The cluster cannot start or go on; the message says why."""


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    proc: subprocess.Popen | None = None
    started: float = 0.0
    restartable: bool = False
    port: int | None = None
    extra: dict = field(default_factory=dict)


def _die_with_parent() -> None:
    """In the child: SIGTERM when the supervisor dies, even by SIGKILL (no orphans left running)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _tee(name: str, stream) -> None:
    for line in iter(stream.readline, b""):
        sys.stdout.write(f"{name:>10} | {line.decode(errors='replace')}")
        sys.stdout.flush()


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def tcp_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def unix_socket_answers(path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(0.5)
            s.connect(str(path))
            return True
    except OSError:
        return False


def healthy(port: int) -> bool:
    """The web process answers and is linked to its terminal host (it serves a moment before)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return response.status == 200 and json.loads(response.read()).get("terminalHost") == "ok"
    except (OSError, ValueError):
        return False


def render_site(template: str, listen: str, web_ports: list[int]) -> str:
    """deploy/nginx/aict.conf with make cluster's listen address and web process ports."""
    site, listens = re.subn(r"(?m)^(\s*)listen 80;$", lambda m: f"{m.group(1)}listen {listen};", template)
    servers = re.findall(r"(?m)^\s*server 127\.0\.0\.1:\d+ max_fails=0;\n", site)
    if listens != 1 or not servers:
        raise ClusterError(f"{NGINX_SITE} lost its 'listen 80;' or its upstream server lines")
    indent = re.match(r"\s*", servers[0]).group(0)
    ours = "".join(f"{indent}server 127.0.0.1:{port} max_fails=0;\n" for port in web_ports)
    first = site.index(servers[0])
    end = first + sum(len(s) for s in servers)
    if site[first:end] != "".join(servers):
        raise ClusterError(f"{NGINX_SITE}: the upstream server lines must be consecutive")
    return site[:first] + ours + site[end:]


def nginx_main_config(pid: Path, logs: Path, temp: Path, site: Path) -> str:
    user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
    temps = "\n".join(f"    {kind}_temp_path {temp / kind};" for kind in
                      ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"# Written by make cluster at each start (aict/runtime/cluster.py); the site is {NGINX_SITE}.\n"
            f"{user}worker_processes 1;\nworker_rlimit_nofile 16384;\npid {pid};\n"
            f"error_log {logs / 'error.log'} warn;\nevents {{\n    worker_connections 8192;\n}}\n"
            f"http {{\n{temps}\n    include {site};\n"
            "    log_format aict '$remote_addr [$time_local] \"$request\" $status $body_bytes_sent $request_time '\n"
            "                    'upstream=$upstream_addr route=$aict_route';\n"
            f"    access_log {logs / 'access.log'} aict;\n}}\n")


def _progress(total: int):
    count = iter(range(1, total + 1))

    def step(what: str) -> None:
        print(f"make cluster: [{next(count, total)}/{total}] starting {what}…", flush=True)

    return step


class Cluster:
    def __init__(self, web_processes: int, first_web_port: int | None = None):
        self.settings = settings = load_settings()
        self.instance = Path(settings["INSTANCE_DIR"]).resolve()
        self.host = str(settings["HOST"])
        self.port = int(settings["PORT"])
        self.database = settings["DATABASE_URL"] or f"sqlite:///{self.instance / 'aict.db'}"
        first = first_web_port or self.port + 1
        self.web_ports = [first + i for i in range(web_processes)]
        self.dir = self.instance / "cluster"
        self.state_file = self.dir / "state.json"
        self.terminal_host = Path(os.environ.get("AICT_TERMINAL_HOST") or settings.get("TERMINAL_HOST")
                                  or self.instance / "host.sock")
        self.children: dict[str, Child] = {}
        self.redis_url = os.environ.get("AICT_REDIS_URL", "")
        # The machine's Redis may serve other copies of aict (another checkout's make cluster): unless
        # a prefix is chosen, this instance's keys and channels get one of their own.
        self.redis_prefix = os.environ.get("AICT_REDIS_PREFIX") or (
            settings["REDIS_PREFIX"] if settings["REDIS_PREFIX"] != "aict"
            else "aict-" + hashlib.sha256(str(self.instance).encode()).hexdigest()[:8])
        self.stopping = False
        self.reload_wanted = False
        self.reloads = 0
        self.reload_error: str | None = None
        self.temp: Path | None = None

    # ---- start ------------------------------------------------------------------------------
    def base_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(AICT_INSTANCE_DIR=str(self.instance), AICT_TERMINAL_HOST=str(self.terminal_host),
                   AICT_HOST_CHILD="0", AICT_REDIS_URL=self.redis_url, AICT_REDIS_PREFIX=self.redis_prefix,
                   PYTHONUNBUFFERED="1")
        return env

    def spawn(self, child: Child) -> Child:
        child.proc = subprocess.Popen(child.argv, cwd=ROOT, env=child.env, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      start_new_session=True, preexec_fn=_die_with_parent)
        child.started = time.monotonic()
        threading.Thread(target=_tee, args=(child.name, child.proc.stdout), daemon=True).start()
        self.children[child.name] = child
        self.write_state()
        return child

    def wait_ready(self, child: Child, ready, what: str) -> None:
        deadline = time.monotonic() + START_SECONDS
        while not ready():
            if child.proc.poll() is not None:
                raise ClusterError(f"{child.name} exited with {child.proc.returncode} before {what}")
            if self.stopping:
                raise ClusterError("stopped while starting")
            if time.monotonic() > deadline:
                raise ClusterError(f"{child.name} did not {what} within {START_SECONDS} s")
            time.sleep(0.1)
        child.extra["ready"] = True  # it served: if it dies later, it is started again

    def check_free(self) -> None:
        if not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists():
            raise ClusterError("nginx is not installed: `make cluster` installs it (apt-get install nginx)")
        taken = [p for p in [self.port] if not port_free(self.host, p)]
        taken += [p for p in self.web_ports if not port_free("127.0.0.1", p)]
        if taken:
            raise ClusterError(f"port(s) {', '.join(map(str, taken))} in use (another make cluster or make run?); "
                               "choose AICT_PORT (the web processes take the ports after it)")
        if unix_socket_answers(self.terminal_host):
            raise ClusterError(f"a terminal host already answers at {self.terminal_host} (make run on this "
                               "instance?): stop it first")

    def start_redis(self) -> None:
        if self.redis_url:
            return
        answer = redis_ping("127.0.0.1", 6379)
        if answer == "+PONG":
            self.redis_url = "redis://127.0.0.1:6379/0"
            return
        if answer is not None:
            raise ClusterError(f"the Redis on 127.0.0.1:6379 answers {answer!r}: set AICT_REDIS_URL "
                               "(e.g. redis://:password@127.0.0.1:6379/0)")
        if not shutil.which("redis-server"):
            raise ClusterError("no Redis on 127.0.0.1:6379 and no redis-server to start: apt-get install redis-server")
        port = 6379 if port_free("127.0.0.1", 6379) else _free_port()
        child = self.spawn(Child("redis", ["redis-server", "--bind", "127.0.0.1", "--port", str(port),
                                           "--save", "", "--appendonly", "no", "--dir", str(self.dir)],
                                 dict(os.environ)))
        self.wait_ready(child, lambda: redis_ping("127.0.0.1", port) == "+PONG", "answer PING")
        self.redis_url = f"redis://127.0.0.1:{port}/0"

    def setup(self) -> None:
        """Migrate once and create the first admin once, before any process serves."""
        env = self.base_env()
        flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
        migrated = subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, capture_output=True, text=True)
        if migrated.returncode:
            raise ClusterError(f"migrating the database failed:\n{migrated.stdout}{migrated.stderr}")
        admin = subprocess.run([*flask, "aict", "ensure-admin"], cwd=ROOT, env=env, capture_output=True, text=True)
        if admin.returncode:
            raise ClusterError(f"creating the first admin failed:\n{admin.stdout}{admin.stderr}")
        print(admin.stdout.rstrip(), flush=True)

    def start_host(self) -> None:
        child = self.spawn(Child("host", [sys.executable, "host.py"], self.base_env(), restartable=True))
        self.wait_ready(child, lambda: unix_socket_answers(self.terminal_host), f"listen on {self.terminal_host}")

    def web_child(self, port: int) -> Child:
        env = self.base_env()
        env.update(AICT_HOST="127.0.0.1", AICT_PORT=str(port), AICT_TRUSTED_PROXIES="1")
        return Child(f"web-{port}", [sys.executable, "wsgi.py"], env, restartable=True, port=port)

    def start_web(self, port: int) -> None:
        child = self.spawn(self.web_child(port))
        self.wait_ready(child, lambda: healthy(port), f"answer /healthz on 127.0.0.1:{port}")

    def start_nginx(self) -> None:
        conf_dir, logs = self.dir / "nginx", self.dir / "logs"
        conf_dir.mkdir(parents=True, exist_ok=True)
        logs.mkdir(parents=True, exist_ok=True)
        self.temp = Path(tempfile.mkdtemp(prefix="aict-nginx-"))  # the workers' (nobody's) files
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(self.temp, nobody.pw_uid, nobody.pw_gid)
        listen = f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"
        site = conf_dir / "aict.conf"
        site.write_text(render_site(NGINX_SITE.read_text(), listen, self.web_ports))
        main = conf_dir / "nginx.conf"
        main.write_text(nginx_main_config(self.dir / "nginx.pid", logs, self.temp, site))
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        child = self.spawn(Child("nginx", [nginx, "-e", str(logs / "error.log"), "-c", str(main), "-p", str(self.dir),
                                           "-g", "daemon off;"], dict(os.environ)))
        probe = "127.0.0.1" if self.host in ("0.0.0.0", "") else ("::1" if self.host == "::" else self.host)
        self.wait_ready(child, lambda: tcp_answers(probe, self.port), f"listen on {listen}")

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.check_free()
        step = _progress(2 + len(self.web_ports) + 2)  # each step can take seconds on a busy machine: say what runs
        step("Redis")
        self.start_redis()
        step("the database (migrations, the first admin)")
        self.setup()
        step("the terminal host")
        self.start_host()
        for port in self.web_ports:
            step(f"the web process on 127.0.0.1:{port}")
            self.start_web(port)
        step("nginx")
        self.start_nginx()
        shown = "localhost" if self.host in ("0.0.0.0", "::") else self.host
        print(f"\naict (make cluster) is running on http://{shown}:{self.port}  (Ctrl+C to stop)\n"
              f"  nginx {self.dir / 'nginx' / 'nginx.conf'} -> web processes on 127.0.0.1:"
              f"{', '.join(map(str, self.web_ports))}; terminal host {self.terminal_host}\n"
              f"  Redis {self.redis_url} (keys under {self.redis_prefix}:); "
              f"database {_without_password(self.database)}\n"
              f"  `make cluster-reload` restarts the web processes one at a time.\n", flush=True)
        if open_redis_problem(self.redis_url):
            print("  This Redis answers without a password: fine for trying here, but every account of this\n"
                  "  machine, a workspace's shell too, can reach it; production refuses it (README, deployment).\n",
                  flush=True)

    # ---- run --------------------------------------------------------------------------------
    def write_state(self) -> None:
        state = {"pid": os.getpid(), "url": f"http://{self.host}:{self.port}", "reloads": self.reloads,
                 "reload_error": self.reload_error, "web_ports": self.web_ports,
                 "children": {name: c.proc.pid for name, c in self.children.items() if c.proc}}
        temp = self.state_file.with_suffix(".tmp")
        temp.write_text(json.dumps(state))
        temp.replace(self.state_file)

    def run(self) -> int:
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_reload)
        try:
            self.start()
            while not self.stopping:
                if self.reload_wanted:
                    self.reload_wanted = False
                    self.rolling_restart()
                self.watch_children()
                time.sleep(0.2)
            return 0
        except ClusterError as exc:
            print(f"make cluster: {exc}", file=sys.stderr, flush=True)
            return 1
        finally:
            self.stop()

    def _on_stop(self, *_) -> None:
        self.stopping = True

    def _on_reload(self, *_) -> None:
        self.reload_wanted = True

    def watch_children(self) -> None:
        for child in list(self.children.values()):
            code = child.proc.poll()
            if code is None or self.stopping:
                continue
            crash_loop = not child.extra.get("ready") and time.monotonic() - child.started < CRASH_LOOP_SECONDS
            if not child.restartable or crash_loop:
                raise ClusterError(f"{child.name} exited with {code}")
            print(f"make cluster: {child.name} exited with {code}; starting it again", flush=True)
            if child.port is not None:
                self.start_web(child.port)
            else:
                self.start_host()

    def rolling_restart(self) -> None:
        """One web process at a time: stop it, start it again, wait until it answers; then the next."""
        self.reload_error = None
        try:
            for port in self.web_ports:
                if self.stopping:
                    return
                old = self.children.pop(f"web-{port}", None)  # None: it failed the last reload
                if old is not None:
                    self.terminate(old)
                self.start_web(port)
                print(f"make cluster: web process on {port} restarted (pid {old.proc.pid if old else '-'} -> "
                      f"{self.children[f'web-{port}'].proc.pid})", flush=True)
        except ClusterError as exc:  # the others go on serving; the next reload tries this one again
            self.reload_error = str(exc)
            print(f"make cluster: reload stopped: {exc}", flush=True)
            failed = self.children.pop(f"web-{port}", None)
            if failed is not None:
                self.terminate(failed, signal.SIGKILL)
        finally:
            self.reloads += 1
            self.write_state()

    # ---- stop -------------------------------------------------------------------------------
    def terminate(self, child: Child, sig: int = signal.SIGTERM) -> None:
        if child.proc.poll() is None:
            child.proc.send_signal(sig)
        try:
            child.proc.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            print(f"make cluster: {child.name} did not stop in {STOP_SECONDS} s: killed", flush=True)
            child.proc.kill()
            child.proc.wait()

    def stop(self) -> None:
        """nginx first (no new requests), then the web processes, the host, and Redis if started here."""
        self.stopping = True
        order = ["nginx", *(n for n in self.children if n.startswith("web-")), "host", "redis"]
        webs = [self.children[n] for n in order if n.startswith("web-")]
        for name in order:
            child = self.children.get(name)
            if child is None or child.proc is None:
                continue
            if name.startswith("web-"):
                if child is webs[0]:  # all web processes at once, then wait for each
                    for web in webs:
                        if web.proc.poll() is None:
                            web.proc.send_signal(signal.SIGTERM)
                    for web in webs:
                        self.terminate(web)
                continue
            self.terminate(child)
        if self.temp is not None:
            shutil.rmtree(self.temp, ignore_errors=True)
        self.state_file.unlink(missing_ok=True)
        if self.children:
            print("make cluster: stopped everything it started.", flush=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _without_password(url: str) -> str:
    return re.sub(r"(//[^:/@]+):[^@]*@", r"\1:***@", url)


def reload_command(timeout: float = 300) -> int:
    """`make cluster-reload`: ask the running make cluster to restart its web processes; wait for it."""
    state_file = Path(load_settings()["INSTANCE_DIR"]).resolve() / "cluster" / "state.json"
    try:
        state = json.loads(state_file.read_text())
        os.kill(state["pid"], signal.SIGHUP)
    except (OSError, ValueError, KeyError):
        print(f"make cluster-reload: no make cluster runs on this instance ({state_file})", file=sys.stderr)
        return 1
    print(f"make cluster-reload: restarting {len(state['web_ports'])} web process(es) one at a time…", flush=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.2)
        try:
            now = json.loads(state_file.read_text())
        except (OSError, ValueError):
            print("make cluster-reload: make cluster stopped", file=sys.stderr)
            return 1
        if now["reloads"] > state["reloads"]:
            if now["reload_error"]:
                print(f"make cluster-reload: failed: {now['reload_error']}", file=sys.stderr)
                return 1
            print("make cluster-reload: every web process restarted and answering.", flush=True)
            return 0
    print("make cluster-reload: no answer in time", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aict.runtime.cluster", description=__doc__.split("\n")[0])
    parser.add_argument("command", nargs="?", choices=["run", "reload"], default="run")
    parser.add_argument("--web-processes", type=int, default=int(os.environ.get("AICT_WEB_PROCESSES", "2")))
    parser.add_argument("--first-web-port", type=int, default=None,
                        help="the first web process's port (default: AICT_PORT + 1)")
    args = parser.parse_args(argv)
    if args.command == "reload":
        return reload_command()
    if args.web_processes < 1:
        parser.error("AICT_WEB_PROCESSES must be at least 1")
    return Cluster(args.web_processes, args.first_web_port).run()


if __name__ == "__main__":
    sys.exit(main())
