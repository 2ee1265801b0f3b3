"""Prometheus metrics: transitions by workflow and trigger, HTTP latency by route template.

Labels never carry personal data or ids: the route *template* (``/api/v1/dossiers/{dossier_id}``)
is used, never the concrete path. Each app has its own registry, so tests can build many.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match


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

    async def middleware(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = "non_routee"
        for candidate in request.app.router.routes:
            match, _ = candidate.matches(request.scope)
            if match is Match.FULL:
                route = getattr(candidate, "path", route)
                break
        self.latency.labels(request.method, route, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response
