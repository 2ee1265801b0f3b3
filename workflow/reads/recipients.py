"""The people behind a notification rule's recipient names, one entry per person.

A rule names roles (``pilote``), derived roles (``signataire``, ``auteur_bilan``) or
signature sets (``signataires_restants``); notifications ask here and never query tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection

from states.dispositifs import DISPOSITIFS
from states.roles import BILAN_AUTHOR, SIGNATORY, UNANSWERED
from workflow.documents.signatures import signature_status
from workflow.engine.roles import DossierRef, Member, members, unique_people
from workflow.participants.roster import roster


def recipients(
    conn: Connection,
    dossier: DossierRef,
    names: Iterable[str],
    team: Sequence[Member] | None = None,
) -> list[Member]:
    """People behind a notification rule's recipient names, one entry per person.

    ``team``: the dossier's ``members(…, ROLES)`` when the caller has just read them (the
    outbox, once per transition); the holders of plain roles are then taken from it, in
    the same order, instead of being read again."""
    roles: list[str] = []
    found: list[Member] = []
    for name in names:
        if name == "signataires":
            found += signature_status(conn, dossier).required
        elif name == "signataires_restants":
            found += signature_status(conn, dossier).missing
        elif name == BILAN_AUTHOR:
            dispositif = DISPOSITIFS.get(dossier.dispositif or "")
            roles += list(dispositif.bilan_roles) if dispositif else []
        elif name == SIGNATORY:
            found += signature_status(conn, dossier).required
        elif name == UNANSWERED:
            waiting = {
                p.person_id
                for p in roster(conn, dossier.id, active_only=True)
                if not p.questionnaire_answered
            }
            found += [m for m in members(conn, dossier, ["stagiaire"]) if m.person_id in waiting]
        else:
            roles.append(name)
    if team is None:
        found += members(conn, dossier, roles)
    else:
        found += [m for m in team if m.role in roles]
    return unique_people(found)
