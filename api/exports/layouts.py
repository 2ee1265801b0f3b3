"""Which columns each spreadsheet export has, with its French headers."""

from __future__ import annotations

from decimal import Decimal

from api.exports.sheets import Cell, Column, Kind, Table
from workflow.language.french import PARIS
from workflow.payments.baremes import format_euros
from workflow.reads.dashboard import DashboardDossier, ListedDossier
from workflow.reads.reports import Budget, BudgetRow, Cost

T, M, N = Kind.TEXT, Kind.MONEY, Kind.NUMBER

BUDGET_COLUMNS = (
    Column("Référence", T, 14),
    Column("Intitulé", T, 40),
    Column("Académie", T, 14),
    Column("Année du plan", T, 12),
    Column("Pilote", T, 22),
    Column("Dispositif", T, 30),
    Column("État", T, 20),
    Column("Base de l'estimation", T, 26),
    Column("Conception (vacations)", N, 12),
    Column("Conception (€)", M, 14),
    Column("Tutorat / accompagnement (unités)", N, 14),
    Column("Tutorat / accompagnement (€)", M, 14),
    Column("Classes virtuelles (vacations)", N, 12),
    Column("Classes virtuelles (€)", M, 14),
    Column("Présentiel (h)", N, 10),
    Column("Présentiel (€)", M, 14),
    Column("Total prévisionnel (€)", M, 16),
    Column("Réalisé (€)", M, 14),
    Column("Remarques", T, 60),
    Column("Identifiant PAF", T, 14),
)


def _euros(amount: Decimal | None) -> str:
    return format_euros(amount or Decimal("0"))


def _cost(cost: Cost) -> list[Cell]:
    return [cost.units, cost.amount]


def _budget_row(row: BudgetRow) -> list[Cell]:
    return [
        row.reference,
        row.title,
        row.academie,
        row.plan_year,
        row.pilotes,
        row.dispositif,
        row.state,
        row.basis,
        *_cost(row.conception),
        *_cost(row.tutorat),
        *_cost(row.classes),
        *_cost(row.presentiel),
        row.planned_total,
        row.realised,
        " ; ".join(row.notes),
        row.paf_id or "",
    ]


def budget_table(budget: Budget, title: str = "Budget prévisionnel") -> Table:
    """In the spirit of the T-Offres file: one row per dossier, the four cost families of
    seed 004 §6 (conception, tutorat, classes virtuelles, présentiel), and the realised."""
    t = budget.totals
    undated = sum(1 for r in budget.rows if not r.dated)
    remark = "montants non chiffrés exclus (voir Remarques)"
    if undated:
        remark += (
            f" ; dont {undated} dossier(s) à dater (sans date de début prévue, en fin de "
            f"tableau) : {_euros(t.get('a_dater_planned_total'))} prévus, "
            f"{_euros(t.get('a_dater_realised'))} réalisés"
        )
    totals: list[Cell] = [
        "Total",
        f"{len(budget.rows)} dossier(s)",
        *([None] * 6),
        None,
        t.get("conception"),
        None,
        t.get("tutorat"),
        None,
        t.get("classes"),
        None,
        t.get("presentiel"),
        t.get("planned_total"),
        t.get("realised"),
        remark,
        None,
    ]
    return Table(title, BUDGET_COLUMNS, [_budget_row(r) for r in budget.rows], totals)


DOSSIER_COLUMNS = (
    Column("Référence", T, 14),
    Column("Intitulé", T, 40),
    Column("Académie", T, 14),
    Column("Workflow", T, 28),
    Column("Dispositif", T, 30),
    Column("État", T, 22),
    Column("Phase", T, 14),
    Column("Dans cet état depuis le", Kind.DATETIME, 18),
    Column("Mis à jour le", Kind.DATETIME, 18),
    Column("Pilote", T, 22),
    Column("Échéances dépassées", T, 60),
    Column("Identifiant PAF", T, 14),
)


def dossiers_table(rows: list[ListedDossier]) -> Table:
    return Table(
        "Dossiers",
        DOSSIER_COLUMNS,
        [
            [
                r.reference,
                r.title,
                r.academie,
                r.workflow,
                r.dispositif,
                r.state,
                r.phase,
                r.state_entered_at,
                r.updated_at,
                r.pilotes,
                " ; ".join(r.late),
                r.paf_id or "",
            ]
            for r in rows
        ],
    )


DASHBOARD_COLUMNS = (
    Column("Référence", T, 14),
    Column("Titre", T, 40),
    Column("Académie", T, 24),
    Column("Circuit", T, 28),
    Column("Dispositif", T, 30),
    Column("État", T, 24),
    Column("Phase", T, 16),
    Column("Pilote", T, 24),
    Column("Heures prévues", N, 10),
    Column("dont présentiel (h)", N, 10),
    Column("dont à distance (h)", N, 10),
    Column("Participants prévus", Kind.INTEGER, 10),
    Column("Début prévu", Kind.DATE, 12),
    Column("Fin prévue", Kind.DATE, 12),
    Column("Dans cet état depuis le", Kind.DATE, 14),
    Column("Mis à jour le", Kind.DATETIME, 17),
    Column("Échéance dépassée", T, 10),
    Column("Échéances dépassées (détail)", T, 60),
    Column("Identifiant PAF", T, 14),
    Column("En attente de", T, 40),
    Column("Échéance", Kind.DATE, 12),
)


def dashboard_table(rows: list[DashboardDossier]) -> Table:
    """The « Tableau de bord » as the page lists it: late dossiers first, one row each."""
    return Table(
        "Tableau de bord",
        DASHBOARD_COLUMNS,
        [
            [
                r.reference,
                r.title,
                r.academie,
                r.workflow,
                r.dispositif,
                r.state,
                r.phase,
                r.pilotes,
                r.planned_hours,
                r.planned_hours_presentiel,
                r.planned_hours_distance,
                r.planned_participants,
                r.planned_start,
                r.planned_end,
                r.state_entered_at.astimezone(PARIS).date(),
                r.updated_at,
                "Oui" if r.overdue else "Non",
                " ; ".join(r.late),
                r.paf_id or "",
                r.waiting_on,
                r.due_at.astimezone(PARIS).date() if r.due_at else None,
            ]
            for r in rows
        ],
    )
