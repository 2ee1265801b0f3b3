"""contract versions and avenants, signatures per version, public type, ENT établissement

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-03

The official document of a dossier gets versions (``contract_version``: the contract, then
each avenant, with the exact text signed and its SHA-256, and the sealed PDF once the last
signature is given); a signature names the version it was given on, so a person may sign
the contract and later an avenant. Existing signatures are on version 1. A training session
gets « Type du public concerné », a dossier the établissement of its ENT convention, and a
bilan who entered the hours per formateur (the chef's proposal, seed 001).
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contract_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("concerned", sa.JSON(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sealed_document_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossier.id"]),
        sa.ForeignKeyConstraint(["sealed_document_id"], ["document.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dossier_id", "number", name="uq_contract_version"),
        sa.UniqueConstraint("sealed_document_id"),
    )
    with op.batch_alter_table("contract_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contract_version_dossier_id"), ["dossier_id"], unique=False
        )
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("contract_version", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.drop_constraint("uq_signature_person", type_="unique")
        batch_op.create_unique_constraint(
            "uq_signature_person_version", ["dossier_id", "person_id", "contract_version"]
        )
    with op.batch_alter_table("training_session", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("public_type", sa.String(length=300), nullable=False, server_default="")
        )
    with op.batch_alter_table("dossier", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("etablissement", sa.String(length=300), nullable=False, server_default="")
        )
    with op.batch_alter_table("bilan", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hours_entered_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("hours_entered_for_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_bilan_hours_entered_by", "person", ["hours_entered_by_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_bilan_hours_entered_for", "person", ["hours_entered_for_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("bilan", schema=None) as batch_op:
        batch_op.drop_constraint("fk_bilan_hours_entered_for", type_="foreignkey")
        batch_op.drop_constraint("fk_bilan_hours_entered_by", type_="foreignkey")
        batch_op.drop_column("hours_entered_for_id")
        batch_op.drop_column("hours_entered_by_id")
    with op.batch_alter_table("dossier", schema=None) as batch_op:
        batch_op.drop_column("etablissement")
    with op.batch_alter_table("training_session", schema=None) as batch_op:
        batch_op.drop_column("public_type")
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.drop_constraint("uq_signature_person_version", type_="unique")
        batch_op.create_unique_constraint("uq_signature_person", ["dossier_id", "person_id"])
        batch_op.drop_column("contract_version")
    with op.batch_alter_table("contract_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_version_dossier_id"))
    op.drop_table("contract_version")
