"""The stagiaires over HTTP: a dossier's enrolments (the team's), attendance at a session,
and a stagiaire's own trainings.

A stagiaire who lists a dossier's stagiaires gets their own enrolment only; the writes go
through the participants' use cases with the caller as actor (roles and states checked
there, in the write's own transaction), like every other route.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import Caller, RowId, Wired
from api.problems import problem_responses
from api.wiring import Container
from workflow.dossiers.access import readable
from workflow.participants.access import participant_only
from workflow.participants.inputs import SessionMarks, StagiaireInput
from workflow.participants.mine import my_trainings
from workflow.participants.roster import Participant, participant, roster
from workflow.reads.queries import reading

router = APIRouter(tags=["stagiaires"])

ERRORS = problem_responses(400, 401, 403, 404, 409, 422)
PREFIX = "/api/v1/dossiers/{dossier_id}"


class StagiaireOut(BaseModel):
    enrolment_id: int
    person_id: int
    full_name: str
    email: str
    etablissement: str | None
    uai: str | None
    discipline: str
    enrolled_at: datetime
    withdrawn_at: datetime | None
    active: bool


def _out(p: Participant) -> StagiaireOut:
    return StagiaireOut(
        enrolment_id=p.enrolment_id,
        person_id=p.person_id,
        full_name=p.full_name,
        email=p.email,
        etablissement=p.etablissement,
        uai=p.uai,
        discipline=p.discipline,
        enrolled_at=p.enrolled_at,
        withdrawn_at=p.withdrawn_at,
        active=p.active,
    )


def _list(wired: Container, dossier_id: int, person_id: int) -> list[StagiaireOut]:
    with reading(wired.engine) as conn:
        _, held = readable(conn, dossier_id, person_id, wired.service.clock())
        people = roster(conn, dossier_id)
    if participant_only(held):
        people = [p for p in people if p.person_id == person_id]
    return [_out(p) for p in people]


@router.get(
    f"{PREFIX}/stagiaires",
    response_model=list[StagiaireOut],
    responses=ERRORS,
    summary="Lister les stagiaires du dossier",
    description="Toute l'équipe voit tous les stagiaires (désinscrits compris) ; un stagiaire "
    "ne voit que sa propre inscription.",
)
async def list_stagiaires(dossier_id: RowId, caller: Caller, wired: Wired) -> Any:
    return await run_in_threadpool(_list, wired, dossier_id, caller.person_id)


def _enrol(wired: Container, dossier_id: int, body: StagiaireInput, actor: int) -> StagiaireOut:
    enrolment_id = wired.enrolments.enrol(dossier_id, body, actor_id=actor)
    with reading(wired.engine) as conn:
        found = participant(conn, dossier_id, enrolment_id)
    assert found is not None
    return _out(found)


@router.post(
    f"{PREFIX}/stagiaires",
    status_code=201,
    response_model=StagiaireOut,
    responses=ERRORS,
    summary="Inscrire un stagiaire (la personne est créée si son adresse est nouvelle)",
)
async def enrol(
    dossier_id: RowId, body: StagiaireInput, caller: Caller, wired: Wired, response: Response
) -> Any:
    out = await run_in_threadpool(_enrol, wired, dossier_id, body, caller.person_id)
    response.headers["Location"] = f"/api/v1/dossiers/{dossier_id}/stagiaires/{out.enrolment_id}"
    return out


class WithdrawalBody(BaseModel):
    reason: Annotated[str, Field(max_length=2000)] = ""


@router.post(
    f"{PREFIX}/stagiaires/{{enrolment_id}}/desinscription",
    status_code=204,
    responses=ERRORS,
    summary="Désinscrire un stagiaire (l'historique est conservé)",
)
async def withdraw(
    dossier_id: RowId,
    enrolment_id: RowId,
    caller: Caller,
    wired: Wired,
    body: Annotated[WithdrawalBody | None, Body()] = None,
) -> Response:
    reason = body.reason if body is not None else ""
    await run_in_threadpool(
        lambda: wired.enrolments.withdraw(
            dossier_id, enrolment_id, reason, actor_id=caller.person_id
        )
    )
    return Response(status_code=204)


class PresenceOut(BaseModel):
    presents: int


@router.put(
    f"{PREFIX}/sessions/{{session_id}}/presences",
    response_model=PresenceOut,
    responses=ERRORS,
    summary="Enregistrer les présences d'une session",
    description="`marks` associe l'identifiant d'inscription à `present`, `absent_excuse` ou "
    "`absent`. La session devient tenue ; les effectifs du bilan et des barèmes suivent.",
)
async def put_presences(
    dossier_id: RowId, session_id: RowId, body: SessionMarks, caller: Caller, wired: Wired
) -> Any:
    present = await run_in_threadpool(
        lambda: wired.registers.record_session(
            dossier_id, session_id, body, actor_id=caller.person_id
        )
    )
    return PresenceOut(presents=present)


class MySessionOut(BaseModel):
    starts_at: datetime
    ends_at: datetime
    modality: str
    place: str | None
    connection_link: str | None
    attendance: str | None


class MyTrainingOut(BaseModel):
    dossier_id: int
    reference: str
    title: str
    state: str
    state_label: str
    active: bool
    sessions: list[MySessionOut]
    questionnaire_answered: bool
    attestation_available: bool


@router.get(
    "/api/v1/moi/formations",
    response_model=list[MyTrainingOut],
    responses=problem_responses(401),
    summary="Mes formations (en tant que stagiaire)",
    description="Mes inscriptions, leurs sessions et mes présences : jamais celles des autres.",
)
async def my_formations(caller: Caller, wired: Wired) -> Any:
    def read() -> list[MyTrainingOut]:
        with reading(wired.engine) as conn:
            found = my_trainings(conn, caller.person_id, wired.service.clock())
        return [
            MyTrainingOut(
                dossier_id=t.dossier_id,
                reference=t.reference,
                title=t.title,
                state=t.state,
                state_label=t.state_label,
                active=t.active,
                sessions=[
                    MySessionOut(
                        starts_at=s.slot.starts_at,
                        ends_at=s.slot.ends_at,
                        modality=s.slot.modality,
                        place=s.slot.place,
                        connection_link=s.slot.connection_link,
                        attendance=s.attendance,
                    )
                    for s in t.sessions
                ],
                questionnaire_answered=t.questionnaire_answered,
                attestation_available=t.attestation is not None,
            )
            for t in found
        ]

    return await run_in_threadpool(read)
