"""Producing the sealed PDF when a version's last signature is given: a service subscriber.

Registered in ``api.wiring`` like the outbox, it runs inside the transaction of the
signature that completed the version: it renders the version (WeasyPrint), seals it with
the académie's certificate (pyHanko), writes the file under the data directory and records
its row and journal entry on the same connection. The service itself never imports a PDF
library. If the transaction then rolls back, the file just written is removed, so no file
is left without its row (a crash between the write and the commit can still leave one;
``formaflow audit verify`` only reads files that rows name).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, event

from api.documents.pdf import html_to_pdf
from api.documents.rendering import render_contract
from api.documents.sealing import SealKeys, seal
from workflow.documents.archive import record_sealed
from workflow.documents.versions import sealable
from workflow.engine.events import TransitionEvent
from workflow.engine.rows import load
from workflow.reads.contract import contract_view

log = logging.getLogger(__name__)

SIGNING_TRIGGERS = frozenset({"signer", "signer_avenant"})


def storage_key(digest: str) -> str:
    return f"{digest[:2]}/{digest}"


class ContractSealer:
    """Subscriber: seals and stores each version of a document once fully signed."""

    def __init__(self, data_dir: Path, keys: Callable[[Connection, int], SealKeys]) -> None:
        self.data_dir = data_dir
        self.keys = keys

    def __call__(self, conn: Connection, event_: TransitionEvent, /) -> None:
        if event_.trigger not in SIGNING_TRIGGERS:
            return
        dossier = load(conn, event_.dossier_id)
        version = sealable(conn, dossier)
        if version is None:
            return
        view = contract_view(conn, dossier, version.number)
        pdf = html_to_pdf(render_contract(view, event_.at, sealed=True))
        sealed = seal(
            pdf,
            self.keys(conn, dossier.academie_id),
            reason=f"{view.label} du dossier {dossier.reference}, signé par tous ses signataires",
            location=view.place,
        )
        digest = hashlib.sha256(sealed).hexdigest()
        key = storage_key(digest)
        path = self.data_dir / "documents" / key
        self._write(conn, path, sealed)
        record_sealed(
            conn,
            dossier,
            version,
            size_bytes=len(sealed),
            sha256=digest,
            storage_key=key,
            now=event_.at,
        )
        log.info("sealed %s version %s: %s", dossier.reference, version.number, digest)

    @staticmethod
    def _write(conn: Connection, path: Path, content: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(content)
        tmp.replace(path)

        def remove(_conn: Connection) -> None:
            path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # not empty: other documents live there
                path.parent.rmdir()
            event.remove(conn, "commit", keep)

        def keep(_conn: Connection) -> None:
            event.remove(conn, "rollback", remove)

        # The file goes with the transaction: a rollback (refused transition, failed
        # subscriber, lost connection) removes it; a commit keeps it.
        event.listen(conn, "rollback", remove, once=True)
        event.listen(conn, "commit", keep, once=True)
