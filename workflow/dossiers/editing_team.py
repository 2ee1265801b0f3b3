"""Editing a dossier's team: who holds which role on it, and suppléances.

A team change tells the edit hooks (a signatory joined after signature: an avenant). The
``stagiaire`` role is not given here: it comes with an enrolment.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select

from states.roles import ACADEMIE_ROLES, DOSSIER_ROLES, ROLES
from workflow.dossiers import delegations
from workflow.dossiers.access import Edit
from workflow.dossiers.delegations import DelegationRequest
from workflow.dossiers.editing_base import EditorBase, require_person
from workflow.engine.errors import InvalidInput, NotPermitted
from workflow.engine.rows import DossierRow
from workflow.store.tables import assignment_table

PARTICIPANT_ROLE = "stagiaire"
"""Held through an enrolment only (``workflow.participants.enrolment``), never assigned here."""


class TeamEdits(EditorBase):
    def unassign(
        self, person_id: int, role: str, dossier_id: int, *, actor_id: int | None = None
    ) -> None:
        with self.engine.begin() as conn:
            _not_a_participant(role, self._open(conn, dossier_id, actor_id, Edit.TEAM))
            removed = conn.execute(
                delete(assignment_table).where(
                    assignment_table.c.person_id == person_id,
                    assignment_table.c.role == role,
                    assignment_table.c.dossier_id == dossier_id,
                )
            ).rowcount
            if not removed:
                raise InvalidInput("Cette personne ne tient pas ce rôle sur ce dossier.", "role")
            self._changed(conn, dossier_id, actor_id)

    def assign(
        self,
        person_id: int,
        role: str,
        *,
        dossier_id: int | None = None,
        academie_id: int | None = None,
        actor_id: int | None = None,
    ) -> None:
        if role not in ROLES:
            raise InvalidInput(f"Rôle inconnu : {role}", field="role")
        if role in ACADEMIE_ROLES and academie_id is None:
            raise InvalidInput(f"Le rôle {ROLES[role]} se tient sur une académie.", "role")
        if role in DOSSIER_ROLES and dossier_id is None:
            raise InvalidInput(f"Le rôle {ROLES[role]} se tient sur un dossier.", "role")
        with self.engine.begin() as conn:
            require_person(conn, person_id)
            if dossier_id is not None:
                _not_a_participant(role, self._open(conn, dossier_id, actor_id, Edit.TEAM))
            elif actor_id is not None:
                raise NotPermitted("attribuer un rôle d'académie", ["administrateur (CLI)"])
            existing = conn.execute(
                select(assignment_table.c.id).where(
                    assignment_table.c.person_id == person_id,
                    assignment_table.c.role == role,
                    assignment_table.c.dossier_id.is_(None)
                    if dossier_id is None
                    else assignment_table.c.dossier_id == dossier_id,
                    assignment_table.c.academie_id.is_(None)
                    if academie_id is None
                    else assignment_table.c.academie_id == academie_id,
                )
            ).first()
            if existing is None:
                conn.execute(
                    insert(assignment_table).values(
                        person_id=person_id,
                        role=role,
                        dossier_id=dossier_id,
                        academie_id=None if dossier_id is not None else academie_id,
                        created_at=self.clock(),
                    )
                )
                if dossier_id is not None:
                    self._changed(conn, dossier_id, actor_id)

    def delegate(
        self,
        delegator_id: int,
        substitute_id: int,
        starts_at: datetime,
        ends_at: datetime,
        *,
        role: str = "pilote",
        dossier_id: int | None = None,
        academie_id: int | None = None,
        actor_id: int | None = None,
    ) -> int:
        """A suppléant for a titulaire in one role, for a period (``delegations.delegate``:
        every role, on one dossier, on all of the titulaire's, or on an académie)."""
        request = DelegationRequest(
            delegator_id, substitute_id, role, starts_at, ends_at, dossier_id, academie_id
        )
        with self.engine.begin() as conn:
            return delegations.delegate(conn, request, actor_id=actor_id, now=self.clock())

    def revoke_delegation(
        self, delegation_id: int, *, actor_id: int | None = None
    ) -> delegations.DelegationRow:
        """End a suppléance now; revoked, it is kept (and shown) with who revoked it."""
        with self.engine.begin() as conn:
            return delegations.revoke(conn, delegation_id, actor_id=actor_id, now=self.clock())


def _not_a_participant(role: str, dossier: DossierRow) -> None:
    """One source of truth: on a training dossier, the ``stagiaire`` role comes and goes
    with an enrolment (``workflow.participants.enrolment``), never by itself."""
    if role == PARTICIPANT_ROLE and dossier.workflow_name == "dossier_formation":
        raise InvalidInput(
            "Un stagiaire s'inscrit (ou se désinscrit) depuis la page « Stagiaires » du "
            "dossier, pas depuis l'équipe.",
            "role",
        )
