"""What a convocation says, to whom it goes, and how many times it went.

A stagiaire's convocation lists every session (date and time in Paris, modality, place or
visio link) and the asynchronous periods of the scenario, with the charter's words on
release from classes. Each school head (chef d'établissement or IEN, by address) is told
once which of their staff are convoked and the synchronous slots to release them for.
The edge renders and enqueues the emails; here are the facts and the count of sends that
makes a later change an update (« convocation modifiée ») rather than a second copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, insert, select, update

from workflow.engine.rows import DossierRow, load
from workflow.language.vocabulary import SYNCHRONOUS
from workflow.participants.roster import AsyncStep, SessionSlot, async_steps, roster, slots
from workflow.store.tables import convocation_table as CV
from workflow.store.tables import scenario_table as SC

STAGIAIRE = "stagiaire"
HEAD = "responsable"

CONVOKED_STATES = frozenset({"scenario_valide", "en_cours"})
"""From the scenario's validation to the end of the training, a change is told at once."""


@dataclass(frozen=True, slots=True)
class Convoked:
    enrolment_id: int
    person_id: int
    full_name: str
    email: str
    discipline: str
    etablissement: str | None
    head_role: str | None
    head_name: str | None
    head_email: str | None


@dataclass(frozen=True, slots=True)
class HeadNotice:
    """One school head and their staff convoked on this dossier."""

    email: str
    name: str
    role: str
    etablissements: tuple[str, ...]
    staff: tuple[Convoked, ...]


@dataclass(frozen=True, slots=True)
class Programme:
    """The dossier's sessions and asynchronous periods, as every convocation lists them."""

    dossier: DossierRow
    sessions: tuple[SessionSlot, ...]
    periods: tuple[AsyncStep, ...]
    validation_criteria: str

    @property
    def synchronous(self) -> tuple[SessionSlot, ...]:
        return tuple(s for s in self.sessions if s.modality in SYNCHRONOUS)


def programme(conn: Connection, dossier_id: int) -> Programme:
    criteria = conn.execute(
        select(SC.c.validation_criteria).where(SC.c.dossier_id == dossier_id)
    ).scalar()
    return Programme(
        dossier=load(conn, dossier_id),
        sessions=tuple(slots(conn, dossier_id)),
        periods=tuple(async_steps(conn, dossier_id)),
        validation_criteria=str(criteria or ""),
    )


def convoked(
    conn: Connection, dossier_id: int, enrolment_ids: set[int] | None = None
) -> list[Convoked]:
    """The active stagiaires (or only those of ``enrolment_ids``), by name."""
    return [
        Convoked(
            p.enrolment_id,
            p.person_id,
            p.full_name,
            p.email,
            p.discipline,
            p.etablissement,
            p.head_role,
            p.head_name,
            p.head_email,
        )
        for p in roster(conn, dossier_id, active_only=True)
        if enrolment_ids is None or p.enrolment_id in enrolment_ids
    ]


def heads(conn: Connection, dossier_id: int, only: set[str] | None = None) -> list[HeadNotice]:
    """One notice per head address (an IEN may head several écoles), with their staff."""
    grouped: dict[str, list[Convoked]] = {}
    for person in convoked(conn, dossier_id):
        if person.head_email and (only is None or person.head_email in only):
            grouped.setdefault(person.head_email, []).append(person)
    notices = []
    for email, staff in sorted(grouped.items()):
        first = staff[0]
        notices.append(
            HeadNotice(
                email=email,
                name=first.head_name or email,
                role=first.head_role or "chef_etablissement",
                etablissements=tuple(dict.fromkeys(p.etablissement or "" for p in staff)),
                staff=tuple(staff),
            )
        )
    return notices


