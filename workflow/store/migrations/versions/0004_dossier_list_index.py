"""index for the académie-wide dossier list, newest first

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

A gestionnaire's landing list (every state of their académie, most recently updated
first) read and sorted every dossier of the académie; with this index it is an ordered
index scan that stops after one page.
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_dossier_academie_updated", "dossier", ["academie_id", "updated_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_dossier_academie_updated", table_name="dossier")
