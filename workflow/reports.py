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
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Connection, Row, select
from sqlalchemy.sql import ColumnElement

from states import get_spec
from states.dispositifs import DISPOSITIFS
from states.spec import DeadlineAction
from workflow import baremes
from workflow.academies import in_person_hourly_rate, rates_for
from workflow.access import visible_clause
from workflow.baremes import CONCEPTION_BOUNDS, BaremeError, Proposal, VirtualClass
from workflow.dossier_reads import (
    BilanRecord,
    DocumentRecord,
    ScenarioRecord,
    SessionRecord,
    bilan_of,
    document_path,
    documents_of,
    scenario_of,
    sessions_of,
)
from workflow.dossiers import DossierRow, load
from workflow.frenchtext import PARIS, format_date
from workflow.queries import Decision, DossierFilters, filtered_dossiers, payment_decision
from workflow.simulation import COMPONENT_LABELS
from workflow.tables import academie_table, assignment_table, dossier_table, person_table
from workflow.team import members
from workflow.vocabulary import DOCUMENT_KINDS, MODALITIES

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


def plan_year_of(start: date | None) -> int | None:
    if start is None:
        return None
    return start.year if start.month >= 9 else start.year - 1


def plan_year_label(year: int | None) -> str:
    return "(non planifiée)" if year is None else f"{year}-{year + 1}"


def _scoped(conn: Connection, scope: Scope, now: datetime) -> list[Row[tuple[object, ...]]]:
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
        clauses.append(D.c.planned_start >= date(y, 9, 1))
        clauses.append(D.c.planned_start < date(y + 1, 9, 1))
    return list(conn.execute(query.where(*clauses)).all())


def _dossier(row: Row[tuple[object, ...]]) -> DossierRow:
    values = row._asdict()
    return DossierRow(**{name: values[name] for name in DossierRow.__slots__})


def _pilotes(conn: Connection, dossier: DossierRow) -> str:
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
    rates = rates_for(slug)
    scenario = scenario_of(conn, dossier.id)
    spec = get_spec(dossier.workflow_name, dossier.workflow_version)
    validated_states = {"scenario_valide", "en_cours", "realisee", "bilan_soumis"}
    validated = dossier.state in validated_states or dossier.state.startswith(
        ("bilan_", "paiement_", "mis_en_")
    )
    notes: list[str] = []
    if scenario.updated_at is not None:
        basis = "scénario validé" if validated else "scénario (non encore validé)"
        distance = _steps_hours(scenario, {"asynchrone", "classe_virtuelle", "webinaire"})
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
    hourly = in_person_hourly_rate(slug)
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
        title=dossier.title,
        academie=slug,
        plan_year=plan_year_label(plan_year_of(dossier.planned_start)),
        pilotes=_pilotes(conn, dossier),
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
    )


def budget(conn: Connection, scope: Scope, now: datetime) -> Budget:
    rows = [
        budget_row(conn, _dossier(row), str(row.academie_slug))
        for row in _scoped(conn, scope, now)
        if row.workflow_name == "dossier_formation" and row.state != "annule"
    ]
    totals = {
        "conception": sum((r.conception.amount or ZERO for r in rows), ZERO),
        "tutorat": sum((r.tutorat.amount or ZERO for r in rows), ZERO),
        "classes": sum((r.classes.amount or ZERO for r in rows), ZERO),
        "presentiel": sum((r.presentiel.amount or ZERO for r in rows), ZERO),
        "planned_total": sum((r.planned_total for r in rows), ZERO),
        "realised": sum((r.realised or ZERO for r in rows), ZERO),
    }
    return Budget(tuple(rows), totals)


# --- Dossier list ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListedDossier:
    reference: str
    title: str
    academie: str
    workflow: str
    dispositif: str
    state: str
    phase: str
    state_entered_at: datetime
    updated_at: datetime
    pilotes: str
    late: tuple[str, ...]
    """French labels of the reminders and escalations whose date has passed."""


def late_deadlines(dossier: DossierRow, now: datetime) -> tuple[str, ...]:
    spec = get_spec(dossier.workflow_name, dossier.workflow_version)
    late = []
    for deadline in spec.deadlines:
        due = dossier.state_entered_at + timedelta(days=deadline.offset_days)
        if (
            deadline.action is not DeadlineAction.TRANSITION
            and dossier.state in deadline.states
            and due < now
        ):
            late.append(f"{deadline.label} (depuis le {format_date(due.astimezone(PARIS).date())})")
    return tuple(late)


def dossier_list(conn: Connection, scope: Scope, now: datetime) -> list[ListedDossier]:
    result = []
    for row in _scoped(conn, scope, now):
        dossier = _dossier(row)
        spec = get_spec(dossier.workflow_name, dossier.workflow_version)
        state = spec.state(dossier.state)
        result.append(
            ListedDossier(
                reference=dossier.reference,
                title=dossier.title,
                academie=str(row.academie_slug),
                workflow=spec.label,
                dispositif=DISPOSITIFS[dossier.dispositif].label if dossier.dispositif else "",
                state=state.label,
                phase=spec.phase(state.phase).label,
                state_entered_at=dossier.state_entered_at,
                updated_at=dossier.updated_at,
                pilotes=_pilotes(conn, dossier),
                late=late_deadlines(dossier, now),
            )
        )
    return result


