"""Reading a list of stagiaires from a file: CSV or XLSX, as spreadsheets and rectorat
exports actually produce them.

CSV in UTF-8 with or without a BOM, or in Windows-1252 (what Excel writes on a French
Windows), with ``;`` or ``,`` between fields (told apart on the header line); XLSX read
with openpyxl, first sheet, values only. The result is a header and rows of text: what the
header means and whether each line is acceptable is the domain's business
(``workflow.participants.importing``).
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

from openpyxl import load_workbook

from workflow.participants.importing import MAX_LINES

MAX_BYTES = 2 * 1024 * 1024
"""Far more than 5 000 lines of names and addresses."""
MAX_COLUMNS = 50


class ImportFileError(ValueError):
    """A file that cannot be read as a list, with the French reason."""


@dataclass(frozen=True, slots=True)
class ReadFile:
    header: list[str]
    rows: list[list[str]]
    encoding: str
    """« UTF-8 », « UTF-8 avec BOM », « Windows-1252 » or « XLSX »: said in the report."""


def _decode(content: bytes) -> tuple[str, str]:
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8", errors="strict"), "UTF-8 avec BOM"
    try:
        return content.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace"), "Windows-1252"


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ";"


def _csv(content: bytes) -> ReadFile:
    if b"\x00" in content:
        raise ImportFileError(
            "Ce fichier n'est pas un texte CSV lisible (UTF-16 ou binaire ?) : enregistrez-le "
            "en « CSV UTF-8 » ou en XLSX."
        )
    try:
        text, encoding = _decode(content)
    except UnicodeDecodeError as exc:
        raise ImportFileError("Ce fichier n'est pas un texte CSV lisible.") from exc
    lines = text.splitlines()
    if not lines:
        raise ImportFileError("Le fichier est vide.")
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(lines[0]))
    try:
        rows = [list(row) for row in reader]
    except csv.Error as exc:
        raise ImportFileError(f"Le fichier CSV est mal formé : {exc}.") from exc
    return _checked(rows, encoding)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.strftime("%d/%m/%Y")
    return str(value).strip()


def _xlsx(content: bytes) -> ReadFile:
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ImportFileError("Ce classeur XLSX ne peut pas être lu (endommagé ?).") from exc
    try:
        sheet = book.worksheets[0]
        rows = []
        for row in sheet.iter_rows(values_only=True):
            rows.append([_cell(v) for v in row[:MAX_COLUMNS]])
            if len(rows) > MAX_LINES + 2:
                break
    finally:
        book.close()
    return _checked(rows, "XLSX")


def _checked(rows: list[list[str]], encoding: str) -> ReadFile:
    while rows and not any(c.strip() for c in rows[-1]):
        rows.pop()
    if not rows:
        raise ImportFileError("Le fichier est vide.")
    if len(rows) > MAX_LINES + 1:
        raise ImportFileError(f"Le fichier compte plus de {MAX_LINES} lignes : découpez-le.")
    if len(rows[0]) > MAX_COLUMNS:
        raise ImportFileError(f"Le fichier compte plus de {MAX_COLUMNS} colonnes.")
    return ReadFile([c.strip() for c in rows[0]], rows[1:], encoding)


def read_list(filename: str, content: bytes) -> ReadFile:
    """The header and the rows of a CSV or XLSX file, or ``ImportFileError``."""
    if not content:
        raise ImportFileError("Le fichier est vide : choisissez un fichier CSV ou XLSX.")
    if len(content) > MAX_BYTES:
        raise ImportFileError(
            f"Le fichier dépasse {MAX_BYTES // (1024 * 1024)} Mo : ce n'est pas une liste de "
            "stagiaires."
        )
    if content.startswith(b"PK\x03\x04"):
        return _xlsx(content)
    if filename.lower().endswith((".xls", ".ods", ".xlsx")):
        raise ImportFileError(
            "Seuls les fichiers CSV et XLSX sont lus : enregistrez la liste dans l'un de ces "
            "formats."
        )
    return _csv(content)
