"""PAF import (identifiant PAF on dossiers, imported files) and bulk actions

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-02

``dossier.paf_id`` is the plan académique de formation's identifier of the dispositif or
module a dossier comes from, unique within its académie, so that re-importing a PAF updates
the dossiers it created instead of duplicating them. ``paf_import`` keeps each dropped file
(the confirmation imports exactly what the dry run showed). ``bulk_batch`` and
``bulk_item`` are the bulk actions run by the serve process's worker, one transaction per
dossier; ``bulk_batch.running_academie_id`` is unique, so one batch at most runs per
académie at a time.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dossier", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paf_id", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_dossier_paf", ["academie_id", "paf_id"])

    op.create_table(
        "paf_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("academie_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["academie_id"], ["academie.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_paf_import_academie", "paf_import", ["academie_id", "created_at"])

    op.create_table(
        "bulk_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("academie_id", sa.Integer(), nullable=False),
        sa.Column("running_academie_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["academie_id"], ["academie.id"]),
        sa.ForeignKeyConstraint(["running_academie_id"], ["academie.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("running_academie_id"),
    )
    op.create_index("ix_bulk_batch_academie", "bulk_batch", ["academie_id", "created_at"])

    op.create_table(
        "bulk_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("expected_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["bulk_batch.id"]),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossier.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("batch_id", "dossier_id", name="uq_bulk_item"),
    )
    op.create_index("ix_bulk_item_batch", "bulk_item", ["batch_id", "position"])


def downgrade() -> None:
    op.drop_index("ix_bulk_item_batch", table_name="bulk_item")
    op.drop_table("bulk_item")
    op.drop_index("ix_bulk_batch_academie", table_name="bulk_batch")
    op.drop_table("bulk_batch")
    op.drop_index("ix_paf_import_academie", table_name="paf_import")
    op.drop_table("paf_import")
    with op.batch_alter_table("dossier", schema=None) as batch_op:
        batch_op.drop_constraint("uq_dossier_paf", type_="unique")
        batch_op.drop_column("paf_id")
