"""``/dev/mailbox``: the emails the embedded SMTP server received, in development only.

It lets a developer or a demo audience see the emails the product sends without any mail
setup. It does not exist in production (404), and it is a page like the others: signed-in
people only, in the State's design. Each person reads only the messages addressed to them,
except a gestionnaire, who reads every message about their académie's dossiers (as the
EAFC's office would see them pass); a message one may not read is « introuvable ».
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Request, Response
from fastapi import Path as PathParam
from starlette.concurrency import run_in_threadpool

from api.deps import Wired
from api.pages.errors import PageRoute
from api.pages.rendering import render
from api.pages.viewer import Seen, Viewer
from api.problems import ApiProblem
from api.security_headers import CONTENT_SECURITY_POLICY
from notifications.devmail import MailboxEntry, list_messages, read_message
from workflow.reads.queries import reading, references_managed_by

router = APIRouter(prefix="/dev/mailbox", route_class=PageRoute, include_in_schema=False)

SHOWN = 200

MESSAGE_POLICY = CONTENT_SECURITY_POLICY.replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)
"""An email's HTML carries inline styles (mail clients ignore stylesheets); it is shown in
a sandboxed frame, which runs no script whatever the policy."""


def _development(wired: Wired) -> Path:
    if wired.api_settings.env != "development":
        raise ApiProblem(404, "introuvable", "Cette adresse n'existe pas.")
    return wired.mail_settings.dev_mailbox_dir


def _readable(wired: Wired, viewer: Viewer, entries: Sequence[MailboxEntry]) -> list[MailboxEntry]:
    """The entries ``viewer`` may read, in the same order."""
    email = viewer.principal.email.lower()
    with reading(wired.engine) as conn:
        managed = references_managed_by(
            conn, viewer.person_id, {e.dossier for e in entries if e.dossier}
        )
    return [e for e in entries if email in e.recipients or (e.dossier and e.dossier in managed)]


@router.get("")
async def mailbox(request: Request, viewer: Seen, wired: Wired) -> Response:
    directory = _development(wired)
    entries = await run_in_threadpool(list_messages, directory, None)
    readable = await run_in_threadpool(_readable, wired, viewer, entries)
    return render(
        request,
        "dev/mailbox.html",
        {
            "page_title": "Boîte de développement",
            "messages": readable[:SHOWN],
            "total": len(readable),
        },
    )


@router.get("/{message_id}")
async def message(
    request: Request,
    message_id: Annotated[str, PathParam(max_length=60)],
    viewer: Seen,
    wired: Wired,
) -> Response:
    directory = _development(wired)
    found = await run_in_threadpool(read_message, directory, message_id)
    if found is None or not await run_in_threadpool(_readable, wired, viewer, [found.entry]):
        raise ApiProblem(404, "introuvable", "Ce message n'est pas dans la boîte de développement.")
    response = render(
        request, "dev/message.html", {"page_title": found.entry.subject, "message": found}
    )
    response.headers["Content-Security-Policy"] = MESSAGE_POLICY
    return response
