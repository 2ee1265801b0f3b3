"""Who may see and who may edit a dossier. Transitions are checked by the service itself.

A person sees the dossiers where they hold a role (directly, or as a live substitute of
someone who holds it), and every dossier of an académie where they hold an académie role
(gestionnaire, responsable, administrateur — the last one reads but acts on none).
Nobody ever sees another académie's dossiers. A dossier one may not see is reported as
not found, so its existence does not leak.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Select,
    and_,
    bindparam,
    false,
    literal,
    null,
    or_,
    select,
    union,
    union_all,
)

from states import SPECS, get_spec
from states.dossier_formation import AVENANT_STATES
from states.roles import ACADEMIE_ROLES, role_label
from workflow.engine.errors import DossierNotFound, InvalidInput, NotPermitted, StaleVersion
from workflow.engine.roles import Capacity
from workflow.engine.rows import DossierRow, load_for_actor
from workflow.language.labels import state_label
from workflow.store.tables import academie_table as R
from workflow.store.tables import assignment_table as A
from workflow.store.tables import delegation_table as D
from workflow.store.tables import dossier_table as T

log = logging.getLogger("formaflow.access")


class Edit(StrEnum):
    """The parts of a dossier that can be edited outside a transition."""

    PLANNING = "planning"
    TEAM = "equipe"
    SCENARIO = "scenario"
    SESSIONS = "sessions"
    BILAN = "bilan"
    DOCUMENTS = "documents"
    DEMANDE = "demande"


EDIT_LABELS: dict[Edit, str] = {
    Edit.PLANNING: "modifier le calendrier prévu du dossier",
    Edit.TEAM: "modifier l'équipe du dossier",
    Edit.SCENARIO: "modifier le scénario",
    Edit.SESSIONS: "modifier les sessions",
    Edit.BILAN: "modifier le bilan d'activités",
    Edit.DOCUMENTS: "déposer un document",
    Edit.DEMANDE: "modifier la demande d'ouverture",
}

EDITORS: dict[Edit, tuple[str, ...]] = {
    Edit.PLANNING: ("pilote", "gestionnaire"),
    Edit.TEAM: ("pilote", "gestionnaire"),
    Edit.SCENARIO: ("concepteur", "formateur", "pilote"),
    Edit.SESSIONS: ("formateur", "pilote", "gestionnaire"),
    Edit.BILAN: ("formateur", "chef_etablissement", "gestionnaire"),
    Edit.DOCUMENTS: (
        "formateur",
        "chef_etablissement",
        "pilote",
        "concepteur",
        "gestionnaire",
        "responsable",
    ),
    Edit.DEMANDE: ("pilote", "concepteur"),
}
"""Roles allowed to edit each part (on the dossier, or on its académie for EAFC roles)."""

WORKFLOWS: dict[Edit, str] = {
    Edit.SCENARIO: "dossier_formation",
    Edit.SESSIONS: "dossier_formation",
    Edit.BILAN: "dossier_formation",
    Edit.DEMANDE: "ouverture_parcours",
}
"""Parts that exist in one workflow only."""

_FORMATION = get_spec("dossier_formation")

OPEN_STATES: dict[Edit, frozenset[str]] = {
    # After the contract is issued a change of its terms makes an avenant (documents/).
    Edit.PLANNING: frozenset({"brouillon", *AVENANT_STATES}),
    Edit.SCENARIO: frozenset(
        {"brouillon", "contrat_a_signer", "contrat_signe", "scenario_a_reviser"}
    ),
    Edit.BILAN: frozenset({"en_cours", "realisee", "bilan_a_completer"}),
    Edit.SESSIONS: frozenset(
        s.id
        for s in _FORMATION.states
        if s.phase in {"montage", "conception", "en_amont", "pendant", "apres"}
        and s.id != "bilan_soumis"
    ),
    Edit.DOCUMENTS: frozenset(
        s.id
        for spec in SPECS.values()
        for s in spec.states
        if s.id not in {"annule", "paiement_refuse", "refusee", "ouverte"}
    ),
    Edit.DEMANDE: frozenset({"brouillon", "a_completer"}),
}
"""States in which a part can still change: once submitted or decided, it is frozen."""


@dataclass(frozen=True, slots=True)
class Delegated:
    """A live delegation the person holds as substitute."""

    delegator_id: int
    role: str
    dossier_id: int | None
    academie_id: int | None


@dataclass(frozen=True, slots=True)
class Visibility:
    """What a person may see, resolved once: their académies as EAFC staff (every dossier
    there), whether they hold roles on dossiers outside those académies, and the live
    delegations they hold. Lists and counts turn it into SQL (``clause``)."""

    person_id: int
    academies: tuple[int, ...]
    elsewhere: bool
    delegations: tuple[Delegated, ...]

    def clause(self) -> ColumnElement[bool]:
        """SQL condition on ``dossier`` rows: the ones the person may see.

        As simple as the person's situation: ``academie_id IN (…)`` for a gestionnaire (an
        ordered index scan), ``id IN (their assignments)`` for a pilote. A generic OR of
        correlated EXISTS made PostgreSQL scan every dossier and JIT-compile the query.
        Its values are named parameters (``parameters``): a statement built around it
        once per ``shape`` serves every person of that shape.
        """
        clauses: list[ColumnElement[bool]] = []
        if self.academies:
            academies: BindParameter[list[int]] = bindparam(
                "seen_academies", list(self.academies), expanding=True
            )
            clauses.append(T.c.academie_id.in_(academies))
        clauses.extend(self.beyond_academies())
        return or_(*clauses) if clauses else false()

    def beyond_academies(self) -> list[ColumnElement[bool]]:
        """The part of ``clause`` that is not « every dossier of my académies »: dossiers
        where the person holds a role elsewhere, and those of the pilotes they stand in for."""
        clauses: list[ColumnElement[bool]] = []
        if self.elsewhere:
            person: BindParameter[int] = bindparam("seen_person", self.person_id)
            clauses.append(T.c.id.in_(select(A.c.dossier_id).where(A.c.person_id == person)))
        for i, delegation in enumerate(self.delegations):
            # A suppléant sees what the titulaire sees in the delegated role, within the
            # delegation's dossier or académie when it names one.
            delegator: BindParameter[int] = bindparam(
                f"seen_{i}_delegator", delegation.delegator_id
            )
            role: BindParameter[str] = bindparam(f"seen_{i}_role", delegation.role)
            clause: ColumnElement[bool]
            if delegation.role in ACADEMIE_ROLES:
                staff = select(A.c.academie_id).where(
                    A.c.person_id == delegator, A.c.role == role, A.c.academie_id.is_not(None)
                )
                clause = T.c.academie_id.in_(staff)
            else:
                held = select(A.c.dossier_id).where(A.c.person_id == delegator, A.c.role == role)
                clause = T.c.id.in_(held)
            if delegation.dossier_id is not None:
                only: BindParameter[int] = bindparam(f"seen_{i}_dossier", delegation.dossier_id)
                clause = and_(clause, T.c.id == only)
            if delegation.academie_id is not None:
                within: BindParameter[int] = bindparam(f"seen_{i}_academie", delegation.academie_id)
                clause = and_(clause, T.c.academie_id == within)
            clauses.append(clause)
        return clauses

    @property
    def shape(self) -> tuple[object, ...]:
        """What ``clause`` looks like, values aside: two people of one shape (say, any
        gestionnaire of académies) get the same SQL with other ``parameters``."""
        return (
            bool(self.academies),
            self.elsewhere,
            tuple(
                (d.role in ACADEMIE_ROLES, d.dossier_id is not None, d.academie_id is not None)
                for d in self.delegations
            ),
        )

    def parameters(self) -> dict[str, object]:
        """The values of ``clause``'s named parameters, to run a statement kept by ``shape``."""
        values: dict[str, object] = {}
        if self.academies:
            values["seen_academies"] = list(self.academies)
        if self.elsewhere:
            values["seen_person"] = self.person_id
        for i, d in enumerate(self.delegations):
            values[f"seen_{i}_delegator"] = d.delegator_id
            values[f"seen_{i}_role"] = d.role
            if d.dossier_id is not None:
                values[f"seen_{i}_dossier"] = d.dossier_id
            if d.academie_id is not None:
                values[f"seen_{i}_academie"] = d.academie_id
        return values


