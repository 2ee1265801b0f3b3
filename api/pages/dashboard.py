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
from sqlalchemy import Connection, Row
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
from workflow.dossiers.access import visibility
from workflow.engine.due import deadline_delays
from workflow.engine.errors import PersonNotFound
from workflow.language.durations import since
from workflow.reads.counts import pilote_choices
from workflow.reads.dossier_list import EXPRESSION_SORTS, SORTS, DossierFilters, list_dossiers
from workflow.reads.expectations import expectations
from workflow.reads.queries import person_id_by_email, reading
from workflow.reads.reports import dossier_of_row
from workflow.reads.worklists import staff_academies, visible_counts

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE = 50
SORT_CHOICES = frozenset({*SORTS, *EXPRESSION_SORTS})
SORTABLE = {
    "reference": "Référence",
    "attente": "En attente de",
    "depuis": "Depuis",
    "echeance": "Échéance",
    "mis_a_jour": "Mis à jour",
}
"""The columns a person may sort the lists by, and the key of each (``-`` reverses it)."""


@dataclass(frozen=True, slots=True)
class DashboardQuery:
    """The filters as typed in the form (echoed back into it and into the export links)."""

    academie: str = ""
    etat: str = ""
    phase: str = ""
    dispositif: str = ""
    pilote: str = ""
    """A person id chosen in the list, or an email address typed when there are too many
    pilotes to list (``PILOTE_CHOICES``)."""
    q: str = ""
    tri: str = ""
    archives: str = ""
    """``oui``: the archived dossiers (closed long ago) instead of the others."""

    @property
    def filtered(self) -> bool:
        return any(value.strip() for key, value in asdict(self).items() if key != "tri")

    @property
    def pilote_email(self) -> str | None:
        value = self.pilote.strip().lower()
        return value if "@" in value else None

    def filters(self, limit: int = PAGE, pilote_id: int | None = None) -> DossierFilters:
        """``pilote_id``: the pilote the typed address names (``pilote_email``) — or, for
        an address nobody has, -1, which no dossier matches."""
        pilote = self.pilote.strip()
        if (
            pilote_id is None
            and pilote.isascii()
            and pilote.isdigit()
            and len(pilote) <= 10
            and int(pilote) < 2**31
        ):
            pilote_id = int(pilote)
        return DossierFilters(
            academie=self.academie or None,
            state=self.etat or None,
            phase=self.phase or None,
            dispositif=self.dispositif or None,
            pilote=pilote_id,
            text=self.q.strip() or None,
            archived=self.archives == "oui",
            limit=limit,
            sort=self.tri if self.tri in SORT_CHOICES else "-mis_a_jour",
        )

    def query_string(self, **extra: str) -> str:
        """The non-empty filters (and ``extra``) as a URL query, without the ``?``."""
        return urlencode({**{k: v for k, v in asdict(self).items() if v.strip()}, **extra})


