"""Dossiers: create, list, read, plan; their team and delegations; transitions, history."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import Connection, select
from starlette.concurrency import run_in_threadpool

from api.deps import AuthenticatedFirst, Caller, Credentials, DeferredCaller, RowId, Wired
from api.idempotency import IdempotencyStore, request_hash
from api.problems import ApiProblem, problem_responses, response_for
from api.schemas import (
    AssignmentIn,
    DelegationIn,
    DossierCreate,
    DossierOut,
    DossierPage,
    HistoryOut,
    TransitionBody,
    TransitionOut,
)
from api.views import dossier_view, etag, parse_if_match, summary
from api.wiring import Container
from states.roles import DOSSIER_ROLES
from workflow.dossiers.access import Edit, readable, require_edit
from workflow.dossiers.inputs import DossierInput, PlanningInput, one_of
from workflow.engine.errors import InvalidInput, WorkflowError
from workflow.engine.service import FireCommand, FireResult
from workflow.reads.dossier_list import DossierFilters, list_dossiers
from workflow.reads.queries import history, person_id_by_email, reading
from workflow.store.tables import academie_table

router = APIRouter(prefix="/api/v1/dossiers", tags=["dossiers"])

ERRORS = problem_responses(400, 401, 403, 404, 409, 412, 422, 428, 429)


def _academie_id(conn: Connection, slug: str) -> int:
    found = conn.execute(select(academie_table.c.id).where(academie_table.c.slug == slug)).scalar()
    if found is None:
        raise InvalidInput(f"Académie inconnue : {slug}", field="academie")
    return int(found)


@router.post(
    "", status_code=201, response_model=DossierOut, responses=ERRORS, summary="Créer un dossier"
)
def create_dossier(body: DossierCreate, caller: Caller, wired: Wired, response: Response) -> Any:
    with reading(wired.engine) as conn:
        academie_id = _academie_id(conn, body.academie)
    data = DossierInput(
        **body.model_dump(exclude={"academie", "academie_id"}), academie_id=academie_id
    )
    dossier_id = wired.editor.create_dossier(data, actor_id=caller.person_id)
    with reading(wired.engine) as conn:
        view = dossier_view(
            conn, wired.service, dossier_id, caller.person_id, wired.service.clock()
        )
    response.headers["ETag"] = etag(view.version)
    response.headers["Location"] = f"/api/v1/dossiers/{dossier_id}"
    return view


async def list_(
    caller: DeferredCaller,
    wired: Wired,
    etat: Annotated[
        str | None, Query(max_length=64, description="État (ex. scenario_soumis)")
    ] = None,
    phase: Annotated[str | None, Query(max_length=64)] = None,
    academie: Annotated[str | None, Query(max_length=64, description="Slug de l'académie")] = None,
    dispositif: Annotated[str | None, Query(max_length=64)] = None,
    workflow: Annotated[str | None, Query(max_length=64)] = None,
    pilote: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="Id du pilote")] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Texte : titre ou référence")
    ] = None,
    en_retard: Annotated[bool | None, Query(description="Échéance dépassée")] = None,
    archives: Annotated[
        bool,
        Query(
            description="Les dossiers archivés (clos depuis plus longtemps que la durée de "
            "conservation de leur académie) au lieu des autres"
        ),
    ] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    tri: Annotated[
        str, Query(pattern=r"^-?(mis_a_jour|reference|titre|etat|cree)$")
    ] = "-mis_a_jour",
) -> Any:
    filters = DossierFilters(
        state=etat,
        phase=phase,
        academie=academie,
        dispositif=dispositif,
        workflow=workflow,
        pilote=pilote,
        text=q,
        overdue=en_retard,
        archived=archives,
        limit=limit,
        offset=offset,
        sort=tri,
    )
    # ``async`` with one explicit hop: the token lookup and the list share one trip to the
    # thread pool (see ``api.deps.Credentials``), which is most of a list's latency.
    return await run_in_threadpool(_list, caller, wired, filters)


def _list(caller: Credentials, wired: Container, filters: DossierFilters) -> Response:
    person_id = caller.principal(wired).person_id
    with reading(wired.engine) as conn:
        rows, more = list_dossiers(conn, person_id, filters, wired.service.clock())
    page = DossierPage(
        items=[summary(r, r.academie_slug) for r in rows],
        limit=filters.limit,
        offset=filters.offset,
        has_more=more,
    )
    # Serialised here, once: returned as a model, FastAPI would validate it all again.
    return Response(page.model_dump_json(), media_type="application/json")


# Registered by hand rather than with ``@router.get``: only ``add_api_route`` takes the
# route class, and a deferred bearer token must still answer 401 before any 422.
router.add_api_route(
    "",
    list_,
    methods=["GET"],
    response_model=DossierPage,
    responses=ERRORS,
    summary="Lister les dossiers que je peux voir",
    route_class_override=AuthenticatedFirst,
)


@router.get(
    "/{dossier_id}",
    response_model=DossierOut,
    responses=ERRORS,
    summary="Lire un dossier (avec mes actions possibles)",
)
def get_dossier(dossier_id: RowId, caller: Caller, wired: Wired, response: Response) -> Any:
    with reading(wired.engine) as conn:
        view = dossier_view(
            conn, wired.service, dossier_id, caller.person_id, wired.service.clock()
        )
    response.headers["ETag"] = etag(view.version)
    return view


@router.patch(
    "/{dossier_id}",
    response_model=DossierOut,
    responses=ERRORS,
    summary="Modifier le calendrier prévu (dossier en brouillon)",
)
def update_planning(
    dossier_id: RowId, body: PlanningInput, caller: Caller, wired: Wired, response: Response
) -> Any:
    wired.editor.update_planning(dossier_id, body, actor_id=caller.person_id)
    return get_dossier(dossier_id, caller, wired, response)


@router.post(
    "/{dossier_id}/assignments",
    status_code=204,
    responses=ERRORS,
    summary="Affecter une personne à un rôle sur le dossier",
)
def assign(dossier_id: RowId, body: AssignmentIn, caller: Caller, wired: Wired) -> Response:
    with reading(wired.engine) as conn:
        # Rights first: an unknown address must not tell an outsider anything.
        require_edit(conn, dossier_id, caller.person_id, Edit.TEAM, wired.service.clock())
        person = person_id_by_email(conn, body.person_email)
    wired.editor.assign(person, body.role, dossier_id=dossier_id, actor_id=caller.person_id)
    return Response(status_code=204)


@router.delete(
    "/{dossier_id}/assignments/{person_id}/{role}",
    status_code=204,
    responses=ERRORS,
    summary="Retirer une personne d'un rôle",
)
def unassign(
    dossier_id: RowId,
    person_id: RowId,
    role: Annotated[str, Path(max_length=64, pattern=r"^[a-z_]+$", **one_of(DOSSIER_ROLES))],
    caller: Caller,
    wired: Wired,
) -> Response:
    wired.editor.unassign(person_id, role, dossier_id, actor_id=caller.person_id)
    return Response(status_code=204)


@router.post(
    "/{dossier_id}/delegations",
    status_code=201,
    responses=ERRORS,
    summary="Désigner un suppléant sur ce dossier (pilote par défaut, ou tout autre rôle)",
)
def delegate(dossier_id: RowId, body: DelegationIn, caller: Caller, wired: Wired) -> dict[str, int]:
    if body.starts_at.tzinfo is None or body.ends_at.tzinfo is None:
        raise InvalidInput("Les dates de suppléance doivent préciser leur fuseau horaire.")
    with reading(wired.engine) as conn:
        require_edit(conn, dossier_id, caller.person_id, Edit.TEAM, wired.service.clock())
        delegator = person_id_by_email(conn, body.delegator_email)
        substitute = person_id_by_email(conn, body.substitute_email)
    delegation = wired.editor.delegate(
        delegator,
        substitute,
        body.starts_at,
        body.ends_at,
        role=body.role,
        dossier_id=dossier_id,
        actor_id=caller.person_id,
    )
    return {"id": delegation}


@router.get(
    "/{dossier_id}/history",
    response_model=list[HistoryOut],
    responses=ERRORS,
    summary="Historique des transitions",
)
def get_history(dossier_id: RowId, caller: Caller, wired: Wired) -> Any:
    with reading(wired.engine) as conn:
        readable(conn, dossier_id, caller.person_id, wired.service.clock())
        lines = history(conn, dossier_id)
    return [HistoryOut(**{**_fields(line), "who": line.who}) for line in lines]


def _fields(line: Any) -> dict[str, Any]:
    return {name: getattr(line, name) for name in line.__slots__}


def _transition_out(result: FireResult) -> dict[str, Any]:
    """The ``TransitionOut`` answer as plain JSON values, in its field order.

    Built as a dict rather than through the pydantic model and ``jsonable_encoder``: every
    value is already an int, a str or None, and the model's construction and encoding were
    a visible share of a transition's CPU. A test holds the keys to ``TransitionOut``.
    """
    return {
        "dossier_id": result.dossier_id,
        "reference": result.reference,
        "workflow": result.workflow_name,
        "trigger": result.trigger,
        "from_state": result.from_state,
        "to_state": result.to_state,
        "version": result.version,
        "history_id": result.history_id,
        "role": result.role,
        "on_behalf_of_id": result.on_behalf_of_id,
        "tasks_created": result.tasks_created,
    }


async def fire(
    dossier_id: RowId,
    trigger: str,
    body: TransitionBody,
    request: Request,
    caller: DeferredCaller,
    wired: Wired,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Any:
    # ``async`` with one explicit hop: the token lookup, the idempotency claim and the
    # transition share one trip to the thread pool (see ``api.deps.Credentials``).
    return await run_in_threadpool(
        _fire, dossier_id, trigger, body, request, caller, wired, if_match, idempotency_key
    )


# Registered by hand rather than with ``@router.post``: only ``add_api_route`` takes the
# route class, and this route must check a deferred bearer token before any 422.
router.add_api_route(
    "/{dossier_id}/transitions/{trigger}",
    fire,
    methods=["POST"],
    response_model=TransitionOut,
    responses=ERRORS,
    summary="Déclencher une action (If-Match obligatoire)",
    description=(
        "`If-Match` porte la version du dossier (son ETag) : absent → 428, périmé → 412. "
        "`Idempotency-Key` (facultatif) : un renvoi rend la première réponse sans rien "
        "déclencher ; la même clé avec un autre corps → 422 ; pendant la première → 409."
    ),
    route_class_override=AuthenticatedFirst,
)


def _fire(
    dossier_id: int,
    trigger: str,
    body: TransitionBody,
    request: Request,
    caller: Credentials,
    wired: Container,
    if_match: str | None,
    idempotency_key: str | None,
) -> Response:
    person_id = caller.principal(wired).person_id
    if if_match is None:
        raise ApiProblem(
            428,
            "if-match-requis",
            "Indiquez la version du dossier dans l'en-tête If-Match (son ETag).",
        )
    version = parse_if_match(if_match)
    if version is None:
        raise ApiProblem(
            412, "version-perimee", "L'en-tête If-Match ne désigne pas une version du dossier."
        )
    now = wired.service.clock()
    store = IdempotencyStore(wired.engine, wired.api_settings.idempotency_lease_seconds)
    if idempotency_key is not None:
        digest = request_hash("POST", request.url.path, [body.model_dump(mode="json"), version])
        replay = store.claim(person_id, idempotency_key, digest, now)
        if replay is not None:
            return JSONResponse(
                replay.body,
                status_code=replay.status_code,
                headers={**replay.headers, "Idempotent-Replay": "true"},
                media_type="application/json"
                if replay.status_code < 400
                else "application/problem+json",
            )
    command = FireCommand(
        dossier_id,
        trigger,
        person_id,
        expected_version=version,
        comment=body.comment,
        payload=body.payload,
    )

    def remember(conn: Connection, result: FireResult) -> None:
        if idempotency_key is not None:
            out = _transition_out(result)
            store.record(
                conn, person_id, idempotency_key, 200, out, {"ETag": etag(result.version)}, now
            )

    try:
        result = wired.service.fire(command, also=remember)
    except (WorkflowError, ApiProblem) as error:
        if idempotency_key is not None:
            answer = response_for(error, request)
            store.record_alone(
                person_id,
                idempotency_key,
                answer.status_code,
                json.loads(bytes(answer.body)),
                now,
            )
            return answer
        raise
    request.app.state.metrics.transition(result.workflow_name, result.trigger)
    return JSONResponse(_transition_out(result), headers={"ETag": etag(result.version)})
