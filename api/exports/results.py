"""The results of a bulk action as a spreadsheet: one row per dossier, « Fait » or
« Refusé » and why, like the other exports (typed XLSX, or French CSV)."""

from __future__ import annotations

from collections.abc import Sequence

from api.exports.files import ExportFile, SheetFormat, sheet_file
from api.exports.sheets import Cell, Column, Kind, Table
from workflow.reads.bulk import BatchView

RESULT_COLUMNS = (
    Column("Référence", Kind.TEXT, 16),
    Column("Identifiant PAF", Kind.TEXT, 16),
    Column("Intitulé", Kind.TEXT, 40),
    Column("Action", Kind.TEXT, 24),
    Column("Résultat", Kind.TEXT, 10),
    Column("Détail", Kind.TEXT, 80),
    Column("État actuel", Kind.TEXT, 22),
    Column("Traité le", Kind.DATETIME, 17),
)


def bulk_results_file(batch: BatchView, fmt: SheetFormat) -> ExportFile:
    rows: list[Sequence[Cell]] = [
        [
            item.reference,
            item.paf_id or "",
            item.title,
            batch.action_label,
            item.status_label,
            item.message or "",
            item.state_label,
            item.done_at,
        ]
        for item in batch.items
    ]
    title = f"Action groupée {batch.id}"
    return sheet_file(Table(title, RESULT_COLUMNS, rows), f"action-groupee-{batch.id}", fmt)
