"""Probes for the platform: alive, ready (database reachable), and metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.deps import Wired

router = APIRouter(tags=["exploitation"])


@router.get("/healthz", summary="Le processus répond")
def healthz() -> dict[str, str]:
    return {"statut": "ok"}


@router.get(
    "/readyz",
    summary="La base de données est joignable",
    responses={503: {"description": "Base de données injoignable"}},
)
def readyz(wired: Wired) -> Response:
    try:
        with wired.engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return JSONResponse({"statut": "indisponible", "base": "injoignable"}, status_code=503)
    return JSONResponse({"statut": "pret"})


@router.get("/metrics", summary="Métriques Prometheus", response_class=Response)
def metrics(request: Request) -> Response:
    return Response(
        request.app.state.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
    )
