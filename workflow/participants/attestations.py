"""What an attestation de formation says: who, which dispositif, when, how many hours by
modality, signed by the académie's signature block.

Only for a stagiaire who took part (the académie's participation rule, as for the
barème's counts), once the training is « réalisée ». The hours are those attended: the
sessions marked présent, by their modality, and the asynchronous steps done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Connection, Engine, select, update

from states.dispositifs import DISPOSITIFS
from workflow.engine.rows import DossierRow, load
from workflow.language.french import PARIS
from workflow.language.vocabulary import MODALITIES
from workflow.participants.access import OPEN_STATES, Part, require
from workflow.participants.counts import effective_people
from workflow.participants.roster import Participant, async_steps, marks_of, roster, slots
from workflow.store.academie_settings import academie_settings
from workflow.store.tables import academie_table
from workflow.store.tables import enrolment_table as N
from workflow.store.types import utcnow

ISSUED_STATES = OPEN_STATES[Part.ATTESTATIONS]


@dataclass(frozen=True, slots=True)
class Attestation:
    dossier_id: int
    enrolment_id: int
    person_id: int
    full_name: str
    email: str
    etablissement: str | None
    reference: str
    title: str
    dispositif: str
    academie: str
    first_day: date | None
    last_day: date | None
    hours: tuple[tuple[str, Decimal], ...]
    """(modality label, hours followed), in the order of ``MODALITIES``."""
    total: Decimal
    signature_block: tuple[str, ...]
    place: str | None
    issued_on: date


def _hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(Decimal("0.01"))


def issued(dossier: DossierRow) -> bool:
    return dossier.workflow_name == "dossier_formation" and dossier.state in ISSUED_STATES


def attestations(
    conn: Connection, dossier_id: int, now: datetime, enrolment_id: int | None = None
) -> list[Attestation]:
    """The attestation of each stagiaire who took part (or of one), by name; none before
    the training is over."""
    dossier = load(conn, dossier_id)
    if not issued(dossier):
        return []
    settings = academie_settings(conn, dossier.academie_id)
    academie = conn.execute(
        select(academie_table.c.name).where(academie_table.c.id == dossier.academie_id)
    ).scalar_one()
    took_part = effective_people(conn, dossier, settings.participation_rule)
    sessions = {s.id: s for s in slots(conn, dossier_id)}
    steps = {s.id: s for s in async_steps(conn, dossier_id)}
    marks = marks_of(conn, dossier_id)
    days = [s.starts_at.astimezone(PARIS).date() for s in sessions.values()]
    days += [s.ends_at.astimezone(PARIS).date() for s in sessions.values()]
    first_day = min(days) if days else dossier.planned_start
    last_day = max(days) if days else dossier.planned_end
    dispositif = DISPOSITIFS.get(dossier.dispositif or "")
    found = []
    people: list[Participant] = roster(conn, dossier_id, active_only=True)
    for person in people:
        if person.enrolment_id not in took_part:
            continue
        if enrolment_id is not None and person.enrolment_id != enrolment_id:
            continue
        minutes: dict[str, int] = {}
        for (session_id, who), status in marks.sessions.items():
            if who == person.enrolment_id and status == "present" and session_id in sessions:
                s = sessions[session_id]
                minutes[s.modality] = minutes.get(s.modality, 0) + s.duration_minutes
        for (step_id, who), done in marks.steps.items():
            if who == person.enrolment_id and done and step_id in steps:
                minutes["asynchrone"] = minutes.get("asynchrone", 0) + (
                    steps[step_id].duration_minutes or 0
                )
        hours = tuple(
            (label, _hours(minutes[modality]))
            for modality, label in MODALITIES.items()
            if minutes.get(modality)
        )
        found.append(
            Attestation(
                dossier_id=dossier.id,
                enrolment_id=person.enrolment_id,
                person_id=person.person_id,
                full_name=person.full_name,
                email=person.email,
                etablissement=person.etablissement,
                reference=dossier.reference,
                title=dossier.title,
                dispositif=dispositif.label if dispositif is not None else "",
                academie=str(academie),
                first_day=first_day,
                last_day=last_day,
                hours=hours,
                total=sum((h for _, h in hours), Decimal(0)),
                signature_block=settings.signature_block,
                place=settings.place,
                issued_on=now.astimezone(PARIS).date(),
            )
        )
    return found


def mark_sent(conn: Connection, enrolment_ids: list[int], now: datetime) -> None:
    if enrolment_ids:
        conn.execute(update(N).where(N.c.id.in_(enrolment_ids)).values(attestation_sent_at=now))


class AttestationMailing:
    """Sends each participant their attestation by email (the edge renders and enqueues
    it, in this transaction); a participant already served is not sent it twice."""

    def __init__(
        self,
        engine: Engine,
        send: Callable[[Connection, list[Attestation], datetime], None],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.send = send
        self.clock = clock

    def send_pending(self, dossier_id: int, *, actor_id: int | None) -> int:
        now = self.clock()
        with self.engine.begin() as conn:
            require(conn, dossier_id, actor_id, Part.ATTESTATIONS, now)
            sent = {
                int(e)
                for e in conn.execute(
                    select(N.c.id).where(
                        N.c.dossier_id == dossier_id, N.c.attestation_sent_at.is_not(None)
                    )
                ).scalars()
            }
            pending = [a for a in attestations(conn, dossier_id, now) if a.enrolment_id not in sent]
            if pending:
                self.send(conn, pending, now)
                mark_sent(conn, [a.enrolment_id for a in pending], now)
            return len(pending)