# --- Dashboard -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DashboardDossier:
    """One line of the dashboard's export: what the page lists, with what a spreadsheet
    user wants beside it (planned hours and dates, pilotes, the late reminders)."""

    id: int
    reference: str
    title: str
    academie: str
    workflow: str
    dispositif: str
    state: str
    phase: str
    pilotes: str
    planned_hours: Decimal | None
    planned_hours_presentiel: Decimal | None
    planned_hours_distance: Decimal | None
    planned_participants: int | None
    planned_start: date | None
    planned_end: date | None
    state_entered_at: datetime
    updated_at: datetime
    overdue: bool
    late: tuple[str, ...]


_CHUNK = 500
"""Ids per ``IN (…)`` list: far below SQLite's and PostgreSQL's bound-parameter limits."""


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]


def _pilote_names(conn: Connection, ids: list[int]) -> dict[int, str]:
    """The pilotes of many dossiers in a few queries (``_pilotes`` is one per dossier)."""
    A, P = assignment_table, person_table
    names: dict[int, list[str]] = {}
    for chunk in _chunks(ids):
        rows = conn.execute(
            select(A.c.dossier_id, P.c.full_name)
            .join(P, P.c.id == A.c.person_id)
            .where(A.c.role == "pilote", A.c.dossier_id.in_(chunk))
            .order_by(A.c.dossier_id, P.c.full_name)
        )
        for row in rows:
            names.setdefault(int(row.dossier_id), []).append(str(row.full_name))
    return {dossier_id: ", ".join(found) for dossier_id, found in names.items()}


