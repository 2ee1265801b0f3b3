"""An export file as an HTTP download, the same for the API's routes and the pages."""

from __future__ import annotations

from fastapi import Response

from api.exports.files import ExportFile
from api.uploads import content_disposition


def attachment(export: ExportFile) -> Response:
    """A download that is never cached (it shows dossiers as they stand now, to one person)
    and never sniffed into something the browser would run."""
    return Response(
        export.content,
        media_type=export.media_type,
        headers={
            "Content-Disposition": content_disposition(export.filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )
