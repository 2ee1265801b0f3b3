"""Importing people into an académie from a CSV file: a dry run first, then all or nothing.

The file has French headers on its first line (accents and case do not matter):
``courriel`` (or ``adresse électronique``, ``email``), ``nom`` and ``prénom`` — or ``nom
complet`` — and optionally ``rôle`` (gestionnaire, responsable or administrateur: an
académie role to give). It may be UTF-8 (with or without BOM) or Windows-1252 (what a
spreadsheet saves as « CSV »), separated by semicolons, commas or tabs.

``review`` reads every line and says in French what importing would do with it — create
the person, add someone already known to formaflow to the directory, nothing (already
there), or refuse the line and why. ``apply`` writes it only if no line is refused, in the
caller's one transaction: a file is imported whole or not at all.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection, select

from states.roles import ACADEMIE_ROLES, role_label
from workflow.admin import people
from workflow.engine.errors import InvalidInput
from workflow.store.tables import assignment_table as A
from workflow.store.tables import person_table as P

MAX_BYTES = 2 * 1024 * 1024
MAX_LINES = 5000

HEADERS = {
    "courriel": "email",
    "adresse electronique": "email",
    "adresse mail": "email",
    "email": "email",
    "e-mail": "email",
    "mail": "email",
    "nom": "last_name",
    "nom de famille": "last_name",
    "prenom": "first_name",
    "nom complet": "full_name",
    "prenom nom": "full_name",
    "role": "role",
    "role d'academie": "role",
}
"""Accepted headers (without accents, lower case) → the column they name."""

ROLE_NAMES = {
    **{role: role for role in ACADEMIE_ROLES},
    **{_label.lower(): role for role, _label in ACADEMIE_ROLES.items()},
}


class Outcome(StrEnum):
    CREATE = "creation"
    JOIN = "ajout"
    NOTHING = "rien"
    REFUSED = "refusee"


OUTCOME_LABELS = {
    Outcome.CREATE: "Création",
    Outcome.JOIN: "Ajout à l'annuaire",
    Outcome.NOTHING: "Déjà présente",
    Outcome.REFUSED: "Refusée",
}


COUNTED = {
    Outcome.CREATE: ("création", "créations"),
    Outcome.JOIN: ("ajout à l'annuaire", "ajouts à l'annuaire"),
    Outcome.NOTHING: ("déjà présente", "déjà présentes"),
    Outcome.REFUSED: ("refusée", "refusées"),
}


def _counted(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count < 2 else plural}"


@dataclass(frozen=True, slots=True)
class ImportLine:
    number: int
    """The line of the file (the header is line 1)."""
    email: str
    full_name: str
    role: str | None
    outcome: Outcome
    message: str


@dataclass(frozen=True, slots=True)
class ImportReport:
    lines: tuple[ImportLine, ...]
    problem: str | None = None
    """A problem with the file as a whole (encoding, headers): no line was read."""
    counts: dict[Outcome, int] = field(default_factory=dict)

    @property
    def refused(self) -> list[ImportLine]:
        return [line for line in self.lines if line.outcome is Outcome.REFUSED]

    @property
    def importable(self) -> bool:
        return self.problem is None and bool(self.lines) and not self.refused

    def summary(self) -> str:
        if self.problem is not None:
            return self.problem
        parts = [
            _counted(self.counts[o], *COUNTED[o]) for o in OUTCOME_LABELS if self.counts.get(o, 0)
        ]
        read = _counted(len(self.lines), "ligne lue", "lignes lues")
        return f"{read} : {', '.join(parts)}."


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.replace("\ufeff", "").strip().lower().replace("_", " ").split())


def decode(content: bytes) -> str:
    """The file's text: UTF-8 (BOM or not), else Windows-1252."""
    if len(content) > MAX_BYTES:
        raise InvalidInput(
            f"Fichier trop volumineux ({len(content) // 1024} Ko) : 2 Mo au plus.", "fichier"
        )
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


class _Semicolons(csv.excel):
    delimiter = ";"


def _rows(text: str) -> tuple[list[str], list[list[str]]]:
    sample = text[:4096]
    dialect: type[csv.Dialect]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=";,\t")
    except csv.Error:
        dialect = _Semicolons if sample.count(";") >= sample.count(",") else csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    rows = [row for row in reader]
    if not rows:
        raise InvalidInput("Le fichier est vide : une ligne d'en-têtes est attendue.", "fichier")
    return rows[0], rows[1:]


