"""The payment decision: the barème's proposal from the bilan, adjusted within bounds.

``accorder_paiement`` runs the guard ``montants_conformes`` (is there a proposal the
responsable can take, and is every adjustment within the barème with a justification?)
and then the effect ``enregistrer_decision`` (store the decision and each person's lines
with their French calculation steps). The proposal is computed once per fire.

Payload of ``accorder_paiement`` (all optional)::

    {"conception": {"<person id>": "15"},        # eafc_taux_a: decided vacations (10–20)
     "mise_a_jour": {"<person id>": "6"},        # eafc_taux_a: update vacations (5–10)
     "ajustements": [{"personne": 12, "composante": "accompagnement", "unites": "6"}],
     "justification": "…"}                       # required with any adjustment
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection, insert, select

from workflow.engine.registry import EffectContext, GuardContext
from workflow.engine.roles import members
from workflow.engine.rows import DossierRow
from workflow.participants.counts import basis, trainee_counts
from workflow.payments import baremes, journal
from workflow.payments.baremes import BaremeError, Proposal, VirtualClass
from workflow.payments.rates import academie_rates
from workflow.store.academie_settings import encode
from workflow.store.tables import (
    bilan_hours_table,
    bilan_table,
    decision_rates_table,
    decision_table,
    payment_line_table,
    person_table,
    session_table,
)

PROPOSAL_KEY = "payment.proposal"
RATES_KEY = "payment.rates"


def _names(conn: Connection, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = conn.execute(
        select(person_table.c.id, person_table.c.full_name).where(person_table.c.id.in_(ids))
    )
    return {int(r.id): str(r.full_name) for r in rows}


def _decimal_map(value: Any, what: str) -> dict[int, Decimal]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise BaremeError(f"« {what} » doit associer une personne à un nombre de vacations.")
    try:
        return {int(k): Decimal(str(v)) for k, v in value.items()}
    except (ValueError, InvalidOperation) as exc:
        raise BaremeError(f"« {what} » contient une valeur qui n'est pas un nombre.") from exc


def dossier_rates(conn: Connection, dossier: DossierRow) -> baremes.Rates:
    """The rates of the dossier's académie as they stand now (read at every decision)."""
    return academie_rates(conn, dossier.academie_id)


def rates_record(rates: baremes.Rates) -> dict[str, Any]:
    """What a decision records of the rates it was computed with: a later change of rate
    must never change what an earlier decision says it used."""

    def money(value: Decimal | None) -> str | None:
        return None if value is None else format(value, "f")

    return {
        "vacation_taux_a": money(rates.vacation_taux_a),
        "vacation_accompagnement": money(rates.vacation_accompagnement),
        "hse": money(rates.hse),
        "classes_virtuelles": [
            {
                "formateurs": row.trainers,
                "stagiaires_min": row.min_trainees,
                "stagiaires_max": row.max_trainees,
                "vacations_par_heure": format(row.vacations_per_hour, "f"),
            }
            for row in rates.virtual_class_table
        ],
    }


def compute_proposal(
    conn: Connection, dossier: DossierRow, payload: Mapping[str, Any], rates: baremes.Rates
) -> Proposal:
    """The barème's proposal for this dossier from its bilan (before any adjustment)."""
    declared = conn.execute(
        select(bilan_hours_table).where(bilan_hours_table.c.dossier_id == dossier.id)
    ).all()
    effective = conn.execute(
        select(bilan_table.c.participants_effective).where(bilan_table.c.dossier_id == dossier.id)
    ).scalar()
    # With attendance recorded, the trainee counts are the participants' (the académie's
    # rule, and the formateur's justified corrections), not a number typed in the bilan.
    counts = trainee_counts(conn, dossier)
    if counts.from_attendance:
        effective = counts.effective.value
    team = members(conn, dossier.ref, ["formateur", "concepteur", "tuteur"])
    names = {m.person_id: m.full_name for m in team}
    formateurs = {m.person_id for m in team if m.role == "formateur"}
    hours = {
        str(r.person_id): (names.get(r.person_id, str(r.person_id)), Decimal(r.hours))
        for r in declared
        if r.person_id in formateurs
    }
    if dossier.dispositif == "vacation_accompagnement":
        proposal = baremes.vacation_accompagnement(hours, int(effective or 0), rates)
        if counts.from_attendance:
            proposal = _stated(proposal, baremes.COMPONENT_ACCOMPAGNEMENT, {"": counts.basis})
        return proposal
    if dossier.dispositif == "hse_convention_ent":
        return baremes.hse_convention_ent(hours, rates)
    concepteurs = {m.person_id for m in team if m.role == "concepteur"}
    tuteurs = {m.person_id for m in team if m.role == "tuteur"}
    conception = _decimal_map(payload.get("conception"), "conception")
    mise_a_jour = _decimal_map(payload.get("mise_a_jour"), "mise_a_jour")
    everyone = _names(conn, set(conception) | set(mise_a_jour)) | names
    for person in set(conception) | set(mise_a_jour):
        if person not in concepteurs:
            raise BaremeError(
                f"{everyone.get(person, person)} n'est pas concepteur de ce dossier : "
                "pas de vacations de conception."
            )
    tutorat = {
        str(r.person_id): (names.get(r.person_id, str(r.person_id)), int(r.trainees_followed))
        for r in declared
        if r.person_id in tuteurs and r.trainees_followed
    }
    tutored_basis: dict[str, tuple[str, ...]] = {}
    if counts.from_attendance:
        for tutor, figure in counts.followed.items():
            if tutor in tuteurs and figure.value is not None:
                tutorat[str(tutor)] = (names.get(tutor, str(tutor)), figure.value)
                tutored_basis[str(tutor)] = basis(figure, counts.rule_label, "candidats tutorés")
            if figure.value == 0:
                tutorat.pop(str(tutor), None)
    classes = [
        VirtualClass(
            payee=str(s.formateur_id),
            payee_label=names.get(s.formateur_id, str(s.formateur_id)),
            hours=Decimal(s.duration_minutes) / 60,
            trainers=int(s.trainer_count),
            trainees=int(s.actual_headcount or 0),
        )
        for s in conn.execute(
            select(session_table).where(
                session_table.c.dossier_id == dossier.id,
                session_table.c.held.is_(True),
                session_table.c.modality == "classe_virtuelle",
                session_table.c.formateur_id.is_not(None),
            )
        )
    ]
    proposal = baremes.eafc_taux_a(
        rates=rates,
        conception={str(k): (everyone.get(k, str(k)), v) for k, v in conception.items()},
        mise_a_jour={str(k): (everyone.get(k, str(k)), v) for k, v in mise_a_jour.items()},
        tutorat=tutorat,
        virtual_classes=classes,
    )
    return _stated(proposal, baremes.COMPONENT_TUTORAT, tutored_basis)


