"""Académie administration over HTTP: académies, settings and their history, people, roles
and suppléances. The same use cases as the pages and the CLI (``workflow.admin``), so a
value is refused for the same French reason everywhere.

Only an administrateur of an académie reaches it here: for anyone else it does not exist
(404), or, for someone who holds another role in it, administration is refused (403).

Kept whole (a little past the usual size): one router whose routes share the same
resolution of an académie and its administrateur, and whose order fixes the published
OpenAPI document, which must not change when code moves.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.deps import Caller, RowId, Wired
from api.problems import ApiProblem, FieldError, problem_responses
from states.roles import ACADEMIE_ROLES, role_label
from workflow.admin import authority, catalog, changes, people
from workflow.admin.academies import NewAcademie
from workflow.admin.people_import import ImportReport, Outcome
from workflow.dossiers.team import delegation_line, delegations_in
from workflow.engine.errors import InvalidInput
from workflow.reads.queries import person_id_by_email, reading

router = APIRouter(prefix="/api/v1/academies", tags=["administration"])

ERRORS = problem_responses(400, 401, 403, 404, 409, 422)
Slug = Annotated[str, Path(max_length=64, pattern=r"^[a-z0-9-]+$")]
MAX_CSV = 2 * 1024 * 1024


class AcademieOut(BaseModel):
    slug: str
    name: str
    code: str


class AcademieCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    slug: str = Field(
        min_length=2, max_length=63, description="Identifiant : minuscules, chiffres, tirets"
    )
    code: str = Field(min_length=2, max_length=8, description="Code des références de dossier")
    nom: str = Field(min_length=3, max_length=200)
    institution: str | None = Field(default=None, max_length=200)
    signature: list[str] | None = Field(default=None, max_length=10)
    reply_to: str | None = Field(default=None, max_length=320)
    lieu: str | None = Field(default=None, max_length=100)


class SettingOut(BaseModel):
    key: str
    label: str
    value: Any = Field(description="La valeur retenue par l'académie ; null : la valeur par défaut")
    default: Any = None
    shown: str = Field(description="La valeur telle qu'elle se lit")


class ChangeOut(BaseModel):
    key: str
    old: Any
    new: Any


class HistoryOut(BaseModel):
    at: datetime
    who: str
    what: str
    old: str
    new: str


class PersonOut(BaseModel):
    person_id: int
    full_name: str
    email: str
    active: bool
    roles: list[str]


class PersonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=320)
    full_name: str = Field(min_length=2, max_length=200)


class AddedOut(BaseModel):
    person_id: int
    created: bool
    joined: bool


class ImportLineOut(BaseModel):
    line: int
    email: str
    full_name: str
    role: str | None
    outcome: str
    message: str


class ImportOut(BaseModel):
    applied: bool
    importable: bool
    summary: str
    problem: str | None
    lines: list[ImportLineOut]


class RoleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    person_email: str = Field(min_length=3, max_length=320)
    role: str = Field(min_length=1, max_length=64)


class RoleOut(BaseModel):
    person_id: int
    full_name: str
    email: str
    role: str
    role_label: str


class SuppleanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    delegator_email: str = Field(min_length=3, max_length=320)
    substitute_email: str = Field(min_length=3, max_length=320)
    role: str = Field(min_length=1, max_length=64)
    starts_at: datetime
    ends_at: datetime


class SuppleanceOut(BaseModel):
    id: int
    role: str
    role_label: str
    delegator: str
    substitute: str
    scope: str
    starts_at: datetime
    ends_at: datetime
    revoked_at: datetime | None


@router.get("", response_model=list[AcademieOut], responses=ERRORS, summary="Mes académies")
def list_academies(caller: Caller, wired: Wired) -> Any:
    """Les académies que j'administre."""
    with reading(wired.engine) as conn:
        found = authority.administered(conn, caller.person_id)
    return [AcademieOut(slug=a.slug, name=a.name, code=a.code) for a in found]


