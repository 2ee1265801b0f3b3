"""The outbox: emails written in the transaction of what caused them, sent later.

``OutboxWriter`` is subscribed to the service's transition events and to the deadline
timer's events at start-up (``api.wiring``). For each notification rule of the spec it
resolves the recipients, renders one message per person — what happened, by whom, the
comment, what this person must do next and by when, their tasks for the phase, their own
payment lines — and inserts the rows on the caller's connection. If anything fails here,
the transition fails with it and nothing is written: no state change without its emails,
no email without its state change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select

from notifications.catalog import subject_for
from notifications.links import ActionLinks, LinkClaim
from notifications.recipients import Recipient, resolve
from notifications.rendering import Envelope, build_message, render
from notifications.settings import MailSettings
from states import get_spec
from states.dispositifs import SignatoryRule
from states.roles import ROLES, role_label, role_noun
from states.spec import DeadlineAnchor, TransitionSpec, WorkflowSpec
from workflow.engine.due import due_dates
from workflow.engine.events import DeadlineEvent, TransitionEvent
from workflow.engine.machines import machine_for
from workflow.engine.roles import Member, members
from workflow.engine.rows import DossierRow, load
from workflow.language.french import PARIS, format_date, format_datetime
from workflow.payments.baremes import format_euros, format_units
from workflow.store.academie_settings import AcademieSettings, academie_settings
from workflow.store.tables import decision_table, outbox_table, person_table
from workflow.store.tables import payment_line_table as PL
from workflow.store.tables import task_table as T
from workflow.store.types import utcnow

COMPONENT_LABELS = {
    "accompagnement": "Accompagnement à distance",
    "hse": "Heures supplémentaires effectives",
    "conception": "Conception du parcours",
    "mise_a_jour": "Mise à jour du parcours",
    "tutorat": "Tutorat",
    "classe_virtuelle": "Classes virtuelles",
}


@dataclass(frozen=True, slots=True)
class _Occasion:
    """What one batch of emails is about: a transition, or a deadline that came due."""

    key: str
    """Unique per occasion (``t<history id>`` or ``d<deadline point id>``)."""
    dossier: DossierRow
    spec: WorkflowSpec
    at: datetime
    event: dict[str, Any]
    actor: str | None
    deadline: dict[str, Any] | None
    academie: str
    reply_to: str | None
    due: str | None
    """The date a deliverable is due by, when there is one (the bilan)."""
    total: str | None
    """The payment decision's total, once taken."""
    tasks: dict[int, list[dict[str, str | None]]]
    """Per person, their open tasks of the phase this transition opened."""
    payments: dict[int, dict[str, Any]]
    """Per person paid, their own lines of the decision."""
    signature: tuple[str, ...] = ()
    """The académie's signature block, which ends every email."""
    pilote: dict[str, str] | None = None
    """The dossier's pilote as a noun agreeing with them (« la pilote », « du pilote »)."""
    actor_as: dict[str, str] | None = None
    """The person who acted, as the role they acted in (« la gestionnaire EAFC »)."""
    team: tuple[Member, ...] = ()
    """Everyone's roles on the dossier, read once for all the occasion's rules."""
    signatories: tuple[SignatoryRule, ...] = ()
    """Who must sign the dossier's contract (the derived role ``signataire``)."""


PersonalContext = Callable[[Connection, DossierRow, Recipient], Mapping[str, Any]]
"""What one recipient's email of a template says beyond the common context (their own
questionnaire link, for a stagiaire)."""


