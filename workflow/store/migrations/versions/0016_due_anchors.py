"""due-date anchors kept on the dossier row: first session's start, training's end

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04

A dossier's due date counts from its entry into the state (a column), from its first
session's start or from the end of its training (``workflow.engine.due``). The last two
were subqueries on ``training_session`` and ``history`` evaluated for every dossier of the
state: at a million dossiers the dashboard's late counts of « Réalisée », « Bilan à
compléter » and « Scénario validé » probed the history of some 50,000 dossiers per page,
and sorting by due date did it for all 250,000 of an académie.

``dossier.first_session_at`` (the earliest ``training_session.starts_at``) and
``dossier.training_ended_at`` (the latest ``history.at`` of a ``terminer`` row) now hold
them, kept by database triggers in the transaction of each write, like the counters of
0014: whoever inserts a history row or plans, moves or removes a session. ``formaflow db
recount`` recomputes them after a load that bypassed the triggers.

Two partial indexes on the open dossiers, by académie and state then each anchor (and the
id): the late counts of those states are then ranges of the recent or undated entries,
and a list sorted by due date reads each state's first rows in order.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRAINING_END = "terminer"
"""Written out rather than imported (``workflow.engine.due.TRAINING_END_TRIGGER``): the
migration keeps doing what it did whatever the code becomes."""

_FIRST_SESSION = (
    "(SELECT min(s.starts_at) FROM training_session s WHERE s.dossier_id = {row}.dossier_id)"
)


def _sqlite_first_session(row: str) -> str:
    first = _FIRST_SESSION.format(row=row)
    return (
        f"UPDATE dossier SET first_session_at = {first} "
        f"WHERE id = {row}.dossier_id AND first_session_at IS NOT {first};"
    )


SQLITE_TRIGGERS = {
    "dossier_training_ended": (
        f"AFTER INSERT ON history WHEN NEW.trigger = '{TRAINING_END}' BEGIN "
        "UPDATE dossier SET training_ended_at = NEW.at WHERE id = NEW.dossier_id "
        "AND (training_ended_at IS NULL OR training_ended_at < NEW.at); END"
    ),
    "dossier_first_session_insert": (
        f"AFTER INSERT ON training_session BEGIN {_sqlite_first_session('NEW')} END"
    ),
    "dossier_first_session_update": (
        "AFTER UPDATE OF starts_at, dossier_id ON training_session BEGIN "
        f"{_sqlite_first_session('OLD')} {_sqlite_first_session('NEW')} END"
    ),
    "dossier_first_session_delete": (
        f"AFTER DELETE ON training_session BEGIN {_sqlite_first_session('OLD')} END"
    ),
}

POSTGRESQL_FUNCTIONS = {
    "dossier_training_ended": """
BEGIN
    UPDATE dossier SET training_ended_at = NEW.at
    WHERE id = NEW.dossier_id AND (training_ended_at IS NULL OR training_ended_at < NEW.at);
    RETURN NULL;
END
""",
    "dossier_first_session": f"""
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE dossier SET first_session_at = {_FIRST_SESSION.format(row="OLD")}
        WHERE id = OLD.dossier_id
          AND first_session_at IS DISTINCT FROM {_FIRST_SESSION.format(row="OLD")};
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE dossier SET first_session_at = {_FIRST_SESSION.format(row="NEW")}
        WHERE id = NEW.dossier_id
          AND first_session_at IS DISTINCT FROM {_FIRST_SESSION.format(row="NEW")};
    END IF;
    RETURN NULL;
END
""",
}

POSTGRESQL_TRIGGERS = {
    "dossier_training_ended": (
        f"AFTER INSERT ON history FOR EACH ROW WHEN (NEW.trigger = '{TRAINING_END}')"
    ),
    "dossier_first_session": (
        "AFTER INSERT OR DELETE OR UPDATE OF starts_at, dossier_id ON training_session "
        "FOR EACH ROW"
    ),
}

FILL = [
    "UPDATE dossier SET training_ended_at = e.ended FROM (SELECT dossier_id, max(at) AS ended "
    f"FROM history WHERE trigger = '{TRAINING_END}' GROUP BY dossier_id) AS e "
    "WHERE dossier.id = e.dossier_id",
    "UPDATE dossier SET first_session_at = f.first FROM (SELECT dossier_id, "
    "min(starts_at) AS first FROM training_session GROUP BY dossier_id) AS f "
    "WHERE dossier.id = f.dossier_id",
]
"""The anchors computed from the rows (``workflow.store.counters.rebuild`` does the same)."""

INDEXES = {
    "ix_dossier_open_state_ended": "training_ended_at",
    "ix_dossier_open_state_first_session": "first_session_at",
}


def upgrade() -> None:
    # Plain ADD COLUMN on both databases: a SQLite batch copy would drop the table's
    # triggers (0014's counters).
    op.add_column("dossier", sa.Column("first_session_at", sa.DateTime(timezone=True)))
    op.add_column("dossier", sa.Column("training_ended_at", sa.DateTime(timezone=True)))
    for name, column in INDEXES.items():
        op.create_index(
            name,
            "dossier",
            ["academie_id", "workflow_name", "workflow_version", "state", column, "id"],
            postgresql_where=sa.text("archived_at IS NULL"),
            sqlite_where=sa.text("archived_at IS NULL"),
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
            op.execute(f"CREATE TRIGGER {name} {on} EXECUTE FUNCTION {name}()")
    for statement in FILL:
        op.execute(statement)
    op.execute("ANALYZE dossier")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    else:
        for name, on in POSTGRESQL_TRIGGERS.items():
            table = on.split(" ON ", 1)[1].split(" ", 1)[0]
            op.execute(f"DROP TRIGGER {name} ON {table}")
            op.execute(f"DROP FUNCTION {name}()")
    for name in INDEXES:
        op.drop_index(name, table_name="dossier")
    # Plain DROP COLUMN (SQLite ≥ 3.35 drops in place, keeping the table's triggers).
    op.execute("ALTER TABLE dossier DROP COLUMN training_ended_at")
    op.execute("ALTER TABLE dossier DROP COLUMN first_session_at")
