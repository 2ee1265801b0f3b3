"""The import of a list of stagiaires: each line judged, in French, before anything is written.

The edge reads the file (CSV or XLSX, any of the usual encodings) into a header and rows
of text; here the French headers are recognised, and each line becomes « à inscrire »,
« déjà inscrit·e » or « refusée » with its reasons (missing or invalid address, the same
address twice in the file, an établissement the académie does not know…). The import
itself applies the same plan in its transaction, all or nothing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from workflow.engine.errors import InvalidInput
from workflow.engine.rows import DossierRow
from workflow.participants.etablissements import Etablissement, directory
from workflow.participants.inputs import StagiaireInput, normalise_email
from workflow.store.tables import enrolment_table as N
from workflow.store.tables import person_table as P

MAX_LINES = 5000
"""More stagiaires than any one training has: a bigger file is refused as a whole."""

HEADERS: dict[str, tuple[str, ...]] = {
    "last_name": ("nom", "nom de famille", "nom d usage", "nom patronymique"),
    "first_name": ("prenom", "prenoms"),
    "email": (
        "courriel",
        "adresse electronique",
        "adresse de courriel",
        "adresse mail",
        "mail",
        "mel",
        "email",
        "e mail",
    ),
    "etablissement": (
        "etablissement",
        "ecole",
        "etablissement ou ecole",
        "etablissement ecole",
        "etablissement d exercice",
        "uai",
        "rne",
        "code uai",
    ),
    "discipline": ("discipline", "public", "discipline ou public", "discipline public"),
}
LABELS = {
    "last_name": "Nom",
    "first_name": "Prénom",
    "email": "Courriel",
    "etablissement": "Établissement",
    "discipline": "Discipline ou public",
}
REQUIRED = ("last_name", "first_name", "email", "etablissement")

STATUS_LABELS = {
    "a_inscrire": "Sera inscrit·e",
    "deja_inscrit": "Déjà inscrit·e",
    "refusee": "Refusée",
}


def header_key(text: str) -> str:
    """« Adresse électronique », « ADRESSE_ELECTRONIQUE » and « adresse-électronique » are
    the same header: case, accents and punctuation do not count."""
    decomposed = unicodedata.normalize("NFKD", text.replace("\ufeff", ""))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    cleaned = "".join(ch if ch.isalnum() else " " for ch in plain)
    return " ".join(cleaned.split())


_KNOWN = {alias: name for name, aliases in HEADERS.items() for alias in aliases}


@dataclass(frozen=True, slots=True)
class ImportLine:
    number: int
    """The line of the file (the header is line 1), as a spreadsheet shows it."""
    name: str
    email: str
    etablissement: str
    status: str
    messages: tuple[str, ...] = ()

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True, slots=True)
class ImportReport:
    lines: tuple[ImportLine, ...]
    problems: tuple[str, ...] = ()
    """What is wrong with the file as a whole (missing column, no line, too many)."""
    ignored_columns: tuple[str, ...] = ()

    def count(self, status: str) -> int:
        return sum(1 for line in self.lines if line.status == status)

    @property
    def to_enrol(self) -> int:
        return self.count("a_inscrire")

    @property
    def already(self) -> int:
        return self.count("deja_inscrit")

    @property
    def refused(self) -> int:
        return self.count("refusee")

    @property
    def ok(self) -> bool:
        return not self.problems and not self.refused and bool(self.lines)


class ImportRefused(InvalidInput):
    """The file cannot be imported as it is; the report says why, line by line."""

    def __init__(self, report: ImportReport) -> None:
        reasons = list(report.problems)
        if report.refused:
            reasons.append(
                f"{report.refused} ligne{'s' if report.refused > 1 else ''} refusée"
                f"{'s' if report.refused > 1 else ''}"
            )
        super().__init__(
            "Rien n'a été importé : " + " ; ".join(reasons) + ". Corrigez le fichier et "
            "recommencez."
        )
        self.report = report


@dataclass(frozen=True, slots=True)
class Planned:
    report: ImportReport
    to_enrol: list[StagiaireInput] = field(default_factory=list)


def _columns(header: Sequence[str]) -> tuple[dict[str, int], list[str], list[str]]:
    """Field → column index, the problems of the header, the columns left aside."""
    found: dict[str, int] = {}
    problems: list[str] = []
    ignored: list[str] = []
    for index, title in enumerate(header):
        key = header_key(title)
        if not key:
            continue
        name = _KNOWN.get(key)
        if name is None:
            ignored.append(title.strip())
        elif name in found:
            problems.append(f"la colonne « {LABELS[name]} » apparaît deux fois")
        else:
            found[name] = index
    missing = [LABELS[name] for name in REQUIRED if name not in found]
    if missing:
        listed = ", ".join(f"« {m} »" for m in missing)
        problems.append(
            f"colonne{'s' if len(missing) > 1 else ''} manquante{'s' if len(missing) > 1 else ''}"
            f" : {listed} (en-têtes attendus : Nom ; Prénom ; Courriel ; Établissement ; "
            "Discipline ou public)"
        )
    return found, problems, ignored


def _cell(row: Sequence[str], index: int | None) -> str:
    if index is None or index >= len(row):
        return ""
    return str(row[index]).strip()


def _already_enrolled(conn: Connection, dossier_id: int) -> set[str]:
    rows = conn.execute(
        select(P.c.email)
        .join(N, N.c.person_id == P.c.id)
        .where(N.c.dossier_id == dossier_id, N.c.withdrawn_at.is_(None))
    )
    return {str(email) for email in rows.scalars()}


def plan(
    conn: Connection, dossier: DossierRow, header: Sequence[str], rows: Sequence[Sequence[str]]
) -> Planned:
    """Judge every line of the file for this dossier, in order; write nothing."""
    columns, problems, ignored = _columns(header)
    body = [
        (number, row)
        for number, row in enumerate(rows, start=2)
        if any(str(c).strip() for c in row)
    ]
    if not body:
        problems.append("le fichier ne contient aucune ligne de stagiaire sous les en-têtes")
    if len(body) > MAX_LINES:
        problems.append(f"le fichier compte {len(body)} lignes ; {MAX_LINES} au plus")
    if problems:
        return Planned(ImportReport((), tuple(problems), tuple(ignored)))
    known = directory(conn, dossier.academie_id)
    enrolled = _already_enrolled(conn, dossier.id)
    first_line: dict[str, int] = {}
    lines: list[ImportLine] = []
    to_enrol: list[StagiaireInput] = []
    for number, row in body:
        last, first = _cell(row, columns["last_name"]), _cell(row, columns["first_name"])
        typed_email = _cell(row, columns["email"])
        place = _cell(row, columns["etablissement"])
        discipline = _cell(row, columns.get("discipline"))
        name = f"{first} {last}".strip()
        messages: list[str] = []
        for value, what, limit in ((last, "nom", 100), (first, "prénom", 100)):
            if not value:
                messages.append(f"{what} manquant")
            elif len(value) > limit:
                messages.append(f"{what} trop long ({limit} caractères au plus)")
        if len(discipline) > 200:
            messages.append("discipline ou public trop long (200 caractères au plus)")
        email = typed_email.lower()
        try:
            email = normalise_email(typed_email)
        except ValueError as error:
            messages.append(str(error))
        else:
            if email in first_line:
                messages.append(f"adresse déjà présente ligne {first_line[email]} du fichier")
        found: Etablissement | str = known.find(place)
        if isinstance(found, str):
            messages.append(found)
        label = found.name if isinstance(found, Etablissement) else place
        if messages:
            lines.append(ImportLine(number, name, typed_email, label, "refusee", tuple(messages)))
            continue
        first_line.setdefault(email, number)
        if email in enrolled:
            lines.append(ImportLine(number, name, email, label, "deja_inscrit"))
            continue
        assert isinstance(found, Etablissement)
        lines.append(ImportLine(number, name, email, label, "a_inscrire"))
        to_enrol.append(
            StagiaireInput(
                last_name=last,
                first_name=first,
                email=email,
                etablissement_id=found.id,
                discipline=discipline,
            )
        )
    return Planned(ImportReport(tuple(lines), (), tuple(ignored)), to_enrol)
