"""Enrolling and withdrawing stagiaires: the one writer of the ``stagiaire`` role.

Each public method is one transaction that owns its commit, like the service's ``fire``.
An enrolment creates the person if the address is new (same accounts as everyone: OIDC
links them at first sign-in by that address), the enrolment row, its event and the
``stagiaire`` assignment; a withdrawal marks the row, records the event and removes the
assignment. Subscribers (the convocations, at the edge) write their emails in the same
transaction, so that a stagiaire enrolled after the scenario was validated is convoked by
the very commit that enrolled them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from sqlalchemy import Connection, Engine, delete, insert, select, update

from workflow.engine.errors import InvalidInput
from workflow.engine.rows import DossierRow
from workflow.participants.access import PARTICIPANT, Part, require
from workflow.participants.etablissements import etablissement
from workflow.participants.importing import ImportRefused, ImportReport, Planned, plan
from workflow.participants.inputs import StagiaireInput
from workflow.store.tables import assignment_table as A
from workflow.store.tables import enrolment_event_table as EV
from workflow.store.tables import enrolment_table as N
from workflow.store.tables import person_table as P
from workflow.store.types import utcnow

_T = TypeVar("_T")

CHUNK = 500
"""Rows per ``IN (…)`` list: well under every database's limit on bound parameters."""


@dataclass(frozen=True, slots=True)
class ParticipantChange:
    """Who became, or stopped being, a stagiaire of a dossier, told inside the transaction."""

    dossier_id: int
    enrolled: tuple[int, ...]
    """Enrolment ids that became active (new, or enrolled again after a withdrawal)."""
    withdrawn: tuple[int, ...]
    at: datetime
    actor_id: int | None


class ParticipantSubscriber(Protocol):
    def __call__(self, connection: Connection, change: ParticipantChange, /) -> None: ...


def _chunks(items: Sequence[_T]) -> Iterable[list[_T]]:
    for start in range(0, len(items), CHUNK):
        yield list(items[start : start + CHUNK])