def former_heads(conn: Connection, dossier_id: int, emails: set[str]) -> list[HeadNotice]:
    """Heads among ``emails`` who were told before and have no staff convoked any more
    (their last stagiaire withdrew): they get an update with an empty list."""
    current = {notice.email for notice in heads(conn, dossier_id, emails)}
    found: dict[str, HeadNotice] = {}
    for person in roster(conn, dossier_id):
        email = person.head_email
        if (
            email
            and email in emails
            and email not in current
            and email not in found
            and sends_to(conn, dossier_id, HEAD, email) > 0
        ):
            found[email] = HeadNotice(
                email=email,
                name=person.head_name or email,
                role=person.head_role or "chef_etablissement",
                etablissements=(person.etablissement or "",),
                staff=(),
            )
    return list(found.values())


def heads_of(conn: Connection, enrolment_ids: set[int], dossier_id: int) -> set[str]:
    """The head addresses of these enrolments (withdrawn ones included)."""
    return {
        p.head_email
        for p in roster(conn, dossier_id)
        if p.enrolment_id in enrolment_ids and p.head_email
    }


def sent(conn: Connection, dossier_id: int) -> bool:
    """Whether this dossier's convocations have gone out (the scenario was validated)."""
    return (
        conn.execute(select(CV.c.id).where(CV.c.dossier_id == dossier_id).limit(1)).first()
        is not None
    )


def register_send(
    conn: Connection,
    dossier_id: int,
    kind: str,
    email: str,
    person_id: int | None,
    now: datetime,
) -> int:
    """Count one more send to this recipient; its number (1: the first convocation)."""
    return register_sends(conn, dossier_id, kind, [(email, person_id)], now)[0]


def register_sends(
    conn: Connection,
    dossier_id: int,
    kind: str,
    recipients: Sequence[tuple[str, int | None]],
    now: datetime,
) -> list[int]:
    """``register_send`` for each (email, person id) in turn, each send's number in order,
    in one read and at most two writes rather than two statements per recipient (500
    convocations at once when a list is imported after the validation)."""
    emails = list(dict.fromkeys(email for email, _ in recipients))
    before: dict[str, tuple[int, int]] = {}
    for start in range(0, len(emails), _CHUNK):
        rows = conn.execute(
            _SENDS,
            {"dossier_id": dossier_id, "kind": kind, "emails": emails[start : start + _CHUNK]},
        )
        before.update({str(r.recipient_email): (int(r.id), int(r.sends)) for r in rows})
    sends = {email: found[1] for email, found in before.items()}
    first_person: dict[str, int | None] = {}
    numbers = []
    for email, person_id in recipients:
        sends[email] = sends.get(email, 0) + 1
        first_person.setdefault(email, person_id)
        numbers.append(sends[email])
    created = [
        {
            "dossier_id": dossier_id,
            "kind": kind,
            "recipient_email": email,
            "person_id": first_person[email],
            "sends": sends[email],
            "last_sent_at": now,
        }
        for email in emails
        if email not in before
    ]
    if created:
        conn.execute(insert(CV), created)
    changed = [
        {"row_id": row_id, "new_sends": sends[email], "at": now}
        for email, (row_id, _) in before.items()
    ]
    if changed:
        conn.execute(_COUNT, changed)
    return numbers


_CHUNK = 500
_SENDS = select(CV.c.id, CV.c.recipient_email, CV.c.sends).where(
    CV.c.dossier_id == bindparam("dossier_id"),
    CV.c.kind == bindparam("kind"),
    CV.c.recipient_email.in_(bindparam("emails", expanding=True)),
)
_COUNT = (
    update(CV)
    .where(CV.c.id == bindparam("row_id"))
    .values(sends=bindparam("new_sends"), last_sent_at=bindparam("at"))
)


def sends_to(conn: Connection, dossier_id: int, kind: str, email: str) -> int:
    value = conn.execute(
        select(CV.c.sends).where(
            CV.c.dossier_id == dossier_id, CV.c.kind == kind, CV.c.recipient_email == email
        )
    ).scalar()
    return int(value or 0)
