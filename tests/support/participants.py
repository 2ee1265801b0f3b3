"""Helpers of the stagiaires' tests: établissements, a list file, the product's container."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from email.message import EmailMessage

from icalendar import Calendar
from sqlalchemy import select

from api.wiring import Container
from tests.conftest import World
from workflow.participants.etablissements import Etablissement, etablissements_of
from workflow.participants.inputs import EtablissementInput
from workflow.store.tables import outbox_table as O

HEADER = ["Nom", "Prénom", "Courriel", "Établissement", "Discipline ou public"]


@dataclass(frozen=True)
class Schools:
    college: Etablissement
    lycee: Etablissement
    ecole: Etablissement


def schools(container: Container, world: World) -> Schools:
    """Three établissements of the world's académie: two EPLE heads and an IEN."""
    tag = world.slug[-6:]
    digits = "".join(str(ord(c) % 10) for c in tag)[:4].rjust(4, "0")
    items = [
        EtablissementInput(
            uai=f"013{digits}A",
            name=f"Collège Jean Moulin {tag}",
            kind="etablissement",
            commune="Marseille",
            head_role="chef_etablissement",
            head_name="Anne Principale",
            head_email=f"ce.college.{tag}@example.org",
        ),
        EtablissementInput(
            uai=f"013{digits}B",
            name=f"Lycée Victor Hugo {tag}",
            kind="etablissement",
            commune="Aix-en-Provence",
            head_role="chef_etablissement",
            head_name="Bruno Proviseur",
            head_email=f"ce.lycee.{tag}@example.org",
        ),
        EtablissementInput(
            uai=f"013{digits}C",
            name=f"École des Calanques {tag}",
            kind="ecole",
            commune="Cassis",
            head_role="ien",
            head_name="Inès Circonscription",
            head_email=f"ien.{tag}@example.org",
        ),
    ]
    container.etablissements.save_all(world.academie_id, items)
    with container.engine.connect() as conn:
        found = {e.uai: e for e in etablissements_of(conn, world.academie_id)}
    return Schools(*(found[i.uai] for i in items))


def trainees(world: World, count: int, places: Schools) -> list[list[str]]:
    """``count`` lines of a list: fictitious people spread over the three schools, the
    établissement named by UAI, by name, or by name in capitals."""
    rows = []
    cycle = [places.college, places.lycee, places.ecole]
    for n in range(count):
        school = cycle[n % 3]
        cell = school.uai if n % 2 == 0 else school.name.upper()
        rows.append(
            [
                f"Stagiaire{n:02d}",
                f"Élise{n:02d}",
                f"eleve{n:02d}.{world.slug}@example.org",
                cell,
                "Mathématiques" if school.kind == "etablissement" else "Professeur des écoles",
            ]
        )
    return rows


def as_csv(rows: list[list[str]], *, delimiter: str = ";", encoding: str = "utf-8-sig") -> bytes:
    lines = [delimiter.join(HEADER), *(delimiter.join(r) for r in rows)]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


@dataclass(frozen=True)
class Mail:
    template: str
    to: str
    subject: str
    message_id: str
    message: EmailMessage

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert isinstance(part, EmailMessage)
        return str(part.get_content())

    def calendar(self) -> Calendar:
        (part,) = [
            p for p in self.message.iter_attachments() if p.get_content_type() == "text/calendar"
        ]
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        return Calendar.from_ical(payload)


def outbox(container: Container, dossier_id: int, prefix: str = "participants/") -> list[Mail]:
    with container.engine.connect() as conn:
        rows = conn.execute(
            select(O.c.template, O.c.to_email, O.c.subject, O.c.message_id, O.c.raw)
            .where(O.c.dossier_id == dossier_id, O.c.template.like(f"{prefix}%"))
            .order_by(O.c.id)
        ).all()
    mails = []
    for row in rows:
        parsed = email.message_from_string(row.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        mails.append(Mail(row.template, row.to_email, row.subject, row.message_id, parsed))
    return mails
