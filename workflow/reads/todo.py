"""« À traiter »: every dossier where a person is expected to act now, by kind of work;
what they wait on from others; and for EAFC staff, their académies' queue and what is late.

The list can never disagree with what the service accepts, because it *is* the service's
answer: for each candidate dossier it asks ``WorkflowService.available_in`` (the question
the dossier page asks) and keeps the actions awaited of this person (``Availability.
awaited``: their role is expected, and it is their turn). What stays SQL is finding the
candidates, in one query built from the specs — the states where some transition is
awaited of a role this person holds there (directly, on the académie, or standing in for
someone) — so that a gestionnaire of a large académie does not ask the service about every
dossier of it, only about those waiting on a gestionnaire.

Everything here reads; nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, and_, case, func, or_, select

from states import SPECS
from states.dispositifs import DISPOSITIFS
from states.roles import ACADEMIE_ROLES, BILAN_AUTHOR, SIGNATORY
from states.spec import WorkflowSpec
from workflow.engine.due import DeadlineDelays, DueDate, deadline_delays, due_at_expression
from workflow.engine.due import late_clause as due_late_clause
from workflow.engine.rows import DossierRow
from workflow.engine.service import Availability, WorkflowService
from workflow.reads.expectations import Expectation, awaited_role_label, expectations
from workflow.reads.queries import reading
from workflow.store.tables import assignment_table as A
from workflow.store.tables import delegation_table as G
from workflow.store.tables import dossier_table as D

# --- Kinds of work ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of work, as « À traiter » groups it."""

    id: str
    label: str


_F, _O = "dossier_formation", "ouverture_parcours"
_KINDS: list[tuple[Kind, tuple[tuple[str, str], ...]]] = [
    (Kind("signature", "Contrats et avenants à signer"), ((_F, "signer"), (_F, "signer_avenant"))),
    (Kind("contrat", "Contrats à émettre"), ((_F, "emettre_contrat"),)),
    (Kind("scenario", "Scénarios à rédiger ou à réviser"), ((_F, "soumettre_scenario"),)),
    (
        Kind("validation_scenario", "Scénarios à valider"),
        ((_F, "valider_scenario"), (_F, "demander_revision")),
    ),
    (Kind("demarrage", "Formations à démarrer"), ((_F, "demarrer"),)),
    (
        Kind("en_cours", "Formations en cours : sessions à enregistrer, puis à terminer"),
        ((_F, "terminer"),),
    ),
    (Kind("bilan", "Bilans d'activités à rédiger ou à compléter"), ((_F, "soumettre_bilan"),)),
    (
        Kind("examen_bilan", "Bilans d'activités à examiner"),
        ((_F, "valider_bilan"), (_F, "demander_complement")),
    ),
    (
        Kind("decision", "Paiements à décider"),
        ((_F, "accorder_paiement"), (_F, "refuser_paiement")),
    ),
    (Kind("mise_en_paiement", "Paiements à mettre en paiement"), ((_F, "mettre_en_paiement"),)),
    (
        Kind("demande", "Demandes d'ouverture de parcours à rédiger ou à compléter"),
        ((_O, "soumettre"),),
    ),
    (
        Kind("instruction", "Demandes d'ouverture de parcours à instruire"),
        ((_O, "accepter"), (_O, "demander_complement"), (_O, "refuser")),
    ),
    (Kind("ouverture", "Parcours à ouvrir"), ((_O, "ouvrir"),)),
]
KINDS: dict[tuple[str, str], Kind] = {key: kind for kind, keys in _KINDS for key in keys}
_RANK = {key: n for _, keys in _KINDS for n, key in enumerate(keys)}
"""Within a kind, the main action first (« Valider » before « Demander une révision »)."""
KIND_ORDER = [kind.id for kind, _ in _KINDS]
OTHER = Kind("autre", "Autres actions attendues")


def kind_of(workflow: str, trigger: str) -> Kind:
    return KINDS.get((workflow, trigger), OTHER)