_STAFF = select(A.c.academie_id).where(
    A.c.person_id == bindparam("v_person"),
    A.c.academie_id.is_not(None),
    A.c.role.in_(list(ACADEMIE_ROLES)),
)
_ELSEWHERE = (
    select(A.c.dossier_id)
    .join(T, T.c.id == A.c.dossier_id)
    .where(A.c.person_id == bindparam("v_person"), T.c.academie_id.not_in(_STAFF))
    .limit(1)
    .subquery("elsewhere")
)
_VISIBILITY = union_all(
    select(
        literal("academie").label("kind"),
        A.c.academie_id.label("ref"),
        null().label("role"),
        null().label("dossier_id"),
        null().label("delegation_academie_id"),
    ).where(
        A.c.person_id == bindparam("v_person"),
        A.c.academie_id.is_not(None),
        A.c.role.in_(list(ACADEMIE_ROLES)),
    ),
    select(
        literal("delegation"), D.c.delegator_id, D.c.role, D.c.dossier_id, D.c.academie_id
    ).where(
        D.c.substitute_id == bindparam("v_person"),
        D.c.starts_at <= bindparam("v_now"),
        D.c.ends_at > bindparam("v_now"),
        D.c.revoked_at.is_(None),
    ),
    select(literal("elsewhere"), _ELSEWHERE.c.dossier_id, null(), null(), null()),
)
"""One round trip for the whole scope (it was three, before every list and count)."""


