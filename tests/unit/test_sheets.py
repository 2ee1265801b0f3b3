"""Spreadsheet, calendar and print formats on hand-made rows: French, typed, and safe."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from icalendar import Calendar
from openpyxl import load_workbook

from api.exports.calendar import session_uid, to_ics
from api.exports.printing import render_bilan, render_fiche
from api.exports.sheets import Column, Kind, Table, csv_cell, neutralise, to_csv, to_xlsx
from workflow.reads.paperwork import BilanView, CalendarSession, Fiche, Header
from workflow.reads.records import BilanRecord, SessionRecord

DANGEROUS = ["=1+1", "+33 1 23", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", '=HYPERLINK("x")']


@pytest.mark.parametrize("text", DANGEROUS)
def test_text_that_a_spreadsheet_would_run_is_neutralised(text: str) -> None:
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["Classe virtuelle", "", "'déjà", "1=1", "a-b"])
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert neutralise(text) == text


def _table() -> Table:
    return Table(
        "Essai",
        (
            Column("Intitulé"),
            Column("Montant (€)", Kind.MONEY),
            Column("Le", Kind.DATETIME),
            Column("Jour", Kind.DATE),
            Column("Nombre", Kind.INTEGER),
        ),
        [
            [
                text,
                Decimal("1260.50"),
                datetime(2026, 7, 1, 12, 30, tzinfo=UTC),
                date(2026, 9, 1),
                3,
            ]
            for text in ["Écart négatif", *DANGEROUS]
        ],
        totals=["Total", Decimal("-5.25"), None, None, None],
    )


def test_the_xlsx_has_french_headers_typed_values_and_no_formula() -> None:
    book = load_workbook(io.BytesIO(to_xlsx([_table()])))
    sheet = book["Essai"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Intitulé", "Montant (€)", "Le", "Jour", "Nombre")
    assert rows[1][0] == "Écart négatif"
    assert Decimal(str(rows[1][1])) == Decimal("1260.50")
    assert rows[1][2] == datetime(2026, 7, 1, 14, 30)  # Europe/Paris, summer time
    assert rows[1][3].date() == date(2026, 9, 1)
    assert sheet["B2"].number_format.endswith('"€"') and sheet["C2"].number_format == (
        "DD/MM/YYYY HH:MM"
    )
    for row_index, text in enumerate(DANGEROUS, start=3):
        cell = sheet.cell(row=row_index, column=1)
        # (the standard library's XML parser reads a carriage return back as a line feed,
        # lxml keeps it: either way the text is neutralised by its leading quote)
        value = str(cell.value).replace("\r", "\n")
        assert cell.data_type == "s" and value == "'" + text.replace("\r", "\n")
    assert Decimal(str(rows[-1][1])) == Decimal("-5.25")  # a number, not neutralised text
    assert sheet.freeze_panes == "A2"


def test_the_csv_reads_back_in_french() -> None:
    raw = to_csv(_table())
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Intitulé", "Montant (€)", "Le", "Jour", "Nombre"]
    assert rows[1] == ["Écart négatif", "1260,50", "01/07/2026 14:30", "01/09/2026", "3"]
    assert [r[0] for r in rows[2:-1]] == ["'" + t for t in DANGEROUS]
    assert rows[-1][:2] == ["Total", "-5,25"]


def test_a_winter_date_is_shown_at_paris_time() -> None:
    assert csv_cell(datetime(2026, 12, 1, 23, 30, tzinfo=UTC), Kind.DATETIME) == (
        "02/12/2026 00:30"
    )


HEADER = Header(
    id=1,
    reference="26-TST-0001",
    title="<script>alert('x')</script> & co",
    academie="Académie <b>test</b>",
    dispositif="Parcours EAFC rémunéré au taux A",
    state="Mis en paiement",
    planned_start=date(2026, 9, 1),
    planned_end=date(2026, 10, 1),
    pilotes="Paul <i>Pilote</i>",
)


def _session(revision: int, link: str | None) -> CalendarSession:
    start = datetime(2026, 10, 5, 12, 0, tzinfo=UTC)
    record = SessionRecord(
        id=42,
        starts_at=start,
        duration_minutes=90,
        modality="classe_virtuelle",
        connection_link=link,
        planned_headcount=20,
        held=False,
        actual_headcount=None,
        formateur_id=None,
        trainer_count=1,
        created_at=start,
        revision=revision,
    )
    return CalendarSession(
        record, "Classe virtuelle (synchrone)", "Sophie", start.replace(hour=13, minute=30)
    )


def test_the_calendar_parses_with_a_stable_uid_a_sequence_and_the_visio_link() -> None:
    now = datetime(2026, 9, 1, tzinfo=UTC)
    first = Calendar.from_ical(to_ics(HEADER, [_session(0, "https://visio.example.org/a")], now))
    later = Calendar.from_ical(to_ics(HEADER, [_session(1, "https://visio.example.org/b")], now))
    [a] = first.walk("VEVENT")
    [b] = later.walk("VEVENT")
    assert str(a["UID"]) == str(b["UID"]) == session_uid(42)
    assert (int(str(a["SEQUENCE"])), int(str(b["SEQUENCE"]))) == (0, 1)
    assert a.decoded("DTSTART") == datetime(2026, 10, 5, 12, 0, tzinfo=UTC)
    assert a.decoded("DTEND") == datetime(2026, 10, 5, 13, 30, tzinfo=UTC)
    assert str(b["URL"]) == "https://visio.example.org/b"
    assert "Lien de connexion : https://visio.example.org/b" in str(b["DESCRIPTION"])


def test_print_views_escape_what_people_typed() -> None:
    now = datetime(2026, 9, 1, tzinfo=UTC)
    fiche = render_fiche(Fiche(HEADER, None, ()), now)
    bilan = render_bilan(
        BilanView(HEADER, BilanRecord(view_formateurs="<img src=x onerror=alert(1)>"), (), (), ()),
        now,
    )
    for html in (fiche, bilan):
        assert "<script>" not in html and "&lt;script&gt;" in html
        assert "<b>test</b>" not in html and "<i>Pilote</i>" not in html
        assert '<html lang="fr">' in html and "@media print" in html
    assert "<img" not in bilan and "&lt;img src=x" in bilan
    assert "Aucune décision de paiement n'a encore été prise" in fiche
    assert "le 1er septembre 2026" in fiche  # French: « 1er », never « 1 septembre »