@router.post(
    "", status_code=201, response_model=AcademieOut, responses=ERRORS, summary="Créer une académie"
)
def create_academie(body: AcademieCreate, caller: Caller, wired: Wired) -> Any:
    """Réservé à un administrateur d'académie, qui devient le premier administrateur de la
    nouvelle ; les réglages se complètent ensuite (`PATCH …/parametres`)."""
    settings: dict[str, Any] = {"nom": body.nom}
    for key, value in (
        ("institution", body.institution),
        ("signature", body.signature),
        ("reply_to", body.reply_to),
        ("lieu", body.lieu),
    ):
        if value is not None:
            settings[key] = value
    wired.admin.create_academie(
        NewAcademie(body.slug, body.code, settings), actor_id=caller.person_id
    )
    ref = wired.admin.academie(body.slug.strip().lower(), actor_id=caller.person_id)
    return AcademieOut(slug=ref.slug, name=ref.name, code=ref.code)


def _settings(wired: Wired, slug: str, person_id: int) -> list[SettingOut]:
    ref = wired.admin.academie(slug, actor_id=person_id)
    with reading(wired.engine) as conn:
        values = changes.current_values(conn, ref.id)
    result = []
    for key in catalog.all_keys():
        spec = catalog.spec_of(key)
        value = values.get(key)
        result.append(
            SettingOut(
                key=key,
                label=spec.label,
                value=value,
                default=spec.default,
                shown=catalog.shown(key, value),
            )
        )
    return result


@router.get(
    "/{slug}/parametres",
    response_model=list[SettingOut],
    responses=ERRORS,
    summary="Les réglages de l'académie",
)
def get_settings(slug: Slug, caller: Caller, wired: Wired) -> Any:
    """Tarifs, barème des classes virtuelles, délais des échéances, signataires par
    dispositif, règle de participation, conservation, identité."""
    return _settings(wired, slug, caller.person_id)


@router.patch(
    "/{slug}/parametres",
    response_model=list[ChangeOut],
    responses=ERRORS,
    summary="Modifier des réglages",
)
def patch_settings(
    slug: Slug,
    body: Annotated[dict[str, Any], Body(max_length=200)],
    caller: Caller,
    wired: Wired,
) -> Any:
    """Clé → valeur (`"tarifs.hse": "20.00"`, `"delais.rappel_signature": 10`,
    `"signataires.eafc_taux_a": [{"role": "formateur", "mode": "chacun"}]` ; `null` : la
    valeur par défaut). Tout est vérifié avant d'écrire : une valeur refusée n'en laisse
    passer aucune. Chaque changement entre dans l'historique ; il s'applique aussitôt."""
    made = wired.admin.change_settings(slug, body, actor_id=caller.person_id)
    return [ChangeOut(key=c.key, old=c.old, new=c.new) for c in made]


