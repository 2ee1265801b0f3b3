"""Exports over HTTP: spreadsheets of the dossiers one may see, and one dossier's printable
fiche, bilan, Sofia-FMO pack and calendar.

Authorised like every other read: a dossier export asks ``readable`` first (a dossier one
may not see is not found); a list export covers only the dossiers ``GET /dossiers`` would
list for the caller (their roles, or their whole académie as gestionnaire or responsable).

The routes of each family share one signature, so each family is declared by one factory
(``_list_route``, ``_dossier_route``): a new export is one call, and the two families
cannot drift apart in their parameters or authorisation.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from api.deps import Caller, RowId, Wired
from api.exports import files
from api.exports.download import attachment
from api.exports.files import ExportFile, SheetFormat
from api.problems import problem_responses
from api.wiring import Container
from workflow.dossiers.access import readable
from workflow.participants.access import team_reader
from workflow.reads.queries import reading
from workflow.reads.reports import Scope

router = APIRouter(tags=["exports"])

ERRORS = problem_responses(400, 401, 403, 404, 422)


def _documented(description: str, *media_types: str) -> dict[int | str, dict[str, Any]]:
    content = {
        media.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
        for media in media_types
    }
    return {200: {"description": description, "content": content}, **ERRORS}


Format = Annotated[SheetFormat, Query(description="xlsx (tableur) ou csv (« ; », UTF-8)")]
Academie = Annotated[str | None, Query(max_length=64, description="Slug de l'académie")]
Pilote = Annotated[int | None, Query(ge=1, le=2**31 - 1, description="Id du pilote")]
Annee = Annotated[
    int | None, Query(ge=2000, le=2100, description="Année du plan : 2026 pour 2026-2027")
]


def _list_export(
    wired: Container,
    kind: str,
    person_id: int,
    fmt: SheetFormat,
    academie: str | None,
    pilote: int | None,
    annee: int | None,
) -> ExportFile:
    scope = Scope(person_id=person_id, academie=academie, pilote_id=pilote, plan_year=annee)
    now = wired.service.clock()
    with reading(wired.engine) as conn:
        if kind == "budget":
            return files.budget_file(conn, scope, fmt, now)
        return files.dossiers_file(conn, scope, fmt, now)


def _list_route(
    kind: str, name: str, response: str, summary: str, description: str | None = None
) -> None:
    """``GET /api/v1/exports/<kind>``: a spreadsheet of the caller's visible dossiers."""

    async def endpoint(
        caller: Caller,
        wired: Wired,
        format: Format = "xlsx",
        academie: Academie = None,
        pilote: Pilote = None,
        annee: Annee = None,
    ) -> Response:
        export = await run_in_threadpool(
            _list_export, wired, kind, caller.person_id, format, academie, pilote, annee
        )
        return attachment(export)

    router.add_api_route(
        f"/api/v1/exports/{kind}",
        endpoint,
        methods=["GET"],
        name=name,  # the operationId, as when each route was its own function
        response_class=Response,
        responses=_documented(response, files.XLSX, files.CSV),
        summary=summary,
        description=description,
    )


_list_route(
    "budget",
    "export_budget",
    "Le budget prévisionnel et le réalisé",
    summary="Exporter le budget prévisionnel (esprit du fichier T-Offres)",
    description=(
        "Une ligne par dossier de formation visible : conception, tutorat ou accompagnement, "
        "classes virtuelles et présentiel estimés d'après le scénario (sinon les heures "
        "prévues), le total prévisionnel, et le réalisé d'après la décision de paiement ; "
        "une ligne de totaux. Filtres : académie, pilote, année du plan."
    ),
)
_list_route(
    "dossiers",
    "export_dossiers",
    "La liste des dossiers",
    summary="Exporter la liste des dossiers (état, phase, échéances dépassées)",
)


def _dossier_export(wired: Container, dossier_id: int, person_id: int, kind: str) -> ExportFile:
    now = wired.service.clock()
    with reading(wired.engine) as conn:
        if kind == "sofia":
            # The pack holds the émargement lists: the team's, never another stagiaire's.
            team_reader(conn, dossier_id, person_id, now)
        else:
            readable(conn, dossier_id, person_id, now)
        if kind == "fiche":
            return files.fiche_file(conn, dossier_id, now)
        if kind == "bilan":
            return files.bilan_file(conn, dossier_id, now)
        if kind == "sofia":
            return files.sofia_file(conn, dossier_id, wired.editor.data_dir, now)
        return files.sessions_file(conn, dossier_id, now)


PREFIX = "/api/v1/dossiers/{dossier_id}/exports"


def _dossier_route(
    kind: str,
    path: str,
    name: str,
    response: str,
    media_type: str,
    summary: str,
    description: str | None = None,
) -> None:
    """``GET /api/v1/dossiers/{id}/exports/<path>``: one dossier's file, if readable."""

    async def endpoint(dossier_id: RowId, caller: Caller, wired: Wired) -> Response:
        return attachment(
            await run_in_threadpool(_dossier_export, wired, dossier_id, caller.person_id, kind)
        )

    router.add_api_route(
        f"{PREFIX}/{path}",
        endpoint,
        methods=["GET"],
        name=name,
        response_class=Response,
        responses=_documented(response, media_type),
        summary=summary,
        description=description,
    )


_dossier_route(
    "fiche",
    "fiche-remuneration",
    "export_fiche",
    "Page HTML imprimable",
    files.HTML,
    summary="Fiche de rémunération imprimable (HTML)",
    description="Chaque personne payée, ses unités, taux, montants et étapes du calcul.",
)
_dossier_route(
    "bilan",
    "bilan",
    "export_bilan",
    "Page HTML imprimable",
    files.HTML,
    summary="Bilan d'activités imprimable (HTML)",
)
_dossier_route(
    "sofia",
    "sofia",
    "export_sofia",
    "Archive zip avec son manifeste (manifeste.csv)",
    files.ZIP,
    summary="Paquet Sofia-FMO : listes d'émargement et fiches de rémunération (zip)",
)
_dossier_route(
    "ics",
    "sessions.ics",
    "export_sessions",
    "Calendrier iCalendar (RFC 5545)",
    files.ICS,
    summary="Sessions du dossier au format iCalendar",
    description="UID stable par session, SEQUENCE augmentée à chaque modification, lien "
    "de visio dans l'événement, heures en UTC.",
)