class OutboxWriter:
    """Renders and enqueues the emails of transitions and deadlines, never sends them."""

    def __init__(
        self,
        settings: MailSettings,
        links: ActionLinks | None = None,
        personal: Mapping[str, PersonalContext] | None = None,
    ) -> None:
        self.settings = settings
        self.links = links
        """Signs the action links; without it, actions link to the dossier's action page."""
        self.personal: dict[str, PersonalContext] = dict(personal or {})
        """Per template, what each recipient's email adds (registered by the wiring)."""

    # --- subscribers -------------------------------------------------------------------

    def __call__(self, conn: Connection, event: TransitionEvent) -> None:
        spec = get_spec(event.workflow_name, event.workflow_version)
        transition = spec.transition(event.trigger)
        dossier = load(conn, event.dossier_id)
        people = _people(conn, event.actor_id, event.on_behalf_of_id)
        occasion = _Occasion(
            key=f"t{event.history_id}",
            dossier=dossier,
            spec=spec,
            at=event.at,
            event={
                "label": transition.label,
                "at": format_datetime(event.at),
                "comment": event.comment,
                "from_label": spec.state(event.from_state).label,
                "to_label": spec.state(event.to_state).label,
            },
            actor=_actor(people, event.actor_id, event.on_behalf_of_id),
            deadline=None,
            actor_as=_noun(event.role, _civilite(people, event.actor_id)),
            **_facts(conn, spec, dossier, transition.opens_phase_tasks),
        )
        seen: set[int] = set()
        rows: list[dict[str, Any]] = []
        # The person who acted is not told what they did — unless the transition handed
        # them charter tasks: those they receive like everyone else.
        own_tasks = event.actor_id is not None and bool(occasion.tasks.get(event.actor_id))
        for rule in transition.notifications:
            if rule.only_to is not None and rule.only_to != event.to_state:
                continue
            exclude = None if rule.include_actor or own_tasks else event.actor_id
            for recipient in _resolve(conn, occasion, rule.recipients, exclude=exclude):
                if recipient.person_id in seen or not _concerned(occasion, recipient):
                    continue
                seen.add(recipient.person_id)
                rows.append(self._compose(conn, occasion, rule.template, recipient))
        if rows:
            conn.execute(insert(outbox_table), rows)

    def on_deadline(self, conn: Connection, event: DeadlineEvent) -> None:
        dossier = load(conn, event.dossier_id)
        spec = get_spec(dossier.workflow_name, dossier.workflow_version)
        deadline = next(d for d in spec.deadlines if d.id == event.deadline_id)
        occasion = _Occasion(
            key=f"d{event.point_id}",
            dossier=dossier,
            spec=spec,
            at=event.at,
            event={
                "label": deadline.label,
                "at": format_datetime(event.at),
                "comment": None,
                "from_label": spec.state(dossier.state).label,
                "to_label": spec.state(dossier.state).label,
            },
            actor=None,
            deadline={
                "label": deadline.label,
                "since": format_date(event.anchor_at.date()),
                "due": format_date(event.due_at.date()),
            },
            **_facts(conn, spec, dossier, None),
        )
        rows = [
            self._compose(conn, occasion, event.template, recipient)
            for recipient in _resolve(conn, occasion, event.recipients)
        ]
        if rows:
            conn.execute(insert(outbox_table), rows)

    # --- composition -------------------------------------------------------------------

    def _compose(
        self, conn: Connection, occasion: _Occasion, template: str, recipient: Recipient
    ) -> dict[str, Any]:
        dossier = occasion.dossier
        base = self.settings.base_url.rstrip("/")
        dossier_url = f"{base}/dossiers/{dossier.id}"
        expected = _expected_actions(occasion.spec, dossier.state, recipient.roles)
        tasks = occasion.tasks.get(recipient.person_id, [])
        subject = subject_for(
            template,
            dossier.reference,
            recipient.roles,
            tasks=bool(tasks),
            action=bool(expected),
        )
        context = {
            "subject": subject,
            "recipient": {
                "full_name": recipient.full_name,
                "substitute_for": recipient.substitute_for,
                "civilite": recipient.civilite,
                "roles": list(recipient.roles),
                "role_labels": ", ".join(
                    role_label(r, recipient.civilite) for r in recipient.roles
                ),
            },
            "dossier": {
                "reference": dossier.reference,
                "title": dossier.title,
                "state_label": occasion.spec.state(dossier.state).label,
                "academie": occasion.academie,
                "url": dossier_url,
            },
            "actor": occasion.actor,
            "event": occasion.event,
            "deadline": occasion.deadline,
            "actions": [
                {"label": t.label, "url": self._action_url(dossier, t.trigger, recipient)}
                for t in expected
            ],
            "due": occasion.due,
            "tasks": tasks,
            "payment": occasion.payments.get(recipient.person_id),
            "total": occasion.total,
            "actor_as": occasion.actor_as,
            "pilote": occasion.pilote or _noun("pilote", None),
            "signature": list(occasion.signature) or [occasion.academie],
        }
        extra = self.personal.get(template)
        if extra is not None:
            context.update(extra(conn, dossier, recipient))
        text, html = render(template, context)
        message_id = (
            f"<formaflow.{occasion.key}.p{recipient.person_id}@{self.settings.from_domain}>"
        )
        raw = build_message(
            Envelope(
                from_name=f"{self.settings.mail_from_name} — {occasion.academie}",
                from_email=self.settings.mail_from,
                to_name=recipient.full_name,
                to_email=recipient.email,
                reply_to=occasion.reply_to or self.settings.reply_to,
                subject=subject,
                message_id=message_id,
                date=occasion.at,
                reference=dossier.reference,
            ),
            text,
            html,
        )
        return {
            "message_id": message_id,
            "academie_id": dossier.academie_id,
            "dossier_id": dossier.id,
            "template": template,
            "person_id": recipient.person_id,
            "to_email": recipient.email,
            "from_email": self.settings.mail_from,
            "subject": subject[:500],
            "raw": raw,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": occasion.at,
            "created_at": occasion.at,
        }

    def _action_url(self, dossier: DossierRow, trigger: str, recipient: Recipient) -> str:
        if self.links is None:
            return f"{self.settings.base_url.rstrip('/')}/dossiers/{dossier.id}/actions/{trigger}"
        return self.links.url(LinkClaim(dossier.id, trigger, recipient.person_id, dossier.version))


