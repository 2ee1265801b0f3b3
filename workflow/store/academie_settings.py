"""What an académie has decided for itself, read in one place by every capability.

Names, signature block, contacts, deadline delays, the effective-participation rule,
retention periods, rates, the virtual-class table and the required signatories of each
dispositif: the seeds give none of them (or only a default), so they are per-académie data,
never constants in code (DOMAIN §6, §9). This module is the *read* side every layer may use
(it sits in ``store/``, below the engine): the engine reads deadline delays and signatories,
payments the rates, documents the signature block, participants the participation rule,
notifications the reply-to and signature.

The values live in the database: the académie's row (name, code, reply-to) and its
``academie_setting`` rows, keyed like the seed file they may come from (``tarifs.hse``,
``delais.rappel_signature``, ``signataires.eafc_taux_a``); a missing row means the default.
They are written only by the administration capability (``workflow.admin``), which checks
each value and records the change; here they are read fresh on every call — one query, no
process cache — so a change takes effect at once in every process, without a restart.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, bindparam, select

from states.dispositifs import DISPOSITIFS, SignatoryMode, SignatoryRule
from workflow.language.vocabulary import DEFAULT_PARTICIPATION_RULE, PARTICIPATION_RULES
from workflow.store.tables import academie_setting_table as S
from workflow.store.tables import academie_table as R

PACKAGED = Path(__file__).resolve().parents[2] / "states" / "academies"
"""The académie seed files shipped with the product (the demo académie's among them)."""

DEFAULT_STAGIAIRE_RETENTION_DAYS = 365
"""How long a closed dossier keeps its stagiaires' personal data (one school year)."""
DEFAULT_ARCHIVE_AFTER_DAYS = 365 * 2
"""How long a closed dossier stays in the default lists before it is archived."""

# The keys of ``academie_setting`` (the seed file's own paths).
INSTITUTION = "institution"
SIGNATURE = "signature"
PLACE = "lieu"
PARTICIPATION = "participation"
STAGIAIRE_RETENTION = "conservation_stagiaires_jours"
ARCHIVE_AFTER = "archivage_jours"
DEADLINE_PREFIX = "delais."
SIGNATORIES_PREFIX = "signataires."
RATE_TAUX_A = "tarifs.vacation_taux_a"
RATE_ACCOMPAGNEMENT = "tarifs.vacation_accompagnement"
RATE_HSE = "tarifs.hse"
RATE_IN_PERSON = "tarifs.presentiel_par_heure"
VIRTUAL_CLASSES = "tarifs.classes_virtuelles"
RATE_KEYS = (RATE_TAUX_A, RATE_ACCOMPAGNEMENT, RATE_HSE, RATE_IN_PERSON)


class SettingsError(ValueError):
    """An académie setting that cannot be used, with a French explanation."""


@dataclass(frozen=True, slots=True)
class VirtualClassRow:
    """One row of the virtual-class rate table as stored (checked by the barème)."""

    trainers: int
    min_trainees: int
    max_trainees: int | None
    vacations_per_hour: Decimal


@dataclass(frozen=True, slots=True)
class RateValues:
    """The académie's rates; ``None`` is a rate it has not set (never replaced by a guess)."""

    vacation_taux_a: Decimal | None = None
    vacation_accompagnement: Decimal | None = None
    hse: Decimal | None = None
    in_person_hourly: Decimal | None = None
    """The hourly cost of in-person training it budgets with (T-Offres)."""
    virtual_classes: tuple[VirtualClassRow, ...] = ()

    @property
    def configured(self) -> bool:
        return any(
            value is not None
            for value in (
                self.vacation_taux_a,
                self.vacation_accompagnement,
                self.hse,
                self.in_person_hourly,
            )
        ) or bool(self.virtual_classes)

    def as_json(self) -> dict[str, Any]:
        """The values as a payment decision records them (decimal strings)."""

        def money(value: Decimal | None) -> str | None:
            return None if value is None else format(value, "f")

        return {
            "vacation_taux_a": money(self.vacation_taux_a),
            "vacation_accompagnement": money(self.vacation_accompagnement),
            "hse": money(self.hse),
            "presentiel_par_heure": money(self.in_person_hourly),
            "classes_virtuelles": [
                {
                    "formateurs": row.trainers,
                    "stagiaires_min": row.min_trainees,
                    "stagiaires_max": row.max_trainees,
                    "vacations_par_heure": format(row.vacations_per_hour, "f"),
                }
                for row in self.virtual_classes
            ],
        }


@dataclass(frozen=True, slots=True)
class AcademieSettings:
    academie_id: int
    slug: str
    name: str
    """« Académie de démonstration »: how people and papers name it."""
    institution: str
    """The institution shown under « République française » in the DSFR header."""
    signature_block: tuple[str, ...]
    """Lines that end every email and official paper (service, address, contact)."""
    place: str | None
    """The town of « Fait à … le … » on the académie's papers."""
    reply_to: str | None
    deadline_days: Mapping[str, int] = field(default_factory=dict)
    """Overrides of the specs' ``DeadlineSpec.offset_days``, by deadline id."""
    participation_rule: str = DEFAULT_PARTICIPATION_RULE
    """One of ``PARTICIPATION_RULES``."""
    stagiaire_retention_days: int = DEFAULT_STAGIAIRE_RETENTION_DAYS
    archive_after_days: int = DEFAULT_ARCHIVE_AFTER_DAYS
    code: str = ""
    """The short code of its dossier references (``DEM`` in ``26-DEM-0001``)."""
    rates: RateValues = field(default_factory=RateValues)
    signatories: Mapping[str, tuple[SignatoryRule, ...]] = field(default_factory=dict)
    """Overrides of the dispositifs' required signatories, by dispositif id."""

    def offset_days(self, deadline_id: str, default: int) -> int:
        return self.deadline_days.get(deadline_id, default)

    def signatories_for(self, dispositif: str | None) -> tuple[SignatoryRule, ...]:
        """Who must sign this dispositif's contract here: the académie's rule, or the
        default of ``states.dispositifs`` (none for a dossier without a dispositif)."""
        if dispositif is not None and dispositif in self.signatories:
            return self.signatories[dispositif]
        found = DISPOSITIFS.get(dispositif or "")
        return found.signatories if found is not None else ()


# --- Stored values → typed settings -----------------------------------------------------------


def decode(text: str) -> Any:
    return json.loads(text)


def encode(value: Any) -> str:
    """Canonical JSON of a stored value: the same value always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _days(values: Mapping[str, Any], key: str, default: int) -> int:
    value = values.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise SettingsError(f"{key} : nombre entier de jours attendu, pas « {value} ».")
    return value


def _money(values: Mapping[str, Any], key: str) -> Decimal | None:
    value = values.get(key)
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise SettingsError(f"{key} : « {value} » n'est pas un montant.") from exc


def signatory_rules(value: Any) -> tuple[SignatoryRule, ...]:
    """A stored ``signataires.<dispositif>`` value as rules (``[{"role", "mode"}]``)."""
    try:
        return tuple(SignatoryRule(str(r["role"]), SignatoryMode(r["mode"])) for r in value)
    except (KeyError, TypeError, ValueError) as exc:
        raise SettingsError(f"signataires : règle illisible ({value!r}).") from exc


def virtual_class_rows(value: Any) -> tuple[VirtualClassRow, ...]:
    try:
        return tuple(
            VirtualClassRow(
                trainers=int(row["formateurs"]),
                min_trainees=int(row["stagiaires_min"]),
                max_trainees=None
                if row.get("stagiaires_max") is None
                else int(row["stagiaires_max"]),
                vacations_per_hour=Decimal(str(row["vacations_par_heure"])),
            )
            for row in value
        )
    except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise SettingsError(f"{VIRTUAL_CLASSES} : ligne illisible ({value!r}).") from exc


def build(
    *,
    academie_id: int,
    slug: str,
    name: str,
    code: str,
    reply_to: str | None,
    values: Mapping[str, Any],
) -> AcademieSettings:
    """The typed settings from an académie's row and its stored values (key → value)."""
    rule = str(values.get(PARTICIPATION, DEFAULT_PARTICIPATION_RULE))
    if rule not in PARTICIPATION_RULES:
        raise SettingsError(f"{PARTICIPATION} : règle inconnue « {rule} ».")
    signature = values.get(SIGNATURE, ())
    return AcademieSettings(
        academie_id=academie_id,
        slug=slug,
        name=name,
        institution=str(values.get(INSTITUTION) or name),
        signature_block=tuple(str(line) for line in signature),
        place=str(values[PLACE]) if values.get(PLACE) else None,
        reply_to=reply_to,
        deadline_days={
            key.removeprefix(DEADLINE_PREFIX): _days(values, key, 0)
            for key in values
            if key.startswith(DEADLINE_PREFIX)
        },
        participation_rule=rule,
        stagiaire_retention_days=_days(
            values, STAGIAIRE_RETENTION, DEFAULT_STAGIAIRE_RETENTION_DAYS
        ),
        archive_after_days=_days(values, ARCHIVE_AFTER, DEFAULT_ARCHIVE_AFTER_DAYS),
        code=code,
        rates=RateValues(
            vacation_taux_a=_money(values, RATE_TAUX_A),
            vacation_accompagnement=_money(values, RATE_ACCOMPAGNEMENT),
            hse=_money(values, RATE_HSE),
            in_person_hourly=_money(values, RATE_IN_PERSON),
            virtual_classes=virtual_class_rows(values.get(VIRTUAL_CLASSES, ())),
        ),
        signatories={
            key.removeprefix(SIGNATORIES_PREFIX): signatory_rules(value)
            for key, value in values.items()
            if key.startswith(SIGNATORIES_PREFIX)
        },
    )


_READ = (
    select(R.c.slug, R.c.name, R.c.code, R.c.reply_to, S.c.key, S.c.value)
    .select_from(R.outerjoin(S, S.c.academie_id == R.c.id))
    .where(R.c.id == bindparam("academie_id"))
)


def stored_values(conn: Connection, academie_id: int) -> dict[str, Any]:
    """The académie's stored settings, key → decoded value (what the admin pages edit)."""
    rows = conn.execute(
        select(S.c.key, S.c.value).where(S.c.academie_id == academie_id).order_by(S.c.key)
    ).all()
    return {str(r.key): decode(r.value) for r in rows}


def academie_settings(conn: Connection, academie_id: int) -> AcademieSettings:
    """The académie's settings as they stand now (a change takes effect without a restart).

    One round trip: the académie's row joined to its settings rows."""
    rows = conn.execute(_READ, {"academie_id": academie_id}).all()
    if not rows:
        raise SettingsError(f"Académie {academie_id} inconnue.")
    first = rows[0]
    return build(
        academie_id=academie_id,
        slug=str(first.slug),
        name=str(first.name),
        code=str(first.code),
        reply_to=first.reply_to,
        values={str(r.key): decode(r.value) for r in rows if r.key is not None},
    )


def deadline_overrides(conn: Connection) -> dict[str, dict[int, int]]:
    """Every académie's own deadline delays, deadline id → académie id → days: the timer
    loop reads them once per scan rather than once per académie."""
    rows = conn.execute(
        select(S.c.academie_id, S.c.key, S.c.value).where(S.c.key.startswith(DEADLINE_PREFIX))
    ).all()
    found: dict[str, dict[int, int]] = {}
    for row in rows:
        days = decode(row.value)
        if isinstance(days, int) and not isinstance(days, bool) and days >= 0:
            found.setdefault(str(row.key).removeprefix(DEADLINE_PREFIX), {})[
                int(row.academie_id)
            ] = days
    return found
