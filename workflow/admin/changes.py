"""Changing an académie's settings, and the history of every administrative change.

``apply`` runs in the caller's transaction: it checks every wanted value (``catalog``),
writes the ones that differ from what is stored (the académie's row for its name and
reply-to address, ``academie_setting`` for the rest; a value back to its default removes
its row) and appends one ``academie_change`` row per change — who, when, old → new. A value
set to what it already is changes nothing and writes no history. The next read of the
settings (``academie_settings``) sees the new values: there is nothing to reload.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from states.roles import role_label
from workflow.admin import catalog
from workflow.store.academie_settings import decode, encode, stored_values
from workflow.store.tables import academie_change_table as C
from workflow.store.tables import academie_setting_table as S
from workflow.store.tables import academie_table as R
from workflow.store.tables import person_table as P


@dataclass(frozen=True, slots=True)
class Change:
    key: str
    old: Any
    new: Any


def record(
    conn: Connection,
    academie_id: int,
    key: str,
    old: Any,
    new: Any,
    *,
    actor_id: int | None,
    now: datetime,
) -> None:
    """Append one line to the académie's history (in the caller's transaction)."""
    conn.execute(
        insert(C).values(
            academie_id=academie_id,
            key=key,
            old_value=None if old is None else encode(old),
            new_value=None if new is None else encode(new),
            actor_id=actor_id,
            at=now,
        )
    )


def current_values(conn: Connection, academie_id: int) -> dict[str, Any]:
    """What is stored now, the row's fields included (``nom``, ``reply_to``)."""
    row = conn.execute(select(R.c.name, R.c.reply_to).where(R.c.id == academie_id)).one()
    return {catalog.NAME: row.name, catalog.REPLY_TO: row.reply_to} | stored_values(
        conn, academie_id
    )


def apply(
    conn: Connection,
    academie_id: int,
    wanted: Mapping[str, Any],
    *,
    actor_id: int | None,
    now: datetime,
) -> list[Change]:
    """Check, store and historise ``wanted`` (key → typed or JSON value); the changes made.

    Every refusal is reported at once (``SettingsRefused``) and nothing is written."""
    values = catalog.normalise_all(wanted)
    current = current_values(conn, academie_id)
    made: list[Change] = []
    for key, value in values.items():
        default = catalog.spec_of(key).default
        new = None if value == default and key not in catalog.ROW_KEYS else value
        old = current.get(key)
        if new == old:
            continue
        if key == catalog.NAME:
            conn.execute(update(R).where(R.c.id == academie_id).values(name=new))
        elif key == catalog.REPLY_TO:
            conn.execute(update(R).where(R.c.id == academie_id).values(reply_to=new))
        elif new is None:
            conn.execute(delete(S).where(S.c.academie_id == academie_id, S.c.key == key))
        elif key in current:
            conn.execute(
                update(S)
                .where(S.c.academie_id == academie_id, S.c.key == key)
                .values(value=encode(new), updated_at=now, updated_by_id=actor_id)
            )
        else:
            conn.execute(
                insert(S).values(
                    academie_id=academie_id,
                    key=key,
                    value=encode(new),
                    updated_at=now,
                    updated_by_id=actor_id,
                )
            )
        record(conn, academie_id, key, old, new, actor_id=actor_id, now=now)
        made.append(Change(key, old, new))
    return made


# --- Reading the history ---------------------------------------------------------------------

EVENT_LABELS = {
    "academie.creee": "Création de l'académie",
    "personne.creee": "Personne ajoutée à l'annuaire",
    "personne.desactivee": "Personne désactivée",
    "personne.reactivee": "Personne réactivée",
}


def label(key: str) -> str:
    """How a history line names what changed."""
    if key in EVENT_LABELS:
        return EVENT_LABELS[key]
    if key.startswith("role."):
        return f"Rôle : {role_label(key.removeprefix('role.'))}"
    return catalog.label_of(key)


def _shown(key: str, value: Any) -> str:
    if key in EVENT_LABELS or key.startswith("role."):
        return "" if value is None else str(value)
    return catalog.shown(key, value)


@dataclass(frozen=True, slots=True)
class HistoryLine:
    id: int
    at: datetime
    who: str
    what: str
    old: str
    new: str


def history(
    conn: Connection, academie_id: int, *, limit: int = 200, offset: int = 0
) -> tuple[list[HistoryLine], int]:
    """The académie's administrative history, newest first, and how many lines in all."""
    total = conn.execute(
        select(func.count()).select_from(C).where(C.c.academie_id == academie_id)
    ).scalar_one()
    rows = conn.execute(
        select(C, P.c.full_name)
        .outerjoin(P, P.c.id == C.c.actor_id)
        .where(C.c.academie_id == academie_id)
        .order_by(C.c.at.desc(), C.c.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    lines = [
        HistoryLine(
            id=int(r.id),
            at=r.at,
            who=r.full_name or "l'exploitant (ligne de commande)",
            what=label(r.key),
            old=_shown(r.key, None if r.old_value is None else decode(r.old_value)),
            new=_shown(r.key, None if r.new_value is None else decode(r.new_value)),
        )
        for r in rows
    ]
    return lines, int(total)
