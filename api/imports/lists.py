"""Reading a list of people from a file (stagiaires of a dossier, établissements): the
same spreadsheet reader as the PAF (``api.imports.sheets``), its cells as text.

The result is a header and rows of text: what the header means and whether each line is
acceptable is the domain's business (``workflow.participants.importing``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from api.imports.sheets import encoding_label, read_sheet
from workflow.engine.errors import InvalidInput
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


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.strftime("%d/%m/%Y")
    return str(value).strip()


def read_list(filename: str, content: bytes) -> ReadFile:
    """The header and the rows of a CSV or XLSX file, or ``ImportFileError``."""
    if not content:
        raise ImportFileError("Le fichier est vide : choisissez un fichier CSV ou XLSX.")
    if len(content) > MAX_BYTES:
        raise ImportFileError(
            f"Le fichier dépasse {MAX_BYTES // (1024 * 1024)} Mo : ce n'est pas une liste de "
            "personnes."
        )
    if not content.startswith(b"PK\x03\x04") and filename.lower().endswith(
        (".xls", ".ods", ".xlsx")
    ):
        raise ImportFileError(
            "Seuls les fichiers CSV et XLSX sont lus : enregistrez la liste dans l'un de ces "
            "formats."
        )
    try:
        cells = read_sheet(content)
    except InvalidInput as error:
        raise ImportFileError(error.message) from error
    rows = [[_text(value) for value in row[:MAX_COLUMNS]] for row in cells]
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        raise ImportFileError("Le fichier est vide.")
    header = rows[0]
    while header and not header[-1]:
        header.pop()
    # A spreadsheet reports empty cells past the last column: the header says how many count.
    rows = [header] + [(row + [""] * len(header))[: len(header)] for row in rows[1:]]
    if len(rows) > MAX_LINES + 1:
        raise ImportFileError(f"Le fichier compte plus de {MAX_LINES} lignes : découpez-le.")
    return ReadFile(header, rows[1:], encoding_label(content))
