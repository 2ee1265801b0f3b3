"""Editing a dossier's sessions: planned, then held with their headcount.

Each change tells the session subscribers (convocations, calendar invitations) and
refreshes the due dates of the phase tasks, in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update

from workflow.dossiers.access import Edit
from workflow.dossiers.editing_base import EditorBase, primary_key, require_person
from workflow.dossiers.events import CALENDAR_FIELDS, SessionChanged
from workflow.dossiers.inputs import SessionInput
from workflow.engine.errors import InvalidInput
from workflow.engine.tasks import refresh_due_dates
from workflow.language.french import format_datetime
from workflow.store.tables import session_table


class SessionEdits(EditorBase):
    def add_session(
        self, dossier_id: int, data: SessionInput, *, actor_id: int | None = None
    ) -> int:
        now = self.clock()
        with self.engine.begin() as conn:
            self._open(conn, dossier_id, actor_id, Edit.SESSIONS)
            _held_once_started(data, now)
            if data.formateur_id is not None:
                require_person(conn, data.formateur_id)
            result = conn.execute(
                insert(session_table).values(
                    dossier_id=dossier_id, created_at=now, **data.model_dump()
                )
            )
            session_id = primary_key(result.inserted_primary_key)
            refresh_due_dates(conn, dossier_id, now)
            self._session_changed(
                conn, SessionChanged(dossier_id, session_id, True, True, now, actor_id)
            )
            return session_id

    def update_session(
        self, dossier_id: int, session_id: int, data: SessionInput, *, actor_id: int | None = None
    ) -> bool:
        """Replace what is known of one session: planned at first, then held, with its
        actual headcount. False when the session is not one of this dossier's, so that the
        edge reports it as not found and a session of another dossier reveals nothing."""
        now = self.clock()
        with self.engine.begin() as conn:
            self._open(conn, dossier_id, actor_id, Edit.SESSIONS)
            _held_once_started(data, now)
            if data.formateur_id is not None:
                require_person(conn, data.formateur_id)
            values = data.model_dump()
            where = (session_table.c.id == session_id, session_table.c.dossier_id == dossier_id)
            current = conn.execute(
                select(*(session_table.c[name] for name in values)).where(*where)
            ).first()
            if current is None:
                return False
            before = current._asdict()
            if before != values:
                # A calendar keeps the event with the highest SEQUENCE: count real changes.
                conn.execute(
                    update(session_table)
                    .where(*where)
                    .values(**values, revision=session_table.c.revision + 1)
                )
                self._session_changed(
                    conn,
                    SessionChanged(
                        dossier_id,
                        session_id,
                        created=False,
                        calendar_changed=any(before[f] != values[f] for f in CALENDAR_FIELDS),
                        at=self.clock(),
                        actor_id=actor_id,
                        previous_starts_at=before["starts_at"],
                        previous_modality=before["modality"],
                    ),
                )
                refresh_due_dates(conn, dossier_id, now)
            return True


def _held_once_started(data: SessionInput, now: datetime) -> None:
    """A session is « tenue » only once it has begun: hours recorded for a future session
    would go to payment for work not yet done."""
    if data.held and data.starts_at > now:
        raise InvalidInput(
            "Une session ne peut être marquée tenue qu'une fois commencée : celle-ci "
            f"commence le {format_datetime(data.starts_at)}.",
            field="held",
        )
