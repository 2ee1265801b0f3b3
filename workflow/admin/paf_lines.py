"""The lines of a PAF file: its documented columns, their French headers, and each cell
read into a typed value or a French reason why it cannot be.

Pure functions on rows of cells: the edge (``api/``) turns a CSV or XLSX file into rows
(text from a CSV; text, numbers and dates from a spreadsheet), since ``workflow/`` knows no
file format. Nothing here touches the database; ``workflow.admin.paf`` plans and applies.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from states.dispositifs import DISPOSITIFS
from workflow.engine.errors import InvalidInput

Cell = str | int | float | Decimal | date | datetime | None

MAX_LINES = 5000
"""More lines than any académie's plan: a larger file is refused as a whole, before any
database work, rather than holding a transaction open for minutes."""

MAX_HOURS = Decimal(10_000)
MAX_PARTICIPANTS = 100_000


@dataclass(frozen=True, slots=True)
class PafColumn:
    key: str
    header: str
    """The documented French header (the template file's, and the one the report names)."""
    aliases: tuple[str, ...]
    """Other headers accepted, compared without accents, case or punctuation."""
    help: str
    example: str
    required: bool = False


COLUMNS: tuple[PafColumn, ...] = (
    PafColumn(
        "paf_id",
        "Identifiant PAF",
        ("identifiant", "id paf", "code paf", "identifiant du dispositif", "identifiant module"),
        "L'identifiant du dispositif ou du module dans le PAF ; un nouvel import met à jour "
        "le dossier qui porte cet identifiant au lieu d'en créer un autre.",
        "26A0140123",
        required=True,
    ),
    PafColumn(
        "title",
        "Intitulé",
        ("titre", "libelle", "intitule du dispositif", "intitule du module"),
        "L'intitulé de la formation (3 à 300 caractères).",
        "Classe virtuelle en cycle 3",
        required=True,
    ),
    PafColumn(
        "dispositif",
        "Dispositif",
        ("bareme", "dispositif bareme", "dispositif ou bareme"),
        "Le dispositif, qui fixe le barème de rémunération : son libellé ou son code ("
        + ", ".join(DISPOSITIFS)
        + ").",
        "vacation_accompagnement",
    ),
    PafColumn(
        "pilote",
        "Pilote (courriel)",
        ("pilote", "courriel du pilote", "courriel pilote"),
        "L'adresse électronique du pilote, une personne déjà connue de formaflow "
        "(obligatoire pour créer le dossier).",
        "paul.lefevre@example.org",
    ),
    PafColumn(
        "formateurs",
        "Formateurs (courriels)",
        ("formateurs", "formateur", "courriels des formateurs"),
        "Les adresses des formateurs, séparées par des virgules, des points-virgules ou des "
        "retours à la ligne.",
        "sophie.bernard@example.org, julien.petit@example.org",
    ),
    PafColumn(
        "concepteurs",
        "Concepteurs (courriels)",
        ("concepteurs", "concepteur", "courriels des concepteurs"),
        "Les adresses des concepteurs, séparées comme celles des formateurs.",
        "lucie.fontaine@example.org",
    ),
    PafColumn(
        "hours_presentiel",
        "Heures présentiel",
        ("heures en presentiel", "heures de presentiel", "presentiel h", "heures presentielles"),
        "Les heures prévues en présentiel (nombre, virgule décimale acceptée).",
        "6",
    ),
    PafColumn(
        "hours_distance",
        "Heures distance",
        ("heures a distance", "heures de distance", "distance h", "heures distancielles"),
        "Les heures prévues à distance.",
        "13,5",
    ),
    PafColumn(
        "participants",
        "Participants prévus",
        ("participants", "nombre de participants", "effectif prevu", "effectif"),
        "Le nombre de participants prévus (entier).",
        "20",
    ),
    PafColumn(
        "start",
        "Date de début",
        ("debut", "date debut", "date de debut prevue"),
        "La date de début prévue, JJ/MM/AAAA.",
        "14/09/2026",
    ),
    PafColumn(
        "end",
        "Date de fin",
        ("fin", "date fin", "date de fin prevue"),
        "La date de fin prévue, JJ/MM/AAAA.",
        "12/12/2026",
    ),
    PafColumn(
        "dates",
        "Dates",
        ("periode", "dates prevues"),
        "À la place des deux colonnes précédentes : « du 14/09/2026 au 12/12/2026 ».",
        "",
    ),
    PafColumn(
        "public",
        "Public",
        ("public vise", "public cible", "publics"),
        "Le public visé, repris dans le scénario du dossier.",
        "Enseignants de cycle 3",
    ),
)
COLUMN_BY_KEY = {column.key: column for column in COLUMNS}
TEMPLATE_COLUMNS = tuple(c for c in COLUMNS if c.key != "dates")
"""The columns of the downloadable template (« Dates » is an alternative to two of them)."""

_EMAIL = re.compile(r"^[^@\s,;<>\"']+@[^@\s,;<>\"']+\.[^@\s,;<>\"']+$")
_SEPARATORS = re.compile(r"[,;\s]+")
_FRENCH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def normalise(text: str) -> str:
    """A header as compared: no accents, no case, words separated by single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


_HEADERS: dict[str, str] = {}
for _column in COLUMNS:
    for _name in (_column.header, _column.key, *_column.aliases):
        _HEADERS.setdefault(normalise(_name), _column.key)

_DISPOSITIFS: dict[str, str] = {
    "vacations": "vacation_accompagnement",
    "vacation": "vacation_accompagnement",
    "hse": "hse_convention_ent",
    "convention ent": "hse_convention_ent",
    "taux a": "eafc_taux_a",
}
"""The names a PAF commonly uses for each dispositif, beside its label and its code."""
for _known in DISPOSITIFS.values():
    for _name in (_known.id, _known.label, _known.bareme):
        _DISPOSITIFS[normalise(_name)] = _known.id


@dataclass
class PafLine:
    """One line of the file as read: its number as a spreadsheet shows it (the header is
    line 1), the values it gives (absent: the cell was empty) and what is wrong with it."""

    number: int
    values: dict[str, object] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def paf_id(self) -> str:
        value = self.values.get("paf_id")
        return value if isinstance(value, str) else ""

    @property
    def title(self) -> str:
        value = self.values.get("title")
        return value if isinstance(value, str) else ""

    def text(self, key: str) -> str | None:
        value = self.values.get(key)
        return value if isinstance(value, str) else None

    def emails(self, key: str) -> list[str] | None:
        value = self.values.get(key)
        return list(value) if isinstance(value, tuple) else None


@dataclass(frozen=True, slots=True)
class PafFile:
    lines: list[PafLine]
    ignored_columns: tuple[str, ...]


def _text_of(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime):
        return cell.date().isoformat()
    return str(cell).strip()


def _header_keys(headers: Sequence[Cell]) -> tuple[dict[int, str], tuple[str, ...]]:
    keys: dict[int, str] = {}
    ignored: list[str] = []
    seen: dict[str, str] = {}
    for index, raw in enumerate(headers):
        text = _text_of(raw).lstrip("\ufeff")
        if not text:
            continue
        key = _HEADERS.get(normalise(text))
        if key is None:
            ignored.append(text)
            continue
        if key in seen:
            raise InvalidInput(
                f"Les colonnes « {seen[key]} » et « {text} » désignent toutes deux "
                f"« {COLUMN_BY_KEY[key].header} » : gardez-en une seule."
            )
        seen[key] = text
        keys[index] = key
    missing = [c.header for c in COLUMNS if c.required and c.key not in seen]
    if missing:
        expected = ", ".join(f"« {c.header} »" for c in COLUMNS if c.key != "dates")
        raise InvalidInput(
            "La première ligne du fichier doit nommer les colonnes ; il manque "
            + ", ".join(f"« {m} »" for m in missing)
            + f". Colonnes reconnues : {expected}."
        )
    if "dates" in seen and ("start" in seen or "end" in seen):
        raise InvalidInput(
            "Donnez les dates soit dans la colonne « Dates », soit dans « Date de début » et "
            "« Date de fin », pas dans les deux."
        )
    return keys, tuple(ignored)


def read_lines(rows: Sequence[Sequence[Cell]]) -> PafFile:
    """The header row, then every non-blank line with its values read. ``InvalidInput``
    (French) when the file as a whole cannot be read: no header, a required column
    missing, too many lines."""
    if not rows:
        raise InvalidInput("Le fichier est vide : il doit commencer par la ligne des en-têtes.")
    keys, ignored = _header_keys(rows[0])
    lines: list[PafLine] = []
    for offset, row in enumerate(rows[1:], start=2):
        if all(not _text_of(cell) for cell in row):
            continue
        if len(lines) >= MAX_LINES:
            raise InvalidInput(
                f"Le fichier compte plus de {MAX_LINES} lignes : découpez-le en plusieurs fichiers."
            )
        line = PafLine(offset)
        for index, key in keys.items():
            cell = row[index] if index < len(row) else None
            if not _text_of(cell):
                continue
            _read_cell(line, key, cell)
        for column in COLUMNS:
            if column.required and column.key not in line.values:
                line.problems.append(f"{column.header} : obligatoire")
        start, end = line.values.get("start"), line.values.get("end")
        if isinstance(start, date) and isinstance(end, date) and end < start:
            line.problems.append("Dates : la date de fin précède la date de début")
        lines.append(line)
    return PafFile(lines, ignored)


def _read_cell(line: PafLine, key: str, cell: Cell) -> None:
    header = COLUMN_BY_KEY[key].header
    try:
        if key == "dates":
            line.values.update(_dates(cell))
        else:
            line.values[key] = _READERS[key](cell)
    except ValueError as error:
        line.problems.append(f"{header} : {error}")


def _identifier(cell: Cell) -> str:
    text = _text_of(cell)
    if len(text) > 64:
        raise ValueError("64 caractères au plus")
    if any(unicodedata.category(ch)[0] == "C" for ch in text):
        raise ValueError("caractère de contrôle interdit")
    return text


def _no_control(text: str) -> str:
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in text):
        raise ValueError("caractère de contrôle interdit")
    return text


def _title(cell: Cell) -> str:
    text = _no_control(" ".join(_text_of(cell).split()))
    if len(text) < 3:
        raise ValueError("3 caractères au moins")
    if len(text) > 300:
        raise ValueError("300 caractères au plus")
    return text


def _dispositif(cell: Cell) -> str:
    found = _DISPOSITIFS.get(normalise(_text_of(cell)))
    if found is None:
        known = " ; ".join(f"{d.label} ({d.id})" for d in DISPOSITIFS.values())
        raise ValueError(f"« {_text_of(cell)} » inconnu ; dispositifs possibles : {known}")
    return found


def _email(cell: Cell) -> str:
    emails = _emails(cell)
    if len(emails) != 1:
        raise ValueError("une seule adresse électronique attendue")
    return emails[0]


def _emails(cell: Cell) -> tuple[str, ...]:
    found: list[str] = []
    for part in _SEPARATORS.split(_text_of(cell)):
        if not part:
            continue
        address = part.strip().lower()
        if not _EMAIL.match(address) or len(address) > 320:
            raise ValueError(f"« {part} » n'est pas une adresse électronique")
        if address not in found:
            found.append(address)
    return tuple(found)


def _decimal(cell: Cell) -> Decimal:
    if isinstance(cell, bool | date | datetime):
        raise ValueError("nombre attendu (ex. 6 ou 4,5)")
    if isinstance(cell, int | Decimal):
        value = Decimal(cell)
    elif isinstance(cell, float):
        value = Decimal(str(cell))
    else:
        text = _text_of(cell).replace("\u202f", "").replace("\xa0", "").replace(" ", "")
        text = text.removesuffix("h").removesuffix("H").replace(",", ".")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ValueError("nombre attendu (ex. 6 ou 4,5)") from None
    return value


def _hours(cell: Cell) -> Decimal:
    value = _decimal(cell)
    if not value.is_finite() or value < 0 or value > MAX_HOURS:
        raise ValueError(f"entre 0 et {MAX_HOURS} heures")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError("deux décimales au plus")
    return value.quantize(Decimal("0.01"))


def _participants(cell: Cell) -> int:
    try:
        value = _decimal(cell)
    except ValueError:
        raise ValueError("nombre entier attendu (ex. 18)") from None
    if not value.is_finite() or value != value.to_integral_value():
        raise ValueError("nombre entier attendu")
    if value < 0 or value > MAX_PARTICIPANTS:
        raise ValueError(f"entre 0 et {MAX_PARTICIPANTS}")
    return int(value)


def _date(cell: Cell) -> date:
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    found = _all_dates(_text_of(cell))
    if len(found) != 1:
        raise ValueError("date attendue au format JJ/MM/AAAA, par exemple 14/09/2026")
    return found[0]


def _all_dates(text: str) -> list[date]:
    found: list[date] = []
    for match in re.finditer(f"{_FRENCH_DATE.pattern}|{_ISO_DATE.pattern}", text):
        groups = match.groups()
        if groups[0] is not None:
            day, month, year = int(groups[0]), int(groups[1]), int(groups[2])
        else:
            year, month, day = int(groups[3]), int(groups[4]), int(groups[5])
        try:
            found.append(date(year, month, day))
        except ValueError:
            raise ValueError(f"« {match.group(0)} » n'est pas une date du calendrier") from None
    return found


def _dates(cell: Cell) -> dict[str, date]:
    if isinstance(cell, date | datetime):
        return {"start": _date(cell)}
    found = _all_dates(_text_of(cell))
    if not found or len(found) > 2:
        raise ValueError("une ou deux dates attendues, « du 14/09/2026 au 12/12/2026 »")
    result = {"start": found[0]}
    if len(found) == 2:
        result["end"] = found[1]
    return result


def _public(cell: Cell) -> str:
    text = _no_control(_text_of(cell))
    if len(text) > 2000:
        raise ValueError("2 000 caractères au plus")
    return text


_READERS: dict[str, Callable[[Cell], object]] = {
    "paf_id": _identifier,
    "title": _title,
    "dispositif": _dispositif,
    "pilote": _email,
    "formateurs": _emails,
    "concepteurs": _emails,
    "hours_presentiel": _hours,
    "hours_distance": _hours,
    "participants": _participants,
    "start": _date,
    "end": _date,
    "public": _public,
}
