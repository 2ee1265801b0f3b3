"""The stagiaires' emails: convocations (with their calendar), the school heads' release
notices, attestations, and the questionnaire link of the ``terminer`` email and reminder.

Every message is written to the outbox on the connection of what caused it — the
scenario's validation (a service subscriber), a session changed (an editor subscriber), a
stagiaire enrolled or withdrawn (an enrolment subscriber), attestations sent — so it
exists exactly when that change commits. A later change sends an update (« Convocation
modifiée »), numbered per recipient so that its ``Message-ID`` is new, with the same
calendar UIDs and a higher ``SEQUENCE``: the recipient's calendar moves the event.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from babel.dates import format_date as babel_date
from sqlalchemy import Connection, insert, select

from notifications.ics import convocation_calendar
from notifications.letters import Sender, letter, sender
from notifications.recipients import Recipient
from notifications.rendering import Attachment
from notifications.settings import MailSettings
from notifications.tokens import QuestionnaireClaim, QuestionnaireLinks
from states.roles import role_label
from workflow.dossiers.events import SessionChanged
from workflow.engine.events import TransitionEvent
from workflow.engine.rows import DossierRow, load
from workflow.language.french import PARIS, format_date, format_hours
from workflow.language.vocabulary import (
    FOLLOW_FROM_HOME,
    HEAD_ROLES,
    MODALITIES,
    RELEASE_ASYNCHRONOUS,
    RELEASE_SYNCHRONOUS,
    SYNCHRONOUS,
)
from workflow.participants import convocations as cv
from workflow.participants.attestations import Attestation
from workflow.participants.enrolment import ParticipantChange
from workflow.participants.roster import AsyncStep, SessionSlot, enrolment_of, slot
from workflow.store.tables import outbox_table
from workflow.store.tables import task_table as T

SUBJECTS = {
    "participants/convocation": "Convocation à la formation",
    "participants/convocation_modifiee": "Convocation modifiée",
    "participants/responsable": "Personnels convoqués : créneaux à libérer",
    "participants/responsable_modifie": "Personnels convoqués : liste ou créneaux modifiés",
    "participants/attestation": "Votre attestation de formation",
}
"""Subjects of the emails no spec names (the catalogue holds the specs' own)."""


def _day(value: datetime) -> str:
    return str(babel_date(value.astimezone(PARIS).date(), format="EEEE d MMMM y", locale="fr_FR"))


def _session(s: SessionSlot) -> dict[str, Any]:
    link = s.connection_link
    return {
        "day": _day(s.starts_at),
        "start": f"{s.starts_at.astimezone(PARIS):%H:%M}",
        "end": f"{s.ends_at.astimezone(PARIS):%H:%M}",
        "modality": s.modality_label,
        "place": s.place,
        "link": link if link and link.lower().startswith(("https://", "http://")) else None,
        "releases": s.modality in SYNCHRONOUS,
    }


def _period(step: AsyncStep) -> dict[str, Any]:
    duration = (
        format_hours((Decimal(step.duration_minutes) / 60).quantize(Decimal("0.01")))
        if step.duration_minutes
        else None
    )
    return {
        "period": step.period or f"Séquence {step.sequence_position}",
        "content": step.content or step.sequence,
        "duration": duration,
    }


def describe_change(conn: Connection, event: SessionChanged) -> str:
    """« la session du mardi 12 mai 2026 à 14:00 (classe virtuelle) a été modifiée »."""
    current = slot(conn, event.dossier_id, event.session_id)
    if event.created and current is not None:
        return (
            f"une session a été ajoutée le {_day(current.starts_at)} à "
            f"{current.starts_at.astimezone(PARIS):%H:%M} ({current.modality_label.lower()})"
        )
    if event.previous_starts_at is not None:
        modality = MODALITIES.get(event.previous_modality or "", "").lower()
        when = event.previous_starts_at.astimezone(PARIS)
        return f"la session du {_day(when)} à {when:%H:%M} ({modality}) a été modifiée"
    return "une session a été modifiée"


class ParticipantMail:
    def __init__(
        self,
        settings: MailSettings,
        questionnaire: QuestionnaireLinks,
        attestation_pdf: Callable[[Attestation], bytes] | None = None,
    ) -> None:
        self.settings = settings
        self.questionnaire = questionnaire
        self.attestation_pdf = attestation_pdf
        """Renders an attestation as a PDF (the edge owns the templates and WeasyPrint)."""

    # Subscribers -------------------------------------------------------------------------

    def on_transition(self, conn: Connection, event: TransitionEvent) -> None:
        if event.workflow_name == "dossier_formation" and event.trigger == "valider_scenario":
            self.convoke(conn, event.dossier_id, event.at)

    def on_session(self, conn: Connection, event: SessionChanged) -> None:
        if not event.calendar_changed:
            return
        dossier = load(conn, event.dossier_id)
        if dossier.state not in cv.CONVOKED_STATES:
            return
        change = describe_change(conn, event)
        self.convoke(conn, dossier.id, event.at, change=change)

    def on_participants(self, conn: Connection, change: ParticipantChange) -> None:
        dossier = load(conn, change.dossier_id)
        # Once the scenario is validated, whoever joins is convoked at once (even if nobody
        # was enrolled at the validation itself).
        if dossier.state not in cv.CONVOKED_STATES:
            return
        affected = set(change.enrolled) | set(change.withdrawn)
        self.convoke(
            conn,
            dossier.id,
            change.at,
            stagiaires=set(change.enrolled),
            heads=cv.heads_of(conn, affected, dossier.id),
            change="la liste des personnels convoqués a changé",
        )

    # Convocations --------------------------------------------------------------------------

    def convoke(
        self,
        conn: Connection,
        dossier_id: int,
        at: datetime,
        *,
        change: str | None = None,
        stagiaires: set[int] | None = None,
        heads: set[str] | None = None,
    ) -> int:
        """Convocations to the stagiaires (all, or ``stagiaires``' enrolments) and notices
        to their heads (all, or those of ``heads``); the number of emails written."""
        programme = cv.programme(conn, dossier_id)
        dossier = programme.dossier
        origin = sender(conn, dossier.academie_id, self.settings)
        sessions = [_session(s) for s in programme.sessions]
        periods = [_period(p) for p in programme.periods]
        calendar = convocation_calendar(dossier.reference, dossier.title, programme.sessions, at)
        tasks = _stagiaire_tasks(conn, dossier_id)
        rows: list[dict[str, Any]] = []
        convoked = cv.convoked(conn, dossier_id, stagiaires)
        numbers = cv.register_sends(
            conn, dossier_id, cv.STAGIAIRE, [(p.email, p.person_id) for p in convoked], at
        )
        for person, number in zip(convoked, numbers, strict=True):
            template = (
                "participants/convocation" if number == 1 else "participants/convocation_modifiee"
            )
            context = {
                **self._common(dossier),
                "name": person.full_name,
                "update": number > 1,
                "change": change,
                "sessions": sessions,
                "periods": periods,
                "criteria": programme.validation_criteria,
                "head": (
                    {
                        "name": person.head_name,
                        "role": HEAD_ROLES.get(person.head_role or "", "chef d'établissement"),
                        "etablissement": person.etablissement,
                    }
                    if person.head_email
                    else None
                ),
                "tasks": tasks.get(person.person_id, []),
                "url": f"{self._base}/mes-formations/{dossier_id}",
            }
            rows.append(
                self._row(
                    dossier,
                    origin,
                    template,
                    person.person_id,
                    person.full_name,
                    person.email,
                    f"<formaflow.convocation.d{dossier_id}.p{person.person_id}.n{number}"
                    f"@{self.settings.from_domain}>",
                    context,
                    at,
                    [
                        Attachment(
                            f"convocation-{dossier.reference}.ics",
                            "text",
                            "calendar",
                            calendar,
                            (("method", "PUBLISH"),),
                        )
                    ],
                )
            )
        synchronous = [_session(s) for s in programme.synchronous]
        asynchronous = [_session(s) for s in programme.sessions if s.modality not in SYNCHRONOUS]
        notices = cv.heads(conn, dossier_id, heads)
        if heads is not None:
            notices += cv.former_heads(conn, dossier_id, heads)
        numbers = cv.register_sends(
            conn, dossier_id, cv.HEAD, [(n.email, None) for n in notices], at
        )
        for notice, number in zip(notices, numbers, strict=True):
            template = (
                "participants/responsable" if number == 1 else "participants/responsable_modifie"
            )
            context = {
                **self._common(dossier),
                "name": notice.name,
                "role": role_label(notice.role),
                "etablissements": ", ".join(e for e in notice.etablissements if e),
                "update": number > 1,
                "change": change,
                "staff": [
                    {
                        "name": p.full_name,
                        "discipline": p.discipline,
                        "etablissement": p.etablissement,
                    }
                    for p in notice.staff
                ],
                "synchronous": synchronous,
                "asynchronous": asynchronous,
                "periods": periods,
            }
            key = hashlib.sha256(notice.email.encode()).hexdigest()[:12]
            rows.append(
                self._row(
                    dossier,
                    origin,
                    template,
                    None,
                    notice.name,
                    notice.email,
                    f"<formaflow.convocation-responsable.d{dossier_id}.h{key}.n{number}"
                    f"@{self.settings.from_domain}>",
                    context,
                    at,
                    [],
                )
            )
        if rows:
            conn.execute(insert(outbox_table), rows)
        return len(rows)

    # Attestations --------------------------------------------------------------------------

    def attestations(self, conn: Connection, items: Sequence[Attestation], at: datetime) -> None:
        """Each participant's attestation, attached as a PDF."""
        if not items:
            return
        assert self.attestation_pdf is not None, "the edge renders attestations"
        dossier = load(conn, items[0].dossier_id)
        origin = sender(conn, dossier.academie_id, self.settings)
        rows = []
        for item in items:
            pdf = self.attestation_pdf(item)
            context = {
                **self._common(dossier),
                "name": item.full_name,
                "hours": [(label, format_hours(h)) for label, h in item.hours],
                "total": format_hours(item.total),
                "first_day": format_date(item.first_day),
                "last_day": format_date(item.last_day),
                "url": f"{self._base}/mes-formations/{dossier.id}",
            }
            rows.append(
                self._row(
                    dossier,
                    origin,
                    "participants/attestation",
                    item.person_id,
                    item.full_name,
                    item.email,
                    f"<formaflow.attestation.d{dossier.id}.e{item.enrolment_id}"
                    f"@{self.settings.from_domain}>",
                    context,
                    at,
                    [Attachment(f"attestation-{dossier.reference}.pdf", "application", "pdf", pdf)],
                )
            )
        conn.execute(insert(outbox_table), rows)

    # The questionnaire link in the specs' own emails ---------------------------------------

    def questionnaire_context(
        self, conn: Connection, dossier: DossierRow, recipient: Recipient
    ) -> dict[str, Any]:
        """``questionnaire_url`` for a stagiaire who has not answered yet (``terminer``, the
        reminder); nothing for anyone else."""
        if "stagiaire" not in recipient.roles:
            return {}
        mine = enrolment_of(conn, dossier.id, recipient.person_id)
        if mine is None or not mine.active or mine.questionnaire_answered:
            return {}
        claim = QuestionnaireClaim(dossier.id, mine.enrolment_id)
        return {"questionnaire_url": self.questionnaire.url(claim)}

    # Composition ---------------------------------------------------------------------------

    @property
    def _base(self) -> str:
        return self.settings.base_url.rstrip("/")

    def _common(self, dossier: DossierRow) -> dict[str, Any]:
        return {
            "reference": dossier.reference,
            "title": dossier.title,
            "release_sync": RELEASE_SYNCHRONOUS,
            "release_async": RELEASE_ASYNCHRONOUS,
            "from_home": FOLLOW_FROM_HOME,
        }

    def _row(
        self,
        dossier: DossierRow,
        origin: Sender,
        template: str,
        person_id: int | None,
        name: str,
        email: str,
        message_id: str,
        context: dict[str, Any],
        at: datetime,
        attachments: list[Attachment],
    ) -> dict[str, Any]:
        return letter(
            self.settings,
            origin,
            template=template,
            subject=f"{dossier.reference} — {SUBJECTS[template]}",
            person_id=person_id,
            name=name,
            email=email,
            message_id=message_id,
            context=context,
            at=at,
            dossier_id=dossier.id,
            reference=dossier.reference,
            attachments=attachments,
        )


def _stagiaire_tasks(conn: Connection, dossier_id: int) -> dict[int, list[str]]:
    """Each stagiaire's open tasks of the charter on this dossier (« en amont »)."""
    found: dict[int, list[str]] = {}
    rows = conn.execute(
        select(T.c.person_id, T.c.label)
        .where(T.c.dossier_id == dossier_id, T.c.role == "stagiaire", T.c.done_at.is_(None))
        .order_by(T.c.id)
    )
    for row in rows:
        found.setdefault(int(row.person_id), []).append(str(row.label))
    return found
