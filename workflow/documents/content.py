"""The facts an official document is written from, read once from the dossier.

Parties (with the signatories of ``signatures.signatory_rules``), the dispositif, planned
hours and sessions, the académie's name, signature block and « Fait à ». The text models
(``models``) turn them into the canonical text; ``terms`` are the part of them whose change
after a signature makes an avenant (DOMAIN §8).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from states.dispositifs import DISPOSITIFS, SignatoryRule
from workflow.documents.signatures import is_dossier_role, signatory_members, signatory_rules
from workflow.engine.roles import Member, members
from workflow.engine.rows import DossierRow
from workflow.payments.rates import rates_for
from workflow.store.academie_settings import AcademieSettings, academie_settings
from workflow.store.tables import dossier_table, person_table, session_table


@dataclass(frozen=True, slots=True)
class PlannedSession:
    starts_at: datetime
    duration_minutes: int
    modality: str
    public_type: str
    headcount: int | None
    formateur: str | None
    trainer_count: int


@dataclass(frozen=True, slots=True)
class ContractFacts:
    dossier: DossierRow
    academie: AcademieSettings
    etablissement: str
    rules: tuple[SignatoryRule, ...]
    signatories: tuple[Member, ...]
    """Holders of the signatory roles (académie roles included)."""
    team: tuple[Member, ...]
    gestionnaires: tuple[Member, ...]
    sessions: tuple[PlannedSession, ...]
    vacation_rate: Decimal | None
    """The académie's vacation rate for this dispositif (taux A, accompagnement), if set."""

    def holders(self, role: str) -> list[Member]:
        return [m for m in self.team if m.role == role]


def gather(conn: Connection, dossier: DossierRow) -> ContractFacts:
    settings = academie_settings(conn, dossier.academie_id)
    etablissement = conn.execute(
        select(dossier_table.c.etablissement).where(dossier_table.c.id == dossier.id)
    ).scalar_one()
    rows = conn.execute(
        select(
            session_table.c.starts_at,
            session_table.c.duration_minutes,
            session_table.c.modality,
            session_table.c.public_type,
            session_table.c.planned_headcount,
            session_table.c.trainer_count,
            person_table.c.full_name,
        )
        .outerjoin(person_table, person_table.c.id == session_table.c.formateur_id)
        .where(session_table.c.dossier_id == dossier.id)
        .order_by(session_table.c.starts_at, session_table.c.id)
    ).all()
    team = members(
        conn,
        dossier.ref,
        ["formateur", "concepteur", "tuteur", "pilote", "chef_etablissement", "responsable"],
    )
    rates = rates_for(settings.slug)
    rate = (
        rates.vacation_accompagnement
        if dossier.dispositif == "vacation_accompagnement"
        else rates.vacation_taux_a
        if dossier.dispositif == "eafc_taux_a"
        else rates.hse
    )
    return ContractFacts(
        dossier=dossier,
        academie=settings,
        etablissement=str(etablissement or ""),
        rules=signatory_rules(conn, dossier.ref),
        signatories=tuple(signatory_members(conn, dossier.ref)),
        team=tuple(team),
        gestionnaires=tuple(members(conn, dossier.ref, ["gestionnaire"])),
        sessions=tuple(
            PlannedSession(
                r.starts_at,
                int(r.duration_minutes),
                str(r.modality),
                str(r.public_type or ""),
                r.planned_headcount,
                r.full_name,
                int(r.trainer_count),
            )
            for r in rows
        ),
        vacation_rate=rate,
    )


def terms(facts: ContractFacts) -> dict[str, Any]:
    """What an avenant is about: who must sign, the planned hours, the dispositif.

    JSON-ready and compared as a whole with the terms stored with the current version.
    """
    d = facts.dossier
    return {
        "dispositif": d.dispositif,
        "heures_presentiel": None
        if d.planned_hours_presentiel is None
        else format(d.planned_hours_presentiel, "f"),
        "heures_distance": None
        if d.planned_hours_distance is None
        else format(d.planned_hours_distance, "f"),
        # Académie roles (the responsable) are not the dossier's: a new responsable at the
        # académie is no avenant to every contract.
        "signataires": sorted(
            [m.person_id, m.role] for m in facts.signatories if is_dossier_role(m.role)
        ),
    }


def known_dispositif(dossier: DossierRow) -> bool:
    return (dossier.dispositif or "") in DISPOSITIFS
