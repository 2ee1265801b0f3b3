"""charter tasks close with their phase

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

A charter task that was not done when its phase ended (or when the dossier ended) is
closed rather than left open for ever: ``task.closed_at`` says when, and the task stays in
its holder's history as « non faite ». Tasks left open by dossiers that already moved on
are closed at the date their dossier last changed.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


PHASE_STATES = {
    "en_amont": ("scenario_valide",),
    "pendant": ("en_cours",),
    "apres": ("realisee", "bilan_soumis", "bilan_a_completer"),
}
"""The states of each charter phase in ``dossier_formation`` v1, as of this revision."""


def upgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    task = sa.table(
        "task",
        sa.column("dossier_id", sa.Integer()),
        sa.column("phase", sa.String()),
        sa.column("done_at", sa.DateTime(timezone=True)),
        sa.column("closed_at", sa.DateTime(timezone=True)),
    )
    dossier = sa.table(
        "dossier",
        sa.column("id", sa.Integer()),
        sa.column("workflow_name", sa.String()),
        sa.column("state", sa.String()),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    for phase, states in PHASE_STATES.items():
        moved_on = sa.select(dossier.c.id).where(
            dossier.c.workflow_name == "dossier_formation", dossier.c.state.not_in(states)
        )
        op.execute(
            task.update()
            .where(
                task.c.phase == phase,
                task.c.done_at.is_(None),
                task.c.dossier_id.in_(moved_on),
            )
            .values(
                closed_at=sa.select(dossier.c.updated_at)
                .where(dossier.c.id == task.c.dossier_id)
                .scalar_subquery()
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_column("closed_at")
