"""« Équipe »: who holds which role on a dossier, and their substitutes (suppléances).

Every change goes through ``DossierEditor`` (``assign``, ``unassign``, ``delegate``,
``revoke_delegation``) as the API's ``/assignments`` and ``/delegations`` routes do, and
like them checks the person's right to change the team *before* looking anyone up: an
address typed by someone without that right must not tell them whether it exists. A removal
or a revocation is confirmed on a page of its own first (its link may be opened by
anything; only the confirmation acts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from api.deps import RowId, Wired
from api.pages.errors import PageRoute
from api.pages.flash import Flash, set_flash
from api.pages.forms import DATE_HINT, FormState, typed_date, typed_values
from api.pages.rendering import render
from api.pages.viewer import Seen, Viewer
from api.wiring import Container
from states.roles import ACADEMIE_ROLES, DOSSIER_ROLES, ROLES, role_label
from workflow.dossiers import delegations
from workflow.dossiers.access import Edit, may_edit, readable, require_edit
from workflow.dossiers.delegations import may_revoke
from workflow.dossiers.team import (
    DelegationLine,
    Person,
    delegations_of,
    holds,
    known_people,
    person_of,
)
from workflow.engine.errors import (
    DelegationNotFound,
    DossierNotFound,
    InvalidInput,
    NotPermitted,
    PersonNotFound,
)
from workflow.engine.roles import Member, members
from workflow.engine.rows import DossierRow
from workflow.language.french import PARIS, format_date, format_datetime
from workflow.participants.access import PARTICIPANT, participant_only
from workflow.participants.roster import roster
from workflow.reads.queries import person_id_by_email, reading

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Role = Annotated[str, Path(max_length=64, pattern=r"^[a-z_]+$")]

MEMBER_LABELS = {
    "role": "Rôle",
    "personne": "Personne",
    "courriel": "Adresse électronique",
}
DELEGATION_LABELS = {
    "delegant": "Titulaire suppléé",
    "suppleant": "Suppléant",
    "suppleant_courriel": "Adresse électronique du suppléant",
    "debut": "Du",
    "fin": "Au",
}
DELEGATION_FIELDS = {
    "ends_at": "fin",
    "starts_at": "debut",
    "role": "delegant",
    "delegant": "delegant",
    "suppleant": "suppleant",
}
STATUSES = {
    "en_cours": ("En cours", "success"),
    "a_venir": ("À venir", "info"),
    "terminee": ("Terminée", "new"),
    "revoquee": ("Révoquée", "error"),
}


@dataclass(frozen=True, slots=True)
class RoleGroup:
    role: str
    label: str
    members: list[Member]
    on_academie: bool
    """Held on the académie: it reaches every dossier and is not removed from one."""


SHOWN_ROLES = {r: label for r, label in ROLES.items() if r not in ("administrateur", PARTICIPANT)}
"""The roles that act on a dossier (the académie's administrateur acts on none)."""
DELEGABLE = [r for r in DOSSIER_ROLES if r != "stagiaire"]
"""The dossier roles a suppléant can be named for on this page (académie roles are on the
académie's administration pages)."""


def _groups(team: list[Member]) -> list[RoleGroup]:
    """The team by role. Stagiaires are participants, not team members: they are listed on
    the dossier's « Stagiaires » page, for the team only (a stagiaire sees no other)."""
    return [
        RoleGroup(role, label, [m for m in team if m.role == role], role in ACADEMIE_ROLES)
        for role, label in SHOWN_ROLES.items()
        if any(m.role == role for m in team)
    ]


def shown_period(line: DelegationLine) -> tuple[str, str]:
    """« Du » and « Au » as the person typed them: whole days in Paris, the last one
    included, when the period is made of whole days (as this page records them); the exact
    times otherwise (``formaflow delegate`` starts a suppléance now)."""
    start, end = line.starts_at.astimezone(PARIS), line.ends_at.astimezone(PARIS)
    if start.time() == time(0, 0) and end.time() == time(0, 0):
        return format_date(start.date()), f"{format_date(end.date() - timedelta(days=1))} inclus"
    return format_datetime(line.starts_at), format_datetime(line.ends_at)


def _context(container: Container, viewer: Viewer, dossier_id: int) -> dict[str, Any]:
    now = container.service.clock()
    with reading(container.engine) as conn:
        dossier, held = readable(conn, dossier_id, viewer.person_id, now)
        team = members(conn, dossier.ref, list(SHOWN_ROLES))
        editable = may_edit(dossier, held, Edit.TEAM)
        lines = delegations_of(conn, dossier.ref)
        revocable = {
            line.id
            for line in lines
            if line.status(now) in ("en_cours", "a_venir")
            and may_revoke(conn, delegations.find(conn, line.id), viewer.person_id, now)
        }
        return {
            "dossier": dossier,
            "editable": editable,
            "participants": (
                None if participant_only(held) else len(roster(conn, dossier.id, active_only=True))
            ),
            "groups": _groups(team),
            "titulaires": [
                (f"{m.person_id}:{m.role}", f"{m.full_name} — {role_label(m.role)}")
                for m in team
                if m.role in DELEGABLE
            ],
            "people": [
                (str(p.person_id), f"{p.full_name} ({p.email})")
                for p in (known_people(conn, dossier.academie_id) if editable else [])
            ],
            "delegations": [(line, *shown_period(line)) for line in lines],
            "revocable": revocable,
            "now": now,
        }


def _page(
    request: Request,
    container: Container,
    viewer: Viewer,
    dossier_id: int,
    *,
    member_form: FormState | None = None,
    delegation_form: FormState | None = None,
    status_code: int = 200,
) -> Response:
    context = _context(container, viewer, dossier_id)
    member_form = member_form or FormState(labels=MEMBER_LABELS)
    if delegation_form is None:
        pilotes = [value for value, _ in context["titulaires"] if value.endswith(":pilote")]
        only = pilotes[0] if len(pilotes) == 1 else ""
        delegation_form = FormState({"delegant": only}, labels=DELEGATION_LABELS)
    return render(
        request,
        "pages/equipe.html",
        {
            **context,
            "page_title": f"Équipe — {context['dossier'].reference}",
            "member_form": member_form,
            "delegation_form": delegation_form,
            "summary": member_form.summary + delegation_form.summary,
            "roles": [(r, label) for r, label in DOSSIER_ROLES.items() if r != PARTICIPANT],
            "statuses": STATUSES,
            "date_hint": DATE_HINT,
        },
        status_code=status_code,
    )


@router.get("/dossiers/{dossier_id}/equipe")
async def team_page(request: Request, dossier_id: RowId, viewer: Seen, wired: Wired) -> Response:
    return await run_in_threadpool(_page, request, wired, viewer, dossier_id)


def _chosen(
    conn: Connection, form: FormState, known: list[Person], choice: str, address: str
) -> int | None:
    """The person picked from the list or named by address (the address wins when both are
    given: it is the more deliberate of the two), or None with the reason on the form."""
    email = form.values.get(address, "").strip()
    picked = form.values.get(choice, "").strip()
    if email:
        try:
            return person_id_by_email(conn, email)
        except PersonNotFound:
            form.errors.append(
                (address, f"aucune personne n'a l'adresse « {email} » dans formaflow")
            )
            return None
    if not picked:
        form.errors.append(
            (choice, "choisissez une personne dans la liste ou saisissez son adresse électronique")
        )
        return None
    found = next((p.person_id for p in known if str(p.person_id) == picked), None)
    if found is None:
        form.errors.append((choice, "choisissez une personne de la liste"))
    return found


# Adding a member ---------------------------------------------------------------------


def _add(container: Container, viewer: Viewer, dossier_id: int, form: FormState) -> str | None:
    """Assign the chosen person; the flash text when done, None with errors on the form."""
    role = form.values.get("role", "")
    with reading(container.engine) as conn:
        dossier = require_edit(
            conn, dossier_id, viewer.person_id, Edit.TEAM, container.service.clock()
        )
        if role not in DOSSIER_ROLES or role == PARTICIPANT:
            form.errors.append(("role", "choisissez un rôle de la liste"))
        known = known_people(conn, dossier.academie_id)
        person_id = _chosen(conn, form, known, "personne", "courriel")
        if person_id is None or form.errors:
            return None
        person = person_of(conn, person_id)
        civilite = person.civilite if person is not None else None
        if holds(conn, dossier_id, person_id, role):
            field = "courriel" if form.values.get("courriel", "").strip() else "personne"
            form.errors.append(
                (field, f"cette personne est déjà {role_label(role, civilite)} sur ce dossier")
            )
            return None
    try:
        container.editor.assign(person_id, role, dossier_id=dossier_id, actor_id=viewer.person_id)
    except (InvalidInput, NotPermitted) as error:
        form.errors.append(("", error.message))
        return None
    name = person.full_name if person is not None else "La personne"
    return f"{name} est maintenant {role_label(role, civilite)} sur ce dossier."


@router.post("/dossiers/{dossier_id}/equipe")
async def add_member(request: Request, dossier_id: RowId, viewer: Seen, wired: Wired) -> Response:
    form = FormState(typed_values(await request.form()), labels=MEMBER_LABELS)
    done = await run_in_threadpool(_add, wired, viewer, dossier_id, form)
    if done is None:
        return await run_in_threadpool(
            _page, request, wired, viewer, dossier_id, member_form=form, status_code=422
        )
    response = RedirectResponse(f"/dossiers/{dossier_id}/equipe", status_code=303)
    set_flash(request, response, Flash("success", "Membre ajouté à l'équipe", done))
    return response


# Removing a member -------------------------------------------------------------------


def _removal(
    container: Container, viewer: Viewer, dossier_id: int, person_id: int, role: str
) -> tuple[DossierRow, Member]:
    """The dossier and the assignment to remove, if this person may remove it; a role the
    person does not hold on the dossier itself is « not found » like any wrong address."""
    with reading(container.engine) as conn:
        dossier = require_edit(
            conn, dossier_id, viewer.person_id, Edit.TEAM, container.service.clock()
        )
        if role not in DOSSIER_ROLES or role == PARTICIPANT:
            raise DossierNotFound(dossier_id)
        member = next(
            (m for m in members(conn, dossier.ref, [role]) if m.person_id == person_id), None
        )
    if member is None:
        raise DossierNotFound(dossier_id)
    return dossier, member


def _removal_page(
    request: Request,
    container: Container,
    viewer: Viewer,
    dossier_id: int,
    person_id: int,
    role: str,
) -> Response:
    dossier, member = _removal(container, viewer, dossier_id, person_id, role)
    return render(
        request,
        "pages/retirer_membre.html",
        {"page_title": "Retirer un membre de l'équipe", "dossier": dossier, "member": member},
    )


@router.get("/dossiers/{dossier_id}/equipe/retirer/{person_id}/{role}")
async def confirm_removal(
    request: Request, dossier_id: RowId, person_id: RowId, role: Role, viewer: Seen, wired: Wired
) -> Response:
    return await run_in_threadpool(
        _removal_page, request, wired, viewer, dossier_id, person_id, role
    )


def _remove(
    container: Container, viewer: Viewer, dossier_id: int, person_id: int, role: str
) -> str:
    _, member = _removal(container, viewer, dossier_id, person_id, role)
    container.editor.unassign(person_id, role, dossier_id, actor_id=viewer.person_id)
    return f"{member.full_name} n'est plus {role_label(role, member.civilite)} sur ce dossier."


@router.post("/dossiers/{dossier_id}/equipe/retirer/{person_id}/{role}")
async def remove_member(
    request: Request,
    dossier_id: RowId,
    person_id: RowId,
    role: Role,
    viewer: Seen,
    wired: Wired,
    confirme: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    if confirme != "oui":
        return await run_in_threadpool(
            _removal_page, request, wired, viewer, dossier_id, person_id, role
        )
    done = await run_in_threadpool(_remove, wired, viewer, dossier_id, person_id, role)
    response = RedirectResponse(f"/dossiers/{dossier_id}/equipe", status_code=303)
    set_flash(request, response, Flash("success", "Membre retiré de l'équipe", done))
    return response


# Suppléances -------------------------------------------------------------------------


def delegation_period(form: FormState) -> tuple[datetime, datetime] | None:
    """The days typed, as the period they cover in Paris: from the first day's midnight to
    the end of the last day (« du 2 au 6 mars » includes the 6th)."""
    days: dict[str, date] = {}
    for field_id in ("debut", "fin"):
        try:
            typed = typed_date(form.values.get(field_id, ""))
        except ValueError as error:
            form.errors.append((field_id, str(error)))
            continue
        if typed is None:
            form.errors.append((field_id, "saisissez une date"))
        else:
            days[field_id] = date.fromisoformat(typed)
    if len(days) < 2:
        return None
    start = datetime.combine(days["debut"], time(0, 0), PARIS)
    end = datetime.combine(days["fin"] + timedelta(days=1), time(0, 0), PARIS)
    return start, end


def _delegate(container: Container, viewer: Viewer, dossier_id: int, form: FormState) -> str | None:
    """Record the suppléance; the flash text when done, None with errors on the form."""
    with reading(container.engine) as conn:
        dossier = require_edit(
            conn, dossier_id, viewer.person_id, Edit.TEAM, container.service.clock()
        )
        team = {(m.person_id, m.role): m for m in members(conn, dossier.ref, DELEGABLE)}
        person, _, role = form.values.get("delegant", "").partition(":")
        titulaire = team.get((int(person), role)) if person.isdigit() else None
        if titulaire is None:
            form.errors.append(("delegant", "choisissez un membre de cette équipe"))
        known = known_people(conn, dossier.academie_id)
        substitute = _chosen(conn, form, known, "suppleant", "suppleant_courriel")
        period = delegation_period(form)
        if titulaire is None or substitute is None or period is None or form.errors:
            return None
        named = person_of(conn, substitute)
    try:
        container.editor.delegate(
            titulaire.person_id,
            substitute,
            *period,
            role=titulaire.role,
            dossier_id=dossier_id,
            actor_id=viewer.person_id,
        )
    except (InvalidInput, NotPermitted) as error:
        field = DELEGATION_FIELDS.get(getattr(error, "field", None) or "", "")
        form.errors.append((field, error.message))
        return None
    name = named.full_name if named is not None else "Le suppléant"
    return (
        f"{name} supplée {titulaire.full_name} ({role_label(titulaire.role)}) sur ce dossier "
        "pendant cette période."
    )


@router.post("/dossiers/{dossier_id}/suppleances")
async def add_delegation(
    request: Request, dossier_id: RowId, viewer: Seen, wired: Wired
) -> Response:
    form = FormState(typed_values(await request.form()), labels=DELEGATION_LABELS)
    done = await run_in_threadpool(_delegate, wired, viewer, dossier_id, form)
    if done is None:
        return await run_in_threadpool(
            _page, request, wired, viewer, dossier_id, delegation_form=form, status_code=422
        )
    response = RedirectResponse(f"/dossiers/{dossier_id}/equipe", status_code=303)
    set_flash(request, response, Flash("success", "Suppléance enregistrée", done))
    return response


# Revoking a suppléance ---------------------------------------------------------------


def _revocation(
    container: Container, viewer: Viewer, dossier_id: int, delegation_id: int
) -> tuple[DossierRow, DelegationLine]:
    """The suppléance, if it reaches this dossier and the viewer may revoke it (« not
    found » otherwise, like any address that is not theirs)."""
    now = container.service.clock()
    with reading(container.engine) as conn:
        dossier, _ = readable(conn, dossier_id, viewer.person_id, now)
        line = next((d for d in delegations_of(conn, dossier.ref) if d.id == delegation_id), None)
        if line is None or not may_revoke(
            conn, delegations.find(conn, delegation_id), viewer.person_id, now
        ):
            raise DelegationNotFound(delegation_id)
    return dossier, line


def _revocation_page(
    request: Request, container: Container, viewer: Viewer, dossier_id: int, delegation_id: int
) -> Response:
    dossier, line = _revocation(container, viewer, dossier_id, delegation_id)
    return render(
        request,
        "pages/revoquer_suppleance.html",
        {
            "page_title": "Révoquer une suppléance",
            "dossier": dossier,
            "line": line,
            "period": shown_period(line),
        },
    )


@router.get("/dossiers/{dossier_id}/suppleances/{delegation_id}/revocation")
async def confirm_revocation(
    request: Request, dossier_id: RowId, delegation_id: RowId, viewer: Seen, wired: Wired
) -> Response:
    return await run_in_threadpool(
        _revocation_page, request, wired, viewer, dossier_id, delegation_id
    )


@router.post("/dossiers/{dossier_id}/suppleances/{delegation_id}/revocation")
async def revoke_delegation(
    request: Request,
    dossier_id: RowId,
    delegation_id: RowId,
    viewer: Seen,
    wired: Wired,
    confirme: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    if confirme != "oui":
        return await run_in_threadpool(
            _revocation_page, request, wired, viewer, dossier_id, delegation_id
        )
    _, line = await run_in_threadpool(_revocation, wired, viewer, dossier_id, delegation_id)
    await run_in_threadpool(
        lambda: wired.editor.revoke_delegation(delegation_id, actor_id=viewer.person_id)
    )
    response = RedirectResponse(f"/dossiers/{dossier_id}/equipe", status_code=303)
    set_flash(
        request,
        response,
        Flash(
            "success",
            "Suppléance révoquée",
            f"{line.substitute} ne supplée plus {line.delegator} : c'est effectif dès maintenant.",
        ),
    )
    return response