def _facts(
    conn: Connection, spec: WorkflowSpec, dossier: DossierRow, phase: str | None
) -> dict[str, Any]:
    """What every email of one occasion shares, read once rather than per recipient (or
    per notification rule: the team and the signatories serve each rule's ``resolve``)."""
    academie = academie_settings(conn, dossier.academie_id)
    total, payments = _payments(conn, dossier.id)
    team = tuple(members(conn, dossier.ref, ROLES))
    pilotes = [m for m in team if m.role == "pilote"]
    return {
        "signature": academie.signature_block,
        "pilote": _noun("pilote", pilotes[0].civilite if pilotes else None),
        "academie": academie.name,
        "reply_to": academie.reply_to,
        "due": _due_date(conn, spec, dossier, academie),
        "total": total,
        "tasks": _tasks(conn, dossier.id, phase),
        "payments": payments,
        "team": team,
        "signatories": academie.signatories_for(dossier.dispositif),
    }


def _resolve(
    conn: Connection, occasion: _Occasion, names: Sequence[str], *, exclude: int | None = None
) -> list[Recipient]:
    return resolve(
        conn,
        occasion.dossier.ref,
        names,
        occasion.at,
        exclude=exclude,
        team=occasion.team,
        signatories=occasion.signatories,
    )


_PEOPLE = select(person_table.c.id, person_table.c.full_name, person_table.c.civilite).where(
    person_table.c.id.in_(bindparam("ids", expanding=True))
)


def _people(conn: Connection, *ids: int | None) -> dict[int, tuple[str, str | None]]:
    """Name and civilité of the people an occasion names (who acted, for whom)."""
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = conn.execute(_PEOPLE, {"ids": wanted}).all()
    return {int(r.id): (str(r.full_name), r.civilite) for r in rows}


def _civilite(people: Mapping[int, tuple[str, str | None]], person_id: int | None) -> str | None:
    if person_id is None or person_id not in people:
        return None
    found = people[person_id][1]
    return None if found is None else str(found)


def _noun(role: str, civilite: str | None) -> dict[str, str]:
    """A role as the nouns an email's sentence needs: ``le`` (« la gestionnaire EAFC »),
    ``du`` (« de la pilote »), ``au`` (« à la pilote »), and ``pronom`` (« la », « le »)."""
    return {
        "le": role_noun(role, civilite, "le"),
        "du": role_noun(role, civilite, "du"),
        "au": role_noun(role, civilite, "au"),
        "pronom": "la" if civilite == "madame" else "le",
    }


def _concerned(occasion: _Occasion, recipient: Recipient) -> bool:
    """A substitute hears of a transition only when there is something for them to do:
    the person they stand in for is told of everything, and stays informed."""
    if recipient.substitute_for is None:
        return True
    return bool(_expected_actions(occasion.spec, occasion.dossier.state, recipient.roles))


