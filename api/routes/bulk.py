"""Bulk actions over HTTP: launch one on chosen dossiers (or on every dossier a filter
keeps), follow its progress, download its results.

``POST`` answers 202 at once: the batch runs in the serve process's worker, one
transaction per dossier through the same service as a single action; ``GET`` tells where
it stands and, per dossier, « fait » or « refusé » and why.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.concurrency import run_in_threadpool

from api.deps import Caller, RowId, Wired
from api.exports.download import attachment
from api.exports.files import ExportFile, SheetFormat
from api.exports.results import bulk_results_file
from api.problems import ApiProblem, problem_responses
from api.wiring import Container
from workflow.admin.bulk import ACTIONS, MAX_DOSSIERS, BatchBusy
from workflow.reads import bulk as bulk_reads
from workflow.reads.dossier_list import DossierFilters, filtered_dossiers
from workflow.reads.queries import academie_id_by_slug, reading

router = APIRouter(prefix="/api/v1/bulk-actions", tags=["actions groupées"])

ERRORS = problem_responses(400, 401, 403, 404, 409, 422)


class BulkFilter(BaseModel):
    """The dashboard's filters (same names as ``GET /api/v1/dossiers``)."""

    model_config = ConfigDict(extra="forbid")
    etat: Annotated[str, Field(max_length=64)] | None = None
    phase: Annotated[str, Field(max_length=64)] | None = None
    dispositif: Annotated[str, Field(max_length=64)] | None = None
    pilote: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None
    q: Annotated[str, Field(max_length=200)] | None = None
    en_retard: bool | None = None


class BulkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    academie: Annotated[str, Field(max_length=64, description="Slug de l'académie")]
    action: Annotated[
        str,
        Field(max_length=64, description="valider_bilan, mettre_en_paiement, relancer, annuler"),
    ]
    comment: Annotated[str, Field(max_length=5000)] | None = None
    dossier_ids: (
        Annotated[list[Annotated[int, Field(ge=1, le=2**31 - 1)]], Field(max_length=MAX_DOSSIERS)]
        | None
    ) = None
    filter: BulkFilter | None = Field(
        default=None, description="« Tous ceux du filtre », à la place de dossier_ids"
    )

    @model_validator(mode="after")
    def _one_selection(self) -> BulkIn:
        if (self.dossier_ids is None) == (self.filter is None):
            raise ValueError("donnez soit dossier_ids, soit filter")
        return self


class BulkItemOut(BaseModel):
    position: int
    dossier_id: int
    reference: str
    title: str
    paf_id: str | None
    state_label: str
    status: str
    status_label: str
    message: str | None


class BulkOut(BaseModel):
    id: int
    academie: str
    action: str
    action_label: str
    comment: str | None
    created_by: str
    created_at: datetime
    finished_at: datetime | None
    status: str
    status_label: str
    total: int
    done: int
    refused: int
    pending: int
    items: list[BulkItemOut]


def selected_ids(
    container: Container, person_id: int, academie: str, body_filter: BulkFilter
) -> list[int]:
    """Every dossier of the académie that the filter keeps and the person may see, in the
    dashboard's order; one more than the maximum, so that too many is told, not cut."""
    filters = DossierFilters(
        academie=academie,
        state=body_filter.etat,
        phase=body_filter.phase,
        dispositif=body_filter.dispositif,
        pilote=body_filter.pilote,
        text=body_filter.q,
        overdue=body_filter.en_retard,
    )
    with reading(container.engine) as conn:
        query = filtered_dossiers(conn, person_id, filters, container.service.clock())
        return [int(row.id) for row in conn.execute(query.limit(MAX_DOSSIERS + 1))]


def launch(
    container: Container,
    person_id: int,
    academie: str,
    action: str,
    ids: list[int],
    comment: str | None,
) -> int:
    with reading(container.engine) as conn:
        academie_id = academie_id_by_slug(conn, academie)
    try:
        return container.bulk.create(academie_id, action, ids, actor_id=person_id, comment=comment)
    except BatchBusy as busy:
        raise ApiProblem(409, "conflit", busy.message) from busy


def view(container: Container, batch_id: int, person_id: int) -> bulk_reads.BatchView:
    with reading(container.engine) as conn:
        return bulk_reads.batch(conn, batch_id, person_id)


def out(batch: bulk_reads.BatchView) -> dict[str, Any]:
    return {
        "id": batch.id,
        "academie": batch.academie_slug,
        "action": batch.action,
        "action_label": batch.action_label,
        "comment": batch.comment,
        "created_by": batch.created_by,
        "created_at": batch.created_at,
        "finished_at": batch.finished_at,
        "status": batch.status,
        "status_label": batch.status_label,
        "total": batch.total,
        "done": batch.done,
        "refused": batch.refused,
        "pending": batch.pending,
        "items": [
            {
                name: getattr(item, name)
                for name in (
                    "position",
                    "dossier_id",
                    "reference",
                    "title",
                    "paf_id",
                    "state_label",
                    "status",
                    "status_label",
                    "message",
                )
            }
            for item in batch.items
        ],
    }


def _create(container: Container, person_id: int, body: BulkIn) -> bulk_reads.BatchView:
    if body.filter is not None:
        ids = selected_ids(container, person_id, body.academie, body.filter)
    else:
        ids = list(body.dossier_ids or [])
    batch_id = launch(container, person_id, body.academie, body.action, ids, body.comment)
    return view(container, batch_id, person_id)


@router.post(
    "",
    status_code=202,
    response_model=BulkOut,
    responses=ERRORS,
    summary="Lancer une action groupée",
    description=(
        "Une action (" + ", ".join(f"`{a}`" for a in ACTIONS) + ") sur les dossiers choisis "
        f"d'une académie ({MAX_DOSSIERS} au plus), ou sur tous ceux que le filtre retient. "
        "Chaque dossier passe par le même service qu'une action seule (une transaction, ses "
        "courriels) ; suivre l'avancement par `GET` sur l'adresse de `Location`. Une seule "
        "action groupée à la fois par académie (409 sinon)."
    ),
)
async def create(body: BulkIn, caller: Caller, wired: Wired, response: Response) -> Any:
    batch = await run_in_threadpool(_create, wired, caller.person_id, body)
    response.headers["Location"] = f"/api/v1/bulk-actions/{batch.id}"
    return out(batch)


@router.get(
    "/{batch_id}",
    response_model=BulkOut,
    responses=ERRORS,
    summary="Où en est une action groupée, et le résultat de chaque dossier",
)
async def get(batch_id: RowId, caller: Caller, wired: Wired) -> Any:
    return out(await run_in_threadpool(view, wired, batch_id, caller.person_id))


def results_export(
    container: Container, batch_id: int, person_id: int, fmt: SheetFormat
) -> ExportFile:
    return bulk_results_file(view(container, batch_id, person_id), fmt)


@router.get(
    "/{batch_id}/results",
    response_class=Response,
    responses={
        200: {
            "description": "Le résultat de chaque dossier",
            "content": {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                    "schema": {"type": "string", "format": "binary"}
                },
                "text/csv": {"schema": {"type": "string", "format": "binary"}},
            },
        },
        **ERRORS,
    },
    summary="Télécharger le résultat d'une action groupée (XLSX ou CSV)",
)
async def results(
    batch_id: RowId,
    caller: Caller,
    wired: Wired,
    format: Annotated[SheetFormat, Query(description="xlsx ou csv")] = "xlsx",
) -> Response:
    return attachment(
        await run_in_threadpool(results_export, wired, batch_id, caller.person_id, format)
    )
