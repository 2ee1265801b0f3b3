"""What a piece of work or a decision rests on, shown beside it on its page.

The scenario's hours against the dossier's planned hours (the conceptrice sees whether the
grid adds up, the pilote what they validate); the last request that sent the work back
(« Préciser l'accompagnement de la séquence 2 », at the top of the editor rather than only
in the history); and the payment the bilan would lead to, computed by the barème exactly
as the decision will be (the gestionnaire validates hours that drive it). All reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, select

from workflow.engine.rows import DossierRow
from workflow.payments.baremes import BaremeError, EmptyProposal, Proposal
from workflow.payments.decision import compute_proposal, decided_figures, dossier_rates
from workflow.reads.paperwork import BilanView, bilan_view
from workflow.reads.queries import Decision, payment_decision
from workflow.reads.records import ScenarioRecord, scenario_of
from workflow.store.tables import history_table as H
from workflow.store.tables import person_table as P

IN_PERSON = frozenset({"presentiel"})
"""The scenario's in-person modality; every other one is « à distance »."""


@dataclass(frozen=True, slots=True)
class ScenarioHours:
    """The steps' durations added up, beside what the dossier plans."""

    presentiel: Decimal
    distance: Decimal
    planned_presentiel: Decimal | None
    planned_distance: Decimal | None
    undated_steps: int
    """Steps without a duration yet (not counted)."""

    @property
    def total(self) -> Decimal:
        return self.presentiel + self.distance

    @property
    def planned_total(self) -> Decimal | None:
        parts = [self.planned_presentiel, self.planned_distance]
        if all(p is None for p in parts):
            return None
        return sum((p for p in parts if p is not None), Decimal(0))

    @property
    def matches(self) -> bool:
        return (self.presentiel, self.distance) == (
            self.planned_presentiel or Decimal(0),
            self.planned_distance or Decimal(0),
        )


def scenario_hours(scenario: ScenarioRecord, dossier: DossierRow) -> ScenarioHours:
    minutes = {"presentiel": 0, "distance": 0}
    undated = 0
    for sequence in scenario.sequences:
        for step in sequence.steps:
            if not step.duration_minutes:
                undated += 1
                continue
            key = "presentiel" if step.modality in IN_PERSON else "distance"
            minutes[key] += step.duration_minutes
    return ScenarioHours(
        presentiel=(Decimal(minutes["presentiel"]) / 60).quantize(Decimal("0.01")),
        distance=(Decimal(minutes["distance"]) / 60).quantize(Decimal("0.01")),
        planned_presentiel=dossier.planned_hours_presentiel,
        planned_distance=dossier.planned_hours_distance,
        undated_steps=undated,
    )


@dataclass(frozen=True, slots=True)
class Request:
    """A transition that sent the work back, with its comment (a revision, a complement)."""

    who: str
    at: datetime
    comment: str


def last_request(conn: Connection, dossier_id: int, *triggers: str) -> Request | None:
    """The latest of ``triggers`` on the dossier that carried a comment, by whom and when."""
    row = conn.execute(
        select(H.c.at, H.c.comment, P.c.full_name)
        .outerjoin(P, P.c.id == H.c.actor_id)
        .where(
            H.c.dossier_id == dossier_id,
            H.c.trigger.in_(triggers),
            H.c.comment.is_not(None),
        )
        .order_by(H.c.version.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return Request(str(row.full_name or "formaflow"), row.at, str(row.comment))


@dataclass(frozen=True, slots=True)
class ProposalPreview:
    """The payment the bilan would lead to today, or why it cannot be computed yet."""

    proposal: Proposal | None
    problem: str | None
    decided_later: bool
    """Some amounts (conception, mise à jour) are decided by the responsable, not computed."""


def proposal_preview(conn: Connection, dossier: DossierRow) -> ProposalPreview:
    later = bool(decided_figures(conn, dossier))
    try:
        proposal = compute_proposal(conn, dossier, {}, dossier_rates(conn, dossier))
    except EmptyProposal as error:
        return ProposalPreview(None, None if later else str(error), later)
    except BaremeError as error:
        return ProposalPreview(None, str(error), later)
    return ProposalPreview(proposal, None, later)


@dataclass(frozen=True, slots=True)
class Grounds:
    """What a decision rests on, for the page that confirms it."""

    scenario: ScenarioRecord | None = None
    hours: ScenarioHours | None = None
    bilan: BilanView | None = None
    proposal: ProposalPreview | None = None
    decision: Decision | None = None


SCENARIO_DECISIONS = frozenset({"valider_scenario", "demander_revision"})
BILAN_DECISIONS = frozenset({"valider_bilan", "demander_complement"})


def decision_grounds(conn: Connection, dossier: DossierRow, trigger: str) -> Grounds:
    """The scenario for its validation, the bilan (hours per formateur, sessions held, the
    payment it leads to) for its validation, the decision for its putting into payment."""
    if dossier.workflow_name != "dossier_formation":
        return Grounds()
    if trigger in SCENARIO_DECISIONS:
        scenario = scenario_of(conn, dossier.id)
        return Grounds(scenario=scenario, hours=scenario_hours(scenario, dossier))
    if trigger in BILAN_DECISIONS:
        return Grounds(bilan=bilan_view(conn, dossier.id), proposal=proposal_preview(conn, dossier))
    if trigger == "mettre_en_paiement":
        return Grounds(decision=payment_decision(conn, dossier.id))
    return Grounds()
