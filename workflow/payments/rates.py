"""Per-académie rates: vacation rates, HSE, the virtual-class table, the in-person cost.

Rates are data an académie decides, not code: one TOML file per académie slug in the
configured directory. With no file, only the figure the seeds give (taux A, 45 €) is known.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from workflow.payments.baremes import BaremeError, Rates, VirtualClassRate
from workflow.store.academie_settings import PACKAGED
from workflow.store.settings import get_settings


class ConfigurationError(ValueError):
    """A configuration file that cannot be used, with a French explanation."""


def _decimal(value: Any, where: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ConfigurationError(f"{where} : « {value} » n'est pas un nombre décimal.") from exc


def _optional(table: dict[str, Any], key: str, where: str) -> Decimal | None:
    return _decimal(table[key], f"{where} {key}") if key in table else None


def parse_rates(data: dict[str, Any], where: str) -> Rates:
    tarifs = data.get("tarifs", {})
    table = tuple(
        VirtualClassRate(
            trainers=int(row["formateurs"]),
            min_trainees=int(row["stagiaires_min"]),
            max_trainees=int(row["stagiaires_max"]) if "stagiaires_max" in row else None,
            vacations_per_hour=_decimal(row["vacations_par_heure"], f"{where} classes"),
        )
        for row in tarifs.get("classes_virtuelles", [])
    )
    try:
        return Rates(
            vacation_taux_a=_optional(tarifs, "vacation_taux_a", where),
            vacation_accompagnement=_optional(tarifs, "vacation_accompagnement", where),
            hse=_optional(tarifs, "hse", where),
            virtual_class_table=table,
        )
    except (BaremeError, KeyError) as exc:
        raise ConfigurationError(f"{where} : {exc}") from exc


@cache
def _load(directory: Path, slug: str) -> Rates:
    path = directory / f"{slug}.toml"
    if not path.exists():
        return Rates.default_eafc()
    with path.open("rb") as handle:
        return parse_rates(tomllib.load(handle), str(path))


def is_configured(slug: str) -> bool:
    """Whether the académie has a configuration file (else only the seeds' figures apply)."""
    return ((get_settings().academies_dir or PACKAGED) / f"{slug}.toml").exists()


def rates_for(slug: str) -> Rates:
    directory = get_settings().academies_dir or PACKAGED
    return _load(directory, slug)


def _in_person(directory: Path, slug: str) -> Decimal | None:
    path = directory / f"{slug}.toml"
    if not path.exists():
        return None
    with path.open("rb") as handle:
        tarifs = tomllib.load(handle).get("tarifs", {})
    rate = _optional(tarifs, "presentiel_par_heure", str(path))
    if rate is not None and (not rate.is_finite() or rate <= 0):
        raise ConfigurationError(f"{path} presentiel_par_heure : montant positif attendu.")
    return rate


def in_person_hourly_rate(slug: str) -> Decimal | None:
    """The hourly cost of in-person training an académie budgets with (T-Offres), if it set
    one (``tarifs.presentiel_par_heure``); the seeds give none, so there is no default."""
    directory = get_settings().academies_dir or PACKAGED
    return _in_person(directory, slug)
