"""Fixtures' helpers for the email tests: a mailing service and reading the outbox back."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy import Engine, select

from notifications.outbox import OutboxWriter
from notifications.settings import MailSettings
from workflow.tables import outbox_table as O

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
