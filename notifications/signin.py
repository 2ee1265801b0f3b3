"""The email that carries a sign-in link (the embedded default's way in for stagiaires)."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Connection, func, insert, select

from notifications.letters import letter, sender
from notifications.settings import MailSettings
from workflow.store.tables import assignment_table, dossier_table, outbox_table

TEMPLATE = "participants/connexion"
SUBJECT = "Votre lien de connexion à formaflow"


def signin_letter(
    conn: Connection,
    settings: MailSettings,
    person_id: int,
    name: str,
    email: str,
    url: str,
    minutes: int,
    at: datetime,
) -> bool:
    """Write the email on the caller's connection, from the person's académie; False (and
    nothing written) for someone with no role anywhere, who would find nothing to see."""
    academie_id = conn.execute(
        select(func.coalesce(assignment_table.c.academie_id, dossier_table.c.academie_id))
        .select_from(assignment_table)
        .outerjoin(dossier_table, dossier_table.c.id == assignment_table.c.dossier_id)
        .where(assignment_table.c.person_id == person_id)
        .limit(1)
    ).scalar()
    if academie_id is None:
        return False
    row = letter(
        settings,
        sender(conn, int(academie_id), settings),
        template=TEMPLATE,
        subject=SUBJECT,
        person_id=person_id,
        name=name,
        email=email,
        message_id=f"<formaflow.connexion.{secrets.token_hex(12)}@{settings.from_domain}>",
        context={"url": url, "minutes": minutes},
        at=at,
        reference="connexion",
    )
    conn.execute(insert(outbox_table).values(**row))
    return True
