"""Fixtures' helpers for the email tests: a mailing service and reading the outbox back."""

from __future__ import annotations

import asyncio
import email
import email.policy
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy import Engine, func, insert, select

from notifications.outbox import OutboxWriter
from notifications.relay import Relay
from notifications.rendering import Envelope, build_message
from notifications.settings import MailSettings
from workflow.store.tables import academie_table
from workflow.store.tables import outbox_table as O
from workflow.store.types import utcnow

BASE_URL = "http://formaflow.test"


def mail_settings(**overrides: object) -> MailSettings:
    values: dict[str, object] = {
        "base_url": BASE_URL,
        "mail_from": "formaflow@example.org",
        "relay_backoff_seconds": 0.01,
        "relay_backoff_max_seconds": 0.05,
        "relay_idle_seconds": 0.05,
        "relay_max_attempts": 4,
        **overrides,
    }
    return MailSettings(**values)  # type: ignore[arg-type]


def writer() -> OutboxWriter:
    return OutboxWriter(mail_settings())


@dataclass(frozen=True)
class Queued:
    id: int
    person_id: int | None
    to_email: str
    subject: str
    status: str
    attempts: int
    last_error: str | None
    message: EmailMessage

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert isinstance(part, EmailMessage)
        return str(part.get_content())

    @property
    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        assert isinstance(part, EmailMessage)
        return str(part.get_content())


def queued(
    engine: Engine, *, history_id: int | None = None, dossier_id: int | None = None
) -> list[Queued]:
    query = select(O).order_by(O.c.id)
    if history_id is not None:
        query = query.where(O.c.message_id.like(f"<formaflow.t{history_id}.p%"))
    if dossier_id is not None:
        query = query.where(O.c.dossier_id == dossier_id)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
        conn.rollback()
    result = []
    for row in rows:
        parsed = email.message_from_string(row.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        result.append(
            Queued(
                row.id,
                row.person_id,
                row.to_email,
                row.subject,
                row.status,
                row.attempts,
                row.last_error,
                parsed,
            )
        )
    return result


def enqueue(
    engine: Engine,
    count: int,
    *,
    to: str = "destinataire{n}@example.org",
    body: str = "Bonjour, message {n}.",
) -> list[str]:
    """Rendered messages as the outbox holds them, for the relay's tests and benchmark;
    returns their Message-IDs (the académie they belong to is created if need be)."""
    now = utcnow()
    with engine.begin() as conn:
        academie = conn.execute(select(academie_table.c.id).limit(1)).scalar()
        if academie is None:
            academie = conn.execute(
                insert(academie_table).values(
                    slug="relais", name="Académie du relais", code="REL", created_at=now
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        start = int(conn.execute(select(func.count()).select_from(O)).scalar_one())
        ids: list[str] = []
        for first in range(start, start + count, 1000):
            rows = []
            for n in range(first, min(start + count, first + 1000)):
                message_id = f"<formaflow.test{n}@example.org>"
                address, text = to.format(n=n), body.format(n=n)
                reference = f"26-REL-{n:04d}"
                envelope = Envelope(
                    "formaflow",
                    "formaflow@example.org",
                    f"Personne {n}",
                    address,
                    "eafc@example.org",
                    f"{reference} — Essai",
                    message_id,
                    now,
                    reference,
                )
                html = "<p>" + text.replace("\n", "<br>\n") + "</p>"
                ids.append(message_id)
                rows.append(
                    {
                        "message_id": message_id,
                        "academie_id": academie,
                        "template": "essai",
                        "to_email": address,
                        "from_email": "formaflow@example.org",
                        "subject": f"{reference} — Essai",
                        "raw": build_message(envelope, text, html),
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                )
            conn.execute(insert(O), rows)
    return ids


def drain(relay: Relay) -> int:
    """Run the relay until nothing is due, on an event loop of its own thread: the browser
    tests' Playwright keeps a loop running in the main thread for the whole session."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(relay.drain())).result(timeout=600)
