"""history rows chained by SHA-256, the dossier keeping the hash of its last row

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

Every history row gets ``prev_hash`` (the hash of the dossier's previous row, 64 zeros for
its first) and ``row_hash = SHA-256(prev_hash + "\\n" + canonical row)``; the dossier keeps
its last row's hash in ``history_head``. Existing rows are chained here, in the order of
their versions, the append-only triggers (0002) being lifted for that time only.

The canonical text is written out again below rather than imported, so that this
migration keeps producing the hashes it produced today whatever the code becomes; it must
equal ``workflow.engine.history.canonical`` (a test checks the two agree).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64
CHAINED = (
    "dossier_id",
    "version",
    "trigger",
    "from_state",
    "to_state",
    "actor_id",
    "on_behalf_of_id",
    "role",
    "comment",
    "payload",
    "at",
)
MESSAGE = "history is append-only"

history = sa.table(
    "history",
    sa.column("id", sa.Integer()),
    *(sa.column(name) for name in CHAINED if name not in ("payload", "at")),
    sa.column("payload", sa.JSON()),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("prev_hash", sa.String()),
    sa.column("row_hash", sa.String()),
)
dossier = sa.table("dossier", sa.column("id", sa.Integer()), sa.column("history_head", sa.String()))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _hash(prev: str, row: Any) -> str:
    body = json.dumps(
        _plain({name: row[name] for name in CHAINED}),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(f"{prev}\n{body}".encode()).hexdigest()


def _lift_append_only(sqlite: bool) -> None:
    if sqlite:
        op.execute("DROP TRIGGER history_no_update")
    else:
        op.execute("ALTER TABLE history DISABLE TRIGGER history_append_only")


def _restore_append_only(sqlite: bool) -> None:
    if sqlite:
        op.execute(
            "CREATE TRIGGER history_no_update BEFORE UPDATE ON history "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )
    else:
        op.execute("ALTER TABLE history ENABLE TRIGGER history_append_only")


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    # Plain ADD COLUMN (nullable) on both databases: a SQLite batch copy would drop the
    # table's append-only triggers.
    op.add_column("dossier", sa.Column("history_head", sa.String(length=64), nullable=True))
    op.add_column("history", sa.Column("prev_hash", sa.String(length=64), nullable=True))
    op.add_column("history", sa.Column("row_hash", sa.String(length=64), nullable=True))

    rows = bind.execute(
        sa.select(history).order_by(history.c.dossier_id, history.c.version)
    ).mappings()
    links: list[dict[str, Any]] = []
    heads: dict[int, str] = {}
    current, prev = None, GENESIS
    for row in rows:
        if row["dossier_id"] != current:
            current, prev = row["dossier_id"], GENESIS
        digest = _hash(prev, row)
        links.append({"b_id": row["id"], "b_prev": prev, "b_hash": digest})
        heads[int(row["dossier_id"])] = prev = digest
    if not links:
        return
    _lift_append_only(sqlite)
    bind.execute(
        history.update()
        .where(history.c.id == sa.bindparam("b_id"))
        .values(prev_hash=sa.bindparam("b_prev"), row_hash=sa.bindparam("b_hash")),
        links,
    )
    _restore_append_only(sqlite)
    bind.execute(
        dossier.update()
        .where(dossier.c.id == sa.bindparam("b_id"))
        .values(history_head=sa.bindparam("b_head")),
        [{"b_id": k, "b_head": v} for k, v in heads.items()],
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite ≥ 3.35 drops a column in place, keeping the table's triggers.
        op.execute("ALTER TABLE history DROP COLUMN row_hash")
        op.execute("ALTER TABLE history DROP COLUMN prev_hash")
        op.execute("ALTER TABLE dossier DROP COLUMN history_head")
        return
    op.drop_column("history", "row_hash")
    op.drop_column("history", "prev_hash")
    op.drop_column("dossier", "history_head")
