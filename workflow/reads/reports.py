"""What the exports show, assembled from the database: the edges only put it in a format.

Kept free of any file-format or template library (ARCHITECTURE: ``workflow/`` imports no
web or template library) so that the same rows feed XLSX, CSV, HTML and iCalendar, and can
be tested as plain values. Every function runs on the caller's connection and checks no
permission: the edge has asked ``readable`` (one dossier) or passes ``visible_clause``'s
person (lists), exactly as for the other reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import Connection, Row, and_, or_, select
from sqlalchemy.sql import ColumnElement

from states import get_spec
from states.dispositifs import DISPOSITIFS
from workflow.dossiers.access import visible_clause
from workflow.engine.roles import members
from workflow.engine.rows import DossierRow
from workflow.language.french import PARIS
from workflow.payments import baremes
from workflow.payments.baremes import CONCEPTION_BOUNDS, BaremeError, Proposal, VirtualClass
from workflow.payments.rates import academie_rates, in_person_hourly_rate
from workflow.reads.queries import payment_decision
from workflow.reads.records import (
    ScenarioRecord,
    scenario_of,
)
from workflow.store.tables import academie_table, assignment_table, dossier_table

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


# --- Scope ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scope:
    """Which dossiers a list export covers. ``person_id`` None is the operator's CLI: every
    dossier; otherwise only those the person may see, as for ``GET /dossiers``."""

    person_id: int | None = None
    academie: str | None = None
    pilote_id: int | None = None
    plan_year: int | None = None
    """The PAF year by its first calendar year: 2026 is 2026-2027 (September to August)."""


UNDATED = "à dater"
"""Where the budget puts a dossier without a planned start: in the plan year it was created
in (the plan it belongs to), under « à dater » rather than in no year at all."""


def plan_year_of(start: date | None) -> int | None:
    if start is None:
        return None
    return start.year if start.month >= 9 else start.year - 1


def plan_year_label(year: int | None) -> str:
    return UNDATED if year is None else f"{year}-{year + 1}"


def _plan_year_start(year: int) -> datetime:
    """1 September of ``year``, midnight in Paris: when plan year ``year`` begins."""
    return datetime.combine(date(year, 9, 1), time.min, tzinfo=PARIS)


def scoped_rows(conn: Connection, scope: Scope, now: datetime) -> list[Row[tuple[object, ...]]]:
    D = dossier_table
    query = (
        select(D, academie_table.c.slug.label("academie_slug"))
        .join(academie_table, academie_table.c.id == D.c.academie_id)
        .order_by(D.c.reference)
    )
    clauses: list[ColumnElement[bool]] = []
    if scope.person_id is not None:
        clauses.append(visible_clause(conn, scope.person_id, now))
    if scope.academie is not None:
        clauses.append(academie_table.c.slug == scope.academie)
    if scope.pilote_id is not None:
        clauses.append(
            D.c.id.in_(
                select(assignment_table.c.dossier_id).where(
                    assignment_table.c.person_id == scope.pilote_id,
                    assignment_table.c.role == "pilote",
                )
            )
        )
    if scope.plan_year is not None:
        y = scope.plan_year
        clauses.append(
            or_(
                and_(D.c.planned_start >= date(y, 9, 1), D.c.planned_start < date(y + 1, 9, 1)),
                # Not dated yet: in the plan of the year it was created in, « à dater ».
                and_(
                    D.c.planned_start.is_(None),
                    D.c.created_at >= _plan_year_start(y),
                    D.c.created_at < _plan_year_start(y + 1),
                ),
            )
        )
    return list(conn.execute(query.where(*clauses)).all())


def dossier_of_row(row: Row[tuple[object, ...]]) -> DossierRow:
    values = row._asdict()
    return DossierRow(**{name: values[name] for name in DossierRow.__slots__})


def pilotes_of(conn: Connection, dossier: DossierRow) -> str:
    return ", ".join(m.full_name for m in members(conn, dossier.ref, ["pilote"]))


# --- Budget (T-Offres) ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cost:
    """Units and amount of one budget column; ``amount`` None when a rate is missing."""

    units: Decimal | None = None
    amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class BudgetRow:
    reference: str
    title: str
    academie: str
    plan_year: str
    pilotes: str
    dispositif: str
    state: str
    basis: str
    conception: Cost
    tutorat: Cost
    classes: Cost
    presentiel: Cost
    """``units`` are hours here: in-person time is planned in hours."""
    planned_total: Decimal
    """Sum of the amounts that could be computed (see ``notes`` for what could not)."""
    realised: Decimal | None
    """The payment decision's total, once taken."""
    notes: tuple[str, ...] = ()
    paf_id: str | None = None
    """Identifiant PAF, for matching the row with the plan (T-Offres)."""
    dated: bool = True
    """False for a dossier without a planned start (« à dater »)."""