# --- What I am expected to do ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkItem:
    dossier: DossierRow
    kind: Kind
    actions: tuple[Availability, ...]
    """The actions awaited of this person here, as the service answers them."""
    due: DueDate | None

    @property
    def since(self) -> datetime:
        return self.dossier.state_entered_at

    @property
    def expected(self) -> str:
        """« Valider le scénario hybride ou demander une révision du scénario »."""
        labels = [a.label for a in self.actions]
        return " ou ".join([labels[0], *(label[0].lower() + label[1:] for label in labels[1:])])

    @property
    def missing(self) -> tuple[str, ...]:
        """What still stands in the way of the main action (the first one)."""
        return self.actions[0].missing

    @property
    def late(self) -> bool:
        return self.due is not None and self.due.late


@dataclass(frozen=True, slots=True)
class WorkGroup:
    kind: Kind
    items: tuple[WorkItem, ...]


@dataclass(frozen=True, slots=True)
class Waiting:
    """A dossier of mine that waits on someone else."""

    dossier: DossierRow
    expectation: Expectation


@dataclass(frozen=True, slots=True)
class QueueLine:
    """One state of the académie's queue: how many dossiers wait there, on whom."""

    workflow_label: str
    state: str
    state_label: str
    waiting_on: str
    count: int
    late: int


@dataclass(frozen=True, slots=True)
class Queue:
    """The académies' queue of an EAFC person: by state, then the late dossiers."""

    lines: tuple[QueueLine, ...]
    late: tuple[Waiting, ...]
    late_more: bool


@dataclass(frozen=True, slots=True)
class Todo:
    groups: tuple[WorkGroup, ...]
    more: bool
    """More candidate dossiers than were looked at: the list is the oldest ones."""
    waiting: tuple[Waiting, ...]
    queue: Queue | None = None
    dossier_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def count(self) -> int:
        return sum(len(group.items) for group in self.groups)


def todo(service: WorkflowService, person_id: int, *, limit: int = 100) -> Todo:
    """Everything « À traiter » shows ``person_id``: their work, oldest first within each
    kind, then what they wait on from others, then (EAFC staff) their académies' queue."""
    now = service.clock()
    with reading(service.engine) as conn:
        delays = deadline_delays(conn)
        found, more = candidates(conn, person_id, now, limit)
        items: list[WorkItem] = []
        kept: list[DossierRow] = []
        awaited: dict[int, tuple[Availability, ...]] = {}
        for dossier in found:
            actions = tuple(
                sorted(
                    (
                        a
                        for a in service.available_in(conn, dossier.id, person_id, row=dossier)
                        if a.awaited
                    ),
                    key=lambda a: _RANK.get((dossier.workflow_name, a.trigger), 99),
                )
            )
            if actions:
                awaited[dossier.id] = actions
                kept.append(dossier)
        waits = expectations(conn, kept, now, delays)
        for dossier in kept:
            actions = awaited[dossier.id]
            expectation = waits.get(dossier.id)
            items.append(
                WorkItem(
                    dossier=dossier,
                    kind=kind_of(dossier.workflow_name, actions[0].trigger),
                    actions=actions,
                    due=expectation.due if expectation is not None else None,
                )
            )
        mine = frozenset(d.id for d in kept)
        waiting = waiting_on_others(conn, person_id, now, mine, delays)
        queue = academie_queue(conn, person_id, now, delays)
    groups: dict[str, list[WorkItem]] = {}
    for item in items:
        groups.setdefault(item.kind.id, []).append(item)
    order = {kind_id: n for n, kind_id in enumerate(KIND_ORDER)}
    return Todo(
        groups=tuple(
            WorkGroup(found_items[0].kind, tuple(found_items))
            for _, found_items in sorted(groups.items(), key=lambda kv: order.get(kv[0], 99))
        ),
        more=more,
        waiting=tuple(waiting),
        queue=queue,
        dossier_ids=mine,
    )


# --- Candidates: one query from the specs -------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Awaited:
    spec: WorkflowSpec
    role: str
    """A role a person holds (never a derived one)."""
    dispositif: str | None
    """For a derived role (signataire, auteur du bilan): the dispositif that derives it."""
    states: frozenset[str]


