"""Who may see a dossier's stagiaires and who may change them, in which states.

A stagiaire holds the ``stagiaire`` role on the dossier, which lets them read the dossier
itself; it does not make them a member of its team. The list of stagiaires, attendance and
émargement sheets, the other stagiaires' attestations: those are for the team (every role
but ``stagiaire``) and the EAFC of the académie. A stagiaire reads their own through
``my_enrolment``-based pages only.
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection

from states import get_spec
from states.roles import ROLES, role_label
from workflow.dossiers.access import readable
from workflow.engine.errors import InvalidInput, NotPermitted
from workflow.engine.roles import Capacity
from workflow.engine.rows import DossierRow, load

log = logging.getLogger("formaflow.access")

PARTICIPANT = "stagiaire"


class Part(StrEnum):
    ROSTER = "stagiaires"
    ATTENDANCE = "presences"
    COUNTS = "effectifs"
    ATTESTATIONS = "attestations"
    PURGE = "purge"


LABELS: dict[Part, str] = {
    Part.ROSTER: "inscrire ou désinscrire des stagiaires",
    Part.ATTENDANCE: "saisir les présences",
    Part.COUNTS: "corriger les effectifs du bilan",
    Part.ATTESTATIONS: "envoyer les attestations de formation",
    Part.PURGE: "supprimer les données personnelles des stagiaires",
}

EDITORS: dict[Part, tuple[str, ...]] = {
    Part.ROSTER: ("formateur", "pilote", "gestionnaire"),
    Part.ATTENDANCE: ("formateur", "tuteur", "pilote", "gestionnaire"),
    Part.COUNTS: ("formateur", "gestionnaire"),
    Part.ATTESTATIONS: ("formateur", "pilote", "gestionnaire"),
    Part.PURGE: ("gestionnaire", "responsable"),
}

_BEFORE_TRAINING = (
    "brouillon",
    "contrat_a_signer",
    "contrat_signe",
    "scenario_soumis",
    "scenario_a_reviser",
    "scenario_valide",
)
OPEN_STATES: dict[Part, frozenset[str]] = {
    Part.ROSTER: frozenset((*_BEFORE_TRAINING, "en_cours")),
    Part.ATTENDANCE: frozenset({"scenario_valide", "en_cours", "realisee", "bilan_a_completer"}),
    Part.COUNTS: frozenset({"realisee", "bilan_a_completer"}),
    Part.ATTESTATIONS: frozenset(
        {"realisee", "bilan_soumis", "bilan_a_completer", "bilan_valide", "paiement_accorde"}
        | {"mis_en_paiement", "paiement_refuse"}
    ),
    Part.PURGE: frozenset({"mis_en_paiement", "paiement_refuse", "annule"}),
}
"""States in which each part may change. Attendance stays open until the bilan is
submitted; the counts can be corrected while the bilan is being written."""

TEAM_ROLES = tuple(role for role in ROLES if role != PARTICIPANT)


def participant_only(held: list[Capacity]) -> bool:
    """Whether these roles make the person a stagiaire of the dossier and nothing more."""
    return bool(held) and all(c.role == PARTICIPANT for c in held)


def team_reader(
    conn: Connection, dossier_id: int, person_id: int, now: datetime
) -> tuple[DossierRow, list[Capacity]]:
    """The dossier, if the person sees it as a member of its team or as EAFC staff; a
    stagiaire is refused (they may know the dossier, not the other stagiaires)."""
    dossier, held = readable(conn, dossier_id, person_id, now)
    if participant_only(held):
        log.warning("roster read denied: person=%s dossier=%s at=%s", person_id, dossier_id, now)
        raise NotPermitted(
            "consulter les stagiaires du dossier", [role_label(r) for r in TEAM_ROLES]
        )
    return dossier, held


def may(dossier: DossierRow, held: list[Capacity], part: Part) -> bool:
    """Whether ``require`` would let these roles change ``part`` now (to show a form)."""
    return (
        dossier.workflow_name == "dossier_formation"
        and any(c.role in EDITORS[part] for c in held)
        and dossier.state in OPEN_STATES[part]
    )


def require(
    conn: Connection,
    dossier_id: int,
    person_id: int | None,
    part: Part,
    now: datetime,
    *,
    lock: bool = True,
) -> DossierRow:
    """The dossier, locked, if ``person_id`` may change ``part`` of it in its state
    (``lock=False`` for a dry run that only asks).

    ``person_id=None`` is the administrator's path (CLI, demo loader): no role check, the
    states still apply.
    """
    if person_id is None:
        dossier = load(conn, dossier_id, for_update=lock)
    else:
        dossier, held = readable(conn, dossier_id, person_id, now, lock=lock)
        allowed = EDITORS[part]
        if not any(c.role in allowed for c in held):
            log.warning(
                "participants edit denied: person=%s dossier=%s part=%s roles=%s at=%s",
                person_id,
                dossier_id,
                part.value,
                [c.role for c in held],
                now,
            )
            raise NotPermitted(LABELS[part], [role_label(r) for r in allowed])
    if dossier.workflow_name != "dossier_formation":
        raise InvalidInput(
            "Ce dossier n'est pas un dossier de formation : il n'a pas de stagiaires."
        )
    if dossier.state not in OPEN_STATES[part]:
        raise InvalidInput(
            f"Impossible de {LABELS[part]} dans l'état actuel du dossier ({_state_label(dossier)})."
        )
    return dossier


def _state_label(dossier: DossierRow) -> str:
    return get_spec(dossier.workflow_name, dossier.workflow_version).state(dossier.state).label
