"""open dossiers without a training end, by académie, state and entry date

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04

A list sorted by whom the dossiers wait on reads, per state, the dossiers that are not
late in the order they entered the state; for « Réalisée » and « Bilan à compléter »
(due 30 days after the training's end) that is the recent ones and, apart, those without
a training end yet. Where the end is missing for few of them (the rule: the ``terminer``
history row sets it), the anchor's index finds them and they are sorted; where it is
missing for most (a load that bypassed the triggers and was never recounted, a state
entered by a path without ``terminer``), that sort ran over a whole state: 30 ms per state
per page at a million dossiers (``bench/dashboard.py``). This partial index gives those
dossiers in entry order whatever their number, on both databases (SQLite uses a partial
index when the query repeats its ``WHERE`` terms, which the list does).
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHERE = "archived_at IS NULL AND training_ended_at IS NULL"


def upgrade() -> None:
    op.create_index(
        "ix_dossier_open_unended_entered",
        "dossier",
        ["academie_id", "workflow_name", "workflow_version", "state", "state_entered_at", "id"],
        postgresql_where=sa.text(WHERE),
        sqlite_where=sa.text(WHERE),
    )
    op.execute("ANALYZE dossier")


def downgrade() -> None:
    op.drop_index("ix_dossier_open_unended_entered", table_name="dossier")
