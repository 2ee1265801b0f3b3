"""The sealed PDF of a fully signed version, recorded in the dossier's documents.

The edges render and seal the file and write its bytes; this records the row, links it to
its version (once: ``contract_version.sealed_document_id`` is unique) and journals its
SHA-256, all on the caller's connection, inside the transaction of the last signature.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert

from workflow.documents.versions import Version, attach_seal
from workflow.engine.rows import DossierRow
from workflow.payments import journal
from workflow.store.tables import document_table

SEALED_KIND = "contrat_scelle"


def sealed_filename(dossier: DossierRow, version: Version) -> str:
    what = "contrat" if version.number == 1 else f"avenant-{version.number - 1}"
    return f"{dossier.reference}-{what}-signe.pdf"


def record_sealed(
    conn: Connection,
    dossier: DossierRow,
    version: Version,
    *,
    size_bytes: int,
    sha256: str,
    storage_key: str,
    now: datetime,
) -> int:
    inserted = conn.execute(
        insert(document_table).values(
            dossier_id=dossier.id,
            kind=SEALED_KIND,
            filename=sealed_filename(dossier, version),
            content_type="application/pdf",
            size_bytes=size_bytes,
            sha256=sha256,
            storage_key=storage_key,
            uploaded_by_id=None,
            uploaded_at=now,
        )
    ).inserted_primary_key
    assert inserted is not None
    document_id = int(inserted[0])
    attach_seal(conn, version.id, document_id)
    journal.append(
        conn,
        academie_id=dossier.academie_id,
        kind=journal.KIND_DOCUMENT,
        source_id=document_id,
        now=now,
    )
    return document_id
