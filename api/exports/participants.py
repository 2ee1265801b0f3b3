"""The stagiaires' papers: émargement sheets (per session, per asynchronous period) as a
printable page and as CSV, and attestations de formation as printable pages.

Each function returns HTML (or CSV bytes): the pages carry their print stylesheet, and a
server-side PDF renderer can take the same HTML. Autoescape is on: names and places are
typed by people.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import Connection

from api.exports.files import CSV, HTML, ExportFile
from api.exports.sheets import Column, Table, to_csv
from workflow.language.french import PARIS, format_date, format_datetime, format_hours
from workflow.language.vocabulary import ATTENDANCE_STATUSES
from workflow.participants.attestations import Attestation
from workflow.participants.roster import (
    AsyncStep,
    Participant,
    SessionSlot,
    async_steps,
    marks_of,
    roster,
    slot,
)
from workflow.reads.paperwork import Header, header

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "print"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"], default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters.update(date_fr=format_date, datetime_fr=format_datetime, hours=format_hours)

NOT_RECORDED = "Non renseigné"


@dataclass(frozen=True, slots=True)
class Line:
    person: Participant
    status: str


@dataclass(frozen=True, slots=True)
class SessionSheet:
    header: Header
    session: SessionSlot
    lines: tuple[Line, ...]

    @property
    def day(self) -> str:
        return format_datetime(self.session.starts_at)

    @property
    def ends(self) -> str:
        return f"{self.session.ends_at.astimezone(PARIS):%H:%M}"

    def count(self, status: str) -> int:
        return sum(1 for line in self.lines if line.status == ATTENDANCE_STATUSES[status])


@dataclass(frozen=True, slots=True)
class StepSheet:
    header: Header
    step: AsyncStep
    lines: tuple[Line, ...]

    @property
    def done(self) -> int:
        return sum(1 for line in self.lines if line.status == "Fait")


def session_sheet(conn: Connection, dossier_id: int, session_id: int) -> SessionSheet | None:
    found = slot(conn, dossier_id, session_id)
    if found is None:
        return None
    marks = marks_of(conn, dossier_id).sessions
    lines = tuple(
        Line(p, ATTENDANCE_STATUSES.get(marks.get((session_id, p.enrolment_id), ""), NOT_RECORDED))
        for p in roster(conn, dossier_id, active_only=True)
    )
    return SessionSheet(header(conn, dossier_id), found, lines)


def step_sheet(conn: Connection, dossier_id: int, step_id: int) -> StepSheet | None:
    found = next((s for s in async_steps(conn, dossier_id) if s.id == step_id), None)
    if found is None:
        return None
    marks = marks_of(conn, dossier_id).steps
    lines = []
    for p in roster(conn, dossier_id, active_only=True):
        done = marks.get((step_id, p.enrolment_id))
        lines.append(Line(p, NOT_RECORDED if done is None else ("Fait" if done else "Non fait")))
    return StepSheet(header(conn, dossier_id), found, tuple(lines))


def _stem(sheet: SessionSheet | StepSheet) -> str:
    if isinstance(sheet, SessionSheet):
        day = sheet.session.starts_at.astimezone(PARIS).date().isoformat()
        return f"emargement-{sheet.header.reference}-session-{day}-{sheet.session.id}"
    return f"emargement-{sheet.header.reference}-distance-{sheet.step.id}"


def sheet_html(sheet: SessionSheet | StepSheet, now: datetime) -> ExportFile:
    template = (
        "emargement_session.html" if isinstance(sheet, SessionSheet) else "emargement_etape.html"
    )
    html = _env.get_template(template).render(sheet=sheet, header=sheet.header, now=now)
    return ExportFile(f"{_stem(sheet)}.html", HTML, html.encode("utf-8"))


def sheet_csv(sheet: SessionSheet | StepSheet) -> ExportFile:
    what = "Présence" if isinstance(sheet, SessionSheet) else "Activité à distance"
    table = Table(
        f"Émargement {sheet.header.reference}",
        (
            Column("Nom et prénom", width=28),
            Column("Courriel", width=30),
            Column("Établissement", width=30),
            Column("Discipline ou public", width=22),
            Column(what, width=18),
        ),
        [
            [
                line.person.full_name,
                line.person.email,
                line.person.etablissement or "",
                line.person.discipline,
                line.status,
            ]
            for line in sheet.lines
        ],
    )
    return ExportFile(f"{_stem(sheet)}.csv", CSV, to_csv(table))


def render_attestation(item: Attestation) -> str:
    """One attestation de formation, a printable A4 page."""
    return _env.get_template("attestation.html").render(items=[item], title=_title(item))


def render_attestations(items: list[Attestation]) -> str:
    """Every attestation of a dossier in one printable document, one per page."""
    title = _title(items[0]) if items else "Attestations de formation"
    return _env.get_template("attestation.html").render(items=items, title=title)


def _title(item: Attestation) -> str:
    return f"Attestation de formation — {item.reference}"
