"""Per-académie rates: vacation rates, HSE, the virtual-class table, the in-person cost.

Rates are data an académie decides, not code: they are among its settings in the database
(``workflow.store.academie_settings``), set on the administration pages and read fresh at
every use — a new rate applies to the next decision without a restart, and each decision
records the rates it was computed with (``payment_decision_rates``). A rate the académie has
not set stays ``None``: the decision says so in French and cannot be taken. The seed files
(``states/academies/*.toml``) only seed a new académie (``formaflow academie import``);
``parse_rates`` reads their ``[tarifs]`` table for that.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection

from workflow.payments.baremes import BaremeError, Rates, VirtualClassRate
from workflow.store.academie_settings import RateValues, academie_settings


class ConfigurationError(ValueError):
    """A configuration that cannot be used, with a French explanation."""


def _decimal(value: Any, where: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ConfigurationError(f"{where} : « {value} » n'est pas un nombre décimal.") from exc


def _optional(table: dict[str, Any], key: str, where: str) -> Decimal | None:
    return _decimal(table[key], f"{where} {key}") if key in table else None


def parse_rates(data: dict[str, Any], where: str) -> Rates:
    """The ``[tarifs]`` table of a seed file as the barème's rates (checked)."""
    tarifs = data.get("tarifs", {})
    try:
        table = tuple(
            VirtualClassRate(
                trainers=int(row["formateurs"]),
                min_trainees=int(row["stagiaires_min"]),
                max_trainees=int(row["stagiaires_max"]) if "stagiaires_max" in row else None,
                vacations_per_hour=_decimal(row["vacations_par_heure"], f"{where} classes"),
            )
            for row in tarifs.get("classes_virtuelles", [])
        )
        return Rates(
            vacation_taux_a=_optional(tarifs, "vacation_taux_a", where),
            vacation_accompagnement=_optional(tarifs, "vacation_accompagnement", where),
            hse=_optional(tarifs, "hse", where),
            virtual_class_table=table,
        )
    except (BaremeError, KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ConfigurationError):
            raise
        raise ConfigurationError(f"{where} : {exc}") from exc


def rates_of(values: RateValues) -> Rates:
    """The barème's rates from the stored values (checked again: a table stored before a
    rule changed must still never make an ambiguous rate)."""
    try:
        return Rates(
            vacation_taux_a=values.vacation_taux_a,
            vacation_accompagnement=values.vacation_accompagnement,
            hse=values.hse,
            virtual_class_table=tuple(
                VirtualClassRate(
                    trainers=row.trainers,
                    min_trainees=row.min_trainees,
                    max_trainees=row.max_trainees,
                    vacations_per_hour=row.vacations_per_hour,
                )
                for row in values.virtual_classes
            ),
        )
    except BaremeError as exc:
        raise ConfigurationError(str(exc)) from exc


def academie_rates(conn: Connection, academie_id: int) -> Rates:
    """The académie's rates as they stand now."""
    return rates_of(academie_settings(conn, academie_id).rates)


def is_configured(conn: Connection, academie_id: int) -> bool:
    """Whether the académie has set any rate (else only the figures given to a simulation
    apply)."""
    return academie_settings(conn, academie_id).rates.configured


def in_person_hourly_rate(conn: Connection, academie_id: int) -> Decimal | None:
    """The hourly cost of in-person training an académie budgets with (T-Offres), if it set
    one (``tarifs.presentiel_par_heure``); the seeds give none, so there is no default."""
    return academie_settings(conn, academie_id).rates.in_person_hourly
