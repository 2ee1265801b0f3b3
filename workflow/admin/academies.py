"""Creating an académie, from a form or from a seed file.

An académie is its row (slug, code of its dossier references, name, reply-to address) and
its settings (``workflow.admin.catalog``). Creating one writes both in one transaction and
records every initial value in its history, so that « who set this rate, when » has an
answer from the first day. Whoever creates it (an administrateur of another académie)
becomes its first administrateur; the operator (CLI) names one afterwards.

The TOML files of ``states/academies/`` are *seeds*: ``formaflow academie import FILE``
creates a new académie from one (the demo académie is loaded that way). Once created, an
académie's settings live in the database; editing the file changes nothing.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from workflow.admin import catalog, changes, people
from workflow.admin.authority import ADMINISTRATEUR
from workflow.admin.catalog import SettingsRefused
from workflow.engine.errors import InvalidInput
from workflow.store import academie_settings as keys
from workflow.store.tables import academie_table as R

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
CODE = re.compile(r"^[A-Z0-9]{2,8}$")


@dataclass(frozen=True, slots=True)
class NewAcademie:
    slug: str
    code: str
    settings: dict[str, Any]
    """Catalogue key → value; ``nom`` is required."""


def check_identity(conn: Connection, slug: str, code: str) -> tuple[str, str]:
    """The slug and code as kept, or every refusal (format, already used) at once."""
    slug, code = slug.strip().lower(), code.strip().upper()
    errors: list[tuple[str, str]] = []
    if not SLUG.match(slug):
        errors.append(
            ("slug", "2 à 63 caractères : lettres minuscules sans accent, chiffres et tirets")
        )
    if not CODE.match(code):
        errors.append(("code", "2 à 8 lettres majuscules ou chiffres, par exemple LYO"))
    if not errors:
        taken = conn.execute(
            select(R.c.slug, R.c.code).where((R.c.slug == slug) | (R.c.code == code))
        ).all()
        if any(row.slug == slug for row in taken):
            errors.append(("slug", f"l'identifiant « {slug} » est déjà pris"))
        if any(row.code == code for row in taken):
            errors.append(("code", f"le code « {code} » est déjà pris"))
    if errors:
        raise SettingsRefused(errors)
    return slug, code


def create(conn: Connection, data: NewAcademie, *, actor_id: int | None, now: datetime) -> int:
    """The new académie's id (in the caller's transaction); every value refused at once."""
    errors: list[tuple[str, str]] = []
    try:
        slug, code = check_identity(conn, data.slug, data.code)
    except SettingsRefused as refused:
        errors += refused.errors
        slug, code = data.slug, data.code
    if catalog.NAME not in data.settings:
        errors.append((catalog.NAME, "à renseigner"))
    try:
        values = catalog.normalise_all(data.settings)
    except SettingsRefused as refused:
        errors += refused.errors
    if errors:
        raise SettingsRefused(errors)
    key = conn.execute(
        insert(R).values(slug=slug, name=values[catalog.NAME], code=code, created_at=now)
    ).inserted_primary_key
    assert key is not None
    academie_id = int(key[0])
    changes.record(
        conn,
        academie_id,
        "academie.creee",
        None,
        f"{values[catalog.NAME]} (identifiant {slug}, code {code})",
        actor_id=actor_id,
        now=now,
    )
    changes.apply(
        conn,
        academie_id,
        {k: v for k, v in values.items() if k != catalog.NAME},
        actor_id=actor_id,
        now=now,
    )
    if actor_id is not None:
        people.grant(conn, academie_id, actor_id, ADMINISTRATEUR, actor_id=actor_id, now=now)
    return academie_id


# --- Seed files ------------------------------------------------------------------------------

_TOP_LEVEL = {
    "nom": catalog.NAME,
    "reply_to": catalog.REPLY_TO,
    "institution": keys.INSTITUTION,
    "signature": keys.SIGNATURE,
    "lieu": keys.PLACE,
    "participation": keys.PARTICIPATION,
    "conservation_stagiaires_jours": keys.STAGIAIRE_RETENTION,
    "archivage_jours": keys.ARCHIVE_AFTER,
}


def seed_from_toml(text: str, *, where: str) -> NewAcademie:
    """A new académie as a seed file describes it (``slug`` and ``code`` may be absent: the
    command then asks for them). Unknown keys are refused: a misspelt rate must not be
    silently left out."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SettingsRefused(
            [("fichier", f"{where} n'est pas un fichier TOML lisible : {error}")]
        ) from None
    return seed_from_mapping(data, where=where)


def seed_from_mapping(data: Mapping[str, Any], *, where: str) -> NewAcademie:
    settings: dict[str, Any] = {}
    unknown: list[str] = []
    for name, value in data.items():
        if name in ("slug", "code"):
            continue
        if name in _TOP_LEVEL:
            settings[_TOP_LEVEL[name]] = value
        elif name == "delais" and isinstance(value, Mapping):
            settings.update({keys.DEADLINE_PREFIX + str(k): v for k, v in value.items()})
        elif name == "tarifs" and isinstance(value, Mapping):
            settings.update({f"tarifs.{k}": v for k, v in value.items()})
        elif name == "signataires" and isinstance(value, Mapping):
            settings.update({keys.SIGNATORIES_PREFIX + str(k): v for k, v in value.items()})
        else:
            unknown.append(name)
    for key in settings:
        try:
            catalog.spec_of(key)
        except InvalidInput:
            unknown.append(key)
    if unknown:
        raise SettingsRefused(
            [("fichier", f"{where} : clé(s) inconnue(s) : {', '.join(sorted(unknown))}")]
        )
    return NewAcademie(str(data.get("slug", "")), str(data.get("code", "")), settings)


def seed_settings(text: str, *, where: str) -> dict[str, Any]:
    """Only the settings of a seed file (to give an existing académie a seed's values)."""
    return seed_from_toml(text, where=where).settings
