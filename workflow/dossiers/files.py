"""Where the bytes of uploaded documents live, and how they get there without orphans.

A document's bytes are kept outside the database, content-addressed under
``<data_dir>/documents/<2 hex>/<sha256>``. An upload is first streamed to a file of its own
in ``<data_dir>/documents/.incoming/`` (the same file system, so that moving it is atomic),
and it is moved into place only inside the transaction that writes the document's row:
a refused upload (no right, bad type, too large, a failing transaction) leaves nothing
behind. A process killed mid-upload can still leave a staged file, and a crash between the
move and the commit a stored one; ``orphans`` finds both and ``remove_orphans`` deletes them
(``formaflow fichiers orphelins --supprimer``).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, select

from workflow.store.tables import document_table

INCOMING = ".incoming"
STAGED_GRACE = timedelta(hours=1)
"""A staged file younger than this may belong to an upload still in progress."""


def documents_dir(data_dir: Path) -> Path:
    return data_dir / "documents"


def storage_key(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256}"


@dataclass
class StagedFile:
    """An upload being received: its bytes go to ``path`` as they arrive, hashed on the way.

    ``head`` keeps the first bytes, enough to recognise the type (see ``api.uploads``)."""

    path: Path
    size: int = 0
    head: bytes = b""
    _hash: hashlib._Hash | None = None

    HEAD = 64

    @classmethod
    def create(cls, data_dir: Path) -> StagedFile:
        directory = documents_dir(data_dir) / INCOMING
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{secrets.token_hex(16)}.part"
        path.touch(mode=0o600, exist_ok=False)
        return cls(path, _hash=hashlib.sha256())

    @classmethod
    def of_bytes(cls, data_dir: Path, content: bytes) -> StagedFile:
        staged = cls.create(data_dir)
        staged.write(content)
        return staged

    def write(self, chunk: bytes) -> None:
        assert self._hash is not None
        with self.path.open("ab") as handle:
            handle.write(chunk)
        self._hash.update(chunk)
        if len(self.head) < self.HEAD:
            self.head = (self.head + chunk)[: self.HEAD]
        self.size += len(chunk)

    @property
    def sha256(self) -> str:
        assert self._hash is not None
        return self._hash.hexdigest()

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def place(data_dir: Path, staged: StagedFile) -> tuple[str, bool]:
    """Move ``staged`` to its content address; its key, and whether this call created the
    stored file (False: the same bytes were already there, the staged copy is dropped).

    Called inside the transaction that writes the row, before its commit."""
    key = storage_key(staged.sha256)
    target = documents_dir(data_dir) / key
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        staged.discard()
        return key, False
    os.replace(staged.path, target)
    return key, True


def unplace(conn: Connection, data_dir: Path, key: str) -> None:
    """Undo ``place`` after the transaction failed: delete the stored file unless a
    committed row points to it (``conn`` reads outside the failed transaction)."""
    referenced = conn.execute(
        select(document_table.c.id).where(document_table.c.storage_key == key).limit(1)
    ).first()
    if referenced is None:
        (documents_dir(data_dir) / key).unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class Orphan:
    path: Path
    size: int
    staged: bool
    """True: an upload's staged file (an interrupted upload); False: a stored file that no
    document row points to."""


def _stored_files(root: Path) -> Iterator[Path]:
    for directory in sorted(root.iterdir()) if root.is_dir() else ():
        if directory.is_dir() and directory.name != INCOMING:
            yield from sorted(p for p in directory.iterdir() if p.is_file())


def orphans(conn: Connection, data_dir: Path, now: datetime | None = None) -> list[Orphan]:
    """Files under the documents directory that no row points to, and staged uploads older
    than ``STAGED_GRACE``."""
    root = documents_dir(data_dir)
    keys = set(conn.execute(select(document_table.c.storage_key)).scalars())
    found = [
        Orphan(path, path.stat().st_size, staged=False)
        for path in _stored_files(root)
        if f"{path.parent.name}/{path.name}" not in keys
    ]
    incoming = root / INCOMING
    cutoff = (now or datetime.now(UTC)) - STAGED_GRACE
    if incoming.is_dir():
        for path in sorted(incoming.iterdir()):
            stat = path.stat()
            if datetime.fromtimestamp(stat.st_mtime, UTC) < cutoff:
                found.append(Orphan(path, stat.st_size, staged=True))
    return found


def remove_orphans(conn: Connection, data_dir: Path, now: datetime | None = None) -> list[Orphan]:
    """Delete what ``orphans`` finds; the files deleted. A stored file is checked again
    just before it goes, so that a document committed meanwhile keeps its bytes."""
    removed = []
    for orphan in orphans(conn, data_dir, now):
        if not orphan.staged:
            key = f"{orphan.path.parent.name}/{orphan.path.name}"
            still = conn.execute(
                select(document_table.c.id).where(document_table.c.storage_key == key).limit(1)
            ).first()
            if still is not None:
                continue
        orphan.path.unlink(missing_ok=True)
        removed.append(orphan)
    return removed
