"""``/dev/mailbox``: the emails the embedded SMTP server received, in development only.

It lets a developer or a demo audience see every email the product sends without any mail
setup. It does not exist in production (404), and it is a page like the others: signed-in
people only, in the State's design.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Request, Response
from fastapi import Path as PathParam

from api.deps import Wired
from api.pages.errors import PageRoute
from api.pages.rendering import render
from api.pages.viewer import Seen
from api.problems import ApiProblem
from notifications.devmail import count_messages, list_messages, read_message

router = APIRouter(prefix="/dev/mailbox", route_class=PageRoute, include_in_schema=False)


def _development(wired: Wired) -> Path:
    if wired.api_settings.env != "development":
        raise ApiProblem(404, "introuvable", "Cette adresse n'existe pas.")
    return wired.mail_settings.dev_mailbox_dir


@router.get("")
def mailbox(request: Request, viewer: Seen, wired: Wired) -> Response:
    directory = _development(wired)
    return render(
        request,
        "dev/mailbox.html",
        {
            "page_title": "Boîte de développement",
            "messages": list_messages(directory),
            "total": count_messages(directory),
        },
    )


@router.get("/{message_id}")
def message(
    request: Request,
    message_id: Annotated[str, PathParam(max_length=60)],
    viewer: Seen,
    wired: Wired,
) -> Response:
    directory = _development(wired)
    found = read_message(directory, message_id)
    if found is None:
        raise ApiProblem(404, "introuvable", "Ce message n'est pas dans la boîte de développement.")
    return render(
        request, "dev/message.html", {"page_title": found.entry.subject, "message": found}
    )
