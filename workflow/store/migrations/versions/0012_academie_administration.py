"""académie administration: settings in the database with their history, directory,
suppléances scoped to an académie, the rates each payment decision used

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-10

An académie's settings (rates, virtual-class table, deadline delays, signatories per
dispositif, participation rule, retention periods, institution and signature block) move
from its TOML file into ``academie_setting``; every change, and every role granted or
person deactivated, is written to ``academie_change``, append-only like the history.
``academie_member`` is the académie's directory of people. A delegation may be limited
to one académie and records who made and who revoked it. ``payment_decision_rates`` keeps,
append-only, the rates each decision was computed with.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("academie_change", "payment_decision_rates")


def upgrade() -> None:
    op.create_table(
        "academie_setting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("academie_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["academie_id"], ["academie.id"]),
        sa.ForeignKeyConstraint(["updated_by_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("academie_id", "key", name="uq_academie_setting"),
    )
    op.create_table(
        "academie_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("academie_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["academie_id"], ["academie.id"]),
        sa.ForeignKeyConstraint(["actor_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_academie_change_academie_at", "academie_change", ["academie_id", "at"]
    )
    op.create_table(
        "academie_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("academie_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["academie_id"], ["academie.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("academie_id", "person_id", name="uq_academie_member"),
    )
    op.create_index(
        op.f("ix_academie_member_person_id"), "academie_member", ["person_id"], unique=False
    )
    op.create_table(
        "payment_decision_rates",
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("rates", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["decision_id"], ["payment_decision.id"]),
        sa.PrimaryKeyConstraint("decision_id"),
    )
    with op.batch_alter_table("delegation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("academie_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("created_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("revoked_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_delegation_academie_id_academie", "academie", ["academie_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_delegation_created_by_id_person", "person", ["created_by_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_delegation_revoked_by_id_person", "person", ["revoked_by_id"], ["id"]
        )

    if op.get_bind().dialect.name == "sqlite":
        for table in APPEND_ONLY:
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )
        return
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{table} is append-only'; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER {table}_no_update")
            op.execute(f"DROP TRIGGER {table}_no_delete")
    else:
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
            op.execute(f"DROP FUNCTION {table}_append_only()")
    with op.batch_alter_table("delegation", schema=None) as batch_op:
        batch_op.drop_constraint("fk_delegation_revoked_by_id_person", type_="foreignkey")
        batch_op.drop_constraint("fk_delegation_created_by_id_person", type_="foreignkey")
        batch_op.drop_constraint("fk_delegation_academie_id_academie", type_="foreignkey")
        batch_op.drop_column("revoked_by_id")
        batch_op.drop_column("created_by_id")
        batch_op.drop_column("academie_id")
    op.drop_table("payment_decision_rates")
    op.drop_index(op.f("ix_academie_member_person_id"), table_name="academie_member")
    op.drop_table("academie_member")
    op.drop_index("ix_academie_change_academie_at", table_name="academie_change")
    op.drop_table("academie_change")
    op.drop_table("academie_setting")