def people_by_email(conn: Connection, emails: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(emails):
        for row in conn.execute(select(P.c.email, P.c.id).where(P.c.email.in_(chunk))):
            found[str(row.email)] = int(row.id)
    return found


def enrolments_of_people(
    conn: Connection, dossier_id: int, person_ids: Sequence[int]
) -> dict[int, tuple[int, datetime | None]]:
    """Per person, their enrolment on the dossier and when they withdrew (None: active)."""
    found: dict[int, tuple[int, datetime | None]] = {}
    for chunk in _chunks(person_ids):
        rows = conn.execute(
            select(N.c.person_id, N.c.id, N.c.withdrawn_at).where(
                N.c.dossier_id == dossier_id, N.c.person_id.in_(chunk)
            )
        )
        for row in rows:
            found[int(row.person_id)] = (int(row.id), row.withdrawn_at)
    return found


def enrol_in(
    conn: Connection,
    dossier: DossierRow,
    items: Sequence[StagiaireInput],
    actor_id: int | None,
    now: datetime,
) -> list[int]:
    """Enrol ``items`` (already checked) on the caller's connection; the enrolment ids that
    became active. People already enrolled and active are left as they are."""
    emails = list(dict.fromkeys(item.email for item in items))
    people = people_by_email(conn, emails)
    unknown = [item for item in items if item.email not in people]
    if unknown:
        seen: set[str] = set()
        rows = []
        for item in unknown:
            if item.email not in seen:
                seen.add(item.email)
                rows.append({"email": item.email, "full_name": item.full_name, "created_at": now})
        conn.execute(insert(P), rows)
        people.update(people_by_email(conn, list(seen)))
    existing = enrolments_of_people(conn, dossier.id, list(people.values()))
    new_rows: list[dict[str, object]] = []
    active: list[int] = []
    events: list[dict[str, object]] = []
    for item in items:
        person = people[item.email]
        if person in existing:
            enrolment_id, withdrawn_at = existing[person]
            if withdrawn_at is None:
                continue
            conn.execute(
                update(N)
                .where(N.c.id == enrolment_id)
                .values(
                    withdrawn_at=None,
                    withdrawn_by_id=None,
                    withdrawal_reason=None,
                    etablissement_id=item.etablissement_id,
                    discipline=item.discipline,
                )
            )
            existing[person] = (enrolment_id, None)
            active.append(enrolment_id)
            events.append({"enrolment_id": enrolment_id, "kind": "reinscription"})
        else:
            existing[person] = (0, None)
            new_rows.append(
                {
                    "dossier_id": dossier.id,
                    "person_id": person,
                    "etablissement_id": item.etablissement_id,
                    "discipline": item.discipline,
                    "enrolled_at": now,
                    "enrolled_by_id": actor_id,
                    "questionnaire_answered": False,
                }
            )
    if new_rows:
        conn.execute(insert(N), new_rows)
        created = enrolments_of_people(
            conn, dossier.id, [int(str(r["person_id"])) for r in new_rows]
        )
        for row in new_rows:
            enrolment_id = created[int(str(row["person_id"]))][0]
            active.append(enrolment_id)
            events.append({"enrolment_id": enrolment_id, "kind": "inscription"})
    if events:
        conn.execute(insert(EV), [{**e, "at": now, "by_id": actor_id} for e in events])
        _grant_role(conn, dossier.id, active, now)
    return active


def _grant_role(conn: Connection, dossier_id: int, enrolment_ids: list[int], now: datetime) -> None:
    """The ``stagiaire`` assignment of each newly active enrolment (none twice)."""
    people: list[int] = []
    for chunk in _chunks(enrolment_ids):
        people += [
            int(p) for p in conn.execute(select(N.c.person_id).where(N.c.id.in_(chunk))).scalars()
        ]
    held: set[int] = set()
    for chunk in _chunks(people):
        held |= {
            int(p)
            for p in conn.execute(
                select(A.c.person_id).where(
                    A.c.dossier_id == dossier_id, A.c.role == PARTICIPANT, A.c.person_id.in_(chunk)
                )
            ).scalars()
        }
    rows = [
        {"person_id": p, "role": PARTICIPANT, "dossier_id": dossier_id, "created_at": now}
        for p in dict.fromkeys(people)
        if p not in held
    ]
    if rows:
        conn.execute(insert(A), rows)


class Enrolments:
    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], datetime] = utcnow,
        subscribers: Iterable[ParticipantSubscriber] = (),
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.subscribers = list(subscribers)

    def subscribe(self, subscriber: ParticipantSubscriber) -> None:
        self.subscribers.append(subscriber)

    def _tell(self, conn: Connection, change: ParticipantChange) -> None:
        if change.enrolled or change.withdrawn:
            for subscriber in self.subscribers:
                subscriber(conn, change)

    def enrol(self, dossier_id: int, data: StagiaireInput, *, actor_id: int | None) -> int:
        """Enrol one stagiaire; their enrolment id. Refused if already enrolled."""
        now = self.clock()
        with self.engine.begin() as conn:
            dossier = require(conn, dossier_id, actor_id, Part.ROSTER, now)
            if data.etablissement_id is not None and (
                etablissement(conn, dossier.academie_id, data.etablissement_id) is None
            ):
                raise InvalidInput("Établissement inconnu dans l'académie.", "etablissement_id")
            person = people_by_email(conn, [data.email]).get(data.email)
            if person is not None:
                current = enrolments_of_people(conn, dossier_id, [person]).get(person)
                if current is not None and current[1] is None:
                    raise InvalidInput(
                        f"{data.email} est déjà inscrit·e comme stagiaire de ce dossier.", "email"
                    )
            (enrolment_id,) = enrol_in(conn, dossier, [data], actor_id, now)
            self._tell(conn, ParticipantChange(dossier_id, (enrolment_id,), (), now, actor_id))
            return enrolment_id

    def enrol_all(
        self, dossier_id: int, items: Sequence[StagiaireInput], *, actor_id: int | None
    ) -> list[int]:
        """Enrol several at once, skipping those already enrolled (the demo, the tests)."""
        now = self.clock()
        with self.engine.begin() as conn:
            dossier = require(conn, dossier_id, actor_id, Part.ROSTER, now)
            active = enrol_in(conn, dossier, items, actor_id, now)
            self._tell(conn, ParticipantChange(dossier_id, tuple(active), (), now, actor_id))
            return active

    def withdraw(
        self, dossier_id: int, enrolment_id: int, reason: str = "", *, actor_id: int | None
    ) -> None:
        """Désinscription: the row and its history stay, the role goes."""
        now = self.clock()
        with self.engine.begin() as conn:
            require(conn, dossier_id, actor_id, Part.ROSTER, now)
            row = conn.execute(
                select(N.c.person_id, N.c.withdrawn_at).where(
                    N.c.id == enrolment_id, N.c.dossier_id == dossier_id
                )
            ).first()
            if row is None:
                raise InvalidInput("Cette personne n'est pas inscrite sur ce dossier.")
            if row.withdrawn_at is not None:
                raise InvalidInput("Cette personne est déjà désinscrite de ce dossier.")
            conn.execute(
                update(N)
                .where(N.c.id == enrolment_id)
                .values(
                    withdrawn_at=now, withdrawn_by_id=actor_id, withdrawal_reason=reason or None
                )
            )
            conn.execute(
                delete(A).where(
                    A.c.dossier_id == dossier_id,
                    A.c.person_id == row.person_id,
                    A.c.role == PARTICIPANT,
                )
            )
            conn.execute(
                insert(EV).values(
                    enrolment_id=enrolment_id,
                    kind="desinscription",
                    at=now,
                    by_id=actor_id,
                    reason=reason or None,
                )
            )
            self._tell(conn, ParticipantChange(dossier_id, (), (enrolment_id,), now, actor_id))

    # Import -------------------------------------------------------------------------------

    def preview(
        self,
        dossier_id: int,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        actor_id: int | None,
    ) -> ImportReport:
        """The dry run: what the import would do, line by line; writes nothing."""
        now = self.clock()
        with self.engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
            dossier = require(conn, dossier_id, actor_id, Part.ROSTER, now, lock=False)
            report = plan(conn, dossier, header, rows).report
            conn.rollback()
            return report

    def import_file(
        self,
        dossier_id: int,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        actor_id: int | None,
    ) -> ImportReport:
        """All or nothing: any refused line (or missing column) refuses the whole file
        (``ImportRefused`` carries the report) and nothing is written."""
        now = self.clock()
        with self.engine.begin() as conn:
            dossier = require(conn, dossier_id, actor_id, Part.ROSTER, now)
            planned: Planned = plan(conn, dossier, header, rows)
            if not planned.report.ok:
                raise ImportRefused(planned.report)
            active = enrol_in(conn, dossier, planned.to_enrol, actor_id, now)
            self._tell(conn, ParticipantChange(dossier_id, tuple(active), (), now, actor_id))
            return planned.report
