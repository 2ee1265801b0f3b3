"""Who a dossier waits on, since when, and by when: the « en attente de » of every list.

The spec says which transitions leave each state and of which roles each is *awaited*
(``TransitionSpec.awaits``: cancelling is never awaited, the gestionnaire's right to start
a training is a fallback, not an expectation). The people are the holders of those roles
on the dossier or its académie; for the contract, only the signatories who have not signed
yet (``signature_status``), which is what the service's turn guard says too. « Since » is
the entry into the state; the due date and lateness are ``workflow.engine.due``'s rule,
the one the timers use.

Everything is read for a page of dossiers at once (a few queries for 50 rows, not a few per
row), on the caller's connection; ``awaited_role_order`` is the same knowledge as an SQL
expression, so that a list can be sorted by whom it waits on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Protocol

from sqlalchemy import ColumnElement, Connection, and_, case, literal, select

from states import SPECS, get_spec
from states.dispositifs import DISPOSITIFS
from states.roles import ACADEMIE_ROLES, BILAN_AUTHOR, SIGNATORY, role_label
from states.spec import TransitionSpec, WorkflowSpec
from workflow.documents.signatures import signature_statuses
from workflow.engine.due import DeadlineDelays, DossierLike, DueDate, chunks, due_dates
from workflow.engine.machines import machine_for
from workflow.engine.roles import DossierRef
from workflow.store.tables import assignment_table as A
from workflow.store.tables import contract_version_table as CV
from workflow.store.tables import dossier_table as D
from workflow.store.tables import person_table as P


class ExpectedDossier(DossierLike, Protocol):
    """A dossier row as the lists hold it: what lateness needs, plus its dispositif."""

    @property
    def dispositif(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Awaited:
    """Someone the dossier waits on, in the role it waits on them in."""

    person_id: int
    full_name: str
    role: str
    civilite: str | None = None

    @property
    def label(self) -> str:
        return f"{self.full_name} ({lowercase_first(role_label(self.role, self.civilite))})"


def lowercase_first(label: str) -> str:
    """« Gestionnaire EAFC » → « gestionnaire EAFC » (an acronym keeps its capitals)."""
    return label[:1].lower() + label[1:]


@dataclass(frozen=True, slots=True)
class Expectation:
    dossier_id: int
    what: tuple[str, ...]
    """The labels of the awaited transitions (« Signer le contrat »)."""
    roles: tuple[str, ...]
    """The roles awaited, as the spec names them (derived ones resolved)."""
    people: tuple[Awaited, ...]
    since: datetime
    due: DueDate | None

    @property
    def late(self) -> bool:
        return self.due is not None and self.due.late

    def waiting_on(self, but: int | None = None) -> str:
        """« Paul Lefèvre (pilote) », several names, or the role when nobody holds it."""
        people = [p for p in self.people if p.person_id != but]
        if not people:
            if self.people:
                return "vous"
            return " ou ".join(
                f"{lowercase_first(role_label(r))} (personne n'est désigné)" for r in self.roles
            )
        names = [p.label for p in people]
        if len(names) > 3:
            return f"{', '.join(names[:2])} et {len(names) - 2} autres personnes"
        return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} et {names[-1]}"


@cache
def awaited_transitions(spec: WorkflowSpec, state: str) -> tuple[TransitionSpec, ...]:
    """The transitions out of ``state`` that some role is expected to fire (specs are
    frozen: computed once per state)."""
    machine = machine_for(spec.name, spec.version)
    found = []
    for trigger in machine.triggers_from(state):
        transition = spec.transition(trigger)
        if transition.awaited_from != ():
            found.append(transition)
    return tuple(found)


@cache
def awaited_roles(spec: WorkflowSpec, state: str) -> tuple[str, ...]:
    """The roles ``state`` waits on, in spec order, derived ones (signataire…) included."""
    roles: list[str] = []
    for transition in awaited_transitions(spec, state):
        roles += [r for r in _expected_of(transition) if r not in roles]
    return tuple(roles)


def _concrete(roles: Sequence[str], dispositif: str | None) -> list[str]:
    """Derived roles replaced by the roles they come from for this dispositif."""
    found = DISPOSITIFS.get(dispositif or "")
    result: list[str] = []
    for role in roles:
        if role == SIGNATORY:
            result += [rule.role for rule in found.signatories] if found else []
        elif role == BILAN_AUTHOR:
            result += list(found.bilan_roles) if found else []
        else:
            result.append(role)
    return list(dict.fromkeys(result))


def expectations(
    conn: Connection,
    dossiers: Sequence[ExpectedDossier],
    now: datetime,
    delays: DeadlineDelays,
) -> dict[int, Expectation]:
    """What each open dossier waits on; none for a dossier that waits on nobody (ended)."""
    wanted: dict[int, tuple[ExpectedDossier, WorkflowSpec, tuple[str, ...]]] = {}
    for dossier in dossiers:
        spec = get_spec(dossier.workflow_name, dossier.workflow_version)
        roles = awaited_roles(spec, dossier.state)
        if roles:
            wanted[dossier.id] = (dossier, spec, roles)
    holders = _holders(conn, [(d, _concrete(r, d.dispositif)) for d, _, r in wanted.values()])
    dues = due_dates(conn, [d for d, _, _ in wanted.values()], now, delays)
    amended = _amended(conn, [d.id for d, _, r in wanted.values() if SIGNATORY in r])
    # Whose signature is missing, for all the dossiers that may wait on one, at once.
    statuses = signature_statuses(
        conn,
        [
            DossierRef(d.id, d.academie_id, d.dispositif)
            for d, _, roles in wanted.values()
            if SIGNATORY in roles and (d.state == CONTRACT_STATE or d.id in amended)
        ],
    )
    result: dict[int, Expectation] = {}
    for dossier_id, (dossier, spec, _) in wanted.items():
        transitions = awaited_transitions(spec, dossier.state)
        missing: dict[int, str] = {}
        if dossier_id in statuses:
            missing = {m.person_id: m.role for m in statuses[dossier_id].missing}
        if not missing:
            # Signing is awaited only of who has not signed the current version yet.
            transitions = tuple(t for t in transitions if SIGNATORY not in _expected_of(t))
        if not transitions:
            continue
        plain = _concrete(
            [r for t in transitions for r in _expected_of(t) if r != SIGNATORY],
            dossier.dispositif,
        )
        people = [p for p in holders.get(dossier_id, []) if p.role in plain]
        people += [
            Awaited(p.person_id, p.full_name, missing[p.person_id], p.civilite)
            for p in holders.get(dossier_id, [])
            if p.person_id in missing
        ]
        result[dossier_id] = Expectation(
            dossier_id=dossier_id,
            what=tuple(t.label for t in transitions),
            roles=tuple(dict.fromkeys([*plain, *missing.values()])),
            people=tuple(_unique(people)),
            since=dossier.state_entered_at,
            due=dues.get(dossier_id),
        )
    return result


CONTRACT_STATE = "contrat_a_signer"
"""The state where the contract's first version waits for its signatures."""


