"""The administration use cases, each one transaction, each checking who acts.

Like ``WorkflowService.fire`` and ``DossierEditor``, every public method opens its own
transaction and owns its commit: a refused value, an unknown person or a refused CSV line
writes nothing. ``actor_id`` is the person acting (an administrateur of the académie, see
``authority``); ``None`` is the operator at the command line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from workflow.admin import academies, authority, changes, people, people_import
from workflow.admin.academies import NewAcademie
from workflow.admin.authority import AcademieRef
from workflow.admin.changes import Change
from workflow.admin.people import Added
from workflow.admin.people_import import ImportReport
from workflow.engine.errors import NotPermitted
from workflow.store.types import utcnow


class Administration:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.clock = clock

    # Académies ------------------------------------------------------------------------

    def create_academie(self, data: NewAcademie, *, actor_id: int | None) -> int:
        with self.engine.begin() as conn:
            if not authority.may_create_academie(conn, actor_id):
                raise NotPermitted(
                    "créer une académie", [authority.ADMINISTRATEUR_LABEL], where="dans formaflow"
                )
            return academies.create(conn, data, actor_id=actor_id, now=self.clock())

    def import_seed(
        self, text: str, *, where: str, slug: str | None = None, code: str | None = None
    ) -> int:
        """A new académie from a seed file (the operator's command; ``slug`` and ``code``
        override the file's)."""
        seed = academies.seed_from_toml(text, where=where)
        data = NewAcademie(slug or seed.slug, code or seed.code, seed.settings)
        with self.engine.begin() as conn:
            return academies.create(conn, data, actor_id=None, now=self.clock())

    def change_settings(
        self, academie: str | int, wanted: Mapping[str, Any], *, actor_id: int | None
    ) -> list[Change]:
        with self.engine.begin() as conn:
            ref = authority.require_academie(conn, academie, actor_id)
            return changes.apply(conn, ref.id, wanted, actor_id=actor_id, now=self.clock())

    # People ---------------------------------------------------------------------------

    def add_person(
        self, academie: str | int, email: str, full_name: str, *, actor_id: int | None
    ) -> Added:
        with self.engine.begin() as conn:
            ref = authority.require_academie(conn, academie, actor_id)
            return people.add_person(
                conn, ref.id, email, full_name, actor_id=actor_id, now=self.clock()
            )

    def review_import(
        self, academie: str | int, content: bytes, *, actor_id: int | None
    ) -> ImportReport:
        """The dry run: what importing the file would do, line by line; writes nothing."""
        with self.engine.connect() as conn:
            ref = authority.require_academie(conn, academie, actor_id)
            report = people_import.review(conn, ref.id, content)
            conn.rollback()
            return report

    def import_people(
        self, academie: str | int, content: bytes, *, actor_id: int | None
    ) -> ImportReport:
        """The whole file, or nothing if any line is refused."""
        with self.engine.begin() as conn:
            ref = authority.require_academie(conn, academie, actor_id)
            return people_import.apply(conn, ref.id, content, actor_id=actor_id, now=self.clock())

    def set_active(
        self, academie: str | int, person_id: int, active: bool, *, actor_id: int | None
    ) -> str:
        with self.engine.begin() as conn:
            ref = authority.require_academie(conn, academie, actor_id)
            administered = (
                None if actor_id is None else {a.id for a in authority.administered(conn, actor_id)}
            )
            return people.set_active(
                conn,
                ref.id,
                person_id,
                active,
                actor_id=actor_id,
                administered=administered,
                now=self.clock(),
            )

    # Académie roles -------------------------------------------------------------------

    def grant(self, academie: str | int, person_id: int, role: str, *, actor_id: int | None) -> str:
        with self.engine.begin() as conn:
            ref = authority.require_academie(conn, academie, actor_id)
            return people.grant(conn, ref.id, person_id, role, actor_id=actor_id, now=self.clock())

    def withdraw(
        self, academie: str | int, person_id: int, role: str, *, actor_id: int | None
    ) -> str:
        with self.engine.begin() as conn:
            ref = authority.require_academie(conn, academie, actor_id)
            return people.withdraw(
                conn, ref.id, person_id, role, actor_id=actor_id, now=self.clock()
            )

    # Reads ----------------------------------------------------------------------------

    def academie(self, academie: str | int, *, actor_id: int | None) -> AcademieRef:
        with self.engine.connect() as conn:
            ref = authority.require_academie(conn, academie, actor_id)
            conn.rollback()
            return ref
