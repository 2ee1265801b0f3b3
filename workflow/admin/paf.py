"""Importing the plan académique de formation (PAF): one dossier in « Brouillon » per line,
with its team, keyed by the identifiant PAF.

A file is first *tried* (the dry run): every line is reported, in French, as a creation, an
update (with what changes), unchanged, ignored (the dossier has moved past « Brouillon »:
the import never rewrites a contract under way) or refused (with every reason at once).
Applying it re-plans in the same transaction that writes, and writes only if no line is
refused: all or nothing. A line names people by their address; someone formaflow does not
know is a refusal, never a person created on the fly — an address mistyped in a
spreadsheet would otherwise become a phantom account receiving contracts, and people come
with their real names from the people import. An empty cell leaves the dossier's value as
it is, so a partial file (only the dates, say) updates only what it gives; a cell of
formateurs or concepteurs that is filled is the whole list for that role.

Who may import: the académie's gestionnaires and administrateurs; ``actor_id=None`` is the
operator's command line.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from states.roles import role_label
from workflow.admin.paf_lines import PafFile
from workflow.admin.paf_plan import (
    ACTION_LABELS,
    TEAM_ROLES,
    WORKFLOW,
    Action,
    LineReport,
    Plan,
    plan_lines,
    write_plans,
)
from workflow.engine.errors import DossierNotFound, InvalidInput, NotPermitted, WorkflowError
from workflow.store.tables import academie_table as R
from workflow.store.tables import assignment_table as A
from workflow.store.tables import paf_import_table as I
from workflow.store.types import utcnow

IMPORTERS = ("gestionnaire", "administrateur")
"""Académie roles that may import a PAF (DOMAIN §9)."""
MAX_FILE_BYTES = 5 * 1024 * 1024


class ImportNotFound(DossierNotFound):
    """An import one may not see is reported as not found, like a dossier."""

    code = "introuvable"

    def __init__(self, import_id: int) -> None:
        WorkflowError.__init__(self, f"L'import {import_id} est introuvable.")
        self.dossier = import_id


@dataclass(frozen=True, slots=True)
class PafReport:
    academie_id: int
    lines: tuple[LineReport, ...]
    ignored_columns: tuple[str, ...] = ()
    applied: bool = False

    def count(self, action: Action) -> int:
        return sum(1 for line in self.lines if line.action is action)

    @property
    def counts(self) -> dict[str, int]:
        return {action.value: self.count(action) for action in Action}

    @property
    def refused(self) -> list[LineReport]:
        return [line for line in self.lines if line.action is Action.REFUSE]

    @property
    def ok(self) -> bool:
        return not self.refused


@dataclass(frozen=True, slots=True)
class StoredImport:
    id: int
    academie_id: int
    academie_slug: str
    academie_name: str
    filename: str
    content: bytes
    status: str
    created_at: datetime
    imported_at: datetime | None
    created: int
    updated: int


def may_import(conn: Connection, academie_id: int, person_id: int) -> bool:
    return (
        conn.execute(
            select(A.c.id).where(
                A.c.person_id == person_id,
                A.c.academie_id == academie_id,
                A.c.role.in_(IMPORTERS),
            )
        ).first()
        is not None
    )


def importable_academies(conn: Connection, person_id: int) -> list[tuple[int, str, str]]:
    """(id, slug, name) of the académies where ``person_id`` may import a PAF, by name."""
    rows = conn.execute(
        select(R.c.id, R.c.slug, R.c.name)
        .where(
            R.c.id.in_(
                select(A.c.academie_id).where(A.c.person_id == person_id, A.c.role.in_(IMPORTERS))
            )
        )
        .order_by(R.c.name, R.c.id)
    ).all()
    return [(int(r.id), str(r.slug), str(r.name)) for r in rows]


def _require_importer(conn: Connection, academie_id: int, actor_id: int | None) -> None:
    if conn.execute(select(R.c.id).where(R.c.id == academie_id)).first() is None:
        raise InvalidInput("Académie inconnue.", field="academie")
    if actor_id is not None and not may_import(conn, academie_id, actor_id):
        raise NotPermitted("importer le PAF de cette académie", [role_label(r) for r in IMPORTERS])


class PafImporter:
    """The use cases of the PAF import; each public method is one transaction."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.clock = clock

    # Files ---------------------------------------------------------------------------------

    def store(
        self, academie_id: int, filename: str, content: bytes, *, actor_id: int | None
    ) -> int:
        """Keep a dropped file (the dry run reads it, the confirmation imports it)."""
        if not content:
            raise InvalidInput("Le fichier déposé est vide.", field="fichier")
        if len(content) > MAX_FILE_BYTES:
            raise InvalidInput("Le fichier dépasse 5 Mio : découpez le PAF.", field="fichier")
        with self.engine.begin() as conn:
            _require_importer(conn, academie_id, actor_id)
            key = conn.execute(
                insert(I).values(
                    academie_id=academie_id,
                    filename=filename[:255],
                    content=content,
                    sha256=hashlib.sha256(content).hexdigest(),
                    created_by_id=actor_id,
                    created_at=self.clock(),
                    status="essai",
                    created=0,
                    updated=0,
                )
            ).inserted_primary_key
            assert key is not None
            return int(key[0])

    def stored(self, import_id: int, *, actor_id: int | None) -> StoredImport:
        """A kept file, if ``actor_id`` may import into its académie (else not found)."""
        with self.engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
            row = conn.execute(
                select(I, R.c.slug, R.c.name.label("academie_name"))
                .join(R, R.c.id == I.c.academie_id)
                .where(I.c.id == import_id)
            ).first()
            if row is None or (
                actor_id is not None and not may_import(conn, row.academie_id, actor_id)
            ):
                raise ImportNotFound(import_id)
            conn.rollback()
        return StoredImport(
            id=row.id,
            academie_id=row.academie_id,
            academie_slug=row.slug,
            academie_name=row.academie_name,
            filename=row.filename,
            content=bytes(row.content),
            status=row.status,
            created_at=row.created_at,
            imported_at=row.imported_at,
            created=row.created,
            updated=row.updated,
        )

    # Dry run and import ----------------------------------------------------------------------

    def dry_run(self, academie_id: int, parsed: PafFile, *, actor_id: int | None) -> PafReport:
        with self.engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
            _require_importer(conn, academie_id, actor_id)
            plans = plan_lines(conn, academie_id, parsed.lines)
            conn.rollback()
        return _report(academie_id, plans, parsed, applied=False)

    def apply(
        self,
        academie_id: int,
        parsed: PafFile,
        *,
        actor_id: int | None,
        import_id: int | None = None,
    ) -> PafReport:
        """Plan again and write, in one transaction, only if no line is refused."""
        now = self.clock()
        try:
            with self.engine.begin() as conn:
                _require_importer(conn, academie_id, actor_id)
                plans = plan_lines(conn, academie_id, parsed.lines)
                report = _report(academie_id, plans, parsed, applied=False)
                if not report.ok:
                    return report
                written = write_plans(conn, academie_id, plans, now)
                report = _report(academie_id, written, parsed, applied=True)
                if import_id is not None:
                    conn.execute(
                        update(I)
                        .where(I.c.id == import_id, I.c.academie_id == academie_id)
                        .values(
                            status="importe",
                            imported_at=now,
                            created=report.count(Action.CREATE),
                            updated=report.count(Action.UPDATE),
                        )
                    )
                return report
        except IntegrityError as error:
            raise InvalidInput(
                "Un autre import de ce PAF a eu lieu en même temps : rien n'a été importé. "
                "Relancez l'essai pour voir l'état à jour."
            ) from error


def _report(academie_id: int, plans: list[Plan], parsed: PafFile, *, applied: bool) -> PafReport:
    return PafReport(
        academie_id=academie_id,
        lines=tuple(p.report for p in plans),
        ignored_columns=parsed.ignored_columns,
        applied=applied,
    )


__all__ = [
    "ACTION_LABELS",
    "IMPORTERS",
    "MAX_FILE_BYTES",
    "TEAM_ROLES",
    "WORKFLOW",
    "Action",
    "ImportNotFound",
    "LineReport",
    "PafImporter",
    "PafReport",
    "StoredImport",
    "importable_academies",
    "may_import",
]
