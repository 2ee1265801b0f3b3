"""``formaflow audit verify``, files side: each stored document against its recorded hash.

The decision journal proves the rows; this proves the files they name: every document's
bytes must still have the SHA-256 recorded with it (an uploaded émargement list as much as
a sealed contract), and a sealed PDF must still pass pyHanko's validation of its seal.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, select

from api.documents.sealing import check
from workflow.documents.archive import SEALED_KIND
from workflow.reads.records import document_path
from workflow.store.tables import academie_table, document_table, dossier_table


@dataclass(frozen=True, slots=True)
class FilesReport:
    checked: int
    sealed: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_files(
    conn: Connection, data_dir: Path, trust_root: Path | None, academie: str | None = None
) -> FilesReport:
    query = (
        select(
            document_table.c.id,
            document_table.c.kind,
            document_table.c.filename,
            document_table.c.sha256,
            document_table.c.storage_key,
            dossier_table.c.reference,
        )
        .join(dossier_table, dossier_table.c.id == document_table.c.dossier_id)
        .join(academie_table, academie_table.c.id == dossier_table.c.academie_id)
        .order_by(document_table.c.id)
    )
    if academie is not None:
        query = query.where(academie_table.c.slug == academie)
    problems: list[str] = []
    checked = sealed = 0
    for row in conn.execute(query):
        checked += 1
        what = f"Pièce n° {row.id} « {row.filename} » du dossier {row.reference}"
        path = document_path(data_dir, str(row.storage_key))
        if path is None or not path.is_file():
            problems.append(f"{what} : fichier introuvable.")
            continue
        if _sha256(path) != row.sha256:
            problems.append(
                f"{what} : le fichier ne correspond plus à l'empreinte SHA-256 enregistrée "
                f"({row.sha256})."
            )
            continue
        if row.kind == SEALED_KIND and trust_root is not None:
            sealed += 1
            result = check(path.read_bytes(), trust_root)
            if not (result.intact and result.valid and result.covers_whole_file):
                problems.append(f"{what} : le sceau électronique n'est plus valide.")
    return FilesReport(checked, sealed, tuple(problems))
