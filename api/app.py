"""The FastAPI application: ``api.app:create_app`` builds it around a container."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from api import pages, problems
from api.background import Background
from api.body_limit import BodyLimitMiddleware
from api.metrics import Metrics, MetricsMiddleware
from api.request_text import refuse_nul
from api.routes import (
    academies,
    auth,
    baremes,
    bulk,
    docs,
    documents,
    dossiers,
    exports,
    health,
    mailbox,
    oidc,
    outbox,
    paf,
    participants,
    tasks,
    work,
    workflows,
)
from api.security_headers import SecurityHeadersMiddleware
from api.wiring import Container, build


def create_app(container: Container | None = None, background: Background | None = None) -> FastAPI:
    """``background`` (the relay and the deadline loop) is given by ``formaflow serve``;
    tests and other embedders drive those themselves."""
    container = container or build()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if background is not None:
            await background.start()
        try:
            yield
        finally:
            if background is not None:
                await background.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="formaflow",
        version="1.0",
        description=(
            "API des dossiers de formation hybride. Authentification : cookie de session "
            "(navigateur, avec l'en-tête X-CSRF-Token pour toute modification) ou jeton "
            "`Authorization: Bearer …` (`formaflow token create EMAIL`). Les erreurs suivent "
            "la RFC 9457 (`application/problem+json`), en français."
        ),
        openapi_url="/api/openapi.json",
        docs_url=None,  # served by api.routes.docs, under its own security policy
        redoc_url=None,
        dependencies=[Depends(refuse_nul)],
    )
    app.state.container = container
    app.state.metrics = Metrics()
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    app.add_middleware(BodyLimitMiddleware, limit=container.api_settings.max_body_bytes)
    app.add_middleware(SecurityHeadersMiddleware, https=container.api_settings.cookie_secure)
    problems.install(app)
    modules = (health, auth, oidc, dossiers, work, tasks, workflows, baremes, exports, outbox)
    for module in (*modules, bulk, paf, documents, participants, mailbox, docs):
        app.include_router(module.router)
    app.include_router(academies.router)
    app.include_router(academies.revocations)
    pages.install(app)
    return app


SERVE_RELAY = "FORMAFLOW_SERVE_RELAY"
SERVE_TIMERS = "FORMAFLOW_SERVE_TIMERS"


def served_app() -> FastAPI:
    """The app of one of several ``formaflow serve --workers N`` processes, with its own
    relay and deadline loop unless ``serve`` was told otherwise."""
    container = build()
    background = Background(
        container,
        relay=os.environ.get(SERVE_RELAY, "1") == "1",
        timers=os.environ.get(SERVE_TIMERS, "1") == "1",
    )
    return create_app(container, background)
