"""The development mailbox: a real SMTP server on 127.0.0.1 that keeps what it receives.

``formaflow serve`` starts it when no SMTP host is configured, so that the product runs
with nothing else installed and every email can be read at ``/dev/mailbox``. Messages are
kept as ``.eml`` files in a directory: they survive a restart and any process can list
them. It is aiosmtpd, a real server over TCP, which the tests also use as their sink.
"""

from __future__ import annotations

import email
import email.policy
import re
import socket
import time
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

_ID = re.compile(r"^[0-9]{19}-[0-9a-f]{32}$")


class MailboxHandler:
    """aiosmtpd handler: accept every message and write it, whole, to the directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(  # noqa: N802 - the name aiosmtpd calls
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content or b""
        name = f"{time.time_ns():019d}-{uuid.uuid4().hex}"
        temporary = self.directory / f".{name}.tmp"
        temporary.write_bytes(content)
        temporary.rename(self.directory / f"{name}.eml")
        return "250 Message accepted for delivery"


class DevMailServer:
    """The embedded server, in its own thread and event loop (aiosmtpd's controller)."""

    def __init__(self, directory: Path, port: int = 8025, host: str = "127.0.0.1") -> None:
        # aiosmtpd's controller checks readiness by connecting to the port it was given, so
        # "any free port" (0) is chosen here, by the kernel, before handing it over.
        if port == 0:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.bind((host, 0))
                port = int(probe.getsockname()[1])
        self.controller = Controller(MailboxHandler(directory), hostname=host, port=port)
        self.host = host

    def start(self) -> int:
        self.controller.start()
        server = self.controller.server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        return int(sockets[0].getsockname()[1]) if sockets else int(self.controller.port)

    def stop(self) -> None:
        self.controller.stop()


@dataclass(frozen=True, slots=True)
class MailboxEntry:
    id: str
    subject: str
    to: str
    sender: str
    date: Any
    message_id: str
    recipients: frozenset[str]
    """The addresses of To and Cc, lower case: whom the message was for."""
    dossier: str
    """The dossier reference of ``X-Formaflow-Dossier`` (empty for another message)."""


@dataclass(frozen=True, slots=True)
class MailboxMessage:
    entry: MailboxEntry
    headers: list[tuple[str, str]]
    text: str
    html: str | None


def _parse(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _entry(path: Path, message: EmailMessage) -> MailboxEntry:
    try:
        date = parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
    except (TypeError, ValueError):
        date = None
    return MailboxEntry(
        id=path.stem,
        subject=str(message["Subject"] or "(sans objet)"),
        to=str(message["To"] or ""),
        sender=str(message["From"] or ""),
        date=date,
        message_id=str(message["Message-ID"] or ""),
        recipients=frozenset(
            address.lower()
            for _, address in getaddresses(
                [str(value) for value in message.get_all("To", []) + message.get_all("Cc", [])]
            )
            if address
        ),
        dossier=str(message["X-Formaflow-Dossier"] or ""),
    )


def _headers(path: Path) -> EmailMessage:
    with path.open("rb") as handle:
        message = BytesHeaderParser(policy=email.policy.default).parse(handle)
    assert isinstance(message, EmailMessage)
    return message


def count_messages(directory: Path) -> int:
    return sum(1 for _ in directory.glob("*.eml")) if directory.is_dir() else 0


def list_messages(directory: Path, limit: int | None = 200) -> list[MailboxEntry]:
    """The most recent messages first (all of them with ``limit=None``); only their headers
    are read."""
    if not directory.is_dir():
        return []
    paths = sorted(directory.glob("*.eml"), reverse=True)[:limit]
    return [_entry(path, _headers(path)) for path in paths]


def read_message(directory: Path, message_id: str) -> MailboxMessage | None:
    """One message by its mailbox id; ``None`` for an unknown or malformed id."""
    if not _ID.match(message_id):
        return None
    path = directory / f"{message_id}.eml"
    if not path.is_file():
        return None
    message = _parse(path)
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    return MailboxMessage(
        entry=_entry(path, message),
        headers=[(k, str(v)) for k, v in message.items()],
        text=text_part.get_content() if isinstance(text_part, EmailMessage) else "",
        html=html_part.get_content() if isinstance(html_part, EmailMessage) else None,
    )
