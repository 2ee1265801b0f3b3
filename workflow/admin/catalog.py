"""Every setting an académie administers: its key, its French label, how a typed value is
checked and kept, and how it reads in the history.

One catalogue serves the pages, the API, the CLI and the seed files, so a value is refused
for the same reason, in the same French words, wherever it is typed. A value arrives as
what a person typed (a string) or as JSON (API, seed file); ``normalise`` turns it into the
canonical value stored in ``academie_setting`` (or ``None``: back to the default), or
raises ``SettingsRefused`` naming the key and the reason.

Keys follow the seed files (``states/academies/*.toml``): ``tarifs.hse``,
``delais.rappel_signature``, ``signataires.eafc_taux_a``… ``nom`` and ``reply_to`` are
columns of the académie's row, administered and historised the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from states import SPECS
from states.dispositifs import DISPOSITIFS, SignatoryMode
from states.roles import role_label
from states.spec import DeadlineSpec
from workflow.engine.errors import InvalidInput
from workflow.language.vocabulary import PARTICIPATION_RULES
from workflow.payments.baremes import (
    BaremeError,
    Rates,
    VirtualClassRate,
    format_decimal_fr,
    format_euros,
)
from workflow.store import academie_settings as keys

NAME = "nom"
REPLY_TO = "reply_to"
ROW_KEYS = (NAME, REPLY_TO)
"""Settings kept on the académie's row rather than in ``academie_setting``."""

SIGNATORY_ROLES = (
    "formateur",
    "concepteur",
    "tuteur",
    "pilote",
    "chef_etablissement",
    "ien",
    "coordonnateur_reseau",
    "responsable",
)
"""The roles an académie may require to sign a dispositif's contract."""

MODE_LABELS = {
    SignatoryMode.EACH.value: "chacun signe",
    SignatoryMode.ONE.value: "une signature suffit",
}

MAX_DAYS = 3650
MAX_RATE = Decimal("10000")
CENT = Decimal("0.01")
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")


class Kind(StrEnum):
    TEXT = "texte"
    LINES = "lignes"
    EMAIL = "courriel"
    DAYS = "jours"
    MONEY = "montant"
    RULE = "regle"
    VIRTUAL_CLASSES = "classes_virtuelles"
    SIGNATORIES = "signataires"


@dataclass(frozen=True, slots=True)
class SettingSpec:
    key: str
    label: str
    kind: Kind
    required: bool = False
    max_length: int = 200
    default: Any = None
    """The value that applies when the académie sets none (shown, never stored)."""


class SettingsRefused(InvalidInput):
    """One or more values refused, each with its key and French reason (all at once, so a
    form can show every message next to its field)."""

    def __init__(self, errors: Sequence[tuple[str, str]]) -> None:
        self.errors = list(errors)
        text = " ; ".join(f"{label_of(key)} : {message}" for key, message in self.errors)
        super().__init__(text, self.errors[0][0] if self.errors else None)


def _deadlines() -> dict[str, DeadlineSpec]:
    found: dict[str, DeadlineSpec] = {}
    for spec in SPECS.values():
        for deadline in spec.deadlines:
            found.setdefault(deadline.id, deadline)
    return found


DEADLINES = _deadlines()
"""Every deadline of the specs, by id (the académie may change each one's delay)."""

