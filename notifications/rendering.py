"""Turning a message kind and its context into a complete, safe RFC 5322 message.

One child template per message kind says what happened and what the reader must do; two
layouts (plain text, and HTML with autoescape) wrap it, so both parts always say the same
thing. ``StrictUndefined`` makes a missing variable an error at enqueue time — inside the
transition's transaction, which then fails whole — rather than a silently blank email.

Names and comments come from people: they may hold CR/LF (header injection) or markup
(HTML injection). Headers are built from cleaned values by the ``email`` package, never by
string concatenation, and the HTML part escapes everything it did not write itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from notifications.mime import ALTERNATIVE, CACHE_SIZE, MIXED, POLICY, boundary

TEMPLATES = Path(__file__).parent / "templates"
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def _environment(*, html: bool) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=html,  # noqa: S701 - the plain-text part is not HTML: nothing to escape
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["layout"] = "layout.html.j2" if html else "layout.txt.j2"
    env.filters["upper_first"] = upper_first
    return env


def upper_first(text: str) -> str:
    """« la gestionnaire » → « La gestionnaire » at the start of a sentence (Jinja's
    ``capitalize`` would also lower the rest: « Eafc »)."""
    return text[:1].upper() + text[1:]


_TEXT = _environment(html=False)
_HTML = _environment(html=True)


def template_path(template: str) -> str:
    """``dossier_formation/signer`` → the file holding that kind's wording."""
    return f"{template}.j2"


def template_exists(template: str) -> bool:
    return (TEMPLATES / template_path(template)).is_file()


def render(template: str, context: Mapping[str, Any]) -> tuple[str, str]:
    """The plain-text and HTML bodies of one message."""
    name = template_path(template)
    text = _TEXT.get_template(name).render(context)
    html = _HTML.get_template(name).render(context)
    return _tidy(text), html


def render_pair(stem: str, context: Mapping[str, Any]) -> tuple[str, str]:
    """The bodies of a message written as two templates, ``<stem>.txt.j2`` and
    ``<stem>.html.j2`` (the stagiaires' emails, whose lists read differently in each)."""
    text = _TEXT.get_template(f"{stem}.txt.j2").render(context)
    html = _HTML.get_template(f"{stem}.html.j2").render(context)
    return _tidy(text), html


def _tidy(text: str) -> str:
    """Collapse the blank lines that optional sections leave behind."""
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def clean_header(value: str) -> str:
    """One line, no control characters: a value that can never start another header."""
    return _CONTROL.sub(" ", value).strip()


@dataclass(frozen=True, slots=True)
class Envelope:
    from_name: str
    from_email: str
    to_name: str
    to_email: str
    reply_to: str | None
    subject: str
    message_id: str
    date: datetime
    reference: str


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with a message: a convocation's calendar, an attestation."""

    filename: str
    maintype: str
    subtype: str
    content: bytes
    params: tuple[tuple[str, str], ...] = ()
    """Content-Type parameters, e.g. ``(("method", "PUBLISH"),)`` for a calendar."""


@lru_cache(maxsize=CACHE_SIZE)
def _address(name: str, addr_spec: str) -> Address | str:
    """The address as its text, which ``POLICY`` folds once; as an ``Address`` (folded the
    ordinary way) if the text would be refused: a name may keep a line separator that
    ``clean_header`` leaves (U+0085), which the package accepts from an ``Address`` only.
    Kept per distinct address: ``Address`` parses its ``addr_spec`` with the package's
    header parser (about as costly as folding), and the sender is the same every time."""
    address = Address(clean_header(name), addr_spec=addr_spec)
    text = str(address)
    return text if len(text.splitlines()) == 1 else address


def build_message(
    envelope: Envelope, text: str, html: str, attachments: Sequence[Attachment] = ()
) -> str:
    """The whole message, CRLF line ends and 7-bit safe, ready to be sent as it is.

    The bytes are those of ``email.policy.SMTP``, but for the boundaries, random as ever
    yet drawn once per process: ``POLICY`` folds each distinct header once
    (``notifications.mime``). Addresses are set as their text, which the package parses
    exactly as it parses an ``Address`` (it formats one as that text), so that they are
    folded once too.
    """
    message = EmailMessage(policy=POLICY)
    message["From"] = _address(envelope.from_name, envelope.from_email)
    message["To"] = _address(envelope.to_name, envelope.to_email)
    if envelope.reply_to:
        message["Reply-To"] = clean_header(envelope.reply_to)
    message["Subject"] = clean_header(envelope.subject)
    message["Date"] = format_datetime(envelope.date)
    message["Message-ID"] = envelope.message_id
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message["X-Formaflow-Dossier"] = clean_header(envelope.reference)
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    parts: tuple[str | bytes, ...] = (text, html)
    if shared := boundary(ALTERNATIVE, parts):
        message.make_alternative(boundary=shared)
    message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    parts += tuple(item.content for item in attachments)
    if attachments and (shared := boundary(MIXED, parts)):
        message.make_mixed(boundary=shared)
    for item in attachments:
        message.add_attachment(
            item.content,
            maintype=item.maintype,
            subtype=item.subtype,
            filename=clean_header(item.filename),
            params=dict(item.params),
        )
    return message.as_string()
