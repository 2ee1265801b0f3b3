"""dashboard counters kept by triggers, archived dossiers, late-count index

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03

At a million dossiers the dashboard's counts scanned the académie's dossiers at every page
(0.15–1 s) and its pilote filter joined every assignment. Two small tables now hold those
numbers and database triggers keep them in the transaction of each write:

- ``dossier_count``: dossiers per (académie, workflow, version, state, archived), spread
  over 64 shards by dossier id so that concurrent transitions of one académie do not all
  queue on one row (the trigger writes its two rows in key order: no lock cycle);
- ``academie_pilote``: dossiers per (académie, pilote).

Triggers rather than application code: every writer keeps them right (the service, the
editors, an import, a hand-written fix), and on PostgreSQL they cost no extra round trip.
Both tables are filled from the existing rows here.

``dossier.archived_at`` marks the dossiers ``formaflow archive`` has archived. Two partial
indexes on the open (not archived) dossiers: per académie and state by entry date, for the
late counts (dossiers that entered a state with a delay recently); per académie by entry
date, for lists sorted by how long a dossier has waited. Then ``ANALYZE dossier``: without
statistics on the new column PostgreSQL takes ``archived_at IS NULL`` for rare and picks
bitmap scans over a quarter of a million rows for a page of 50.

``ix_assignment_academie_role``: the holders of an académie role (gestionnaire,
responsable), asked by every transition for its emails' recipients, were found by scanning
every assignment — 200 ms per transition at 2 M assignments on SQLite, 9 ms on PostgreSQL.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHARDS = 64
COUNT_KEY = "academie_id, workflow_name, workflow_version, state, archived, shard"

# -- SQLite ---------------------------------------------------------------------------------


def _sqlite_count(row: str, delta: int) -> str:
    return (
        f"INSERT INTO dossier_count ({COUNT_KEY}, n) VALUES ({row}.academie_id, "
        f"{row}.workflow_name, {row}.workflow_version, {row}.state, "
        f"{row}.archived_at IS NOT NULL, {row}.id % {SHARDS}, {delta}) "
        f"ON CONFLICT ({COUNT_KEY}) DO UPDATE SET n = n + {delta};"
    )


def _sqlite_pilote(row: str, delta: int) -> str:
    return (
        "INSERT INTO academie_pilote (academie_id, person_id, dossiers) "
        f"SELECT academie_id, {row}.person_id, {delta} FROM dossier "
        f"WHERE id = {row}.dossier_id AND true "
        f"ON CONFLICT (academie_id, person_id) DO UPDATE SET dossiers = dossiers + {delta};"
    )


_SQLITE_CHANGED = (
    "OLD.academie_id IS NOT NEW.academie_id OR OLD.workflow_name IS NOT NEW.workflow_name "
    "OR OLD.workflow_version IS NOT NEW.workflow_version OR OLD.state IS NOT NEW.state "
    "OR (OLD.archived_at IS NULL) <> (NEW.archived_at IS NULL)"
)

SQLITE_TRIGGERS = {
    "dossier_count_insert": (
        f"AFTER INSERT ON dossier BEGIN {_sqlite_count('NEW', 1)} END"
    ),
    "dossier_count_update": (
        "AFTER UPDATE OF academie_id, workflow_name, workflow_version, state, archived_at "
        f"ON dossier WHEN {_SQLITE_CHANGED} BEGIN "
        f"{_sqlite_count('OLD', -1)} {_sqlite_count('NEW', 1)} END"
    ),
    "dossier_count_delete": f"AFTER DELETE ON dossier BEGIN {_sqlite_count('OLD', -1)} END",
    "academie_pilote_insert": (
        "AFTER INSERT ON assignment WHEN NEW.role = 'pilote' AND NEW.dossier_id IS NOT NULL "
        f"BEGIN {_sqlite_pilote('NEW', 1)} END"
    ),
    "academie_pilote_delete": (
        "AFTER DELETE ON assignment WHEN OLD.role = 'pilote' AND OLD.dossier_id IS NOT NULL "
        f"BEGIN {_sqlite_pilote('OLD', -1)} END"
    ),
    "academie_pilote_update_old": (
        "AFTER UPDATE OF person_id, role, dossier_id ON assignment "
        "WHEN OLD.role = 'pilote' AND OLD.dossier_id IS NOT NULL "
        f"BEGIN {_sqlite_pilote('OLD', -1)} END"
    ),
    "academie_pilote_update_new": (
        "AFTER UPDATE OF person_id, role, dossier_id ON assignment "
        "WHEN NEW.role = 'pilote' AND NEW.dossier_id IS NOT NULL "
        f"BEGIN {_sqlite_pilote('NEW', 1)} END"
    ),
}

# -- PostgreSQL -----------------------------------------------------------------------------

POSTGRESQL_FUNCTIONS = {
    "dossier_count_track": f"""
DECLARE
    old_key text;
    new_key text;
