"""dossier.search_text: the title folded for accent- and case-blind search

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

SQLite's ``lower``/``LIKE`` fold ASCII only, so « éval » did not find « Évaluer » there;
folding in SQL on PostgreSQL (``translate``) cost 24 µs a row. The folded title is stored
instead, written with the row (``workflow.store.folding.fold``), and filled here for the
dossiers that exist.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from workflow.store.folding import fold

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5_000


def upgrade() -> None:
    with op.batch_alter_table("dossier") as batch:
        batch.add_column(sa.Column("search_text", sa.String(length=700), nullable=True))
    dossier = sa.table(
        "dossier", sa.column("id", sa.Integer), sa.column("title"), sa.column("search_text")
    )
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(
            sa.select(dossier.c.id, dossier.c.title)
            .where(dossier.c.id > last)
            .order_by(dossier.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        conn.execute(
            sa.update(dossier)
            .where(dossier.c.id == sa.bindparam("row_id"))
            .values(search_text=sa.bindparam("folded")),
            [{"row_id": r.id, "folded": fold(r.title)} for r in rows],
        )
        last = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("dossier") as batch:
        batch.drop_column("search_text")
