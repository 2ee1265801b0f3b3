"""« Tableau de bord »: counts by state and phase of the dossiers one may see, late ones
first, with filters. EAFC staff see their académie; everyone else sees their own dossiers
(the same page, titled « Mes dossiers »)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api.deps import Wired
from api.pages.errors import PageRoute
from api.pages.rendering import render
from api.pages.viewer import Seen, Viewer
from api.wiring import Container
from notifications import backlog
from states import SPECS
from states.dispositifs import DISPOSITIFS
from workflow.queries import DossierFilters, list_dossiers, reading
from workflow.worklists import visible_counts, visible_pilotes

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE = 50


def _dashboard(container: Container, viewer: Viewer, filters: DossierFilters) -> dict[str, Any]:
    now = container.service.clock()
    with reading(container.engine) as conn:
        counts = visible_counts(conn, viewer.person_id, now)
        pilotes = visible_pilotes(conn, viewer.person_id, now)
        late, _ = list_dossiers(
            conn, viewer.person_id, DossierFilters(**{**_fields(filters), "overdue": True}), now
        )
        others, more = list_dossiers(
            conn, viewer.person_id, DossierFilters(**{**_fields(filters), "overdue": False}), now
        )
    phases: dict[tuple[str, str], int] = {}
    for count in counts:
        key = (count.workflow_label, count.phase_label)
        phases[key] = phases.get(key, 0) + count.count
    dead: list[backlog.OutboxLine] = []
    if viewer.is_staff:
        # A dead email is someone who never heard they had something to do: show it here.
        academies = backlog.staff_academies(container.engine, viewer.person_id)
        dead = backlog.lines(container.engine, academies=academies, status="dead", limit=20)
    return {
        "dead_emails": dead,
        "counts": [c for c in counts if c.count],
        "phases": [(w, p, n) for (w, p), n in phases.items() if n],
        "late": late,
        "others": others,
        "more": more,
        "pilotes": [(p.person_id, p.full_name) for p in pilotes],
    }


def _fields(filters: DossierFilters) -> dict[str, Any]:
    return {name: getattr(filters, name) for name in filters.__slots__}


@router.get("/tableau-de-bord")
async def dashboard(
    request: Request,
    viewer: Seen,
    wired: Wired,
    etat: Annotated[str, Query(max_length=64)] = "",
    phase: Annotated[str, Query(max_length=64)] = "",
    dispositif: Annotated[str, Query(max_length=64)] = "",
    pilote: Annotated[str, Query(max_length=12)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    filters = DossierFilters(
        state=etat or None,
        phase=phase or None,
        dispositif=dispositif or None,
        pilote=int(pilote) if pilote.isdigit() and int(pilote) < 2**31 else None,
        text=q.strip() or None,
        limit=PAGE,
    )
    context = await run_in_threadpool(_dashboard, wired, viewer, filters)
    states = {s.id: s.label for spec in SPECS.values() for s in spec.states}
    phases = {p.id: p.label for spec in SPECS.values() for p in spec.phases}
    title = "Tableau de bord" if viewer.is_staff else "Mes dossiers"
    return render(
        request,
        "pages/tableau_de_bord.html",
        {
            **context,
            "page_title": title,
            "title": title,
            "filters": {
                "etat": etat,
                "phase": phase,
                "dispositif": dispositif,
                "pilote": pilote,
                "q": q,
            },
            "filtered": any((etat, phase, dispositif, pilote, q.strip())),
            "state_options": sorted(states.items(), key=lambda kv: kv[1]),
            "phase_options": sorted(phases.items(), key=lambda kv: kv[1]),
            "dispositif_options": [(d.id, d.label) for d in DISPOSITIFS.values()],
        },
    )
