"""Read models for the API: one dossier as the caller may see it, with their actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from api.schemas import ActionOut, DossierOut, DossierSummary, MemberOut
from states import get_spec
from states.roles import ROLES, role_label
from workflow.dossiers.access import readable
from workflow.engine.roles import members
from workflow.engine.service import WorkflowService
from workflow.participants.access import PARTICIPANT, participant_only
from workflow.store.tables import academie_table


def summary(row: Any, academie_slug: str) -> DossierSummary:
    spec = get_spec(row.workflow_name, row.workflow_version)
    state = spec.state(row.state)
    return DossierSummary(
        id=row.id,
        reference=row.reference,
        title=row.title,
        workflow=row.workflow_name,
        workflow_version=row.workflow_version,
        academie=academie_slug,
        dispositif=row.dispositif,
        state=row.state,
        state_label=state.label,
        phase=state.phase,
        phase_label=spec.phase(state.phase).label,
        version=row.version,
        updated_at=row.updated_at,
        paf_id=row.paf_id,
    )


def dossier_view(
    conn: Connection, service: WorkflowService, dossier_id: int, person_id: int, now: datetime
) -> DossierOut:
    dossier, held = readable(conn, dossier_id, person_id, now)
    slug = conn.execute(
        select(academie_table.c.slug).where(academie_table.c.id == dossier.academie_id)
    ).scalar_one()
    team = members(conn, dossier.ref, list(ROLES))
    if participant_only(held):
        # A stagiaire reads the dossier, never who the other stagiaires are.
        team = [m for m in team if m.role != PARTICIPANT or m.person_id == person_id]
    actions = [
        ActionOut(
            trigger=a.trigger,
            label=a.label,
            ready=a.ready,
            missing=list(a.missing),
            comment_required=a.comment_required,
            irreversible=a.irreversible,
            on_behalf_of_id=a.on_behalf_of_id,
        )
        for a in service.available(dossier_id, person_id)
    ]
    base = summary(dossier, str(slug))
    return DossierOut(
        **base.model_dump(),
        planned_hours_presentiel=dossier.planned_hours_presentiel,
        planned_hours_distance=dossier.planned_hours_distance,
        planned_participants=dossier.planned_participants,
        planned_start=dossier.planned_start,
        planned_end=dossier.planned_end,
        state_entered_at=dossier.state_entered_at,
        created_at=dossier.created_at,
        archived_at=dossier.archived_at,
        team=[
            MemberOut(
                person_id=m.person_id,
                role=m.role,
                role_label=role_label(m.role, m.civilite),
                full_name=m.full_name,
                email=m.email,
            )
            for m in team
        ],
        my_roles=sorted({c.recorded_role for c in held}),
        actions=actions,
    )


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(value: str | None) -> int | None:
    """The version named by ``If-Match`` (``"7"``, ``W/"7"`` or ``7``), or None if unusable."""
    if value is None:
        return None
    text = value.strip().removeprefix("W/").strip('"')
    # ASCII digits only (``"²".isdigit()`` is true), and no more than a version can have:
    # Python refuses to convert an integer of over 4,300 digits (that was a 500).
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    return int(text)
