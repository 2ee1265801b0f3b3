"""« Mes formations »: a stagiaire's own trainings — upcoming sessions and their links, the
convocation (also as a calendar file), their attendance, the questionnaire, their
attestation. Only their own: every read is keyed by the signed-in person, never by an id
taken from the address beyond the dossier's.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from api.deps import RowId, Wired
from api.documents.files import attestation_file
from api.exports.download import attachment
from api.exports.files import ICS, ExportFile
from api.pages.errors import PageRoute
from api.pages.rendering import render
from api.pages.viewer import Seen, Viewer
from api.wiring import Container
from notifications.ics import convocation_calendar
from notifications.tokens import QuestionnaireClaim
from workflow.engine.errors import DossierNotFound
from workflow.language.vocabulary import (
    FOLLOW_FROM_HOME,
    RELEASE_ASYNCHRONOUS,
    RELEASE_SYNCHRONOUS,
    SYNCHRONOUS,
)
from workflow.participants.mine import MyTraining, my_training, my_trainings
from workflow.reads.queries import reading
from workflow.reads.worklists import tasks_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/mes-formations")
async def my_trainings_page(request: Request, viewer: Seen, wired: Wired) -> Response:
    def read() -> list[MyTraining]:
        with reading(wired.engine) as conn:
            return my_trainings(conn, viewer.person_id, wired.service.clock())

    trainings = await run_in_threadpool(read)
    return render(
        request,
        "pages/mes_formations.html",
        {"page_title": "Mes formations", "trainings": trainings, "now": wired.service.clock()},
    )


def _detail(container: Container, viewer: Viewer, dossier_id: int) -> dict[str, Any]:
    now = container.service.clock()
    with reading(container.engine) as conn:
        training = my_training(conn, viewer.person_id, dossier_id, now)
        tasks = [t for t in tasks_of(conn, dossier_id) if t.person_id == viewer.person_id]
    questionnaire = None
    if training.questionnaire_open:
        claim = QuestionnaireClaim(dossier_id, training.enrolment.enrolment_id)
        questionnaire = f"/questionnaire/{container.questionnaire_links.token(claim)}"
    return {
        "training": training,
        "tasks": tasks,
        "questionnaire": questionnaire,
        "synchronous": SYNCHRONOUS,
        "release_sync": RELEASE_SYNCHRONOUS,
        "release_async": RELEASE_ASYNCHRONOUS,
        "from_home": FOLLOW_FROM_HOME,
        "now": now,
    }


@router.get("/mes-formations/{dossier_id}")
async def my_training_page(
    request: Request, dossier_id: RowId, viewer: Seen, wired: Wired
) -> Response:
    context = await run_in_threadpool(_detail, wired, viewer, dossier_id)
    return render(
        request,
        "pages/ma_formation.html",
        {**context, "page_title": context["training"].title},
    )


def _calendar(container: Container, viewer: Viewer, dossier_id: int) -> ExportFile:
    now = container.service.clock()
    with reading(container.engine) as conn:
        training = my_training(conn, viewer.person_id, dossier_id, now)
    if not training.active:
        raise DossierNotFound(dossier_id)
    content = convocation_calendar(
        training.reference,
        training.title,
        [s.slot for s in training.sessions],
        now,
        cancelled=training.cancelled,
    )
    return ExportFile(f"convocation-{training.reference}.ics", ICS, content)


@router.get("/mes-formations/{dossier_id}/convocation.ics")
async def my_calendar(dossier_id: RowId, viewer: Seen, wired: Wired) -> Response:
    return attachment(await run_in_threadpool(_calendar, wired, viewer, dossier_id))


def _attestation(container: Container, viewer: Viewer, dossier_id: int) -> ExportFile:
    with reading(container.engine) as conn:
        training = my_training(conn, viewer.person_id, dossier_id, container.service.clock())
    if training.attestation is None:
        raise DossierNotFound(dossier_id)
    return attestation_file(training.attestation)


@router.get("/mes-formations/{dossier_id}/attestation")
async def my_attestation(dossier_id: RowId, viewer: Seen, wired: Wired) -> Response:
    return attachment(await run_in_threadpool(_attestation, wired, viewer, dossier_id))