def _columns(headers: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    unknown = []
    for index, header in enumerate(headers):
        name = HEADERS.get(_plain(header))
        if name is None:
            if header.strip():
                unknown.append(header.strip())
            continue
        columns.setdefault(name, index)
    if "email" not in columns:
        raise InvalidInput(
            "Colonne « courriel » absente de la première ligne (en-têtes attendus : courriel, "
            "nom, prénom — ou nom complet —, et rôle facultatif)"
            + (f" ; en-têtes non reconnus : {', '.join(unknown)}." if unknown else "."),
            "fichier",
        )
    if "full_name" not in columns and "last_name" not in columns:
        raise InvalidInput(
            "Colonne « nom » (ou « nom complet ») absente de la première ligne.", "fichier"
        )
    return columns


def _cell(row: list[str], columns: dict[str, int], name: str) -> str:
    index = columns.get(name)
    return row[index].strip() if index is not None and index < len(row) else ""


def review(conn: Connection, academie_id: int, content: bytes) -> ImportReport:
    """What importing this file would do, line by line (writes nothing)."""
    try:
        headers, rows = _rows(decode(content))
        columns = _columns(headers)
    except InvalidInput as error:
        return ImportReport((), error.message)
    if len(rows) > MAX_LINES:
        return ImportReport((), f"Trop de lignes ({len(rows)}) : {MAX_LINES} au plus par fichier.")
    found: list[ImportLine] = []
    seen: dict[str, int] = {}
    addresses = {_cell(r, columns, "email").lower() for r in rows if _cell(r, columns, "email")}
    known = dict(
        conn.execute(select(P.c.email, P.c.id).where(P.c.email.in_(addresses))).all()
        if addresses
        else []
    )
    ids = [int(i) for i in known.values()]
    members = {
        int(i)
        for i in conn.execute(
            select(P.c.id).where(P.c.id.in_(ids), people.in_directory_clause(academie_id))
        ).scalars()
    }
    held = {
        (int(row.person_id), str(row.role))
        for row in conn.execute(
            select(A.c.person_id, A.c.role).where(A.c.academie_id == academie_id)
        )
    }
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        email = _cell(row, columns, "email")
        full = _cell(row, columns, "full_name") or " ".join(
            part
            for part in (_cell(row, columns, "first_name"), _cell(row, columns, "last_name"))
            if part
        )
        typed_role = _cell(row, columns, "role")
        role = ROLE_NAMES.get(typed_role.lower()) if typed_role else None

        try:
            address, name = people.check_new_person(email, full)
        except InvalidInput as error:
            found.append(ImportLine(number, email, full, role, Outcome.REFUSED, error.message))
            continue
        refusal = None
        if typed_role and role is None:
            allowed = ", ".join(ACADEMIE_ROLES)
            refusal = f"rôle inconnu « {typed_role} » (au choix : {allowed}, ou vide)"
        elif address in seen:
            refusal = f"adresse en double dans le fichier (déjà ligne {seen[address]})"
        if refusal is not None:
            found.append(ImportLine(number, address, name, role, Outcome.REFUSED, refusal))
            continue
        seen[address] = number
        person = known.get(address)
        role_text = f", rôle {role_label(role)}" if role else ""
        if person is None:
            outcome, message = Outcome.CREATE, f"nouvelle personne dans formaflow{role_text}"
        elif int(person) not in members:
            outcome = Outcome.JOIN
            message = f"déjà connue de formaflow : ajout à l'annuaire de l'académie{role_text}"
        elif role and (int(person), role) not in held:
            outcome, message = Outcome.JOIN, f"déjà dans l'annuaire{role_text} en plus"
        else:
            outcome, message = Outcome.NOTHING, "déjà dans l'annuaire : rien à faire"
        found.append(ImportLine(number, address, name, role, outcome, message))
    counts: dict[Outcome, int] = {}
    for line in found:
        counts[line.outcome] = counts.get(line.outcome, 0) + 1
    if not found:
        return ImportReport((), "Aucune ligne à importer sous la ligne d'en-têtes.")
    return ImportReport(tuple(found), None, counts)


def apply(
    conn: Connection,
    academie_id: int,
    content: bytes,
    *,
    actor_id: int | None,
    now: datetime,
) -> ImportReport:
    """Import the whole file (in the caller's transaction), or refuse it whole."""
    report = review(conn, academie_id, content)
    if report.problem is not None:
        raise InvalidInput(report.problem, "fichier")
    if report.refused:
        raise InvalidInput(
            f"{len(report.refused)} ligne(s) refusée(s) : rien n'a été importé. "
            "Corrigez le fichier puis recommencez.",
            "fichier",
        )
    for line in report.lines:
        if line.outcome is Outcome.NOTHING:
            continue
        added = people.add_person(
            conn, academie_id, line.email, line.full_name, actor_id=actor_id, now=now
        )
        if line.role is not None:
            held = select(A.c.id).where(
                A.c.person_id == added.person_id,
                A.c.role == line.role,
                A.c.academie_id == academie_id,
            )
            if conn.execute(held).first() is None:
                people.grant(
                    conn, academie_id, added.person_id, line.role, actor_id=actor_id, now=now
                )
    return report