def _stated(proposal: Proposal, component: str, notes: Mapping[str, tuple[str, ...]]) -> Proposal:
    """The proposal with, first in the steps of ``component``'s lines, where its trainee
    count comes from (per payee, or ``""`` for every payee): the rule or the correction."""
    lines = []
    for line in proposal.lines:
        note = notes.get(line.payee, notes.get("", ()))
        stated = line.component == component and bool(note)
        lines.append(dataclasses.replace(line, steps=(*note, *line.steps)) if stated else line)
    return dataclasses.replace(proposal, lines=tuple(lines))


def adjusted(proposal: Proposal, payload: Mapping[str, Any], rates: baremes.Rates) -> Proposal:
    """Apply the responsable's adjustments, each checked against the barème's bounds."""
    adjustments = payload.get("ajustements") or []
    if not isinstance(adjustments, list):
        raise BaremeError("« ajustements » doit être une liste.")
    justification = str(payload.get("justification") or "")
    for item in adjustments:
        if not isinstance(item, Mapping):
            raise BaremeError("Chaque ajustement indique une personne, une composante, des unités.")
        try:
            payee = str(int(item["personne"]))
            units = Decimal(str(item["unites"]))
        except (KeyError, ValueError, InvalidOperation) as exc:
            raise BaremeError(
                "Chaque ajustement indique « personne », « composante » et « unites »."
            ) from exc
        component = str(item.get("composante") or "")
        index = next(
            (
                n
                for n, line in enumerate(proposal.lines)
                if line.payee == payee and (not component or line.component == component)
            ),
            None,
        )
        if index is None:
            raise BaremeError(f"Aucune ligne de la proposition ne concerne la personne {payee}.")
        line = baremes.check_override(proposal.lines[index], units, justification, rates)
        proposal = proposal.with_line(index, line)
    return proposal


DECIDED_COMPONENTS = (baremes.COMPONENT_CONCEPTION, baremes.COMPONENT_MISE_A_JOUR)
"""The payload keys of ``accorder_paiement`` whose units the responsable decides and types."""


@dataclass(frozen=True)
class DecidedFigure:
    """One figure the responsable decides for the barème rather than reads from the bilan
    (eafc_taux_a: a concepteur's conception or mise à jour vacations), with its range."""

    component: str
    person_id: int
    full_name: str
    low: Decimal
    high: Decimal


def decided_figures(conn: Connection, dossier: DossierRow) -> list[DecidedFigure]:
    """The figures to type for this dossier's decision, per concepteur (conception, then
    mise à jour); none for the dispositifs whose amounts all come from the bilan."""
    if dossier.dispositif != baremes.DISPOSITIF_EAFC:
        return []
    figures = []
    for member in members(conn, dossier.ref, ["concepteur"]):
        for component in DECIDED_COMPONENTS:
            limits = baremes.bounds(component)
            assert limits is not None  # every decided component has its range in the barème
            figures.append(DecidedFigure(component, member.person_id, member.full_name, *limits))
    return figures


def decided_payload(units: Mapping[tuple[str, int], Decimal]) -> dict[str, dict[str, str]]:
    """The ``conception`` / ``mise_a_jour`` keys of the payload from the typed figures
    (``units[(component, person_id)]``); a component nobody was given is left out."""
    payload: dict[str, dict[str, str]] = {}
    for (component, person_id), value in units.items():
        payload.setdefault(component, {})[str(person_id)] = str(value)
    return payload


