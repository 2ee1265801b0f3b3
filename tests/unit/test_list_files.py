"""Reading a list of stagiaires as people's files come: CSV in UTF-8 (with or without a
BOM) or Windows-1252, ``;`` or ``,``, XLSX; and French headers however they are written."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from api.imports.lists import ImportFileError, read_list
from workflow.participants.importing import header_key

ROWS = [
    ["Nom", "Prénom", "Courriel", "Établissement", "Discipline ou public"],
    ["Dupré", "Zoé", "zoe.dupre@example.org", "0131234A", "Éducation musicale"],
    ["Lefèvre", "Noël", "noel.lefevre@example.org", "Collège Jean Moulin", "Français"],
]


def _csv(delimiter: str, encoding: str) -> bytes:
    return "\r\n".join(delimiter.join(r) for r in ROWS).encode(encoding)


@pytest.mark.parametrize(
    ("delimiter", "encoding", "label"),
    [
        (";", "utf-8-sig", "UTF-8 avec BOM"),
        (";", "utf-8", "UTF-8"),
        (",", "utf-8", "UTF-8"),
        (";", "cp1252", "Windows-1252"),
        (",", "cp1252", "Windows-1252"),
    ],
)
def test_csv_in_the_usual_encodings_and_separators(
    delimiter: str, encoding: str, label: str
) -> None:
    read = read_list("liste.csv", _csv(delimiter, encoding))
    assert read.encoding == label
    assert read.header == ROWS[0]
    assert read.rows == ROWS[1:]


def test_quoted_fields_and_trailing_blank_lines() -> None:
    content = (
        "Nom;Prénom;Courriel;Établissement\r\n"
        '"Dupont; fils";Marc;m@example.org;0131234A\r\n;;;\r\n\r\n'
    )
    read = read_list("liste.csv", content.encode("utf-8"))
    assert read.rows == [["Dupont; fils", "Marc", "m@example.org", "0131234A"]]


def test_xlsx_first_sheet_values() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in ROWS:
        sheet.append(row)
    sheet.append(["Numéro", "Jean", "jean@example.org", 131234, None])
    buffer = io.BytesIO()
    book.save(buffer)
    read = read_list("liste.xlsx", buffer.getvalue())
    assert read.encoding == "XLSX"
    assert read.header == ROWS[0]
    assert read.rows[:2] == ROWS[1:]
    assert read.rows[2] == ["Numéro", "Jean", "jean@example.org", "131234", ""]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("liste.csv", b"", "vide"),
        ("liste.csv", "Nom;Prénom".encode("utf-16"), "caractères nuls"),
        ("liste.xlsx", b"PK\x03\x04pas un classeur", "n'est pas un classeur XLSX"),
        ("liste.ods", b"contenu", "Seuls les fichiers CSV et XLSX"),
    ],
)
def test_unreadable_files_say_why(name: str, content: bytes, message: str) -> None:
    with pytest.raises(ImportFileError, match=message):
        read_list(name, content)


@pytest.mark.parametrize(
    "typed",
    ["Établissement", "ETABLISSEMENT", " établissement ", "Etablissement"],
)
def test_headers_are_read_without_case_or_accents(typed: str) -> None:
    assert header_key(typed) == "etablissement"
    assert header_key("Adresse électronique") == header_key("ADRESSE_ELECTRONIQUE")