def visibility(conn: Connection, person_id: int, now: datetime) -> Visibility:
    academies: list[int] = []
    delegations: list[Delegated] = []
    elsewhere = False
    for row in conn.execute(_VISIBILITY, {"v_person": person_id, "v_now": now}):
        if row.kind == "academie":
            academies.append(int(row.ref))
        elif row.kind == "delegation":
            delegations.append(
                Delegated(
                    int(row.ref),
                    str(row.role),
                    None if row.dossier_id is None else int(row.dossier_id),
                    None if row.delegation_academie_id is None else int(row.delegation_academie_id),
                )
            )
        else:
            elsewhere = True
    return Visibility(
        person_id,
        tuple(sorted(set(academies))),
        # Roles on dossiers outside their académies, or no académie role at all.
        elsewhere or not academies,
        tuple(delegations),
    )


def visible_clause(conn: Connection, person_id: int, now: datetime) -> ColumnElement[bool]:
    """SQL condition on ``dossier`` rows: the ones ``person_id`` may see (``Visibility``)."""
    return visibility(conn, person_id, now).clause()


def readable(
    conn: Connection, dossier_id: int, person_id: int, now: datetime, *, lock: bool = False
) -> tuple[DossierRow, list[Capacity]]:
    """The dossier and the person's roles on it, or ``DossierNotFound`` if they may not see it."""
    dossier, held = load_for_actor(conn, dossier_id, person_id, now, for_update=lock)
    if not held:
        log.warning("read denied: person=%s dossier=%s at=%s", person_id, dossier_id, now)
        raise DossierNotFound(dossier_id)
    return dossier, held


def require_edit(
    conn: Connection,
    dossier_id: int,
    person_id: int,
    part: Edit,
    now: datetime,
    *,
    expected_version: int | None = None,
) -> DossierRow:
    """The dossier, if ``person_id`` may edit ``part`` of it in its current state.

    With ``expected_version`` (the version a form or a client last read), a dossier that
    changed since is refused as stale before its state is judged: « modifié entre-temps »
    tells the person what happened, where « impossible dans cet état » would puzzle them.
    """
    dossier, held = readable(conn, dossier_id, person_id, now, lock=True)
    if dossier.archived_at is not None:
        raise InvalidInput(
            f"Impossible de {EDIT_LABELS[part]} : ce dossier est archivé (ses documents et "
            "données personnelles ont été supprimés)."
        )
    allowed = EDITORS[part]
    if not any(c.role in allowed for c in held):
        log.warning(
            "edit denied: person=%s dossier=%s part=%s roles=%s at=%s",
            person_id,
            dossier_id,
            part.value,
            [c.role for c in held],
            now,
        )
        raise NotPermitted(EDIT_LABELS[part], [role_label(r) for r in allowed])
    if expected_version is not None and dossier.version != expected_version:
        raise StaleVersion(expected_version, dossier.version)
    workflow = WORKFLOWS.get(part)
    if workflow is not None and dossier.workflow_name != workflow:
        if part is Edit.DEMANDE:
            raise InvalidInput("Ce dossier n'est pas une demande d'ouverture de parcours.")
        raise InvalidInput(
            f"Impossible de {EDIT_LABELS[part]} : ce dossier n'est pas un dossier de formation."
        )
    open_states = OPEN_STATES.get(part)
    if open_states is not None and dossier.state not in open_states:
        raise InvalidInput(
            f"Impossible de {EDIT_LABELS[part]} quand le dossier est dans l'état "
            f"« {state_label(dossier.workflow_name, dossier.workflow_version, dossier.state)} »."
        )
    return dossier


