"""person.civilite: Madame, Monsieur or none, so that labels and emails agree

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03

``person.civilite`` (``madame``, ``monsieur`` or NULL) lets every label that names a
person's role agree with them (« Formatrice », « Cheffe d'établissement », « la
gestionnaire »). Nullable: people created before, or through ProConnect, keep the labels
they had until someone sets it.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("civilite", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("civilite")
