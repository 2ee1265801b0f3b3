"""The contract text that signatories sign, and its fingerprint.

Each signature stores the SHA-256 of the text as it stood when it was given, so anyone can
tell later whether two signatures were given on the same terms.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Connection

from states.dispositifs import DISPOSITIFS
from states.roles import role_label
from workflow.engine.roles import members
from workflow.engine.rows import DossierRow
from workflow.language.french import format_date, format_hours


def contract_text(conn: Connection, dossier: DossierRow) -> str:
    dispositif = DISPOSITIFS[dossier.dispositif or ""]
    team = members(conn, dossier.ref, ["pilote", "formateur", "concepteur", "tuteur"])
    lines = [
        f"Contrat — dossier {dossier.reference}",
        f"Intitulé : {dossier.title}",
        f"Dispositif : {dispositif.label}",
        f"Heures prévues en présentiel : {format_hours(dossier.planned_hours_presentiel)}",
        f"Heures prévues à distance : {format_hours(dossier.planned_hours_distance)}",
        f"Du {format_date(dossier.planned_start)} au {format_date(dossier.planned_end)}",
        "Équipe :",
        *(f"- {role_label(m.role)} : {m.full_name} <{m.email}>" for m in team),
    ]
    return "\n".join(lines) + "\n"


def contract_sha256(conn: Connection, dossier: DossierRow) -> str:
    return hashlib.sha256(contract_text(conn, dossier).encode("utf-8")).hexdigest()