FIXED: dict[str, SettingSpec] = {
    spec.key: spec
    for spec in (
        SettingSpec(NAME, "Nom de l'académie", Kind.TEXT, required=True),
        SettingSpec(REPLY_TO, "Adresse de réponse des courriels", Kind.EMAIL, max_length=320),
        SettingSpec(keys.INSTITUTION, "Institution (en-tête des pages)", Kind.TEXT),
        SettingSpec(keys.SIGNATURE, "Bloc de signature", Kind.LINES),
        SettingSpec(keys.PLACE, "Lieu « Fait à »", Kind.TEXT, max_length=100),
        SettingSpec(
            keys.PARTICIPATION,
            "Règle de participation effective",
            Kind.RULE,
            default="une_presence",
        ),
        SettingSpec(
            keys.STAGIAIRE_RETENTION,
            "Conservation des données des stagiaires",
            Kind.DAYS,
            default=keys.DEFAULT_STAGIAIRE_RETENTION_DAYS,
        ),
        SettingSpec(
            keys.ARCHIVE_AFTER,
            "Archivage des dossiers clos",
            Kind.DAYS,
            default=keys.DEFAULT_ARCHIVE_AFTER_DAYS,
        ),
        SettingSpec(keys.RATE_TAUX_A, "Vacation au taux A", Kind.MONEY),
        SettingSpec(keys.RATE_ACCOMPAGNEMENT, "Vacation d'accompagnement à distance", Kind.MONEY),
        SettingSpec(keys.RATE_HSE, "Heure supplémentaire effective (HSE)", Kind.MONEY),
        SettingSpec(keys.RATE_IN_PERSON, "Coût horaire du présentiel (budget)", Kind.MONEY),
        SettingSpec(keys.VIRTUAL_CLASSES, "Barème des classes virtuelles", Kind.VIRTUAL_CLASSES),
    )
}


def spec_of(key: str) -> SettingSpec:
    """The setting behind ``key``; ``InvalidInput`` for a key that is no setting."""
    if key in FIXED:
        return FIXED[key]
    if key.startswith(keys.DEADLINE_PREFIX):
        deadline = DEADLINES.get(key.removeprefix(keys.DEADLINE_PREFIX))
        if deadline is not None:
            return SettingSpec(
                key, f"Délai : {deadline.label}", Kind.DAYS, default=deadline.offset_days
            )
    if key.startswith(keys.SIGNATORIES_PREFIX):
        dispositif = DISPOSITIFS.get(key.removeprefix(keys.SIGNATORIES_PREFIX))
        if dispositif is not None:
            default = [{"role": r.role, "mode": r.mode.value} for r in dispositif.signatories]
            return SettingSpec(
                key, f"Signataires : {dispositif.label}", Kind.SIGNATORIES, default=default
            )
    raise InvalidInput(f"Paramètre inconnu : « {key} ».", key)


def label_of(key: str) -> str:
    try:
        return spec_of(key).label
    except InvalidInput:
        return key


def all_keys() -> list[str]:
    """Every key, in the order the pages and the CLI list them."""
    return [
        *FIXED,
        *(keys.DEADLINE_PREFIX + d for d in DEADLINES),
        *(keys.SIGNATORIES_PREFIX + d for d in DISPOSITIFS),
    ]


# --- Checking a typed value ------------------------------------------------------------------


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(spec: SettingSpec, value: Any) -> str | None:
    if not isinstance(value, str):
        raise ValueError("texte attendu")
    text = " ".join(value.split())
    if not text:
        if spec.required:
            raise ValueError("à renseigner")
        return None
    if len(text) > spec.max_length:
        raise ValueError(f"{spec.max_length} caractères au plus")
    if spec.required and len(text) < 3:
        raise ValueError("3 caractères au moins")
    return text


def _lines(value: Any) -> list[str] | None:
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("une ligne de texte par élément attendue")
    lines = [" ".join(v.split()) for v in value]
    lines = [line for line in lines if line]
    if len(lines) > 10:
        raise ValueError("10 lignes au plus")
    if any(len(line) > 200 for line in lines):
        raise ValueError("200 caractères au plus par ligne")
    return lines or None


def email_refusal(value: str) -> str | None:
    """Why this is no usable address (``None`` if it is one): one address, no spaces, no
    line break (it goes into an email header)."""
    if len(value) > 320 or not _EMAIL.match(value):
        return f"adresse électronique invalide « {value[:80]} »"
    return None


def _email(value: Any) -> str | None:
    if not isinstance(value, str):
        raise ValueError("adresse électronique attendue")
    text = value.strip().lower()
    if not text:
        return None
    refusal = email_refusal(text)
    if refusal is not None:
        raise ValueError(refusal)
    return text