@dataclass(frozen=True, slots=True)
class Budget:
    rows: tuple[BudgetRow, ...]
    totals: dict[str, Decimal] = field(default_factory=dict)


def _hours(minutes: int | None) -> Decimal:
    return (Decimal(minutes or 0) / 60).quantize(CENT)


def _sum(proposal: Proposal, components: Sequence[str]) -> Cost:
    lines = [line for line in proposal.lines if line.component in components]
    if not lines:
        return Cost()
    units = sum((line.units for line in lines), Decimal(0))
    amounts = [line.amount for line in lines]
    if any(a is None for a in amounts):
        return Cost(units, None)
    return Cost(units, sum((a for a in amounts if a is not None), ZERO))


def _steps_hours(scenario: ScenarioRecord, modalities: set[str]) -> Decimal:
    minutes = sum(
        step.duration_minutes or 0
        for sequence in scenario.sequences
        for step in sequence.steps
        if step.modality in modalities
    )
    return _hours(minutes)


def budget_row(conn: Connection, dossier: DossierRow, slug: str) -> BudgetRow:
    """One dossier's estimated costs from its scenario (or its planned hours before there is
    one), with the barème functions themselves so that the estimate and the decision agree."""
    rates = academie_rates(conn, dossier.academie_id)
    scenario = scenario_of(conn, dossier.id)
    spec = get_spec(dossier.workflow_name, dossier.workflow_version)
    validated_states = {"scenario_valide", "en_cours", "realisee", "bilan_soumis"}
    validated = dossier.state in validated_states or dossier.state.startswith(
        ("bilan_", "paiement_", "mis_en_")
    )
    notes: list[str] = []
    if scenario.updated_at is not None:
        basis = "scénario validé" if validated else "scénario (non encore validé)"
        # Seed 000: distance modules are synchronous (« classe virtuelle ») or asynchronous
        # (« accompagnement à distance »); only the latter is paid as accompaniment. A
        # webinaire is synchronous too.
        distance = _steps_hours(scenario, {"asynchrone"})
        presentiel_hours = _steps_hours(scenario, {"presentiel"})
    else:
        basis = "heures prévues (pas encore de scénario)"
        distance = dossier.planned_hours_distance or Decimal(0)
        presentiel_hours = dossier.planned_hours_presentiel or Decimal(0)
    participants = dossier.planned_participants or 0
    team = members(conn, dossier.ref, ["formateur", "concepteur", "tuteur"])
    formateurs = [m for m in team if m.role == "formateur"] or []
    conception = tutorat = classes = Cost()
    proposal: Proposal | None = None
    try:
        if dossier.dispositif == "vacation_accompagnement":
            proposal = baremes.vacation_accompagnement(
                {"groupe": ("Groupe", distance)}, participants, rates
            )
            tutorat = _sum(proposal, ["accompagnement"])
        elif dossier.dispositif == "hse_convention_ent":
            people = formateurs or []
            if people:
                proposal = baremes.hse_convention_ent(
                    {str(m.person_id): (m.full_name, distance) for m in people}, rates
                )
                tutorat = _sum(proposal, ["hse"])
            else:
                notes.append("aucun formateur affecté : HSE non estimées")
        elif dossier.dispositif == "eafc_taux_a":
            low = CONCEPTION_BOUNDS[0]
            steps = [
                step
                for sequence in scenario.sequences
                for step in sequence.steps
                if step.modality == "classe_virtuelle"
            ]
            classes_in = []
            for n, step in enumerate(steps):
                trainers = 2 if step.co_animation else 1
                for t in range(trainers):  # each trainer is paid (seed 004 §5.3)
                    classes_in.append(
                        VirtualClass(
                            payee=f"cv{n}-{t}",
                            payee_label="Formateur",
                            hours=_hours(step.duration_minutes),
                            trainers=trainers,
                            trainees=participants,
                        )
                    )
            proposal = baremes.eafc_taux_a(
                rates=rates,
                conception={"concepteur": ("Concepteur", low)},
                tutorat={"tuteur": ("Tuteur", participants)} if participants else None,
                virtual_classes=classes_in,
            )
            conception = _sum(proposal, ["conception"])
            tutorat = _sum(proposal, ["tutorat"])
            classes = _sum(proposal, ["classe_virtuelle"])
            notes.append(
                f"conception estimée au bas de la fourchette ({CONCEPTION_BOUNDS[0]} à "
                f"{CONCEPTION_BOUNDS[1]} vacations)"
            )
    except BaremeError as error:
        notes.append(str(error))
    if proposal is not None:
        notes.extend(proposal.problems)
    hourly = in_person_hourly_rate(conn, dossier.academie_id)
    presentiel = Cost(
        presentiel_hours, None if hourly is None else (presentiel_hours * hourly).quantize(CENT)
    )
    if hourly is None and presentiel_hours:
        notes.append("taux horaire du présentiel non configuré pour l'académie")
    planned = sum(
        (c.amount for c in (conception, tutorat, classes, presentiel) if c.amount is not None),
        ZERO,
    )
    decision = payment_decision(conn, dossier.id)
    return BudgetRow(
        reference=dossier.reference,
        paf_id=dossier.paf_id,
        title=dossier.title,
        academie=slug,
        plan_year=plan_year_label(plan_year_of(dossier.planned_start)),
        pilotes=pilotes_of(conn, dossier),
        dispositif=DISPOSITIFS[dossier.dispositif].label if dossier.dispositif else "(aucun)",
        state=spec.state(dossier.state).label,
        basis=basis,
        conception=conception,
        tutorat=tutorat,
        classes=classes,
        presentiel=presentiel,
        planned_total=planned,
        realised=None if decision is None else decision.total,
        notes=tuple(dict.fromkeys(notes)),
        dated=dossier.planned_start is not None,
    )


