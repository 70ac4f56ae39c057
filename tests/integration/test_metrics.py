"""GET /metrics: Prometheus text an operator can scrape, with the event loop's lag."""

import re

import requests


def sample(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", text, re.MULTILINE)
    assert match, f"{name} is not in /metrics"
    return float(match.group(1))


def test_metrics_show_sessions_garbage_collections_and_event_loop_lag(server, client, workspace):
    socket = client()
    session_id = socket.create(workspace["id"])
    socket.send(session_id, "echo metrics-$((6*7))\n")
    socket.wait_for(session_id, "metrics-42")
    response = server.api("GET", "/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    text = response.text
    assert sample(text, "aict_terminal_host_up") == 1
    assert sample(text, 'aict_sessions{status="running"}') >= 1
    assert sample(text, "aict_socket_connections") >= 1
    assert sample(text, "aict_output_bytes_total") > 0
    assert 'aict_gc_pause_seconds_total{generation="0"}' in text
    # The lag timer has been running since the server started: every bucket is cumulative.
    buckets = [float(v) for v in re.findall(r'^aict_event_loop_lag_seconds_bucket\{le="[^"]+"\} ([0-9.e+-]+)$',
                                              text, re.MULTILINE)]
    assert len(buckets) == 10 and buckets == sorted(buckets) and buckets[-1] > 0
    assert sample(text, "aict_event_loop_lag_seconds_count") == buckets[-1]
    assert sample(text, "aict_event_loop_longest_lag_seconds") >= 0
    assert sample(text, "aict_db_long_holds_total") == 0  # no request or event kept one across a wait
    assert 0 < sample(text, "aict_db_longest_hold_seconds") < 1


def test_metrics_need_the_bearer_token_when_one_is_set(start_server):
    running = start_server({"AICT_METRICS_TOKEN": "scrape-secret-123"})
    assert running.api("GET", "/metrics").status_code == 401
    wrong = requests.get(f"{running.url}/metrics", headers={"Authorization": "Bearer nope"}, timeout=10)
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "unauthorized"
    right = requests.get(f"{running.url}/metrics", headers={"Authorization": "Bearer scrape-secret-123"}, timeout=10)
    assert right.status_code == 200 and "aict_event_loop_lag_seconds_bucket" in right.text


def test_metrics_are_never_served_open_in_production(start_server):
    secrets_ = {"AICT_ENV": "production", "AICT_SECRET_KEY": "s" * 48, "AICT_TEST_HOOKS": "0",
                "AICT_ENCRYPTION_KEY": "Xr3Yb9K6mG1kYp7mFq2o0b6m1cQbqJ2iM9b2T4yC3vA="}
    open_one = start_server(secrets_)
    refused = open_one.api("GET", "/metrics")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert "METRICS_TOKEN" in refused.json()["error"]["message"]
    assert "aict_" not in refused.text
    guarded = start_server({**secrets_, "AICT_METRICS_TOKEN": "scrape-secret-456"}).wait_for_host()
    assert guarded.api("GET", "/metrics").status_code == 401
    right = requests.get(f"{guarded.url}/metrics", headers={"Authorization": "Bearer scrape-secret-456"}, timeout=10)
    assert right.status_code == 200 and "aict_sessions" in right.text


def test_a_scrape_while_the_terminal_host_is_down_answers_and_says_so(start_server, tmp_path):
    """Prometheus gives up on a scrape after 10 s: /metrics waited for a host that was not there (30 s),
    so the web process's own figures were lost with it, and a host starting slowly failed a scrape."""
    running = start_server({"AICT_HOST_CHILD": "0", "AICT_TERMINAL_HOST": str(tmp_path / "no-host.sock")})
    response = requests.get(f"{running.url}/metrics", timeout=10)
    assert response.status_code == 200
    assert sample(response.text, "aict_terminal_host_up") == 0
    assert "aict_sessions" not in response.text  # the host's figures: not known, not made up
    assert sample(response.text, "aict_socket_connections") == 0  # the web process's own are there
