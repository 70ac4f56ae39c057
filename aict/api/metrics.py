"""GET /metrics: Prometheus text format, read from live state at scrape time."""

import hmac

import psutil
from flask import Blueprint, Response, current_app, request
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from aict.errors import AppError

bp = Blueprint("metrics", __name__)


class _StateCollector:
    def __init__(self, state):
        self.state = state
        self.process = psutil.Process()

    def collect(self):
        sessions = self.state.sessions.all()
        running = sum(1 for s in sessions if s.running)
        by_status = GaugeMetricFamily("aict_sessions", "Terminal sessions held by this process",
                                      labels=["status"])
        by_status.add_metric(["running"], running)
        by_status.add_metric(["exited"], len(sessions) - running)
        yield by_status
        yield GaugeMetricFamily("aict_socket_connections", "Open Socket.IO connections",
                                value=len(self.state.connections))
        yield GaugeMetricFamily("aict_session_viewers", "Sockets attached to sessions",
                                value=sum(s.viewer_count for s in sessions))
        yield GaugeMetricFamily("aict_ring_buffer_bytes", "Output bytes held for replay",
                                value=sum(s.memory_bytes() for s in sessions))
        yield CounterMetricFamily("aict_output_bytes", "Terminal output bytes read (live sessions)",
                                  value=sum(s.ring.end for s in sessions))
        yield GaugeMetricFamily("aict_process_resident_bytes", "Server process RSS",
                                value=self.process.memory_info().rss)


def _registry() -> CollectorRegistry:
    state = current_app.extensions["aict"]
    if "metrics" not in state.extra:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_StateCollector(state))
        state.extra["metrics"] = registry
    return state.extra["metrics"]


@bp.get("/metrics")
def metrics():
    token = current_app.config["AICT"]["METRICS_TOKEN"]
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise AppError("unauthorized", "Metrics need the configured bearer token.")
    return Response(generate_latest(_registry()), mimetype="text/plain; version=0.0.4")
