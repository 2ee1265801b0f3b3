"""Emails to one person outside the specs' notification rules: the stagiaires' letters
(convocation, release notice, attestation) and the sign-in link.

Each is rendered from a text and an HTML template (``render_pair``), built into a whole
RFC 5322 message with its attachments, and returned as an outbox row for the caller to
insert on its own connection — in the transaction of whatever caused it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from notifications.rendering import Attachment, Envelope, build_message, render_pair
from notifications.settings import MailSettings
from workflow.store.academie_settings import academie_settings
from workflow.store.tables import academie_table


@dataclass(frozen=True, slots=True)
class Sender:
    """The académie a letter comes from, as its footer and headers say it."""

    academie_id: int
    academie: str
    reply_to: str | None
    signature: tuple[str, ...]


def sender(conn: Connection, academie_id: int, settings: MailSettings) -> Sender:
    found = academie_settings(conn, academie_id)
    name = conn.execute(
        select(academie_table.c.name).where(academie_table.c.id == academie_id)
    ).scalar_one()
    return Sender(
        academie_id, str(name), found.reply_to or settings.reply_to, found.signature_block
    )


def letter(
    settings: MailSettings,
    origin: Sender,
    *,
    template: str,
    subject: str,
    person_id: int | None,
    name: str,
    email: str,
    message_id: str,
    context: dict[str, Any],
    at: datetime,
    dossier_id: int | None = None,
    reference: str = "",
    attachments: Sequence[Attachment] = (),
) -> dict[str, Any]:
    """The outbox row of one letter, rendered and serialised once."""
    base = settings.base_url.rstrip("/")
    text, html = render_pair(
        template,
        {
            "subject": subject,
            "name": name,
            "academie": origin.academie,
            "signature": list(origin.signature),
            "privacy_url": f"{base}/donnees-personnelles",
            **context,
        },
    )
    raw = build_message(
        Envelope(
            from_name=f"{settings.mail_from_name} — {origin.academie}",
            from_email=settings.mail_from,
            to_name=name,
            to_email=email,
            reply_to=origin.reply_to,
            subject=subject,
            message_id=message_id,
            date=at,
            reference=reference,
        ),
        text,
        html,
        attachments,
    )
    return {
        "message_id": message_id,
        "academie_id": origin.academie_id,
        "dossier_id": dossier_id,
        "template": template,
        "person_id": person_id,
        "to_email": email,
        "from_email": settings.mail_from,
        "subject": subject[:500],
        "raw": raw,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": at,
        "created_at": at,
    }
