"""What every editing use case of a dossier shares: the engine, the hooks told of an edit,
opening the dossier for an edit (role and version checks), and small row helpers.

``DossierEditor`` (``workflow.dossiers.editing``) is made of one part per thing edited,
each a subclass of ``EditorBase``; every public method of each is one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, insert, select, update

from workflow.dossiers.access import Edit, require_edit
from workflow.dossiers.events import SessionChanged, SessionSubscriber
from workflow.engine.errors import PersonNotFound, StaleVersion
from workflow.engine.rows import DossierRow, load
from workflow.store.tables import person_table
from workflow.store.types import utcnow

EditHook = Callable[[Connection, int, "int | None"], None]
"""Told (connection, dossier id, actor id) after an edit of a dossier's team or planning,
inside the edit's transaction: the documents capability makes an avenant from it when the
contract's terms changed (wired in ``api``; dossiers never import documents)."""


class EditorBase:
    """The editor's state and the checks its use cases share."""

    def __init__(
        self,
        engine: Engine,
        data_dir: Path,
        clock: Callable[[], datetime] = utcnow,
        after_change: Iterable[EditHook] = (),
        session_subscribers: Iterable[SessionSubscriber] = (),
    ) -> None:
        self.engine = engine
        self.data_dir = data_dir
        self.clock = clock
        self.after_change: list[EditHook] = list(after_change)
        self.session_subscribers = list(session_subscribers)
        """Told of every session added or changed, in its transaction (convocations)."""

    def _changed(self, conn: Connection, dossier_id: int, actor_id: int | None) -> None:
        for hook in self.after_change:
            hook(conn, dossier_id, actor_id)

    def _session_changed(self, conn: Connection, event: SessionChanged) -> None:
        for subscriber in self.session_subscribers:
            subscriber(conn, event)

    def _open(
        self,
        conn: Connection,
        dossier_id: int,
        actor_id: int | None,
        part: Edit,
        expected_version: int | None = None,
    ) -> DossierRow:
        """The dossier to edit: checked against the actor's roles when one is given, and
        against the version the editor last read when they say which.

        ``actor_id=None`` is the administrator's path (CLI, demo loader): no role check.
        """
        if actor_id is None:
            dossier = load(conn, dossier_id, for_update=True)
            if expected_version is not None and dossier.version != expected_version:
                raise StaleVersion(expected_version, dossier.version)
            return dossier
        return require_edit(
            conn, dossier_id, actor_id, part, self.clock(), expected_version=expected_version
        )


def upsert(conn: Connection, table: Table, dossier_id: int, values: dict[str, Any]) -> int:
    """Insert or update the one row of ``table`` that belongs to the dossier; its id."""
    existing = conn.execute(select(table.c.id).where(table.c.dossier_id == dossier_id)).scalar()
    if existing is None:
        return primary_key(
            conn.execute(insert(table).values(dossier_id=dossier_id, **values)).inserted_primary_key
        )
    conn.execute(update(table).where(table.c.id == existing).values(**values))
    return int(existing)


def require_person(conn: Connection, person_id: int) -> None:
    if (
        conn.execute(select(person_table.c.id).where(person_table.c.id == person_id)).first()
        is None
    ):
        raise PersonNotFound(person_id)


def primary_key(key: object) -> int:
    assert key is not None
    return int(key[0])  # type: ignore[index]
