"""Reading a spreadsheet someone dropped — CSV or XLSX — into rows of cells.

The file is recognised by its content, not its name. A CSV may come from any French
spreadsheet: UTF-8 with or without a byte-order mark, or Windows-1252 (what Excel writes
for « CSV (séparateur : point-virgule) »), fields separated by ``;`` or ``,`` (or a tab),
as its header line shows. An XLSX is read by openpyxl (through defusedxml, installed for
that) from its first sheet, values rather than formulas, after checking that the archive
does not unpack into something huge. Every refusal is a French ``InvalidInput``.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from datetime import date, datetime, time

from openpyxl import load_workbook

from api.uploads import XLSX, sniff
from workflow.admin.paf_lines import MAX_LINES, Cell
from workflow.engine.errors import InvalidInput

MAX_UNPACKED = 50 * 1024 * 1024
"""Bytes an XLSX may unpack to: far beyond a plan of thousands of lines, far below harm."""
MAX_COLUMNS = 100
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
"""The start of an Excel 97-2003 (.xls) file."""


def read_sheet(content: bytes) -> list[list[Cell]]:
    """The rows of the file's first sheet, the header row first."""
    if not content:
        raise InvalidInput("Le fichier déposé est vide.", field="fichier")
    if content.startswith(_OLE):
        raise InvalidInput(
            "Ce classeur est au format Excel 97-2003 (.xls), qui n'est pas lu : "
            "enregistrez-le en XLSX ou en CSV.",
            field="fichier",
        )
    if content.startswith(b"PK\x03\x04"):
        if sniff(content, io.BytesIO(content)) is not XLSX:
            raise InvalidInput(
                "Ce fichier est une archive ou un document bureautique qui n'est pas un "
                "classeur XLSX : enregistrez le PAF en XLSX ou en CSV.",
                field="fichier",
            )
        return _xlsx_rows(content)
    return _csv_rows(content)


def decode(content: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252, else a French refusal."""
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp1252")
    except UnicodeDecodeError:
        raise InvalidInput(
            "L'encodage du fichier n'est pas reconnu : enregistrez-le en CSV UTF-8 "
            "(ou « CSV (séparateur : point-virgule) » d'Excel).",
            field="fichier",
        ) from None


def delimiter_of(header: str) -> str:
    """The separator the header line uses most (``;`` wins a tie: French spreadsheets)."""
    counts = {sep: header.count(sep) for sep in (";", ",", "\t")}
    best = max(counts, key=lambda sep: (counts[sep], sep == ";"))
    return best if counts[best] else ";"


def _csv_rows(content: bytes) -> list[list[Cell]]:
    text = decode(content)
    if "\x00" in text:
        raise InvalidInput(
            "Ce fichier n'est pas un texte CSV (il contient des caractères nuls) : "
            "déposez un CSV ou un classeur XLSX.",
            field="fichier",
        )
    header = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter_of(header))
    rows: list[list[Cell]] = []
    try:
        for row in reader:
            rows.append(list(row[:MAX_COLUMNS]))
            if len(rows) > MAX_LINES + 1:
                break
    except csv.Error as error:
        raise InvalidInput(
            f"Le CSV est mal formé ligne {reader.line_num} (guillemet non refermé ?) : "
            "vérifiez le fichier.",
            field="fichier",
        ) from error
    return rows


def _xlsx_rows(content: bytes) -> list[list[Cell]]:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(entry.file_size for entry in archive.infolist())
    except zipfile.BadZipFile as error:
        raise InvalidInput("Le classeur XLSX est endommagé.", field="fichier") from error
    if unpacked > MAX_UNPACKED:
        raise InvalidInput(
            "Le classeur XLSX est trop volumineux une fois décompressé : découpez le PAF.",
            field="fichier",
        )
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            rows: list[list[Cell]] = []
            for values in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS):
                rows.append([_cell(v) for v in values])
                if len(rows) > MAX_LINES + 1:
                    break
        finally:
            book.close()
    except InvalidInput:
        raise
    except Exception as error:
        # A damaged or hostile workbook (odd XML, entities refused by defusedxml…) is a
        # file we cannot read, said as such, never a 500.
        raise InvalidInput(
            "Le classeur XLSX n'a pas pu être lu : ouvrez-le et enregistrez-le de nouveau, "
            "ou déposez-le en CSV.",
            field="fichier",
        ) from error
    return _trim(rows)


def _cell(value: object) -> Cell:
    if value is None or isinstance(value, str | int | float | datetime | date):
        return value
    if isinstance(value, time):
        return value.isoformat()
    return str(value)


def _trim(rows: Sequence[list[Cell]]) -> list[list[Cell]]:
    """Without the empty rows a spreadsheet reports after its last filled one."""
    result = list(rows)
    while result and all(v is None or v == "" for v in result[-1]):
        result.pop()
    return result
