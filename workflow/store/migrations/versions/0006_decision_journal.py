"""decision journal (hash chain), decisions append-only, session revisions

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Payment decisions and signatures are copied into ``decision_journal``, each entry chained
to the previous one of its académie by a SHA-256 hash, so that ``formaflow audit verify``
finds an edited, inserted or deleted entry. The journal, the decisions and their lines are
append-only in the database itself (as the history is, 0002): a decision, once taken, is
never edited. ``training_session.revision`` counts a session's changes, for the iCalendar
``SEQUENCE`` of its event.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("decision_journal", "payment_decision", "payment_line")


def upgrade() -> None:
    op.create_table(
        "decision_journal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("academie_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["academie_id"], ["academie.id"]),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossier.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("academie_id", "position", name="uq_journal_position"),
        sa.UniqueConstraint("kind", "source_id", name="uq_journal_source"),
    )
    with op.batch_alter_table("decision_journal", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_decision_journal_dossier_id"), ["dossier_id"], unique=False
        )
    with op.batch_alter_table("training_session", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("revision", sa.Integer(), nullable=False, server_default="0")
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
    with op.batch_alter_table("training_session", schema=None) as batch_op:
        batch_op.drop_column("revision")
    with op.batch_alter_table("decision_journal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decision_journal_dossier_id"))
    op.drop_table("decision_journal")
