"""Archiving: dossiers closed for longer than their académie's retention period leave the
default lists and lose their files and the personal data nothing needs any more.

A dossier is due when it stands in a terminal state of its workflow (« Mis en paiement »,
« Annulé »…) and entered it more than ``archive_after_days`` ago (``academie_settings``).
``Archiver.archive`` handles one dossier in one transaction: it locks the row, checks it is
still due, runs every purge step (``PURGE_STEPS``), sets ``archived_at`` (the dossier then
leaves the default lists; a filter shows it) and commits; only then are the files nothing
references any more deleted from disk. A failing step rolls the whole dossier back: all or
nothing per dossier, no file deleted for a dossier that was not archived.

What stays: the dossier row, its history (append-only), its team and accounts, signatures,
payment decisions and their lines, and the decision journal, which ``formaflow audit
verify`` checks against them — archiving never touches them.

``PURGE_STEPS`` is the one place where archiving purges data: a capability that stores
more personal data on a dossier (the stagiaires, their attendance) adds its own step there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, Engine, delete, func, select, update

from states import SPECS, get_spec
from workflow.engine.rows import DossierRow, load
from workflow.language.french import PARIS, format_date
from workflow.store.academie_settings import academie_settings
from workflow.store.tables import academie_table as R
from workflow.store.tables import contract_version_table as CV
from workflow.store.tables import delegation_table as G
from workflow.store.tables import document_table as F
from workflow.store.tables import dossier_table as D
from workflow.store.tables import outbox_table as M
from workflow.store.tables import ouverture_table as O
from workflow.store.tables import task_table as T
from workflow.store.types import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Purged:
    """What one step removed from one dossier: French lines for the operator, and the
    stored files (keys under ``documents/``) to delete once the transaction committed."""

    lines: tuple[str, ...] = ()
    files: tuple[str, ...] = ()


PurgeStep = Callable[[Connection, DossierRow], Purged]


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f}".replace(".", ",").removesuffix(",0") + " Mio"
    if size >= 1024:
        return f"{size // 1024} Kio"
    return f"{size} octets"


def purge_documents(conn: Connection, dossier: DossierRow) -> Purged:
    """Uploaded files (attendance sheets, pay slips…): their rows now, their bytes after
    the commit — unless another dossier's row still holds the same content (files are
    stored by content, so two identical uploads share one file). The sealed contracts
    stay: they are the signatures' proof, kept like the signatures themselves."""
    sealed = select(CV.c.sealed_document_id).where(
        CV.c.dossier_id == dossier.id, CV.c.sealed_document_id.is_not(None)
    )
    uploaded = (F.c.dossier_id == dossier.id, F.c.id.not_in(sealed))
    rows = conn.execute(select(F.c.storage_key, F.c.size_bytes).where(*uploaded)).all()
    if not rows:
        return Purged()
    conn.execute(delete(F).where(*uploaded))
    keys = sorted({str(r.storage_key) for r in rows})
    shared = set(conn.execute(select(F.c.storage_key).where(F.c.storage_key.in_(keys))).scalars())
    size = sum(int(r.size_bytes) for r in rows)
    line = _plural(len(rows), "document déposé supprimé", "documents déposés supprimés")
    return Purged((f"{line} ({_size(size)})",), tuple(k for k in keys if k not in shared))


def purge_emails(conn: Connection, dossier: DossierRow) -> Purged:
    """The copies of the emails sent about the dossier: names, addresses, comments."""
    removed = conn.execute(delete(M).where(M.c.dossier_id == dossier.id)).rowcount
    if not removed:
        return Purged()
    return Purged(
        (_plural(removed, "courriel effacé", "courriels effacés") + " de la boîte d'envoi",)
    )


def purge_tasks(conn: Connection, dossier: DossierRow) -> Purged:
    """The charter tasks: who had to do what, and when they did it."""
    removed = conn.execute(delete(T).where(T.c.dossier_id == dossier.id)).rowcount
    if not removed:
        return Purged()
    return Purged((_plural(removed, "tâche de la charte effacée", "tâches de la charte effacées"),))


def purge_delegations(conn: Connection, dossier: DossierRow) -> Purged:
    """Suppléances given for this dossier alone (who stood in for whom)."""
    removed = conn.execute(delete(G).where(G.c.dossier_id == dossier.id)).rowcount
    if not removed:
        return Purged()
    return Purged((_plural(removed, "suppléance effacée", "suppléances effacées"),))


def purge_ouverture_contacts(conn: Connection, dossier: DossierRow) -> Purged:
    """The contacts typed into an « ouverture de parcours » request (the pilote's name and
    address, the concepteurs): the accounts of the team keep who they are."""
    changed = conn.execute(
        update(O)
        .where(
            O.c.dossier_id == dossier.id,
            (O.c.pilote_nom != "") | (O.c.pilote_courriel != "") | (O.c.concepteurs != ""),
        )
        .values(pilote_nom="", pilote_courriel="", concepteurs="")
    ).rowcount
    if not changed:
        return Purged()
    return Purged(("contacts de la demande d'ouverture effacés",))


PURGE_STEPS: tuple[PurgeStep, ...] = (
    purge_documents,
    purge_emails,
    purge_tasks,
    purge_delegations,
    purge_ouverture_contacts,
)
"""Every purge archiving runs, in order, in the dossier's one transaction. The stagiaires'
personal data (participants/) is purged by a step added here."""