BEGIN
    IF TG_OP = 'UPDATE' AND (OLD.academie_id, OLD.workflow_name, OLD.workflow_version,
                             OLD.state, OLD.archived_at IS NULL)
        IS NOT DISTINCT FROM (NEW.academie_id, NEW.workflow_name, NEW.workflow_version,
                              NEW.state, NEW.archived_at IS NULL) THEN
        RETURN NULL;
    END IF;
    -- Both rows in one statement, in key order: two transactions moving dossiers of the
    -- same shard in opposite directions lock them in the same order (no deadlock).
    INSERT INTO dossier_count AS c ({COUNT_KEY}, n)
    SELECT * FROM (
        SELECT OLD.academie_id, OLD.workflow_name, OLD.workflow_version, OLD.state,
               OLD.archived_at IS NOT NULL, OLD.id % {SHARDS}, -1
        WHERE TG_OP <> 'INSERT'
        UNION ALL
        SELECT NEW.academie_id, NEW.workflow_name, NEW.workflow_version, NEW.state,
               NEW.archived_at IS NOT NULL, NEW.id % {SHARDS}, 1
        WHERE TG_OP <> 'DELETE'
    ) AS delta (academie_id, workflow_name, workflow_version, state, archived, shard, n)
    ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT ({COUNT_KEY}) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END
""",
    "academie_pilote_track": """
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.role = 'pilote' AND OLD.dossier_id IS NOT NULL THEN
        INSERT INTO academie_pilote AS p (academie_id, person_id, dossiers)
        SELECT academie_id, OLD.person_id, -1 FROM dossier WHERE id = OLD.dossier_id
        ON CONFLICT (academie_id, person_id) DO UPDATE SET dossiers = p.dossiers - 1;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.role = 'pilote' AND NEW.dossier_id IS NOT NULL THEN
        INSERT INTO academie_pilote AS p (academie_id, person_id, dossiers)
        SELECT academie_id, NEW.person_id, 1 FROM dossier WHERE id = NEW.dossier_id
        ON CONFLICT (academie_id, person_id) DO UPDATE SET dossiers = p.dossiers + 1;
    END IF;
    RETURN NULL;
END
""",
}

POSTGRESQL_TRIGGERS = {
    "dossier_count_track": (
        "AFTER INSERT OR DELETE OR UPDATE OF academie_id, workflow_name, workflow_version, "
        "state, archived_at ON dossier"
    ),
    "academie_pilote_track": (
        "AFTER INSERT OR DELETE OR UPDATE OF person_id, role, dossier_id ON assignment"
    ),
}

FILL = [
    "DELETE FROM dossier_count",
    f"INSERT INTO dossier_count ({COUNT_KEY}, n) "
    "SELECT academie_id, workflow_name, workflow_version, state, archived_at IS NOT NULL, "
    f"id % {SHARDS}, count(*) FROM dossier "
    "GROUP BY academie_id, workflow_name, workflow_version, state, archived_at IS NOT NULL, "
    f"id % {SHARDS}",
    "DELETE FROM academie_pilote",
    "INSERT INTO academie_pilote (academie_id, person_id, dossiers) "
    "SELECT d.academie_id, a.person_id, count(*) FROM assignment a "
    "JOIN dossier d ON d.id = a.dossier_id WHERE a.role = 'pilote' "
    "GROUP BY d.academie_id, a.person_id",
]
"""Counters rebuilt from the rows (``workflow.store.counters.rebuild`` runs the same)."""


def upgrade() -> None:
    with op.batch_alter_table("dossier", schema=None) as batch_op:
        batch_op.add_column(sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_dossier_open_state_entered",
        "dossier",
        ["academie_id", "workflow_name", "workflow_version", "state", "state_entered_at"],
        postgresql_where=sa.text("archived_at IS NULL"),
        sqlite_where=sa.text("archived_at IS NULL"),
    )
    op.create_index(
        "ix_dossier_open_entered",
        "dossier",
        ["academie_id", "state_entered_at", "id"],
        postgresql_where=sa.text("archived_at IS NULL"),
        sqlite_where=sa.text("archived_at IS NULL"),
    )
    op.create_index(
        "ix_assignment_academie_role",
        "assignment",
        ["academie_id", "role"],
        postgresql_where=sa.text("academie_id IS NOT NULL"),
        sqlite_where=sa.text("academie_id IS NOT NULL"),
    )
    op.create_table(
        "dossier_count",
        sa.Column("academie_id", sa.Integer(), nullable=False),
        sa.Column("workflow_name", sa.String(length=64), nullable=False),
        sa.Column("workflow_version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("shard", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["academie_id"], ["academie.id"]),
        sa.PrimaryKeyConstraint(
            "academie_id", "workflow_name", "workflow_version", "state", "archived", "shard"
        ),
    )
    op.create_table(
        "academie_pilote",
        sa.Column("academie_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("dossiers", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["academie_id"], ["academie.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("academie_id", "person_id"),
    )
    # Triggers first, then the fill: on PostgreSQL creating a trigger locks the table
    # against writes until this migration commits, so no write falls between the two.
    if op.get_bind().dialect.name == "sqlite":
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    else:
        for name, body in POSTGRESQL_FUNCTIONS.items():
            op.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $${body}$$"
            )
        for name, on in POSTGRESQL_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {on} FOR EACH ROW EXECUTE FUNCTION {name}()")
    for statement in FILL:
        op.execute(statement)
    op.execute("ANALYZE dossier")
    op.execute("ANALYZE assignment")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    else:
        for name, on in POSTGRESQL_TRIGGERS.items():
            table = on.rsplit(" ON ", 1)[1]
            op.execute(f"DROP TRIGGER {name} ON {table}")
            op.execute(f"DROP FUNCTION {name}()")
    op.drop_table("academie_pilote")
    op.drop_table("dossier_count")
    op.drop_index("ix_assignment_academie_role", table_name="assignment")
    op.drop_index("ix_dossier_open_entered", table_name="dossier")
    op.drop_index("ix_dossier_open_state_entered", table_name="dossier")
    with op.batch_alter_table("dossier", schema=None) as batch_op:
        batch_op.drop_column("archived_at")
