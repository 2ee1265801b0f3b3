"""The FastAPI application: ``api.app:create_app`` builds it around a container."""

from __future__ import annotations

from fastapi import FastAPI

from api import pages, problems
from api.metrics import Metrics, MetricsMiddleware
from api.routes import auth, dossiers, health, oidc, tasks, work, workflows
from api.wiring import Container, build


def create_app(container: Container | None = None) -> FastAPI:
    container = container or build()
    app = FastAPI(
        title="formaflow",
        version="1.0",
        description=(
            "API des dossiers de formation hybride. Authentification : cookie de session "
            "(navigateur, avec l'en-tête X-CSRF-Token pour toute modification) ou jeton "
            "`Authorization: Bearer …` (`formaflow token create EMAIL`). Les erreurs suivent "
            "la RFC 9457 (`application/problem+json`), en français."
        ),
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.container = container
    app.state.metrics = Metrics()
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    problems.install(app)
    for module in (health, auth, oidc, dossiers, work, tasks, workflows):
        app.include_router(module.router)
    pages.install(app)
    return app
