"""« À valider »: the scenarios waiting for this pilote, oldest first, each readable in full
with the validate and return-for-revision forms (they post to the dossier's action page)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from api.deps import Wired
from api.pages.errors import PageRoute
from api.pages.rendering import render
from api.pages.viewer import Seen, Viewer
from api.wiring import Container
from workflow.engine.service import Availability
from workflow.language.vocabulary import MODALITIES
from workflow.reads.dossier_list import DossierFilters, list_dossiers
from workflow.reads.queries import reading
from workflow.reads.records import ScenarioRecord, scenario_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)

WAITING = "scenario_soumis"
REVIEW_TRIGGERS = ("valider_scenario", "demander_revision")


@dataclass(frozen=True, slots=True)
class Waiting:
    dossier: Any
    scenario: ScenarioRecord
    actions: list[Availability]


def _waiting(container: Container, viewer: Viewer) -> list[Waiting]:
    now = container.service.clock()
    filters = DossierFilters(state=WAITING, sort="mis_a_jour", limit=100)
    with reading(container.engine) as conn:
        rows, _ = list_dossiers(conn, viewer.person_id, filters, now)
        scenarios = {row.id: scenario_of(conn, row.id) for row in rows}
    found = []
    for row in rows:
        actions = sorted(
            (
                a
                for a in container.service.available(row.id, viewer.person_id)
                if a.trigger in REVIEW_TRIGGERS
            ),
            key=lambda a: REVIEW_TRIGGERS.index(a.trigger),
        )
        if actions:
            found.append(Waiting(row, scenarios[row.id], actions))
    return found


@router.get("/a-valider")
async def to_review(request: Request, viewer: Seen, wired: Wired) -> Response:
    waiting = await run_in_threadpool(_waiting, wired, viewer)
    return render(
        request,
        "pages/a_valider.html",
        {"page_title": "À valider", "waiting": waiting, "modalities": MODALITIES},
    )
