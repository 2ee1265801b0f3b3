"""My charter tasks across every dossier: list them, tick one, untick it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Caller, Wired
from api.problems import ApiProblem, problem_responses
from workflow.engine.tasks import TaskBook, TaskFilters, TaskNotFound, TaskStatus, TaskView

router = APIRouter(prefix="/api/v1/tasks", tags=["tâches"])

ERRORS = problem_responses(400, 401, 403, 404, 422)

TaskId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Identifiant de la tâche")]


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    dossier_id: int
    dossier_reference: str
    dossier_title: str
    phase: str
    phase_label: str
    role: str
    role_label: str
    code: str
    label: str
    due_at: datetime | None
    done_at: datetime | None
    done_by_id: int | None
    overdue: bool = Field(description="Ouverte et échéance dépassée.")
    closed_at: datetime | None = Field(
        None, description="Close sans avoir été faite : sa phase est terminée (« non faite »)."
    )


class TaskPage(BaseModel):
    items: list[TaskOut]
    limit: int
    offset: int
    has_more: bool


def _book(wired: Wired) -> TaskBook:
    return TaskBook(wired.engine, wired.service.clock)


def _out(view: TaskView) -> TaskOut:
    return TaskOut.model_validate(view)


@router.get("", response_model=TaskPage, responses=ERRORS, summary="Lister mes tâches")
def list_mine(
    caller: Caller,
    wired: Wired,
    statut: Annotated[
        TaskStatus,
        Query(
            description="ouvertes (par défaut), faites, en_retard (ouvertes et échues), "
            "non_faites (closes avec leur phase), toutes"
        ),
    ] = TaskStatus.OPEN,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Any:
    views, more = _book(wired).mine(
        caller.person_id, TaskFilters(status=statut, limit=limit, offset=offset)
    )
    return TaskPage(items=[_out(v) for v in views], limit=limit, offset=offset, has_more=more)


@router.post(
    "/{task_id}/complete",
    response_model=TaskOut,
    responses=ERRORS,
    summary="Cocher une de mes tâches (sans effet si elle l'est déjà)",
)
def complete(task_id: TaskId, caller: Caller, wired: Wired) -> Any:
    try:
        return _out(_book(wired).complete(task_id, caller.person_id))
    except TaskNotFound as error:
        raise ApiProblem(404, "introuvable", error.message) from error


@router.post(
    "/{task_id}/reopen",
    response_model=TaskOut,
    responses=ERRORS,
    summary="Décocher une de mes tâches",
)
def reopen(task_id: TaskId, caller: Caller, wired: Wired) -> Any:
    try:
        return _out(_book(wired).reopen(task_id, caller.person_id))
    except TaskNotFound as error:
        raise ApiProblem(404, "introuvable", error.message) from error