def _academie_names(conn: Connection, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = conn.execute(
        select(academie_table.c.id, academie_table.c.name).where(academie_table.c.id.in_(ids))
    )
    return {int(r.id): str(r.name) for r in rows}


def _total_hours(dossier: DossierRow) -> Decimal | None:
    """In-person plus distance hours; None when neither is planned yet (not « 0 h »)."""
    parts = [dossier.planned_hours_presentiel, dossier.planned_hours_distance]
    if all(h is None for h in parts):
        return None
    return sum((h for h in parts if h is not None), Decimal(0))


def dashboard_list(
    conn: Connection, person_id: int, filters: DossierFilters, now: datetime
) -> list[DashboardDossier]:
    """Every dossier the dashboard lists for these filters, unpaged and in the page's order:
    the late ones first, then the others, each sorted as the page sorts them. Built on the
    page's own statement (``filtered_dossiers``), so the export can never show a dossier the
    page would not, nor miss one past the page's first 50."""
    rows: list[tuple[Row[tuple[object, ...]], bool]] = []
    for overdue in (True, False):
        narrowed = DossierFilters(
            **{
                **{name: getattr(filters, name) for name in DossierFilters.__slots__},
                "overdue": overdue,
            }
        )
        query = filtered_dossiers(conn, person_id, narrowed, now)
        rows.extend((row, overdue) for row in conn.execute(query))
    dossiers = [(_dossier(row), overdue) for row, overdue in rows]
    pilotes = _pilote_names(conn, [d.id for d, _ in dossiers])
    academies = _academie_names(conn, {d.academie_id for d, _ in dossiers})
    result = []
    for dossier, overdue in dossiers:
        spec = get_spec(dossier.workflow_name, dossier.workflow_version)
        state = spec.state(dossier.state)
        result.append(
            DashboardDossier(
                id=dossier.id,
                reference=dossier.reference,
                title=dossier.title,
                academie=academies.get(dossier.academie_id, ""),
                workflow=spec.label,
                dispositif=DISPOSITIFS[dossier.dispositif].label if dossier.dispositif else "",
                state=state.label,
                phase=spec.phase(state.phase).label,
                pilotes=pilotes.get(dossier.id, ""),
                planned_hours=_total_hours(dossier),
                planned_hours_presentiel=dossier.planned_hours_presentiel,
                planned_hours_distance=dossier.planned_hours_distance,
                planned_participants=dossier.planned_participants,
                planned_start=dossier.planned_start,
                planned_end=dossier.planned_end,
                state_entered_at=dossier.state_entered_at,
                updated_at=dossier.updated_at,
                overdue=overdue,
                late=late_deadlines(dossier, now),
            )
        )
    return result


# --- One dossier: fiche de rémunération, bilan, Sofia pack, sessions ------------------------


@dataclass(frozen=True, slots=True)
class Header:
    id: int
    reference: str
    title: str
    academie: str
    dispositif: str
    state: str
    planned_start: date | None
    planned_end: date | None
    pilotes: str


def header(conn: Connection, dossier_id: int) -> Header:
    dossier = load(conn, dossier_id)
    spec = get_spec(dossier.workflow_name, dossier.workflow_version)
    name = conn.execute(
        select(academie_table.c.name).where(academie_table.c.id == dossier.academie_id)
    ).scalar_one()
    return Header(
        id=dossier.id,
        reference=dossier.reference,
        title=dossier.title,
        academie=str(name),
        dispositif=DISPOSITIFS[dossier.dispositif].label if dossier.dispositif else "(aucun)",
        state=spec.state(dossier.state).label,
        planned_start=dossier.planned_start,
        planned_end=dossier.planned_end,
        pilotes=_pilotes(conn, dossier),
    )


@dataclass(frozen=True, slots=True)
class FicheLine:
    component: str
    unit: str
    units: Decimal
    rate: Decimal
    amount: Decimal
    steps: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PayeeSheet:
    full_name: str
    lines: tuple[FicheLine, ...]
    total: Decimal


@dataclass(frozen=True, slots=True)
class Fiche:
    header: Header
    decision: Decision | None
    payees: tuple[PayeeSheet, ...]


def fiche(conn: Connection, dossier_id: int) -> Fiche:
    """The fiche de rémunération: each person paid, their lines and steps, from the
    decision as stored (never recomputed: it is what was decided)."""
    decision = payment_decision(conn, dossier_id)
    payees: dict[int, list[FicheLine]] = {}
    names: dict[int, str] = {}
    for line in decision.lines if decision else []:
        names[line.person_id] = line.full_name
        payees.setdefault(line.person_id, []).append(
            FicheLine(
                COMPONENT_LABELS.get(line.component, line.component),
                line.unit,
                line.units,
                line.rate,
                line.amount,
                tuple(line.steps),
            )
        )
    sheets = tuple(
        PayeeSheet(names[pid], tuple(lines), sum((x.amount for x in lines), ZERO))
        for pid, lines in payees.items()
    )
    return Fiche(header(conn, dossier_id), decision, sheets)


@dataclass(frozen=True, slots=True)
class BilanView:
    header: Header
    bilan: BilanRecord
    hours: tuple[tuple[str, Decimal, int | None], ...]
    """(name, hours, trainees followed) per declared person."""
    sessions: tuple[tuple[SessionRecord, str, str], ...]
    """(session, modality label, formateur name) for each held session."""
    documents: tuple[tuple[DocumentRecord, str], ...]


def _names(conn: Connection, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = conn.execute(
        select(person_table.c.id, person_table.c.full_name).where(person_table.c.id.in_(ids))
    )
    return {int(r.id): str(r.full_name) for r in rows}


def bilan_view(conn: Connection, dossier_id: int) -> BilanView:
    bilan = bilan_of(conn, dossier_id)
    sessions = [s for s in sessions_of(conn, dossier_id) if s.held]
    names = _names(
        conn,
        {h.person_id for h in bilan.hours} | {s.formateur_id for s in sessions if s.formateur_id},
    )
    return BilanView(
        header=header(conn, dossier_id),
        bilan=bilan,
        hours=tuple(
            (names.get(h.person_id, str(h.person_id)), h.hours, h.trainees_followed)
            for h in bilan.hours
        ),
        sessions=tuple(
            (
                s,
                MODALITIES.get(s.modality, s.modality),
                names.get(s.formateur_id, "") if s.formateur_id else "",
            )
            for s in sessions
        ),
        documents=tuple(
            (d, DOCUMENT_KINDS.get(d.kind, d.kind)) for d in documents_of(conn, dossier_id)
        ),
    )


SOFIA_KINDS = ("emargement", "fiche_remuneration")


@dataclass(frozen=True, slots=True)
class PackFile:
    document: DocumentRecord
    kind_label: str
    path: Path | None
    uploaded_by: str


def sofia_files(conn: Connection, dossier_id: int, data_dir: Path) -> list[PackFile]:
    """The émargement lists and fiches de rémunération deposited on the dossier (Sofia-FMO)."""
    documents = [d for d in documents_of(conn, dossier_id) if d.kind in SOFIA_KINDS]
    names = _names(conn, {d.uploaded_by_id for d in documents if d.uploaded_by_id})
    return [
        PackFile(
            d,
            DOCUMENT_KINDS[d.kind],
            document_path(data_dir, d.storage_key),
            names.get(d.uploaded_by_id, "") if d.uploaded_by_id else "",
        )
        for d in documents
    ]


@dataclass(frozen=True, slots=True)
class CalendarSession:
    session: SessionRecord
    modality: str
    formateur: str
    ends_at: datetime


def calendar_sessions(conn: Connection, dossier_id: int) -> list[CalendarSession]:
    sessions = sessions_of(conn, dossier_id)
    names = _names(conn, {s.formateur_id for s in sessions if s.formateur_id})
    return [
        CalendarSession(
            s,
            MODALITIES.get(s.modality, s.modality),
            names.get(s.formateur_id, "") if s.formateur_id else "",
            s.starts_at + timedelta(minutes=s.duration_minutes),
        )
        for s in sessions
    ]
