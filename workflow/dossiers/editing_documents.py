"""Adding a document to a dossier: its row and its bytes at their content address, together."""

from __future__ import annotations

from sqlalchemy import insert

from workflow.dossiers.access import Edit
from workflow.dossiers.editing_base import EditorBase, primary_key
from workflow.dossiers.files import StagedFile, place, unplace
from workflow.dossiers.inputs import DocumentInput
from workflow.store.tables import document_table


class DocumentEdits(EditorBase):
    def add_document(
        self,
        dossier_id: int,
        data: DocumentInput,
        content: bytes | StagedFile,
        uploaded_by: int | None,
        *,
        actor_id: int | None = None,
    ) -> int:
        """The metadata row, and the bytes moved to their content address in the same
        transaction (``workflow.dossiers.files``): a refusal or a failed commit leaves no
        file that no row points to, and never a row pointing at nothing.

        ``content`` is the staged upload the edge streamed to disk (or bytes, staged here).
        It is consumed either way: stored, or deleted.
        """
        staged = (
            StagedFile.of_bytes(self.data_dir, content) if isinstance(content, bytes) else content
        )
        placed: str | None = None
        try:
            with self.engine.begin() as conn:
                self._open(conn, dossier_id, actor_id, Edit.DOCUMENTS)
                size, digest = staged.size, staged.sha256
                key, created = place(self.data_dir, staged)
                placed = key if created else None
                result = conn.execute(
                    insert(document_table).values(
                        dossier_id=dossier_id,
                        kind=data.kind,
                        filename=data.filename,
                        content_type=data.content_type,
                        size_bytes=size,
                        sha256=digest,
                        storage_key=key,
                        uploaded_by_id=uploaded_by,
                        uploaded_at=self.clock(),
                    )
                )
                return primary_key(result.inserted_primary_key)
        except BaseException:
            if placed is not None:
                with self.engine.connect() as conn:
                    unplace(conn, self.data_dir, placed)
            raise
        finally:
            staged.discard()