def budget(conn: Connection, scope: Scope, now: datetime) -> Budget:
    """The dated dossiers by reference, then those « à dater » (no planned start yet): they
    count in the totals, and ``totals["a_dater_*"]`` says how much of them is theirs."""
    rows = sorted(
        (
            budget_row(conn, dossier_of_row(row), str(row.academie_slug))
            for row in scoped_rows(conn, scope, now)
            if row.workflow_name == "dossier_formation" and row.state != "annule"
        ),
        key=lambda r: (not r.dated, r.reference),
    )
    undated = [r for r in rows if not r.dated]
    totals = {
        "a_dater_planned_total": sum((r.planned_total for r in undated), ZERO),
        "a_dater_realised": sum((r.realised or ZERO for r in undated), ZERO),
        "conception": sum((r.conception.amount or ZERO for r in rows), ZERO),
        "tutorat": sum((r.tutorat.amount or ZERO for r in rows), ZERO),
        "classes": sum((r.classes.amount or ZERO for r in rows), ZERO),
        "presentiel": sum((r.presentiel.amount or ZERO for r in rows), ZERO),
        "planned_total": sum((r.planned_total for r in rows), ZERO),
        "realised": sum((r.realised or ZERO for r in rows), ZERO),
    }
    return Budget(tuple(rows), totals)