def _int(value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{what} : nombre entier attendu")
    if isinstance(value, str):
        text = value.strip()
        if not re.fullmatch(r"-?\d{1,9}", text):
            raise ValueError(f"{what} : nombre entier attendu")
        value = int(text)
    if not isinstance(value, int):
        raise ValueError(f"{what} : nombre entier attendu")
    if not low <= value <= high:
        raise ValueError(f"{what} : entre {low} et {high}")
    return value


def _days(value: Any) -> int:
    return _int(value, "nombre de jours", 0, MAX_DAYS)


def _decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError(f"{what} : nombre décimal attendu")
    text = str(value).strip().replace(",", ".").replace("\u202f", "").replace("\xa0", "")
    text = text.replace(" ", "").removesuffix("€")
    if len(text) > 14:
        raise ValueError(f"{what} : nombre trop long")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{what} : nombre décimal attendu (par exemple 45,00)") from None
    if not number.is_finite():
        raise ValueError(f"{what} : nombre décimal attendu (par exemple 45,00)")
    return number


def _money(value: Any) -> str:
    amount = _decimal(value, "montant")
    if amount <= 0 or amount > MAX_RATE:
        raise ValueError(f"montant positif attendu, au plus {format_euros(MAX_RATE)}")
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
        raise ValueError("montant au centime près (deux décimales au plus)")
    return format(amount.quantize(CENT), "f")


def _rule(value: Any) -> str:
    if value not in PARTICIPATION_RULES:
        choices = " ; ".join(PARTICIPATION_RULES.values())
        raise ValueError(f"règle inconnue (au choix : {choices})")
    return str(value)


def _virtual_classes(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise ValueError("une liste de lignes attendue")
    rows: list[dict[str, Any]] = []
    checked: list[VirtualClassRate] = []
    for number, row in enumerate(value, start=1):
        if not isinstance(row, Mapping):
            raise ValueError(f"ligne {number} : formateurs, stagiaires et vacations attendus")
        where = f"ligne {number}"
        try:
            trainers = _int(row.get("formateurs"), f"{where}, formateurs", 1, 20)
            low = _int(row.get("stagiaires_min"), f"{where}, stagiaires (de)", 0, 10_000)
            high_typed = row.get("stagiaires_max")
            high = (
                None
                if _blank(high_typed)
                else _int(high_typed, f"{where}, stagiaires (à)", 0, 10_000)
            )
            per_hour = _decimal(row.get("vacations_par_heure"), f"{where}, vacations par heure")
            if per_hour != per_hour.quantize(CENT, rounding=ROUND_HALF_UP):
                raise ValueError(f"{where} : deux décimales au plus pour les vacations par heure")
            checked.append(VirtualClassRate(trainers, low, high, per_hour))
        except BaremeError as error:
            raise ValueError(f"{where} : {error}") from None
        rows.append(
            {
                "formateurs": trainers,
                "stagiaires_min": low,
                "stagiaires_max": high,
                "vacations_par_heure": format(per_hour.quantize(CENT), "f"),
            }
        )
    try:
        Rates(virtual_class_table=tuple(checked))
    except BaremeError as error:
        raise ValueError(str(error)) from None
    return sorted(rows, key=lambda r: (r["formateurs"], r["stagiaires_min"]))


def _signatories(value: Any) -> list[dict[str, str]]:
    if isinstance(value, Mapping):
        value = [{"role": role, "mode": mode} for role, mode in value.items() if mode]
    if not isinstance(value, list):
        raise ValueError("une liste de rôles signataires attendue")
    modes: dict[str, str] = {}
    for item in value:
        if not isinstance(item, Mapping):
            raise ValueError("chaque signataire indique un rôle et un mode")
        role, mode = item.get("role"), item.get("mode")
        if role not in SIGNATORY_ROLES:
            allowed = ", ".join(role_label(r) for r in SIGNATORY_ROLES)
            raise ValueError(f"rôle signataire inconnu « {role} » (au choix : {allowed})")
        if mode not in MODE_LABELS:
            raise ValueError(f"mode inconnu « {mode} » pour {role_label(str(role))}")
        if role in modes:
            raise ValueError(f"{role_label(str(role))} figure deux fois")
        modes[str(role)] = str(mode)
    if not modes:
        raise ValueError("au moins un signataire")
    return [{"role": r, "mode": modes[r]} for r in SIGNATORY_ROLES if r in modes]


def normalise(key: str, value: Any) -> Any:
    """The canonical value to store for ``key``, or ``None`` (back to the default).

    Raises ``SettingsRefused`` with the French reason."""
    spec = spec_of(key)
    try:
        if _blank(value) and spec.kind is not Kind.LINES:
            if spec.required:
                raise ValueError("à renseigner")
            return None
        if spec.kind is Kind.TEXT:
            return _text(spec, value)
        if spec.kind is Kind.LINES:
            return None if value is None else _lines(value)
        if spec.kind is Kind.EMAIL:
            return _email(value)
        if spec.kind is Kind.DAYS:
            return _days(value)
        if spec.kind is Kind.MONEY:
            return _money(value)
        if spec.kind is Kind.RULE:
            return _rule(value)
        if spec.kind is Kind.VIRTUAL_CLASSES:
            return _virtual_classes(value) or None
        return _signatories(value)
    except ValueError as error:
        raise SettingsRefused([(key, str(error))]) from None


def normalise_all(wanted: Mapping[str, Any]) -> dict[str, Any]:
    """Every value checked; every refusal reported at once."""
    result: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []
    for key, value in wanted.items():
        try:
            result[key] = normalise(key, value)
        except SettingsRefused as refused:
            errors += refused.errors
        except InvalidInput as error:
            errors.append((key, error.message))
    if errors:
        raise SettingsRefused(errors)
    return result


# --- Reading a stored value in French --------------------------------------------------------


def _days_fr(days: int) -> str:
    return f"{days} jour" if days < 2 else f"{days} jours"


def shown(key: str, value: Any) -> str:
    """A stored value as the history and the pages show it (« 45,00 € », « 7 jours »)."""
    try:
        spec = spec_of(key)
    except InvalidInput:
        return str(value)
    if value is None:
        if spec.default is not None:
            return f"par défaut ({shown(key, spec.default)})"
        return "(non renseigné)"
    if spec.kind is Kind.MONEY:
        return format_euros(Decimal(str(value)))
    if spec.kind is Kind.DAYS:
        return _days_fr(int(value))
    if spec.kind is Kind.LINES:
        return " / ".join(str(v) for v in value)
    if spec.kind is Kind.RULE:
        return PARTICIPATION_RULES.get(str(value), str(value))
    if spec.kind is Kind.VIRTUAL_CLASSES:
        return " ; ".join(virtual_class_line(row) for row in value) or "(aucune ligne)"
    if spec.kind is Kind.SIGNATORIES:
        return signatories_line(value)
    return str(value)


def virtual_class_line(row: Mapping[str, Any]) -> str:
    trainers = int(row["formateurs"])
    low, high = row["stagiaires_min"], row.get("stagiaires_max")
    trainees = (
        f"{low} stagiaires ou plus"
        if high is None
        else (f"{low} stagiaires" if low == high else f"de {low} à {high} stagiaires")
    )
    per_hour = format_decimal_fr(Decimal(str(row["vacations_par_heure"])))
    return (
        f"{trainers} formateur{'s' if trainers > 1 else ''}, {trainees} : "
        f"{per_hour} vacation par heure et par formateur"
    )


def signatories_line(rules: Iterable[Mapping[str, Any]]) -> str:
    return ", ".join(
        f"{role_label(str(r['role']))} ({MODE_LABELS.get(str(r['mode']), r['mode'])})"
        for r in rules
    )