def _expected_of(transition: TransitionSpec) -> tuple[str, ...]:
    return transition.roles if transition.awaited_from is None else transition.awaited_from


def _amended(conn: Connection, dossier_ids: list[int]) -> set[int]:
    """The dossiers whose contract has an avenant (a version past the first), in one query
    per 500: only they may wait on signatures outside « Contrat à signer »."""
    found: set[int] = set()
    for chunk in chunks(dossier_ids, 500):
        query = select(CV.c.dossier_id).where(CV.c.dossier_id.in_(chunk), CV.c.number > 1)
        found |= {int(i) for i in conn.execute(query).scalars()}
    return found


def _unique(people: list[Awaited]) -> list[Awaited]:
    seen: set[int] = set()
    kept = []
    for person in people:
        if person.person_id not in seen:
            seen.add(person.person_id)
            kept.append(person)
    return kept


def _holders(
    conn: Connection, wanted: list[tuple[ExpectedDossier, list[str]]]
) -> dict[int, list[Awaited]]:
    """The holders of the roles each dossier waits on, in two queries per 500 dossiers:
    roles held on the dossiers, roles held on their académies."""
    found: dict[int, list[Awaited]] = {}
    roles_of = {d.id: set(roles) for d, roles in wanted}
    on_dossier = [d.id for d, roles in wanted if any(r not in ACADEMIE_ROLES for r in roles)]
    for chunk in chunks(on_dossier, 500):
        rows = conn.execute(
            select(A.c.dossier_id, A.c.role, P.c.id, P.c.full_name, P.c.civilite)
            .join(P, P.c.id == A.c.person_id)
            .where(A.c.dossier_id.in_(chunk))
            .order_by(A.c.dossier_id, A.c.role, P.c.full_name, P.c.id)
        ).all()
        for row in rows:
            if row.role in roles_of[int(row.dossier_id)]:
                found.setdefault(int(row.dossier_id), []).append(
                    Awaited(int(row.id), str(row.full_name), str(row.role), row.civilite)
                )
    by_academie: dict[int, list[ExpectedDossier]] = {}
    for dossier, roles in wanted:
        if any(r in ACADEMIE_ROLES for r in roles):
            by_academie.setdefault(dossier.academie_id, []).append(dossier)
    if by_academie:
        rows = conn.execute(
            select(A.c.academie_id, A.c.role, P.c.id, P.c.full_name, P.c.civilite)
            .join(P, P.c.id == A.c.person_id)
            .where(A.c.academie_id.in_(list(by_academie)), A.c.role.in_(list(ACADEMIE_ROLES)))
            .order_by(A.c.role, P.c.full_name, P.c.id)
        ).all()
        for row in rows:
            for dossier in by_academie[int(row.academie_id)]:
                if row.role in roles_of[dossier.id]:
                    found.setdefault(dossier.id, []).append(
                        Awaited(int(row.id), str(row.full_name), str(row.role), row.civilite)
                    )
    return found


def awaited_role_label(spec: WorkflowSpec, state: str) -> str:
    """Whom ``state`` waits on, as one French label (« Pilote », « Signataire du contrat »)."""
    roles: list[str] = []
    for transition in awaited_transitions(spec, state):
        # An avenant is awaited only while one is pending: not a trait of the state.
        if not transition.reflexive:
            roles += [r for r in _expected_of(transition) if r not in roles]
    return ", ".join(role_label(r) for r in roles)


AWAITS_NOBODY = "~"
"""The sort key of a state that waits on nobody (ended): after every label."""


def awaited_role_order() -> ColumnElement[str]:
    """``awaited_role_label`` of each dossier row in SQL: sorting a list by it groups the
    dossiers by whom they wait on (ended dossiers, waiting on nobody, come last)."""
    whens = []
    for spec in SPECS.values():
        for state in spec.states:
            label = awaited_role_label(spec, state.id)
            if label:
                whens.append(
                    (
                        and_(
                            D.c.workflow_name == spec.name,
                            D.c.workflow_version == spec.version,
                            D.c.state == state.id,
                        ),
                        literal(label),
                    )
                )
    return case(*whens, else_=literal(AWAITS_NOBODY))
