"""Sign-in and sign-out for the browser (session cookie), and who am I."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from api.deps import SESSION_COOKIE, Caller, Wired, set_session_cookie
from api.problems import problem_responses
from api.schemas import LoginIn, MeOut
from workflow.reads.queries import reading
from workflow.store.tables import academie_table, assignment_table

router = APIRouter(prefix="/api/v1/auth", tags=["authentification"])

ERRORS = problem_responses(400, 401, 403, 422, 429)


def _client(request: Request) -> str:
    return request.client.host if request.client else "inconnu"


def _me(wired: Wired, person_id: int, email: str, name: str, via: str, csrf: str | None) -> MeOut:
    with reading(wired.engine) as conn:
        rows = conn.execute(
            select(assignment_table.c.role, academie_table.c.slug)
            .join(academie_table, academie_table.c.id == assignment_table.c.academie_id)
            .where(assignment_table.c.person_id == person_id)
        ).all()
    return MeOut(
        person_id=person_id,
        email=email,
        full_name=name,
        via=via,
        csrf_token=csrf,
        academie_roles=[{"role": r.role, "academie": r.slug} for r in rows],
    )


@router.post(
    "/login",
    response_model=MeOut,
    responses=ERRORS,
    summary="Se connecter (compte local) : ouvre une session par cookie",
)
def login(body: LoginIn, request: Request, response: Response, wired: Wired) -> Any:
    person_id = wired.accounts.authenticate(body.email, body.password, _client(request))
    token, csrf = wired.accounts.open_session(person_id)
    set_session_cookie(response, wired, token)
    principal = wired.accounts.session(token)
    assert principal is not None
    return _me(wired, person_id, principal.email, principal.full_name, "session", csrf)


@router.post("/logout", status_code=204, responses=ERRORS, summary="Se déconnecter")
def logout(caller: Caller, wired: Wired) -> Response:
    if caller.session_id is not None:
        wired.accounts.close_session(caller.session_id)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", response_model=MeOut, responses=ERRORS, summary="Qui suis-je ?")
def me(caller: Caller, wired: Wired) -> Any:
    return _me(
        wired, caller.person_id, caller.email, caller.full_name, caller.via, caller.csrf_token
    )
