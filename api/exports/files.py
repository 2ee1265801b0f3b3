"""Each export as a finished file (name, media type, bytes), shared by the CLI and the API
so that both hand out exactly the same document."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import Connection

from api.exports.calendar import to_ics
from api.exports.layouts import budget_table, dashboard_table, dossiers_table
from api.exports.printing import render_bilan, render_fiche
from api.exports.sheets import Table, to_csv, to_xlsx
from api.exports.sofia import pack
from workflow.engine.rows import load
from workflow.language.french import PARIS
from workflow.participants.counts import trainee_counts
from workflow.participants.questionnaire import aggregate
from workflow.reads import dashboard, paperwork, reports
from workflow.reads.dossier_list import DossierFilters
from workflow.reads.reports import Scope, plan_year_label

SheetFormat = Literal["xlsx", "csv"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
HTML = "text/html; charset=utf-8"
ZIP = "application/zip"
ICS = "text/calendar; charset=utf-8"


@dataclass(frozen=True, slots=True)
class ExportFile:
    filename: str
    media_type: str
    content: bytes


def _sheet(table: Table, stem: str, fmt: SheetFormat) -> ExportFile:
    if fmt == "csv":
        return ExportFile(f"{stem}.csv", CSV, to_csv(table))
    return ExportFile(f"{stem}.xlsx", XLSX, to_xlsx([table]))


def sheet_file(table: Table, stem: str, fmt: SheetFormat) -> ExportFile:
    """A table as a finished spreadsheet file, for the edges' other downloads (the PAF
    template and reports, the results of a bulk action)."""
    return _sheet(table, stem, fmt)


def _stem(kind: str, scope: Scope) -> str:
    parts = [kind]
    if scope.academie:
        parts.append(scope.academie)
    if scope.plan_year is not None:
        parts.append(plan_year_label(scope.plan_year))
    return "-".join(parts)


def budget_file(conn: Connection, scope: Scope, fmt: SheetFormat, now: datetime) -> ExportFile:
    data = reports.budget(conn, scope, now)
    title = "Budget prévisionnel"
    if scope.plan_year is not None:
        title += f" {plan_year_label(scope.plan_year)}"
    return _sheet(budget_table(data, title), _stem("budget", scope), fmt)


def dossiers_file(conn: Connection, scope: Scope, fmt: SheetFormat, now: datetime) -> ExportFile:
    rows = dashboard.dossier_list(conn, scope, now)
    return _sheet(dossiers_table(rows), _stem("dossiers", scope), fmt)


def dashboard_file(
    conn: Connection, person_id: int, filters: DossierFilters, fmt: SheetFormat, now: datetime
) -> ExportFile:
    """What the « Tableau de bord » lists for these filters, every row of it, named after
    the day (Paris) it was taken: the file says when its picture of the dossiers dates from."""
    rows = dashboard.dashboard_list(conn, person_id, filters, now)
    stem = f"tableau-de-bord-{now.astimezone(PARIS).date().isoformat()}"
    return _sheet(dashboard_table(rows), stem, fmt)


def fiche_file(conn: Connection, dossier_id: int, now: datetime) -> ExportFile:
    fiche = paperwork.fiche(conn, dossier_id)
    html = render_fiche(fiche, now)
    name = f"fiche-remuneration-{fiche.header.reference}.html"
    return ExportFile(name, HTML, html.encode("utf-8"))


def bilan_file(conn: Connection, dossier_id: int, now: datetime) -> ExportFile:
    view = paperwork.bilan_view(conn, dossier_id)
    dossier = load(conn, dossier_id)
    html = render_bilan(view, now, trainee_counts(conn, dossier), aggregate(conn, dossier_id))
    return ExportFile(f"bilan-{view.header.reference}.html", HTML, html.encode("utf-8"))


def sofia_file(conn: Connection, dossier_id: int, data_dir: Path, now: datetime) -> ExportFile:
    fiche = paperwork.fiche(conn, dossier_id)
    files = paperwork.sofia_files(conn, dossier_id, data_dir)
    html = render_fiche(fiche, now) if fiche.decision is not None else None
    content = pack(fiche.header, files, html, now)
    return ExportFile(f"sofia-fmo-{fiche.header.reference}.zip", ZIP, content)


def sessions_file(conn: Connection, dossier_id: int, now: datetime) -> ExportFile:
    header = paperwork.header(conn, dossier_id)
    content = to_ics(header, paperwork.calendar_sessions(conn, dossier_id), now)
    return ExportFile(f"sessions-{header.reference}.ics", ICS, content)
