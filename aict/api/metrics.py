"""GET /metrics: Prometheus text format, read from live state at scrape time."""

import gc
import hmac
import time

import psutil
from flask import Blueprint, Response, current_app, request
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from aict.errors import AppError

bp = Blueprint("metrics", __name__)


class GcPauses:
    """Times the interpreter's garbage collections: long ones stall every session's output."""

    def __init__(self):
        self.count = [0, 0, 0]
        self.total = [0.0, 0.0, 0.0]
        self.longest = [0.0, 0.0, 0.0]
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        generation, took = info["generation"], time.perf_counter() - self._started
        self.count[generation] += 1
        self.total[generation] += took
        self.longest[generation] = max(self.longest[generation], took)


class _StateCollector:
    def __init__(self, state):
        self.state = state
        self.process = psutil.Process()
        self.gc = GcPauses()

    def collect(self):
        host = None
        if self.state.terminals.ready:  # else a scrape would wait for the host (30 s), past its own timeout
            try:
                host = self.state.terminals.stats()  # the terminal host's figures
            except AppError:
                pass
        yield GaugeMetricFamily("aict_terminal_host_up", "1 while this web process is linked to its node's "
                                "terminal host and it answers", value=int(host is not None))
        if host is not None:
            by_status = GaugeMetricFamily("aict_sessions", "Terminal sessions held by the node's terminal host",
                                          labels=["status"])
            by_status.add_metric(["running"], host["running"])
            by_status.add_metric(["exited"], host["held"] - host["running"])
            yield by_status
            yield GaugeMetricFamily("aict_session_viewers", "Sockets attached to sessions (all web processes)",
                                    value=host["viewers"])
            yield GaugeMetricFamily("aict_ring_buffer_bytes", "Output bytes held for replay", value=host["ringBytes"])
            yield CounterMetricFamily("aict_output_bytes", "Terminal output bytes read (live sessions)",
                                      value=host["outputBytes"])
            watch = host.get("processWatch")
            if watch is not None:  # terminal-process: what sampling the terminals' processes costs the host
                yield CounterMetricFamily("aict_process_watch_samples", "Terminals sampled for terminal-process",
                                          value=watch["sampled"])
                yield CounterMetricFamily("aict_process_watch_seconds", "Time the host spent sampling them",
                                          value=watch["busySeconds"])
                yield GaugeMetricFamily("aict_process_watch_terminals", "Terminals sampled now (someone looks)",
                                        value=watch["watching"])
            yield GaugeMetricFamily("aict_watched_workspaces", "Workspaces the node's terminal host watches "
                                    "(one watcher each)", value=host.get("watched", 0))
            yield GaugeMetricFamily("aict_workspace_watchers", "Sockets watching workspaces (all web processes)",
                                    value=host.get("watchers", 0))
            yield GaugeMetricFamily("aict_watcher_agents", "Watcher agent processes (one per shell account)",
                                    value=host.get("agents", 0))
        yield GaugeMetricFamily("aict_socket_connections", "Open Socket.IO connections of this web process",
                                value=len(self.state.connections))
        yield GaugeMetricFamily("aict_process_resident_bytes", "Server process RSS",
                                value=self.process.memory_info().rss)
        pauses = CounterMetricFamily("aict_gc_pause_seconds", "Time in garbage collections",
                                     labels=["generation"])
        longest = GaugeMetricFamily("aict_gc_longest_pause_seconds", "Longest garbage collection",
                                    labels=["generation"])
        for generation in range(3):
            pauses.add_metric([str(generation)], self.gc.total[generation])
            longest.add_metric([str(generation)], self.gc.longest[generation])
        yield pauses
        yield longest
        lag = self.state.loop_lag
        if lag is not None:  # a serving process (aict.runtime.server.start_background_work)
            yield HistogramMetricFamily("aict_event_loop_lag_seconds",
                                        "How late the event loop ran a timer due every 50 ms",
                                        buckets=lag.cumulative(), sum_value=lag.total)
            yield GaugeMetricFamily("aict_event_loop_longest_lag_seconds", "Longest event-loop lag seen",
                                    value=lag.longest)
        holds = self.state.db_holds
        if holds is not None:
            yield GaugeMetricFamily("aict_db_connections_in_use", "Database connections checked out of the pool",
                                    value=holds.checked_out)
            yield CounterMetricFamily("aict_db_long_holds", "Connections held past DB_HOLD_WARN_SECONDS",
                                      value=holds.too_long)
            yield GaugeMetricFamily("aict_db_longest_hold_seconds", "Longest a connection was held",
                                    value=holds.longest)


def install(state) -> None:
    """Start collecting (GC pauses are timed from now on) for this app's /metrics."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_StateCollector(state))
    state.metrics = registry


@bp.get("/metrics")
def metrics():
    settings = current_app.config["AICT"]
    token = settings.METRICS_TOKEN
    if not token and settings.ENV == "production":
        # What sessions run, how many sockets are open, how the server is doing: not for everyone.
        raise AppError("forbidden", "In production /metrics is served only with a bearer token: set METRICS_TOKEN.")
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise AppError("unauthorized", "Metrics need the configured bearer token.")
    registry = current_app.extensions["aict"].metrics
    return Response(generate_latest(registry), mimetype="text/plain; version=0.0.4")
