"""An académie's roles and their suppléances on the pages: who holds which role (given and
taken back) and who stands in for whom, for how long (made and revoked).

Apart from the directory (``api.pages.admin_people``) because these change what people may
do rather than who they are; the same use cases as the API and the CLI (``Administration``,
``DossierEditor.delegate``/``revoke_delegation``). Taking a role back or revoking a
suppléance is confirmed on a page of its own first: its link may be opened by anything, only
the confirmation acts.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request, Response
from starlette.concurrency import run_in_threadpool

from api.deps import RowId, Wired
from api.pages import admin_common as common
from api.pages.errors import PageRoute
from api.pages.forms import FormState, typed_values
from api.pages.rendering import render
from api.pages.team import STATUSES, delegation_period, shown_period
from api.pages.viewer import Seen, Viewer
from api.wiring import Container
from states.roles import ACADEMIE_ROLES, role_label
from workflow.admin import people
from workflow.admin.authority import AcademieRef
from workflow.dossiers import delegations
from workflow.dossiers.delegations import may_revoke
from workflow.dossiers.team import DelegationLine, delegation_line, delegations_in
from workflow.engine.errors import DelegationNotFound, InvalidInput, NotPermitted, PersonNotFound
from workflow.reads.queries import person_id_by_email, reading

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Role = Annotated[str, Path(max_length=64, pattern=r"^[a-z_]+$")]
ROLE_LABELS = {"role": "Rôle", "personne": "Personne", "courriel": "Ou son adresse électronique"}
SUPPLEANCE_LABELS = {
    "titulaire": "Titulaire suppléé",
    "suppleant": "Suppléant",
    "suppleant_courriel": "Ou l'adresse électronique du suppléant",
    "debut": "Du",
    "fin": "Au",
}


# Académie roles ------------------------------------------------------------------------


def _roles_page(
    request: Request,
    container: Container,
    viewer: Viewer,
    slug: str,
    form: FormState | None = None,
    status: int = 200,
) -> Response:
    academie = common.administered(container, viewer, slug)
    with reading(container.engine) as conn:
        holders = people.role_holders(conn, academie.id)
        entries, _ = people.directory(conn, academie.id, limit=2000)
    return render(
        request,
        "pages/admin/roles.html",
        {
            **common.context(academie, "/roles", "Rôles dans l'académie"),
            "groups": [
                (role, label, [h for h in holders if h.role == role])
                for role, label in ACADEMIE_ROLES.items()
            ],
            "roles": list(ACADEMIE_ROLES.items()),
            "people": [
                (str(e.person_id), f"{e.full_name} ({e.email})") for e in entries if e.active
            ],
            "form": form or FormState(labels=ROLE_LABELS),
        },
        status_code=status,
    )


@router.get("/administration/academies/{slug}/roles")
async def roles_page(request: Request, slug: str, viewer: Seen, wired: Wired) -> Response:
    return await run_in_threadpool(_roles_page, request, wired, viewer, slug)


def _chosen(container: Container, form: FormState, choice: str, address: str) -> int | None:
    email = form.value(address).strip()
    picked = form.value(choice).strip()
    if email:
        try:
            with reading(container.engine) as conn:
                return person_id_by_email(conn, email)
        except PersonNotFound:
            form.add(address, f"aucune personne n'a l'adresse « {email} » dans formaflow")
            return None
    if not picked.isdigit():
        form.add(
            choice, "choisissez une personne dans la liste ou saisissez son adresse électronique"
        )
        return None
    return int(picked)


@router.post("/administration/academies/{slug}/roles")
async def grant_role(request: Request, slug: str, viewer: Seen, wired: Wired) -> Response:
    form = FormState(typed_values(await request.form()), labels=ROLE_LABELS)

    def grant() -> str | None:
        common.administered(wired, viewer, slug)  # rights before any address lookup
        role = form.value("role")
        if role not in ACADEMIE_ROLES:
            form.add("role", "choisissez un rôle de la liste")
        person = _chosen(wired, form, "personne", "courriel")
        if person is None or form.errors:
            return None
        try:
            name = wired.admin.grant(slug, person, role, actor_id=viewer.person_id)
        except (InvalidInput, PersonNotFound) as error:
            field = "courriel" if form.value("courriel").strip() else "personne"
            form.add(field, error.message)
            return None
        return f"{name} est maintenant {role_label(role)} de l'académie."

    text = await run_in_threadpool(grant)
    if text is None:
        return await run_in_threadpool(_roles_page, request, wired, viewer, slug, form, 422)
    return common.done(request, f"{common.ROOT}/academies/{slug}/roles", "Rôle attribué", text)


def _withdrawal(
    container: Container, viewer: Viewer, slug: str, person_id: int, role: str
) -> tuple[AcademieRef, people.RoleHolder]:
    academie = common.administered(container, viewer, slug)
    with reading(container.engine) as conn:
        holder = next(
            (
                h
                for h in people.role_holders(conn, academie.id)
                if h.person_id == person_id and h.role == role
            ),
            None,
        )
    if holder is None:
        raise PersonNotFound(person_id)
    return academie, holder


def _withdrawal_page(
    request: Request, container: Container, viewer: Viewer, slug: str, person_id: int, role: str
) -> Response:
    academie, holder = _withdrawal(container, viewer, slug, person_id, role)
    return render(
        request,
        "pages/admin/retirer_role.html",
        {**common.context(academie, "/roles", "Retirer un rôle"), "holder": holder},
    )


@router.get("/administration/academies/{slug}/roles/retirer/{person_id}/{role}")
async def confirm_withdrawal(
    request: Request, slug: str, person_id: RowId, role: Role, viewer: Seen, wired: Wired
) -> Response:
    return await run_in_threadpool(_withdrawal_page, request, wired, viewer, slug, person_id, role)


@router.post("/administration/academies/{slug}/roles/retirer/{person_id}/{role}")
async def withdraw_role(
    request: Request,
    slug: str,
    person_id: RowId,
    role: Role,
    viewer: Seen,
    wired: Wired,
    confirme: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    if confirme != "oui":
        return await confirm_withdrawal(request, slug, person_id, role, viewer, wired)
    await run_in_threadpool(_withdrawal, wired, viewer, slug, person_id, role)
    name = await run_in_threadpool(
        lambda: wired.admin.withdraw(slug, person_id, role, actor_id=viewer.person_id)
    )
    return common.done(
        request,
        f"{common.ROOT}/academies/{slug}/roles",
        "Rôle retiré",
        f"{name} n'est plus {role_label(role)} de l'académie.",
    )


# Suppléances ---------------------------------------------------------------------------


def _suppleances_page(
    request: Request,
    container: Container,
    viewer: Viewer,
    slug: str,
    form: FormState | None = None,
    status: int = 200,
) -> Response:
    academie = common.administered(container, viewer, slug)
    now = container.service.clock()
    with reading(container.engine) as conn:
        lines = delegations_in(conn, academie.id)
        holders = people.role_holders(conn, academie.id)
        entries, _ = people.directory(conn, academie.id, limit=2000)
    return render(
        request,
        "pages/admin/suppleances.html",
        {
            **common.context(academie, "/suppleances", "Suppléances"),
            "lines": [(line, *shown_period(line)) for line in lines],
            "now": now,
            "statuses": STATUSES,
            "titulaires": [
                (f"{h.person_id}:{h.role}", f"{h.full_name} — {role_label(h.role)}")
                for h in holders
                if h.active
            ],
            "people": [
                (str(e.person_id), f"{e.full_name} ({e.email})") for e in entries if e.active
            ],
            "form": form or FormState(labels=SUPPLEANCE_LABELS),
        },
        status_code=status,
    )


@router.get("/administration/academies/{slug}/suppleances")
async def suppleances_page(request: Request, slug: str, viewer: Seen, wired: Wired) -> Response:
    return await run_in_threadpool(_suppleances_page, request, wired, viewer, slug)


@router.post("/administration/academies/{slug}/suppleances")
async def add_suppleance(request: Request, slug: str, viewer: Seen, wired: Wired) -> Response:
    form = FormState(typed_values(await request.form()), labels=SUPPLEANCE_LABELS)

    def delegate() -> str | None:
        academie = common.administered(wired, viewer, slug)
        person, _, role = form.value("titulaire").partition(":")
        if not person.isdigit() or role not in ACADEMIE_ROLES:
            form.add("titulaire", "choisissez le titulaire d'un rôle de l'académie")
        substitute = _chosen(wired, form, "suppleant", "suppleant_courriel")
        period = delegation_period(form)
        if substitute is None or period is None or form.errors:
            return None
        try:
            wired.editor.delegate(
                int(person),
                substitute,
                *period,
                role=role,
                academie_id=academie.id,
                actor_id=viewer.person_id,
            )
        except (InvalidInput, NotPermitted, PersonNotFound) as error:
            field = {"ends_at": "fin", "delegant": "titulaire"}.get(
                getattr(error, "field", None) or "", "suppleant"
            )
            form.add(field, error.message)
            return None
        return "La suppléance est enregistrée : elle apparaît dans le tableau ci-dessous."

    text = await run_in_threadpool(delegate)
    if text is None:
        return await run_in_threadpool(_suppleances_page, request, wired, viewer, slug, form, 422)
    return common.done(
        request, f"{common.ROOT}/academies/{slug}/suppleances", "Suppléance enregistrée", text
    )


def _revocation(
    container: Container, viewer: Viewer, slug: str, delegation_id: int
) -> tuple[AcademieRef, DelegationLine]:
    """The suppléance, if it concerns this académie and the viewer may revoke it."""
    academie = common.administered(container, viewer, slug)
    now = container.service.clock()
    with reading(container.engine) as conn:
        ids = {d.id for d in delegations_in(conn, academie.id)}
        if delegation_id not in ids or not may_revoke(
            conn, delegations.find(conn, delegation_id), viewer.person_id, now
        ):
            raise DelegationNotFound(delegation_id)
        return academie, delegation_line(conn, delegation_id)


def _revocation_page(
    request: Request, container: Container, viewer: Viewer, slug: str, delegation_id: int
) -> Response:
    academie, line = _revocation(container, viewer, slug, delegation_id)
    return render(
        request,
        "pages/admin/revoquer.html",
        {
            **common.context(academie, "/suppleances", "Révoquer une suppléance"),
            "line": line,
            "period": shown_period(line),
            "action": f"{common.ROOT}/academies/{slug}/suppleances/{delegation_id}/revocation",
            "back": f"{common.ROOT}/academies/{slug}/suppleances",
        },
    )


@router.get("/administration/academies/{slug}/suppleances/{delegation_id}/revocation")
async def confirm_revocation(
    request: Request, slug: str, delegation_id: RowId, viewer: Seen, wired: Wired
) -> Response:
    return await run_in_threadpool(_revocation_page, request, wired, viewer, slug, delegation_id)


@router.post("/administration/academies/{slug}/suppleances/{delegation_id}/revocation")
async def revoke(
    request: Request,
    slug: str,
    delegation_id: RowId,
    viewer: Seen,
    wired: Wired,
    confirme: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    if confirme != "oui":
        return await confirm_revocation(request, slug, delegation_id, viewer, wired)
    await run_in_threadpool(_revocation, wired, viewer, slug, delegation_id)
    await run_in_threadpool(
        lambda: wired.editor.revoke_delegation(delegation_id, actor_id=viewer.person_id)
    )
    return common.done(
        request,
        f"{common.ROOT}/academies/{slug}/suppleances",
        "Suppléance révoquée",
        "Elle s'arrête dès maintenant ; elle reste visible, révoquée, dans le tableau.",
    )
