"""« Tableau de bord »: counts by state and phase of the dossiers one may see, late ones
first, with filters, and the listed dossiers as a spreadsheet. EAFC staff see their
académies; everyone else sees their own dossiers (the same page, titled « Mes dossiers »).

The filters are GET parameters, so a filtered view is a URL one can share or bookmark, and
the export links carry the very same parameters: the file holds what the page lists (every
row, not only the first 50), under the same authorisation (``visible_clause``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api.deps import Wired
from api.exports import files
from api.exports.download import attachment
from api.exports.files import ExportFile
from api.pages.errors import PageRoute
from api.pages.rendering import render
from api.pages.viewer import Seen, Viewer
from api.wiring import Container
from notifications import backlog
from states import SPECS
from states.dispositifs import DISPOSITIFS
from workflow.admin.bulk import ACTIONS
from workflow.reads.queries import DossierFilters, list_dossiers, reading
from workflow.reads.worklists import staff_academies, visible_counts, visible_pilotes

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE = 50


@dataclass(frozen=True, slots=True)
class DashboardQuery:
    """The filters as typed in the form (echoed back into it and into the export links)."""

    academie: str = ""
    etat: str = ""
    phase: str = ""
    dispositif: str = ""
    pilote: str = ""
    q: str = ""

    @property
    def filtered(self) -> bool:
        return any(value.strip() for value in asdict(self).values())

    def filters(self, limit: int = PAGE) -> DossierFilters:
        pilote = self.pilote.strip()
        return DossierFilters(
            academie=self.academie or None,
            state=self.etat or None,
            phase=self.phase or None,
            dispositif=self.dispositif or None,
            pilote=(
                int(pilote)
                if pilote.isascii()
                and pilote.isdigit()
                and len(pilote) <= 10
                and int(pilote) < 2**31
                else None
            ),
            text=self.q.strip() or None,
            limit=limit,
        )

    def query_string(self, **extra: str) -> str:
        """The non-empty filters (and ``extra``) as a URL query, without the ``?``."""
        return urlencode({**{k: v for k, v in asdict(self).items() if v.strip()}, **extra})


def dashboard_query(
    academie: Annotated[str, Query(max_length=64)] = "",
    etat: Annotated[str, Query(max_length=64)] = "",
    phase: Annotated[str, Query(max_length=64)] = "",
    dispositif: Annotated[str, Query(max_length=64)] = "",
    pilote: Annotated[str, Query(max_length=12)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
) -> DashboardQuery:
    return DashboardQuery(academie, etat, phase, dispositif, pilote, q)


Filters = Annotated[DashboardQuery, Depends(dashboard_query)]


def _dashboard(container: Container, viewer: Viewer, filters: DossierFilters) -> dict[str, Any]:
    now = container.service.clock()
    with reading(container.engine) as conn:
        counts = visible_counts(conn, viewer.person_id, now, filters.academie)
        pilotes = visible_pilotes(conn, viewer.person_id, now)
        academies = staff_academies(conn, viewer.person_id)
        late, late_more = list_dossiers(
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
        staff = backlog.staff_academies(container.engine, viewer.person_id)
        dead = backlog.lines(container.engine, academies=staff, status="dead", limit=20)
    return {
        "dead_emails": dead,
        "counts": [c for c in counts if c.count],
        "phases": [(w, p, n) for (w, p), n in phases.items() if n],
        "late": late,
        "late_more": late_more,
        "others": others,
        "more": more,
        "pilotes": [(p.person_id, p.full_name) for p in pilotes],
        "academie_options": [(a.slug, a.name) for a in academies],
    }


def _fields(filters: DossierFilters) -> dict[str, Any]:
    return {name: getattr(filters, name) for name in filters.__slots__}


@router.get("/tableau-de-bord")
async def dashboard(request: Request, viewer: Seen, wired: Wired, query: Filters) -> Response:
    context = await run_in_threadpool(_dashboard, wired, viewer, query.filters())
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
            "filters": asdict(query),
            "filtered": query.filtered,
            "export_xlsx": f"/tableau-de-bord/export?{query.query_string(format='xlsx')}",
            "export_csv": f"/tableau-de-bord/export?{query.query_string(format='csv')}",
            "budget": _budget_links(query) if viewer.is_staff or viewer.reviews else None,
            "state_options": sorted(states.items(), key=lambda kv: kv[1]),
            "phase_options": sorted(phases.items(), key=lambda kv: kv[1]),
            "dispositif_options": [(d.id, d.label) for d in DISPOSITIFS.values()],
            "bulk_actions": [(a.id, a.label) for a in ACTIONS.values()],
        },
    )


def _budget_links(query: DashboardQuery) -> dict[str, str]:
    """The budget export (``GET /api/v1/exports/budget``) for the académie and pilote
    filtered on, the dossiers one may see only, as a spreadsheet of each format."""
    scope = {"academie": query.academie.strip(), "pilote": query.pilote.strip()}
    if not scope["pilote"].isdigit():
        scope["pilote"] = ""
    kept = {k: v for k, v in scope.items() if v}
    return {
        fmt: f"/api/v1/exports/budget?{urlencode({'format': fmt, **kept})}"
        for fmt in ("xlsx", "csv")
    }


def _export(
    container: Container, person_id: int, filters: DossierFilters, fmt: files.SheetFormat
) -> ExportFile:
    with reading(container.engine) as conn:
        return files.dashboard_file(conn, person_id, filters, fmt, container.service.clock())


@router.get("/tableau-de-bord/export")
async def dashboard_export(
    viewer: Seen,
    wired: Wired,
    query: Filters,
    format: Annotated[files.SheetFormat, Query()] = "xlsx",
) -> Response:
    return attachment(
        await run_in_threadpool(_export, wired, viewer.person_id, query.filters(), format)
    )