def _actor(
    people: Mapping[int, tuple[str, str | None]], actor_id: int | None, on_behalf_of_id: int | None
) -> str:
    if actor_id is None:
        return "formaflow (action automatique)"
    if on_behalf_of_id is not None:
        return f"{people[actor_id][0]} pour {people[on_behalf_of_id][0]}"
    return people[actor_id][0]


def _everywhere(spec: WorkflowSpec, transition: TransitionSpec) -> bool:
    """A way out of every open state (cancelling) is always possible, never expected."""
    open_states = {s.id for s in spec.states if not s.terminal}
    return open_states <= set(transition.sources)


def _expected_actions(spec: WorkflowSpec, state: str, roles: Sequence[str]) -> list[TransitionSpec]:
    """What the spec lets this person do next from the dossier's state, by their roles."""
    machine = machine_for(spec.name, spec.version)
    found = []
    for trigger in machine.triggers_from(state):
        transition = spec.transition(trigger)
        # A reflexive trigger (signing an avenant) is expected only when its own email says
        # so: listed everywhere, it would ask every signatory to sign what does not exist.
        if (
            set(transition.roles) & set(roles)
            and not _everywhere(spec, transition)
            and not transition.reflexive
        ):
            found.append(transition)
    return found


def _due_date(
    conn: Connection, spec: WorkflowSpec, dossier: DossierRow, academie: AcademieSettings
) -> str | None:
    """The date a deliverable is due by, when it counts from the training's end (the bilan),
    by the timers' own rule (``workflow.engine.due``, with the académie's own delays).

    Deadlines counted from entry into a state are reminders about idleness, not due dates
    of a deliverable, so emails do not announce them as such.
    """
    now = utcnow()
    delays = {dossier.academie_id: academie.deadline_days}
    due = due_dates(conn, [dossier], now, delays).get(dossier.id)
    if due is None or due.deadline.anchor is not DeadlineAnchor.TRAINING_ENDED:
        return None
    return format_date(due.at.astimezone(PARIS).date())


# Statements built once (building one cost more than running it on SQLite).
_TASKS = (
    select(T.c.person_id, T.c.label, T.c.due_at)
    .where(
        T.c.dossier_id == bindparam("dossier_id"),
        T.c.phase == bindparam("phase"),
        T.c.done_at.is_(None),
    )
    .order_by(T.c.id)
)
_TOTAL = select(decision_table.c.total).where(
    decision_table.c.dossier_id == bindparam("dossier_id")
)
_LINES = (
    select(
        PL.c.person_id, PL.c.component, PL.c.unit, PL.c.units, PL.c.rate, PL.c.amount, PL.c.steps
    )
    .join(decision_table, decision_table.c.id == PL.c.decision_id)
    .where(decision_table.c.dossier_id == bindparam("dossier_id"))
    .order_by(PL.c.id)
)


def _tasks(
    conn: Connection, dossier_id: int, phase: str | None
) -> dict[int, list[dict[str, str | None]]]:
    if phase is None:
        return {}
    rows = conn.execute(_TASKS, {"dossier_id": dossier_id, "phase": phase}).all()
    found: dict[int, list[dict[str, str | None]]] = {}
    for row in rows:
        found.setdefault(row.person_id, []).append(
            {"label": row.label, "due": format_datetime(row.due_at) if row.due_at else None}
        )
    return found


def _payments(conn: Connection, dossier_id: int) -> tuple[str | None, dict[int, dict[str, Any]]]:
    """The decision's total and, per person paid, their own lines with their steps."""
    total = conn.execute(_TOTAL, {"dossier_id": dossier_id}).scalar()
    if total is None:
        return None, {}
    rows = conn.execute(_LINES, {"dossier_id": dossier_id}).all()
    lines: dict[int, list[Any]] = {}
    for row in rows:
        lines.setdefault(row.person_id, []).append(row)
    return format_euros(total), {
        person: {
            "lines": [
                {
                    "component": COMPONENT_LABELS.get(row.component, row.component),
                    "units": format_units(row.units, row.unit),
                    "rate": format_euros(row.rate),
                    "amount": format_euros(row.amount),
                    "steps": list(row.steps or []),
                }
                for row in own
            ],
            "total": format_euros(sum((row.amount for row in own), start=Decimal(0))),
        }
        for person, own in lines.items()
    }