def _awaited_by_role() -> list[_Awaited]:
    """For every spec and every role: the states where some transition is awaited of it."""
    Key = tuple[tuple[str, int], str, str | None]
    found: dict[Key, set[str]] = {}

    def add(key: Key, states: tuple[str, ...]) -> None:
        found[key] = found.get(key, set()) | set(states)

    for spec in SPECS.values():
        for transition in spec.transitions:
            expected = (
                transition.roles if transition.awaited_from is None else transition.awaited_from
            )
            for role in expected:
                if role in (SIGNATORY, BILAN_AUTHOR):
                    for dispositif in DISPOSITIFS.values():
                        bases = (
                            [rule.role for rule in dispositif.signatories]
                            if role == SIGNATORY
                            else list(dispositif.bilan_roles)
                        )
                        for base in bases:
                            add((spec.key, base, dispositif.id), transition.sources)
                else:
                    add((spec.key, role, None), transition.sources)
    return [
        _Awaited(SPECS[spec_key], role, dispositif, frozenset(states))
        for (spec_key, role, dispositif), states in found.items()
    ]


AWAITED = _awaited_by_role()


def candidate_clause(conn: Connection, person_id: int, now: datetime) -> ColumnElement[bool] | None:
    """SQL condition on ``dossier`` rows: where some transition is awaited of a role
    ``person_id`` holds there. The person's académie roles and live delegations are read
    first (two small queries), so the condition is as simple as their situation; None when
    nothing can ever be awaited of them."""
    academies: dict[str, list[int]] = {}
    dossier_roles: set[str] = set()
    for row in conn.execute(
        select(A.c.role, A.c.academie_id, A.c.dossier_id).where(A.c.person_id == person_id)
    ):
        if row.academie_id is not None:
            academies.setdefault(str(row.role), []).append(int(row.academie_id))
        else:
            dossier_roles.add(str(row.role))
    delegations = conn.execute(
        select(G.c.delegator_id, G.c.role, G.c.dossier_id).where(
            G.c.substitute_id == person_id,
            G.c.starts_at <= now,
            G.c.ends_at > now,
            G.c.revoked_at.is_(None),
        )
    ).all()
    clauses: list[ColumnElement[bool]] = []
    for awaited in AWAITED:
        held = _held(person_id, awaited.role, academies, dossier_roles, delegations)
        if not held:
            continue
        where = [
            D.c.workflow_name == awaited.spec.name,
            D.c.workflow_version == awaited.spec.version,
            D.c.state.in_(sorted(awaited.states)),
        ]
        if awaited.dispositif is not None:
            where.append(D.c.dispositif == awaited.dispositif)
        clauses.append(and_(*where, or_(*held)))
    return or_(*clauses) if clauses else None


def _held(
    person_id: int,
    role: str,
    academies: dict[str, list[int]],
    dossier_roles: set[str],
    delegations: Sequence[Row[Any, Any, Any]],
) -> list[ColumnElement[bool]]:
    """Conditions on a dossier row: ``person_id`` holds ``role`` there."""
    held: list[ColumnElement[bool]] = []
    if role in ACADEMIE_ROLES:
        if academies.get(role):
            held.append(D.c.academie_id.in_(sorted(set(academies[role]))))
    elif role in dossier_roles:
        held.append(
            D.c.id.in_(select(A.c.dossier_id).where(A.c.person_id == person_id, A.c.role == role))
        )
    for delegation in delegations:
        if delegation.role != role:
            continue
        delegator, scope = delegation.delegator_id, delegation.dossier_id
        if role in ACADEMIE_ROLES:
            held.append(
                D.c.academie_id.in_(
                    select(A.c.academie_id).where(A.c.person_id == delegator, A.c.role == role)
                )
            )
            continue
        theirs = select(A.c.dossier_id).where(A.c.person_id == delegator, A.c.role == role)
        if scope is not None:
            theirs = theirs.where(A.c.dossier_id == scope)
        held.append(D.c.id.in_(theirs))
    return held


_ROW_COLUMNS = [D.c[name] for name in DossierRow.__slots__]


def candidates(
    conn: Connection, person_id: int, now: datetime, limit: int
) -> tuple[list[DossierRow], bool]:
    """The dossiers where something may be awaited of ``person_id``, longest waiting
    first, at most ``limit`` (and whether there were more)."""
    clause = candidate_clause(conn, person_id, now)
    if clause is None:
        return [], False
    rows = conn.execute(
        select(*_ROW_COLUMNS)
        .where(clause)
        .order_by(D.c.state_entered_at.asc(), D.c.id.asc())
        .limit(limit + 1)
    ).all()
    return [DossierRow.from_row(row) for row in rows[:limit]], len(rows) > limit


