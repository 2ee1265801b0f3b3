"""What an académie has decided for itself, read in one place by every capability.

Names, signature block, contacts, deadline delays, the effective-participation rule,
retention periods: the seeds give none of them, so they are per-académie data, never
constants in code (DOMAIN §6, §9). This module is the *read* side every layer may use (it
sits in ``store/``, below the engine): the engine reads deadline delays, documents read the
signature block, participants read the participation rule, notifications the reply-to and
signature. Today the values come from the académie's row and its packaged TOML file
(``states/academies/<slug>.toml``); the administration capability may move them into the
database behind the same ``academie_settings`` function.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from workflow.language.vocabulary import DEFAULT_PARTICIPATION_RULE, PARTICIPATION_RULES
from workflow.store.settings import get_settings
from workflow.store.tables import academie_table

PACKAGED = Path(__file__).resolve().parents[2] / "states" / "academies"
"""The académie files shipped with the product (the demo académie's among them)."""

DEFAULT_STAGIAIRE_RETENTION_DAYS = 365
"""How long a closed dossier keeps its stagiaires' personal data (one school year)."""
DEFAULT_ARCHIVE_AFTER_DAYS = 365 * 2
"""How long a closed dossier stays in the default lists before it is archived."""


class SettingsError(ValueError):
    """An académie setting that cannot be used, with a French explanation."""


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

    def offset_days(self, deadline_id: str, default: int) -> int:
        return self.deadline_days.get(deadline_id, default)


def _directory() -> Path:
    return get_settings().academies_dir or PACKAGED


@cache
def _file(directory: Path, slug: str) -> Mapping[str, Any]:
    path = directory / f"{slug}.toml"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        return tomllib.load(handle)


def _int(data: Mapping[str, Any], key: str, default: int, where: str) -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise SettingsError(f"{where} {key} : nombre entier de jours attendu, pas « {value} ».")
    return value


def from_file(academie_id: int, slug: str, name: str, reply_to: str | None) -> AcademieSettings:
    """The settings of an académie whose row says ``slug``/``name``/``reply_to``."""
    data = _file(_directory(), slug)
    where = f"{slug}.toml"
    rule = str(data.get("participation", DEFAULT_PARTICIPATION_RULE))
    if rule not in PARTICIPATION_RULES:
        raise SettingsError(f"{where} participation : règle inconnue « {rule} ».")
    delais = data.get("delais", {})
    return AcademieSettings(
        academie_id=academie_id,
        slug=slug,
        name=name,
        institution=str(data.get("institution", name)),
        signature_block=tuple(str(line) for line in data.get("signature", ())),
        place=str(data["lieu"]) if "lieu" in data else None,
        reply_to=reply_to or (str(data["reply_to"]) if "reply_to" in data else None),
        deadline_days={str(k): _int(delais, str(k), 0, f"{where} delais") for k in delais},
        participation_rule=rule,
        stagiaire_retention_days=_int(
            data, "conservation_stagiaires_jours", DEFAULT_STAGIAIRE_RETENTION_DAYS, where
        ),
        archive_after_days=_int(data, "archivage_jours", DEFAULT_ARCHIVE_AFTER_DAYS, where),
    )


def academie_settings(conn: Connection, academie_id: int) -> AcademieSettings:
    """The académie's settings as they stand now (take effect without a restart)."""
    row = conn.execute(
        select(academie_table.c.slug, academie_table.c.name, academie_table.c.reply_to).where(
            academie_table.c.id == academie_id
        )
    ).one()
    return from_file(academie_id, row.slug, row.name, row.reply_to)