# --- Which dossiers, and archiving one ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candidate:
    dossier_id: int
    reference: str
    title: str
    academie: str
    state_label: str
    closed_on: str
    """When it entered its terminal state, in French (Paris date)."""


def _terminal_states() -> dict[tuple[str, int], list[str]]:
    return {
        (spec.name, spec.version): [s.id for s in spec.states if s.terminal]
        for spec in SPECS.values()
    }


def _cutoff(conn: Connection, academie_id: int, now: datetime) -> datetime:
    return now - timedelta(days=academie_settings(conn, academie_id).archive_after_days)


def due(conn: Connection, now: datetime, academie: str | None = None) -> list[Candidate]:
    """The dossiers to archive now, by académie then reference."""
    academies = conn.execute(
        select(R.c.id, R.c.slug)
        .where(R.c.slug == academie if academie is not None else R.c.id.is_not(None))
        .order_by(R.c.slug)
    ).all()
    found: list[Candidate] = []
    for academie_id, slug in academies:
        cutoff = _cutoff(conn, int(academie_id), now)
        for (workflow, version), states in _terminal_states().items():
            rows = conn.execute(
                select(D.c.id, D.c.reference, D.c.title, D.c.state, D.c.state_entered_at)
                .where(
                    D.c.academie_id == academie_id,
                    D.c.workflow_name == workflow,
                    D.c.workflow_version == version,
                    D.c.state.in_(states),
                    D.c.state_entered_at < cutoff,
                    D.c.archived_at.is_(None),
                )
                .order_by(D.c.reference)
            )
            spec = get_spec(workflow, version)
            found.extend(
                Candidate(
                    int(r.id),
                    str(r.reference),
                    str(r.title),
                    str(slug),
                    spec.state(r.state).label,
                    format_date(r.state_entered_at.astimezone(PARIS).date()),
                )
                for r in rows
            )
    return sorted(found, key=lambda c: (c.academie, c.reference))


class NotDue(Exception):
    """The dossier changed since it was listed (reopened, already archived): skipped."""


@dataclass
class Archived:
    candidate: Candidate
    lines: list[str] = field(default_factory=list)
    files_deleted: int = 0
    error: str | None = None
    """Why nothing was done, in French; ``None`` when archived."""


class Archiver:
    """Archives due dossiers one transaction each; ``steps`` defaults to ``PURGE_STEPS``."""

    def __init__(
        self,
        engine: Engine,
        data_dir: Path,
        clock: Callable[[], datetime] = utcnow,
        steps: Sequence[PurgeStep] = PURGE_STEPS,
    ) -> None:
        self.engine = engine
        self.data_dir = data_dir
        self.clock = clock
        self.steps = tuple(steps)

    def due(self, academie: str | None = None) -> list[Candidate]:
        with self.engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
            found = due(conn, self.clock(), academie)
            conn.rollback()
        return found

    def _purge(self, conn: Connection, candidate: Candidate, now: datetime) -> Purged:
        dossier = load(conn, candidate.dossier_id, for_update=True)
        terminal = _terminal_states().get((dossier.workflow_name, dossier.workflow_version), [])
        if (
            dossier.archived_at is not None
            or dossier.state not in terminal
            or dossier.state_entered_at >= _cutoff(conn, dossier.academie_id, now)
        ):
            raise NotDue
        lines: list[str] = []
        files: list[str] = []
        for step in self.steps:
            purged = step(conn, dossier)
            lines.extend(purged.lines)
            files.extend(purged.files)
        conn.execute(update(D).where(D.c.id == dossier.id).values(archived_at=now))
        return Purged(tuple(lines), tuple(dict.fromkeys(files)))

    def archive(self, candidate: Candidate, *, dry_run: bool = False) -> Archived:
        """Archive one dossier (or, with ``dry_run``, say what it would do and roll back)."""
        now = self.clock()
        result = Archived(candidate)
        try:
            with self.engine.connect() as conn, conn.begin() as transaction:
                purged = self._purge(conn, candidate, now)
                if dry_run:
                    transaction.rollback()
        except NotDue:
            result.error = "n'est plus à archiver (il a changé depuis la liste)"
            return result
        except Exception as error:  # a failed step: nothing of this dossier was changed
            log.exception("archiving dossier %s failed", candidate.dossier_id)
            result.error = f"échec, rien n'a été modifié ({type(error).__name__} : {error})"
            return result
        result.lines = list(purged.lines)
        if purged.files and not dry_run:
            result.files_deleted = self._delete_files(purged.files, result)
        elif purged.files:
            result.files_deleted = len(purged.files)
        return result

    def _delete_files(self, keys: Sequence[str], result: Archived) -> int:
        """After the commit: a file is deleted only once no row points at it, so a crash
        here leaves at worst a file without a row, never a row without its file."""
        deleted = 0
        root = (self.data_dir / "documents").resolve()
        for key in keys:
            path = (root / key).resolve()
            if root not in path.parents:
                continue  # never outside the documents directory, whatever a row says
            try:
                path.unlink(missing_ok=True)
                deleted += 1
            except OSError as error:
                result.lines.append(f"fichier {key} non effacé du disque : {error.strerror}")
        return deleted

    def run(self, academie: str | None = None, *, dry_run: bool = False) -> Iterator[Archived]:
        for candidate in self.due(academie):
            yield self.archive(candidate, dry_run=dry_run)


def archived_count(conn: Connection) -> int:
    return int(
        conn.execute(
            select(func.count()).select_from(D).where(D.c.archived_at.is_not(None))
        ).scalar_one()
    )
