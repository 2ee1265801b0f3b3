"""« Données personnelles »: what formaflow keeps about the people who use it.

A minimal page, about accounts and dossiers: the stagiaires' capability (issue 13) writes
the complete one at the same address, in this same module, and supersedes this one.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from api.deps import Wired
from api.pages.errors import PageRoute
from api.pages.rendering import render
from api.pages.viewer import MaybeSeen
from api.wiring import Container
from workflow.reads.institutions import every_academie
from workflow.reads.queries import reading
from workflow.store.academie_settings import AcademieSettings, academie_settings

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _academies(container: Container) -> list[AcademieSettings]:
    with reading(container.engine) as conn:
        return [academie_settings(conn, i) for i in every_academie(conn)]


@router.get("/donnees-personnelles")
async def privacy(request: Request, viewer: MaybeSeen, wired: Wired) -> Response:
    context = {
        "page_title": "Données personnelles",
        "academies": await run_in_threadpool(_academies, wired),
        "session_hours": wired.api_settings.session_absolute_hours,
    }
    return render(request, "pages/donnees_personnelles.html", context)