# --- What I wait on from others ---------------------------------------------------------------


def waiting_on_others(
    conn: Connection,
    person_id: int,
    now: datetime,
    mine: frozenset[int],
    delays: DeadlineDelays,
    limit: int = 100,
) -> list[Waiting]:
    """The open dossiers where I hold a role in the team of the dossier itself (not only on
    its académie, nor as a stagiaire: a trainee does not follow the contract or the
    payment), that wait on someone else: longest waiting first."""
    open_states = [
        and_(
            D.c.workflow_name == spec.name,
            D.c.workflow_version == spec.version,
            D.c.state.in_([s.id for s in spec.states if not s.terminal]),
        )
        for spec in SPECS.values()
    ]
    query = (
        select(*_ROW_COLUMNS)
        .where(
            D.c.id.in_(
                select(A.c.dossier_id).where(
                    A.c.person_id == person_id,
                    A.c.dossier_id.is_not(None),
                    A.c.role != "stagiaire",
                )
            ),
            or_(*open_states),
        )
        .order_by(D.c.state_entered_at.asc(), D.c.id.asc())
    )
    if mine:
        query = query.where(D.c.id.not_in(sorted(mine)))
    dossiers = [DossierRow.from_row(r) for r in conn.execute(query.limit(limit)).all()]
    waits = expectations(conn, dossiers, now, delays)
    found = []
    for dossier in dossiers:
        waits_on = waits.get(dossier.id)
        if waits_on is None:
            continue
        others = [p for p in waits_on.people if p.person_id != person_id]
        if others or not waits_on.people:
            found.append(Waiting(dossier, waits_on))
    return found


# --- The académie's queue (EAFC staff) ---------------------------------------------------------


def staff_academies(conn: Connection, person_id: int) -> list[int]:
    return sorted(
        {
            int(a)
            for a in conn.execute(
                select(A.c.academie_id).where(
                    A.c.person_id == person_id,
                    A.c.academie_id.is_not(None),
                    A.c.role.in_(list(ACADEMIE_ROLES)),
                )
            ).scalars()
        }
    )


def academie_queue(
    conn: Connection, person_id: int, now: datetime, delays: DeadlineDelays, limit: int = 20
) -> Queue | None:
    """For a gestionnaire or responsable: every open dossier of their académies counted by
    the state it waits in (and on whom), how many of them are late, then the late ones,
    the most overdue first — late by the timers' own rule."""
    academies = staff_academies(conn, person_id)
    if not academies:
        return None
    late = due_late_clause(now, delays)
    in_scope = D.c.academie_id.in_(academies)
    counted = {
        (r.workflow_name, r.workflow_version, r.state): (int(r.n), int(r.late or 0))
        for r in conn.execute(
            select(
                D.c.workflow_name,
                D.c.workflow_version,
                D.c.state,
                func.count().label("n"),
                func.sum(case((late, 1), else_=0)).label("late"),
            )
            .where(in_scope)
            .group_by(D.c.workflow_name, D.c.workflow_version, D.c.state)
        )
    }
    lines = []
    for spec in SPECS.values():
        for state in spec.states:
            count, overdue = counted.get((spec.name, spec.version, state.id), (0, 0))
            waiting_on = awaited_role_label(spec, state.id)
            if count and waiting_on:
                lines.append(
                    QueueLine(spec.label, state.id, state.label, waiting_on, count, overdue)
                )
    rows = conn.execute(
        select(*_ROW_COLUMNS)
        .where(in_scope, late)
        .order_by(due_at_expression(delays).asc().nulls_last(), D.c.id.asc())
        .limit(limit + 1)
    ).all()
    dossiers = [DossierRow.from_row(r) for r in rows[:limit]]
    waits = expectations(conn, dossiers, now, delays)
    return Queue(
        lines=tuple(lines),
        late=tuple(Waiting(d, waits[d.id]) for d in dossiers if d.id in waits),
        late_more=len(rows) > limit,
    )