@router.get(
    "/{slug}/historique",
    response_model=list[HistoryOut],
    responses=ERRORS,
    summary="Historique de l'administration",
)
def get_history(
    slug: Slug,
    caller: Caller,
    wired: Wired,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Any:
    """Qui a changé quoi, quand, ancienne → nouvelle valeur ; les plus récents d'abord."""
    ref = wired.admin.academie(slug, actor_id=caller.person_id)
    with reading(wired.engine) as conn:
        lines, _ = changes.history(conn, ref.id, limit=limit, offset=offset)
    return [HistoryOut(at=h.at, who=h.who, what=h.what, old=h.old, new=h.new) for h in lines]


@router.get(
    "/{slug}/personnes",
    response_model=list[PersonOut],
    responses=ERRORS,
    summary="L'annuaire de l'académie",
)
def list_people(
    slug: Slug,
    caller: Caller,
    wired: Wired,
    recherche: Annotated[str, Query(max_length=100)] = "",
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Any:
    ref = wired.admin.academie(slug, actor_id=caller.person_id)
    with reading(wired.engine) as conn:
        entries, _ = people.directory(conn, ref.id, search=recherche, limit=limit, offset=offset)
    return [
        PersonOut(
            person_id=e.person_id,
            full_name=e.full_name,
            email=e.email,
            active=e.active,
            roles=list(e.roles),
        )
        for e in entries
    ]


@router.post(
    "/{slug}/personnes",
    status_code=201,
    response_model=AddedOut,
    responses=ERRORS,
    summary="Ajouter une personne à l'annuaire",
)
def add_person(slug: Slug, body: PersonIn, caller: Caller, wired: Wired) -> Any:
    """Crée la personne, ou retrouve par son adresse une personne déjà connue de formaflow
    (`created: false`), et l'ajoute à l'annuaire de l'académie."""
    added = wired.admin.add_person(slug, body.email, body.full_name, actor_id=caller.person_id)
    return AddedOut(person_id=added.person_id, created=added.created, joined=added.joined)


def _import_out(report: ImportReport, applied: bool) -> ImportOut:
    return ImportOut(
        applied=applied,
        importable=report.importable,
        summary=report.summary(),
        problem=report.problem,
        lines=[
            ImportLineOut(
                line=line.number,
                email=line.email,
                full_name=line.full_name,
                role=line.role,
                outcome=line.outcome.value,
                message=line.message,
            )
            for line in report.lines
        ],
    )


async def _csv_body(request: Request) -> bytes:
    content = bytearray()
    async for chunk in request.stream():
        content += chunk
        if len(content) > MAX_CSV:
            raise ApiProblem(413, "fichier-trop-volumineux", "Fichier CSV de 2 Mo au plus.")
    return bytes(content)


@router.post(
    "/{slug}/personnes/import",
    response_model=ImportOut,
    responses=problem_responses(400, 401, 403, 404, 413, 422),
    summary="Importer des personnes (CSV)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def import_people(
    slug: Slug,
    request: Request,
    caller: Caller,
    wired: Wired,
    simulation: Annotated[bool, Query(description="true : ne rien écrire (essai)")] = True,
) -> Any:
    """Le corps est le fichier CSV (en-têtes français : courriel, nom, prénom ou nom complet,
    rôle facultatif ; UTF-8 ou Windows-1252 ; « ; », « , » ou tabulation). Avec
    `simulation=true` (par défaut), le compte rendu ligne par ligne, sans rien écrire ; avec
    `simulation=false`, tout le fichier, ou rien si une ligne est refusée (422, avec le
    compte rendu dans `lines`)."""
    content = await _csv_body(request)
    if simulation:
        report = await run_in_threadpool(
            wired.admin.review_import, slug, content, actor_id=caller.person_id
        )
        return _import_out(report, applied=False)
    try:
        report = await run_in_threadpool(
            wired.admin.import_people, slug, content, actor_id=caller.person_id
        )
    except InvalidInput as error:
        review = await run_in_threadpool(
            wired.admin.review_import, slug, content, actor_id=caller.person_id
        )
        refused = [
            FieldError(field=f"ligne {line.number}", message=line.message)
            for line in review.lines
            if line.outcome is Outcome.REFUSED
        ]
        raise ApiProblem(422, "saisie-invalide", error.message, errors=refused or None) from error
    return _import_out(report, applied=True)


@router.post(
    "/{slug}/personnes/{person_id}/desactivation",
    status_code=204,
    responses=ERRORS,
    summary="Désactiver une personne",
)
def deactivate(slug: Slug, person_id: RowId, caller: Caller, wired: Wired) -> Response:
    """Elle ne peut plus se connecter ; elle n'est jamais supprimée (l'historique la nomme)."""
    wired.admin.set_active(slug, person_id, False, actor_id=caller.person_id)
    return Response(status_code=204)


@router.post(
    "/{slug}/personnes/{person_id}/reactivation",
    status_code=204,
    responses=ERRORS,
    summary="Réactiver une personne",
)
def reactivate(slug: Slug, person_id: RowId, caller: Caller, wired: Wired) -> Response:
    wired.admin.set_active(slug, person_id, True, actor_id=caller.person_id)
    return Response(status_code=204)


@router.get(
    "/{slug}/roles",
    response_model=list[RoleOut],
    responses=ERRORS,
    summary="Les rôles d'académie",
)
def list_roles(slug: Slug, caller: Caller, wired: Wired) -> Any:
    ref = wired.admin.academie(slug, actor_id=caller.person_id)
    with reading(wired.engine) as conn:
        holders = people.role_holders(conn, ref.id)
    return [
        RoleOut(
            person_id=h.person_id,
            full_name=h.full_name,
            email=h.email,
            role=h.role,
            role_label=role_label(h.role),
        )
        for h in holders
    ]


@router.post(
    "/{slug}/roles", status_code=204, responses=ERRORS, summary="Attribuer un rôle d'académie"
)
def grant_role(slug: Slug, body: RoleIn, caller: Caller, wired: Wired) -> Response:
    """`gestionnaire`, `responsable` ou `administrateur`."""
    wired.admin.academie(slug, actor_id=caller.person_id)  # rights before any address lookup
    with reading(wired.engine) as conn:
        person = person_id_by_email(conn, body.person_email)
    wired.admin.grant(slug, person, body.role, actor_id=caller.person_id)
    return Response(status_code=204)


@router.delete(
    "/{slug}/roles/{role}/{person_id}",
    status_code=204,
    responses=ERRORS,
    summary="Retirer un rôle d'académie",
)
def withdraw_role(
    slug: Slug,
    role: Annotated[str, Path(max_length=64, pattern=r"^[a-z_]+$")],
    person_id: RowId,
    caller: Caller,
    wired: Wired,
) -> Response:
    if role not in ACADEMIE_ROLES:
        raise InvalidInput(f"Rôle d'académie inconnu : « {role} ».", "role")
    wired.admin.withdraw(slug, person_id, role, actor_id=caller.person_id)
    return Response(status_code=204)


def _suppleance_out(line: Any) -> SuppleanceOut:
    return SuppleanceOut(
        id=line.id,
        role=line.role,
        role_label=role_label(line.role),
        delegator=line.delegator,
        substitute=line.substitute,
        scope=line.scope(),
        starts_at=line.starts_at,
        ends_at=line.ends_at,
        revoked_at=line.revoked_at,
    )


@router.get(
    "/{slug}/suppleances",
    response_model=list[SuppleanceOut],
    responses=ERRORS,
    summary="Les suppléances de l'académie",
)
def list_suppleances(slug: Slug, caller: Caller, wired: Wired) -> Any:
    """Celles des rôles d'académie, et celles de ses dossiers."""
    ref = wired.admin.academie(slug, actor_id=caller.person_id)
    with reading(wired.engine) as conn:
        return [_suppleance_out(line) for line in delegations_in(conn, ref.id)]


@router.post(
    "/{slug}/suppleances",
    status_code=201,
    responses=ERRORS,
    summary="Désigner un suppléant dans l'académie",
)
def add_suppleance(slug: Slug, body: SuppleanceIn, caller: Caller, wired: Wired) -> dict[str, int]:
    """Pour un rôle d'académie (gestionnaire, responsable, administrateur), ou pour un rôle
    tenu sur les dossiers de l'académie (tous ceux de la personne dans cette académie)."""
    if body.starts_at.tzinfo is None or body.ends_at.tzinfo is None:
        raise InvalidInput("Les dates de suppléance doivent préciser leur fuseau horaire.")
    ref = wired.admin.academie(slug, actor_id=caller.person_id)
    with reading(wired.engine) as conn:
        delegator = person_id_by_email(conn, body.delegator_email)
        substitute = person_id_by_email(conn, body.substitute_email)
    delegation = wired.editor.delegate(
        delegator,
        substitute,
        body.starts_at,
        body.ends_at,
        role=body.role,
        academie_id=ref.id,
        actor_id=caller.person_id,
    )
    return {"id": delegation}


revocations = APIRouter(prefix="/api/v1/suppleances", tags=["administration"])


@revocations.post(
    "/{delegation_id}/revocation",
    response_model=SuppleanceOut,
    responses=ERRORS,
    summary="Révoquer une suppléance",
)
def revoke(delegation_id: RowId, caller: Caller, wired: Wired) -> Any:
    """La suppléance s'arrête aussitôt ; elle reste visible, révoquée, avec qui l'a
    révoquée. Possible pour la personne suppléée, le suppléant, qui l'a désignée, un
    administrateur de l'académie, ou (sur un dossier) qui peut modifier son équipe ; pour
    toute autre personne, elle est introuvable (404)."""
    wired.editor.revoke_delegation(delegation_id, actor_id=caller.person_id)
    with reading(wired.engine) as conn:
        return _suppleance_out(delegation_line(conn, delegation_id))
