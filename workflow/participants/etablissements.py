"""The académie's établissements and écoles, with the head who releases their staff.

A reference list, loaded by the operator (``formaflow etablissements importer``) or the
demo; an import of stagiaires refers to it by UAI or by name, and refuses a line whose
établissement it does not know rather than inventing one.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, insert, select, update

from workflow.participants.inputs import EtablissementInput
from workflow.store.tables import etablissement_table as E
from workflow.store.types import utcnow


@dataclass(frozen=True, slots=True)
class Etablissement:
    id: int
    uai: str
    name: str
    kind: str
    commune: str
    head_role: str
    head_name: str
    head_email: str

    @property
    def label(self) -> str:
        """« Collège Jean Moulin (Marseille) — 0131234A », as a person picks it."""
        where = f" ({self.commune})" if self.commune else ""
        return f"{self.name}{where} — {self.uai}"


_COLUMNS = [E.c[name] for name in Etablissement.__slots__]


def _key(text: str) -> str:
    """A name compared the way a person would: case, accents and spacing do not count."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().replace("-", " ").replace("'", " ").split())


def etablissements_of(conn: Connection, academie_id: int) -> list[Etablissement]:
    rows = conn.execute(
        select(*_COLUMNS).where(E.c.academie_id == academie_id).order_by(E.c.name, E.c.id)
    ).all()
    return [Etablissement(**row._asdict()) for row in rows]


def etablissement(
    conn: Connection, academie_id: int, etablissement_id: int
) -> Etablissement | None:
    row = conn.execute(
        select(*_COLUMNS).where(E.c.id == etablissement_id, E.c.academie_id == academie_id)
    ).first()
    return None if row is None else Etablissement(**row._asdict())


class Directory:
    """The établissements of one académie, looked up by UAI or by name (for an import)."""

    def __init__(self, items: Iterable[Etablissement]) -> None:
        self.by_uai: dict[str, Etablissement] = {}
        self.by_name: dict[str, list[Etablissement]] = {}
        for item in items:
            self.by_uai[item.uai.upper()] = item
            self.by_name.setdefault(_key(item.name), []).append(item)

    def find(self, typed: str) -> Etablissement | str:
        """The établissement a cell names, or the French reason none can be chosen."""
        text = typed.strip()
        if not text:
            return "établissement manquant"
        found = self.by_uai.get(text.upper().replace(" ", ""))
        if found is not None:
            return found
        named = self.by_name.get(_key(text), [])
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            return (
                f"plusieurs établissements s'appellent « {text} » : indiquez leur code UAI "
                f"({', '.join(e.uai for e in named)})"
            )
        return f"établissement inconnu dans l'académie : « {text[:80]} »"


def directory(conn: Connection, academie_id: int) -> Directory:
    return Directory(etablissements_of(conn, academie_id))


class Etablissements:
    """Writes of the reference list; each call is one transaction."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.clock = clock

    def save_all(self, academie_id: int, items: Iterable[EtablissementInput]) -> tuple[int, int]:
        """Create the unknown ones, update the known ones (by UAI); (created, updated)."""
        created = updated = 0
        now = self.clock()
        with self.engine.begin() as conn:
            known = {
                row.uai: row.id
                for row in conn.execute(
                    select(E.c.uai, E.c.id).where(E.c.academie_id == academie_id)
                )
            }
            for item in items:
                values = item.model_dump()
                if item.uai in known:
                    conn.execute(update(E).where(E.c.id == known[item.uai]).values(**values))
                    updated += 1
                else:
                    result = conn.execute(
                        insert(E).values(academie_id=academie_id, created_at=now, **values)
                    )
                    assert result.inserted_primary_key is not None
                    known[item.uai] = int(result.inserted_primary_key[0])
                    created += 1
        return created, updated
