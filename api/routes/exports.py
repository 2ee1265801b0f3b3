"""Exports over HTTP: spreadsheets of the dossiers one may see, and one dossier's printable
fiche, bilan, Sofia-FMO pack and calendar.

Authorised like every other read: a dossier export asks ``readable`` first (a dossier one
may not see is not found); a list export covers only the dossiers ``GET /dossiers`` would
list for the caller (their roles, or their whole académie as gestionnaire or responsable).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from api.deps import Caller, RowId, Wired
from api.exports import files
from api.exports.files import ExportFile, SheetFormat
from api.problems import problem_responses
from api.uploads import content_disposition
from api.wiring import Container
from workflow.access import readable
from workflow.queries import reading
from workflow.reports import Scope

router = APIRouter(tags=["exports"])

ERRORS = problem_responses(400, 401, 403, 404, 422)


def _documented(description: str, *media_types: str) -> dict[int | str, dict[str, Any]]:
    content = {
        media.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
        for media in media_types
    }
    return {200: {"description": description, "content": content}, **ERRORS}


def _send(export: ExportFile) -> Response:
    return Response(
        export.content,
        media_type=export.media_type,
        headers={
            "Content-Disposition": content_disposition(export.filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


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


@router.get(
    "/api/v1/exports/budget",
    response_class=Response,
    responses=_documented("Le budget prévisionnel et le réalisé", files.XLSX, files.CSV),
    summary="Exporter le budget prévisionnel (esprit du fichier T-Offres)",
    description=(
        "Une ligne par dossier de formation visible : conception, tutorat ou accompagnement, "
        "classes virtuelles et présentiel estimés d'après le scénario (sinon les heures "
        "prévues), le total prévisionnel, et le réalisé d'après la décision de paiement ; "
        "une ligne de totaux. Filtres : académie, pilote, année du plan."
    ),
)
async def export_budget(
    caller: Caller,
    wired: Wired,
    format: Format = "xlsx",
    academie: Academie = None,
    pilote: Pilote = None,
    annee: Annee = None,
) -> Response:
    export = await run_in_threadpool(
        _list_export, wired, "budget", caller.person_id, format, academie, pilote, annee
    )
    return _send(export)


@router.get(
    "/api/v1/exports/dossiers",
    response_class=Response,
    responses=_documented("La liste des dossiers", files.XLSX, files.CSV),
    summary="Exporter la liste des dossiers (état, phase, échéances dépassées)",
)
async def export_dossiers(
    caller: Caller,
    wired: Wired,
    format: Format = "xlsx",
    academie: Academie = None,
    pilote: Pilote = None,
    annee: Annee = None,
) -> Response:
    export = await run_in_threadpool(
        _list_export, wired, "dossiers", caller.person_id, format, academie, pilote, annee
    )
    return _send(export)


def _dossier_export(wired: Container, dossier_id: int, person_id: int, kind: str) -> ExportFile:
    now = wired.service.clock()
    with reading(wired.engine) as conn:
        readable(conn, dossier_id, person_id, now)
        if kind == "fiche":
            return files.fiche_file(conn, dossier_id, now)
        if kind == "bilan":
            return files.bilan_file(conn, dossier_id, now)
        if kind == "sofia":
            return files.sofia_file(conn, dossier_id, wired.editor.data_dir, now)
        return files.sessions_file(conn, dossier_id, now)


PREFIX = "/api/v1/dossiers/{dossier_id}/exports"


@router.get(
    f"{PREFIX}/fiche-remuneration",
    response_class=Response,
    responses=_documented("Page HTML imprimable", files.HTML),
    summary="Fiche de rémunération imprimable (HTML)",
    description="Chaque personne payée, ses unités, taux, montants et étapes du calcul.",
)
async def export_fiche(dossier_id: RowId, caller: Caller, wired: Wired) -> Response:
    return _send(
        await run_in_threadpool(_dossier_export, wired, dossier_id, caller.person_id, "fiche")
    )


@router.get(
    f"{PREFIX}/bilan",
    response_class=Response,
    responses=_documented("Page HTML imprimable", files.HTML),
    summary="Bilan d'activités imprimable (HTML)",
)
async def export_bilan(dossier_id: RowId, caller: Caller, wired: Wired) -> Response:
    return _send(
        await run_in_threadpool(_dossier_export, wired, dossier_id, caller.person_id, "bilan")
    )


@router.get(
    f"{PREFIX}/sofia",
    response_class=Response,
    responses=_documented("Archive zip avec son manifeste (manifeste.csv)", files.ZIP),
    summary="Paquet Sofia-FMO : listes d'émargement et fiches de rémunération (zip)",
)
async def export_sofia(dossier_id: RowId, caller: Caller, wired: Wired) -> Response:
    return _send(
        await run_in_threadpool(_dossier_export, wired, dossier_id, caller.person_id, "sofia")
    )


@router.get(
    f"{PREFIX}/sessions.ics",
    response_class=Response,
    responses=_documented("Calendrier iCalendar (RFC 5545)", files.ICS),
    summary="Sessions du dossier au format iCalendar",
    description="UID stable par session, SEQUENCE augmentée à chaque modification, lien "
    "de visio dans l'événement, heures en UTC.",
)
async def export_sessions(dossier_id: RowId, caller: Caller, wired: Wired) -> Response:
    return _send(
        await run_in_threadpool(_dossier_export, wired, dossier_id, caller.person_id, "ics")
    )
