"""The académie's outgoing emails, for its EAFC staff: what waits, what went, what failed."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.deps import Caller, RowId, Wired
from api.problems import ApiProblem, problem_responses
from notifications import backlog

router = APIRouter(prefix="/api/v1/emails", tags=["courriels"])

ERRORS = problem_responses(401, 403, 404, 422)


class EmailPage(BaseModel):
    counts: dict[str, int]
    items: list[backlog.OutboxLine]
    limit: int
    offset: int


class RetryOut(BaseModel):
    requeued: int


def _staff(wired: Wired, caller: Caller) -> list[int]:
    academies = backlog.staff_academies(wired.engine, caller.person_id)
    if not academies:
        raise ApiProblem(
            403,
            "acces-refuse",
            "Seuls les gestionnaires et responsables de l'académie voient ses courriels.",
        )
    return academies


@router.get(
    "",
    response_model=EmailPage,
    responses=ERRORS,
    summary="Courriels de mes académies (en attente, envoyés, en échec)",
)
def list_emails(
    caller: Caller,
    wired: Wired,
    statut: Annotated[Literal["pending", "sent", "dead"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Any:
    academies = _staff(wired, caller)
    items = backlog.lines(
        wired.engine, academies=academies, status=statut, limit=limit, offset=offset
    )
    return EmailPage(
        counts=backlog.counts(wired.engine, academies),
        items=items,
        limit=limit,
        offset=offset,
    )


@router.post(
    "/{email_id}/retry",
    response_model=RetryOut,
    responses=ERRORS,
    summary="Renvoyer un courriel en échec",
)
async def retry_email(email_id: RowId, caller: Caller, wired: Wired) -> Any:
    academies = await run_in_threadpool(_staff, wired, caller)
    count = await run_in_threadpool(
        lambda: backlog.retry(wired.engine, ids=[email_id], academies=academies)
    )
    if count == 0:
        raise ApiProblem(404, "introuvable", "Aucun courriel en échec avec cet identifiant.")
    return RetryOut(requeued=count)
