"""The PAF import at the edge: a dropped file read into lines, the template to fill, and
the report as a spreadsheet — shared by the page, the API and the command line."""

from __future__ import annotations

from collections.abc import Sequence

from api.exports.files import ExportFile, SheetFormat, sheet_file
from api.exports.sheets import Cell, Column, Kind, Table
from api.imports.sheets import read_sheet
from workflow.admin.paf import PafReport
from workflow.admin.paf_lines import TEMPLATE_COLUMNS, PafFile, read_lines


def parse(content: bytes) -> PafFile:
    """The lines of a CSV or XLSX PAF; ``InvalidInput`` (French) for a file unreadable as
    a whole (encoding, format, header)."""
    return read_lines(read_sheet(content))


def template_file(fmt: SheetFormat) -> ExportFile:
    """An empty PAF with the documented headers and one example line."""
    table = Table(
        "PAF",
        tuple(Column(c.header, Kind.TEXT, 24) for c in TEMPLATE_COLUMNS),
        [[c.example for c in TEMPLATE_COLUMNS]],
    )
    return sheet_file(table, "modele-paf", fmt)


REPORT_COLUMNS = (
    Column("Ligne", Kind.INTEGER, 8),
    Column("Identifiant PAF", Kind.TEXT, 16),
    Column("Intitulé", Kind.TEXT, 40),
    Column("Résultat", Kind.TEXT, 14),
    Column("Dossier", Kind.TEXT, 14),
    Column("Détail", Kind.TEXT, 80),
)


def report_file(report: PafReport, stem: str, fmt: SheetFormat) -> ExportFile:
    """The dry run's (or the import's) report, one row per line of the file."""
    rows: list[Sequence[Cell]] = [
        [
            line.line,
            line.paf_id,
            line.title,
            line.label,
            line.reference or "",
            " ; ".join((*line.reasons, *line.changes)),
        ]
        for line in report.lines
    ]
    return sheet_file(Table("Rapport d'import du PAF", REPORT_COLUMNS, rows), stem, fmt)
