"""`make cluster` as a user runs it: real nginx (deploy/nginx/aict.conf) in front of two web processes,
the terminal host and Redis; logins, sockets (WebSocket and long-polling) and terminals through nginx,
`make cluster-reload`, and Ctrl+C / SIGTERM leaving nothing behind."""

from __future__ import annotations

import re
import signal
import subprocess
import threading
import time

import pytest
import requests
import socketio

from tests.cluster import ClusterServer, alive, descendants, free_port_run  # noqa: F401
from tests.integration.streams import OrderedClient, wait_until
from tests.server import ROOT, TerminalClient


def browser_like_client() -> TerminalClient:
    """A client that sends one Origin, the one it is given (the WebSocket library adds its own otherwise)."""
    client = TerminalClient()
    client.sio.eio.websocket_extra_options["suppress_origin"] = True
    return client


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    running = ClusterServer(tmp_path_factory.mktemp("aict-cluster")).start()
    yield running
    assert not running.stop(), "make cluster left processes running"


def test_the_login_json_post_is_answered_through_nginx(cluster):
    """The old snippet's `Connection: upgrade` on every request made the login hang behind nginx."""
    response = requests.post(cluster.url + "/api/auth/login", timeout=10,
                             json={"username": "admin", "password": cluster.admin_password})
    assert response.status_code == 200, response.text
    assert response.headers["Server"].startswith("nginx")
    assert response.json()["access_token"]


def test_make_cluster_prints_where_to_log_in_and_the_first_admin(cluster):
    output = cluster.log_path.read_text()
    assert f"is running on http://127.0.0.1:{cluster.port}" in output
    assert "First admin 'admin' created from AICT_ADMIN_USER/AICT_ADMIN_PASSWORD." in output
    assert output.count("First admin") == 1  # created once, not once per web process
    # Only the proxy's address is offered: a web process's own would bypass nginx
    assert output.count("is running on") == 1 and output.count("behind a proxy: open the proxy's address") == 2


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_a_page_on_the_clusters_port_opens_a_terminal_through_nginx(cluster, transport):
    """The Origin a browser sends on a non-default port passes (nginx forwards `Host $http_host`);
    the terminal works over both transports."""
    workspace = cluster.create_local_workspace()
    client = browser_like_client()
    client.connect(cluster.url, cluster.admin_token, headers={"Origin": cluster.url}, transports=(transport,))
    try:
        assert client.sio.transport() == transport
        session_id = client.create(workspace["id"])
        client.send(session_id, "echo through-$((6*7))-nginx\r")
        client.wait_for(session_id, "through-42-nginx")
    finally:
        client.close()


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_a_foreign_origin_is_still_refused_through_nginx(cluster, transport):
    client = browser_like_client()
    refusals = []
    client.sio.on("connect_error", refusals.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(cluster.url, cluster.admin_token, headers={"Origin": "http://127.0.0.1:1"},
                       transports=(transport,))
    assert refusals[0]["data"]["code"] == "forbidden_origin"


def test_long_polling_clients_stick_to_one_web_process_and_spread_over_both(cluster):
    """Every request of a long-polling connection reaches the process that holds it (the routing
    cookie); different browsers land on different processes."""
    clients = []
    try:
        for _ in range(8):
            client = TerminalClient()
            client.connect(cluster.url, cluster.admin_token, transports=("polling",))
            clients.append(client)
        for _ in range(3):  # each connection keeps answering over several requests
            for client in clients:
                assert "sessions" in client.call("list-terminals", {}, timeout=10)
    finally:
        for client in clients:
            client.close()
    routes: dict[str, set[str]] = {}
    for line in (cluster.instance / "cluster" / "logs" / "access.log").read_text().splitlines():
        if "/socket.io/" in line and "transport=polling" in line:
            upstream = re.search(r"upstream=(\S+)", line).group(1)
            route = re.search(r"route=(\S+)", line).group(1)
            routes.setdefault(route, set()).add(upstream)
    assert len(routes) >= 8
    assert all(len(upstreams) == 1 for upstreams in routes.values()), routes
    assert len(set().union(*routes.values())) == 2, "all clients went to one web process"


def test_make_cluster_reload_keeps_answering_and_replaces_every_web_process(cluster):
    before = cluster.web_pids()
    failures: list[str] = []
    answered = 0
    done = threading.Event()

    def keep_asking():
        nonlocal answered
        with requests.Session() as http:
            while not done.is_set():
                try:
                    health = http.get(cluster.url + "/healthz", timeout=10)
                    login = http.post(cluster.url + "/api/auth/login", timeout=10,
                                      json={"username": "admin", "password": cluster.admin_password})
                    if health.status_code != 200 or login.status_code != 200:
                        failures.append(f"{health.status_code} {login.status_code} {login.text[:200]}")
                    answered += 2
                except requests.RequestException as exc:
                    failures.append(repr(exc))
                time.sleep(0.02)

    asker = threading.Thread(target=keep_asking)
    asker.start()
    try:
        reload = subprocess.run(["make", "-s", "cluster-reload"], cwd=ROOT, env=cluster.env, capture_output=True,
                                text=True, timeout=180)
    finally:
        done.set()
        asker.join()
    assert reload.returncode == 0, reload.stdout + reload.stderr
    assert "every web process restarted and answering" in reload.stdout
    after = cluster.web_pids()
    assert set(after) == set(before)
    assert all(after[name] != before[name] for name in before), (before, after)
    assert answered > 20 and not failures, failures[:5]


def test_a_terminal_keeps_running_through_make_cluster_reload(cluster):
    """Terminals live in the host: restarting the web processes loses no byte of a running counter."""
    workspace = cluster.create_local_workspace()
    first = OrderedClient()
    first.connect(cluster.url, cluster.admin_token)
    session_id = first.create(workspace["id"])
    first.send(session_id, "for i in $(seq 1 400); do echo tick-$i; sleep 0.02; done; echo counted-$((40+2))\r")
    first.wait_for(session_id, "tick-20")
    reload = subprocess.run(["make", "-s", "cluster-reload"], cwd=ROOT, env=cluster.env, capture_output=True,
                            text=True, timeout=180)
    assert reload.returncode == 0, reload.stdout + reload.stderr
    first.close()
    second = OrderedClient()
    second.connect(cluster.url, cluster.admin_token)
    try:
        second.attach(session_id, since=0)
        second.wait_for(session_id, "counted-42\r\n", timeout=30)  # not in the command's own echo
        wait_until(lambda: session_id not in second.exits, what="the terminal still running")
        text = second.text(session_id)
        ticks = [int(n) for n in re.findall(r"tick-(\d+)\r\n", text)]
        assert ticks == list(range(1, 401)), repr(text[:400])
    finally:
        second.close()


def test_sigterm_to_make_cluster_stops_everything_it_started(tmp_path):
    """As systemd or a container runtime stops it: SIGTERM to make alone."""
    running = ClusterServer(tmp_path / "instance", web_processes=1).start()
    state = running.state
    assert set(state["children"]) == {"host", f"web-{running.web_ports[0]}", "nginx"}  # the machine's Redis used
    nginx_pid = int((running.instance / "cluster" / "nginx.pid").read_text())
    assert requests.get(running.url + "/healthz", timeout=10).status_code == 200
    left = running.stop(signal.SIGTERM, group=False)
    assert running.proc.returncode is not None
    assert not left, f"left running: {left}"
    assert not alive(nginx_pid)
    assert not (running.instance / "cluster" / "state.json").exists()
    with pytest.raises(requests.ConnectionError):
        requests.get(running.url + "/healthz", timeout=5)
