"""Tables as XLSX (openpyxl) and CSV, French, with formula injection neutralised.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would
be run as a formula by a spreadsheet (CSV injection, OWASP): such text is prefixed with an
apostrophe, which the spreadsheet shows as plain text. Only text is neutralised: numbers,
amounts and dates are written as typed values (XLSX) or formatted by us (CSV), never from
what a person typed.

CSV is written the way French spreadsheets read it without a dialog: UTF-8 with a BOM,
``;`` between fields, a decimal comma, dates as ``JJ/MM/AAAA HH:MM`` (Europe/Paris).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from workflow.language.french import PARIS

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class Kind(StrEnum):
    TEXT = "text"
    MONEY = "money"
    NUMBER = "number"
    INTEGER = "integer"
    DATETIME = "datetime"
    DATE = "date"


Cell = str | Decimal | int | datetime | date | None


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    kind: Kind = Kind.TEXT
    width: int = 14


@dataclass(frozen=True, slots=True)
class Table:
    title: str
    columns: tuple[Column, ...]
    rows: list[Sequence[Cell]] = field(default_factory=list)
    totals: Sequence[Cell] | None = None


def neutralise(text: str) -> str:
    """Text that no spreadsheet will run as a formula."""
    text = _ILLEGAL_XML.sub("", text)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _paris(value: datetime) -> datetime:
    return value.astimezone(PARIS).replace(tzinfo=None)


def french_number(value: Decimal, places: int = 2) -> str:
    return f"{value:.{places}f}".replace(".", ",")


def csv_cell(value: Cell, kind: Kind) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return _paris(value).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, Decimal):
        return french_number(value, 2)
    if isinstance(value, int):
        return str(value)
    return neutralise(value)


_FORMATS = {
    Kind.MONEY: '#,##0.00\\ "€"',
    Kind.NUMBER: "#,##0.00",
    Kind.INTEGER: "0",
    Kind.DATETIME: "DD/MM/YYYY HH:MM",
    Kind.DATE: "DD/MM/YYYY",
}


def _xlsx_value(value: Cell) -> object:
    if isinstance(value, datetime):
        return _paris(value)
    if isinstance(value, str):
        return neutralise(value)
    return value


def to_xlsx(tables: Sequence[Table]) -> bytes:
    """One sheet per table: bold frozen header row, typed cells with French formats."""
    book = Workbook()
    book.remove(book.active)
    for table in tables:
        sheet = book.create_sheet(title=neutralise(table.title)[:31].replace("'", ""))
        sheet.append([column.header for column in table.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        body = list(table.rows) + ([table.totals] if table.totals is not None else [])
        for row in body:
            sheet.append([_xlsx_value(v) for v in row])
            for column, cell in zip(table.columns, sheet[sheet.max_row], strict=True):
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula, whatever openpyxl guessed
                number_format = _FORMATS.get(column.kind)
                if number_format is not None and cell.value is not None:
                    cell.number_format = number_format
        if table.totals is not None:
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
        for index, column in enumerate(table.columns, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = column.width
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def to_csv(table: Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([column.header for column in table.columns])
    body = list(table.rows) + ([table.totals] if table.totals is not None else [])
    for row in body:
        writer.writerow([csv_cell(v, c.kind) for v, c in zip(row, table.columns, strict=True)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
