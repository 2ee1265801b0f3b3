"""Prometheus metrics: transitions by workflow and trigger, HTTP latency by route template.

Labels never carry personal data or ids: the route *template* (``/api/v1/dossiers/{dossier_id}``)
is used, never the concrete path. Each app has its own registry, so tests can build many.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.transitions = Counter(
            "formaflow_transitions",
            "Transitions fired through the API.",
            ["workflow", "trigger"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "formaflow_http_request_duration_seconds",
            "HTTP request latency.",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
        )

    def transition(self, workflow: str, trigger: str) -> None:
        self.transitions.labels(workflow, trigger).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Pure ASGI (no per-request task or body copy, unlike ``@app.middleware``): it only
    watches the response start for the status and reads the matched route afterwards."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            route = getattr(scope.get("route"), "path", "non_routee")
            self.metrics.latency.labels(scope["method"], route, str(status)).observe(
                time.perf_counter() - started
            )