def dashboard_query(
    academie: Annotated[str, Query(max_length=64)] = "",
    etat: Annotated[str, Query(max_length=64)] = "",
    phase: Annotated[str, Query(max_length=64)] = "",
    dispositif: Annotated[str, Query(max_length=64)] = "",
    pilote: Annotated[str, Query(max_length=320)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
    tri: Annotated[str, Query(max_length=20)] = "",
    archives: Annotated[str, Query(max_length=8)] = "",
) -> DashboardQuery:
    return DashboardQuery(academie, etat, phase, dispositif, pilote, q, tri, archives)


Filters = Annotated[DashboardQuery, Depends(dashboard_query)]


PILOTE_CHOICES = 200
"""Beyond this many pilotes the filter asks for an address instead of listing them all."""

UNKNOWN_PILOTE = -1
"""The pilote filter of an address nobody has: no dossier matches it."""


def _pilote_id(conn: Connection, query: DashboardQuery) -> tuple[int | None, str | None]:
    """The pilote a typed address names, and the French error if nobody has it."""
    email = query.pilote_email
    if email is None:
        return None, None
    try:
        return person_id_by_email(conn, email), None
    except PersonNotFound:
        return UNKNOWN_PILOTE, f"Aucune personne n'a l'adresse {email}."


def _dashboard(container: Container, viewer: Viewer, query: DashboardQuery) -> dict[str, Any]:
    now = container.service.clock()
    with reading(container.engine) as conn:
        # The person's scope, resolved once for the counts, the filter and both lists.
        seen = visibility(conn, viewer.person_id, now)
        # The académies' deadline delays, read once for the late counts, both lists' late
        # clause and sort, and the due dates shown.
        delays = deadline_delays(conn)
        pilote_id, pilote_error = _pilote_id(conn, query)
        filters = query.filters(pilote_id=pilote_id)
        counts = visible_counts(
            conn,
            viewer.person_id,
            now,
            filters.academie,
            seen=seen,
            archived=filters.archived,
            delays=delays,
        )
        pilotes = pilote_choices(conn, seen, limit=PILOTE_CHOICES)
        academies = staff_academies(conn, viewer.person_id)
        late: list[Row[Any]] = []
        late_more = False
        if not filters.archived:  # closed dossiers are never late
            late, late_more = list_dossiers(
                conn,
                viewer.person_id,
                DossierFilters(**{**_fields(filters), "overdue": True}),
                now,
                seen,
                delays,
            )
        others, more = list_dossiers(
            conn,
            viewer.person_id,
            DossierFilters(**{**_fields(filters), "overdue": None if filters.archived else False}),
            now,
            seen,
            delays,
        )
        shown = [dossier_of_row(row) for row in [*late, *others]]
        waits = expectations(conn, shown, now, delays)
        dead: list[backlog.OutboxLine] = []
        if viewer.is_staff:
            # A dead email is someone who never heard they had something to do: show it
            # here. Their académies as EAFC staff: the scope already says which.
            dead = backlog.lines(
                container.engine,
                academies=list(seen.academies),
                status="dead",
                limit=20,
                conn=conn,
            )
    phases: dict[tuple[str, str], int] = {}
    for count in counts:
        key = (count.workflow_label, count.phase_label)
        phases[key] = phases.get(key, 0) + count.count
    return {
        "dead_emails": dead,
        "counts": [c for c in counts if c.count],
        "phases": [(w, p, n) for (w, p), n in phases.items() if n],
        "late": late,
        "late_more": late_more,
        "waits": waits,
        "now": now,
        "others": others,
        "more": more,
        "pilotes": None if pilotes is None else [(p.person_id, p.full_name) for p in pilotes],
        "pilote_error": pilote_error,
        "academie_options": [(a.slug, a.name) for a in academies],
        "archived": filters.archived,
    }


def _fields(filters: DossierFilters) -> dict[str, Any]:
    return {name: getattr(filters, name) for name in filters.__slots__}


@router.get("/tableau-de-bord")
async def dashboard(request: Request, viewer: Seen, wired: Wired, query: Filters) -> Response:
    context = await run_in_threadpool(_dashboard, wired, viewer, query)
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
            "sorting": _sorting(query),
            "since": since,
            "export_xlsx": f"/tableau-de-bord/export?{query.query_string(format='xlsx')}",
            "export_csv": f"/tableau-de-bord/export?{query.query_string(format='csv')}",
            "budget": _budget_links(query) if viewer.is_staff or viewer.reviews else None,
            "state_options": sorted(states.items(), key=lambda kv: kv[1]),
            "phase_options": sorted(phases.items(), key=lambda kv: kv[1]),
            "dispositif_options": [(d.id, d.label) for d in DISPOSITIFS.values()],
            "bulk_actions": [(a.id, a.label) for a in ACTIONS.values()],
            "archive_options": [("oui", "Archivés")],
        },
    )


@dataclass(frozen=True, slots=True)
class SortLink:
    label: str
    href: str
    current: str | None
    """« ascending » / « descending » when the lists are sorted by this column."""


def _sorting(query: DashboardQuery) -> dict[str, SortLink]:
    """One link per sortable column: sorts by it, or reverses it when it is the sort."""
    current = query.tri if query.tri in SORT_CHOICES else "-mis_a_jour"
    links = {}
    for key, label in SORTABLE.items():
        default = f"-{key}" if key == "mis_a_jour" else key
        reverse = default[1:] if default.startswith("-") else f"-{default}"
        state = None
        if current in (default, reverse):
            state = "descending" if current.startswith("-") else "ascending"
            if key == "depuis":
                # Sorted by the date the state was entered: the oldest first is the most
                # days first, which a person reads as a descending « Depuis » column.
                state = "ascending" if state == "descending" else "descending"
        target = reverse if current == default else default
        rest = DashboardQuery(**{**asdict(query), "tri": ""}).query_string(tri=target)
        links[key] = SortLink(label, f"/tableau-de-bord?{rest}", state)
    return links


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
    container: Container, person_id: int, query: DashboardQuery, fmt: files.SheetFormat
) -> ExportFile:
    with reading(container.engine) as conn:
        filters = query.filters(pilote_id=_pilote_id(conn, query)[0])
        return files.dashboard_file(conn, person_id, filters, fmt, container.service.clock())


@router.get("/tableau-de-bord/export")
async def dashboard_export(
    viewer: Seen,
    wired: Wired,
    query: Filters,
    format: Annotated[files.SheetFormat, Query()] = "xlsx",
) -> Response:
    return attachment(await run_in_threadpool(_export, wired, viewer.person_id, query, format))