CREATOR_ROLES = ("pilote", "gestionnaire")
"""Who may open a dossier in an académie: its gestionnaires (on the académie) and its
pilotes (pilote of one of its dossiers, or named pilote on the académie). A stagiaire, a
formateur or a tutor of one of its dossiers may not: opening one would make them pilote."""


def _academies_where(person_id: int, roles: tuple[str, ...] | None) -> Select[tuple[int]]:
    """The académies where ``person_id`` holds one of ``roles`` (any role with None), on
    the académie itself or on one of its dossiers."""
    on_academie = select(A.c.academie_id.label("academie_id")).where(
        A.c.person_id == person_id, A.c.academie_id.is_not(None)
    )
    # A stagiaire follows a training; being enrolled does not make them a prescripteur.
    on_a_dossier = (
        select(T.c.academie_id.label("academie_id"))
        .join(A, A.c.dossier_id == T.c.id)
        .where(A.c.person_id == person_id, A.c.role != "stagiaire")
    )
    if roles is not None:
        on_academie = on_academie.where(A.c.role.in_(roles))
        on_a_dossier = on_a_dossier.where(A.c.role.in_(roles))
    found = union(on_academie, on_a_dossier).subquery("academies_where")
    return select(found.c.academie_id)


def _holds_in(
    conn: Connection, academie_id: int, person_id: int, roles: tuple[str, ...] | None
) -> bool:
    mine = _academies_where(person_id, roles).subquery("mine")
    return (
        conn.execute(
            select(mine.c.academie_id).where(mine.c.academie_id == academie_id).limit(1)
        ).first()
        is not None
    )


def works_in(conn: Connection, academie_id: int, person_id: int) -> bool:
    """Whether ``person_id`` holds any role in the académie (on it, or on one of its
    dossiers): enough to read its public figures (rates of the barème simulator)."""
    return _holds_in(conn, academie_id, person_id, None)


def may_create_in(conn: Connection, academie_id: int, person_id: int) -> bool:
    """Whether ``person_id`` may open a dossier in the académie (``CREATOR_ROLES``)."""
    return _holds_in(conn, academie_id, person_id, CREATOR_ROLES)


def pilotes_in(conn: Connection, academie_id: int, person_id: int) -> bool:
    """Whether ``person_id`` is a pilote in the académie: the creator of a dossier becomes
    its pilote only then (a gestionnaire opens dossiers for others to steer)."""
    return _holds_in(conn, academie_id, person_id, ("pilote",))


@dataclass(frozen=True, slots=True)
class AcademieChoice:
    id: int
    slug: str
    name: str


def creatable_academies(conn: Connection, person_id: int) -> list[AcademieChoice]:
    """The académies where ``may_create_in`` lets ``person_id`` open a dossier, by name (for
    the creation form and for offering « Nouveau dossier » at all)."""
    rows = conn.execute(
        select(R.c.id, R.c.slug, R.c.name)
        .where(R.c.id.in_(_academies_where(person_id, CREATOR_ROLES)))
        .order_by(R.c.name, R.c.id)
    ).all()
    return [AcademieChoice(int(r.id), r.slug, r.name) for r in rows]


def may_edit(dossier: DossierRow, held: list[Capacity], part: Edit) -> bool:
    """Whether ``require_edit`` would let these roles edit ``part`` now (for showing or
    hiding a form; the write itself still goes through ``require_edit``)."""
    workflow = WORKFLOWS.get(part)
    open_states = OPEN_STATES.get(part)
    return (
        any(c.role in EDITORS[part] for c in held)
        and (workflow is None or dossier.workflow_name == workflow)
        and (open_states is None or dossier.state in open_states)
    )
