"""On an ENT convention the hours per formateur are the chef d'établissement's proposal.

Seed 001: « Proposition de rémunération par le chef d'établissement (18 HSE au maximum par
formateur accompagnateur) » — the chef engages their responsibility on the service each
formateur did. So on a ``hse_convention_ent`` dossier the hours are written by the chef
d'établissement, or by a gestionnaire on the chef's behalf (recorded as such); a
formateur's write of them is refused, while the formateurs keep their own « point de vue ».
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection

from workflow.engine.errors import NotPermitted, WorkflowError
from workflow.engine.roles import capacities, members
from workflow.engine.rows import DossierRow

CHEF_PROPOSAL_DISPOSITIFS = frozenset({"hse_convention_ent"})


class ProposalNotYours(NotPermitted):
    """A 403: the person may edit the bilan, but not the chef's proposal."""

    def __init__(self) -> None:
        WorkflowError.__init__(
            self,
            "Sur une convention ENT, les heures effectuées par chaque formateur sont la "
            "proposition de rémunération du chef d'établissement : seul le chef "
            "d'établissement, ou un gestionnaire EAFC pour son compte, peut les saisir. Vous "
            "pouvez compléter le point de vue des formateurs.",
        )


HoursLines = Iterable[tuple[int, Decimal, int | None]]


def proposal_author(
    conn: Connection,
    dossier: DossierRow,
    actor_id: int | None,
    before: HoursLines,
    after: HoursLines,
    now: datetime,
) -> tuple[int | None, int | None] | None:
    """Who enters the hours (and for which chef), or None when they did not change.

    Raises ``ProposalNotYours`` when an ENT convention's hours would be changed by anyone
    but its chef d'établissement or a gestionnaire.
    """
    if sorted(before) == sorted(after):
        return None
    if dossier.dispositif not in CHEF_PROPOSAL_DISPOSITIFS or actor_id is None:
        return (actor_id, None)
    held = {c.role for c in capacities(conn, dossier.ref, actor_id, now)}
    if "chef_etablissement" in held:
        return (actor_id, None)
    if "gestionnaire" in held:
        chefs = members(conn, dossier.ref, ["chef_etablissement"])
        return (actor_id, chefs[0].person_id if chefs else None)
    raise ProposalNotYours
