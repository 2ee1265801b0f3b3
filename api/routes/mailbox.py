"""``/dev/mailbox``: the emails the embedded SMTP server received, in development only.

It lets a developer or a demo audience see every email the product sends without any mail
setup. It does not exist in production (404), and it is authenticated like every page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from api.deps import Caller, Wired
from api.problems import ApiProblem
from notifications.devmail import count_messages, list_messages, read_message
from workflow.frenchtext import format_datetime

router = APIRouter(prefix="/dev/mailbox", tags=["développement"], include_in_schema=False)

_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent.parent / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
)
_TEMPLATES.filters["french_datetime"] = format_datetime


def _development(wired: Wired) -> Path:
    if wired.api_settings.env != "development":
        raise ApiProblem(404, "introuvable", "Cette adresse n'existe pas.")
    return wired.mail_settings.dev_mailbox_dir


@router.get("", response_class=HTMLResponse)
def mailbox(caller: Caller, wired: Wired) -> HTMLResponse:
    directory = _development(wired)
    page = _TEMPLATES.get_template("dev/mailbox.html").render(
        messages=list_messages(directory), total=count_messages(directory), person=caller
    )
    return HTMLResponse(page)


@router.get("/{message_id}", response_class=HTMLResponse)
def message(
    message_id: Annotated[str, PathParam(max_length=60)], caller: Caller, wired: Wired
) -> HTMLResponse:
    directory = _development(wired)
    found = read_message(directory, message_id)
    if found is None:
        raise ApiProblem(404, "introuvable", "Ce message n'est pas dans la boîte de développement.")
    page = _TEMPLATES.get_template("dev/message.html").render(message=found, person=caller)
    return HTMLResponse(page)