def adjustable_lines(proposal: Proposal) -> frozenset[int]:
    """Indices of the lines an adjustment can name: the payload names a line by person and
    component, so a person with two lines of one component (two virtual classes) cannot
    have one of them adjusted alone."""
    keys = [(line.payee, line.component) for line in proposal.lines]
    return frozenset(n for n, key in enumerate(keys) if keys.count(key) == 1)


@dataclass(frozen=True)
class AdjustmentReview:
    """The responsable's adjustments checked before the decision: either the proposal that
    ``accorder_paiement`` would record with ``payload``, or each refusal in French, by line
    index and for the justification, so that a form can show it next to its field."""

    payload: dict[str, Any]
    proposal: Proposal | None = None
    line_errors: dict[int, str] = field(default_factory=dict)
    justification_error: str | None = None

    @property
    def changed(self) -> bool:
        return bool(self.payload.get("ajustements"))


def review_adjustments(
    proposal: Proposal,
    units: Mapping[int, Decimal],
    justification: str,
    rates: baremes.Rates,
    decided: Mapping[str, Any] | None = None,
) -> AdjustmentReview:
    """Check the units wanted per line (``units[index]``; a line left at its proposed units
    is not an adjustment) against the barème, as the guard will, without writing.

    ``decided`` holds the figures typed as input to the barème (``decided_payload``), with
    which ``proposal`` was computed; they go into the payload as they are, so that the fire
    computes the same proposal again."""
    changes = {n: u for n, u in units.items() if u != proposal.lines[n].units}
    allowed = adjustable_lines(proposal)
    errors: dict[int, str] = {}
    for index, wanted in changes.items():
        refusal = (
            baremes.override_refusal(proposal.lines[index], wanted, rates)
            if index in allowed
            else "Cette ligne ne peut pas être ajustée seule."
        )
        if refusal is not None:
            errors[index] = refusal
    reason = " ".join(justification.split())
    payload: dict[str, Any] = dict(decided or {})
    if changes:
        payload |= {
            "ajustements": [
                {
                    "personne": int(proposal.lines[n].payee),
                    "composante": proposal.lines[n].component,
                    "unites": str(wanted),
                }
                for n, wanted in sorted(changes.items())
            ],
            "justification": reason,
        }
    missing = baremes.JUSTIFICATION_REQUIRED if changes and not reason else None
    if errors or missing:
        return AdjustmentReview(payload, None, errors, missing)
    return AdjustmentReview(payload, adjusted(proposal, payload, rates))


def decision_for(ctx: GuardContext) -> Proposal:
    """The proposal with adjustments, computed once per fire and shared with the effect."""
    cached = ctx.memo.get(PROPOSAL_KEY)
    if isinstance(cached, Proposal):
        return cached
    rates = dossier_rates(ctx.conn, ctx.dossier)
    ctx.memo[RATES_KEY] = rates
    proposal = adjusted(
        compute_proposal(ctx.conn, ctx.dossier, ctx.payload, rates), ctx.payload, rates
    )
    ctx.memo[PROPOSAL_KEY] = proposal
    return proposal


def montants_conformes(ctx: GuardContext) -> list[str]:
    try:
        proposal = decision_for(ctx)
    except BaremeError as error:
        return [str(error)]
    if not proposal.lines:
        return ["des heures, vacations ou sessions à rémunérer dans le bilan"]
    return list(proposal.problems)


def enregistrer_decision(ctx: EffectContext) -> dict[str, bool]:
    g = ctx.guard
    proposal = decision_for(g)
    assert proposal.total is not None and g.actor_id is not None
    decision_id = g.conn.execute(
        insert(decision_table).values(
            dossier_id=g.dossier.id,
            history_version=g.dossier.version + 1,
            dispositif=proposal.dispositif,
            total=proposal.total,
            justification=str(g.payload.get("justification") or "") or None,
            decided_by_id=g.actor_id,
            decided_at=g.now,
        )
    ).inserted_primary_key
    assert decision_id is not None
    g.conn.execute(
        insert(payment_line_table),
        [
            {
                "decision_id": int(decision_id[0]),
                "person_id": int(line.payee),
                "component": line.component,
                "unit": line.unit,
                "units": line.units,
                "rate": line.rate,
                "amount": line.amount,
                "steps": list(line.steps),
                "adjusted": any(s.startswith("Ajustement") for s in line.steps),
            }
            for line in proposal.lines
        ],
    )
    rates = g.memo[RATES_KEY]
    assert isinstance(rates, baremes.Rates)
    g.conn.execute(
        insert(decision_rates_table).values(
            decision_id=int(decision_id[0]), rates=encode(rates_record(rates))
        )
    )
    # Chained in the decision's own transaction: no decision without its journal entry.
    journal.append(
        g.conn,
        academie_id=g.dossier.academie_id,
        kind=journal.KIND_DECISION,
        source_id=int(decision_id[0]),
        now=g.now,
    )
    return {}
