"""The history of a dossier, each row chained to the one before it by SHA-256.

Every row holds ``prev_hash`` — the ``row_hash`` of the dossier's previous row, or 64
zeros for its first — and ``row_hash = SHA-256(prev_hash + "\\n" + canonical(row))``; the
dossier keeps the hash of its last row (``history_head``). Changing anything a row says
(who fired it, on whose behalf, when, the comment, the states) therefore no longer matches
its hash, and removing or inserting a row breaks the link of the next one, or the head.

Why one chain per dossier rather than per académie (as the payment journal is): appends
to a dossier's history are already serialised by the transition's lock on the dossier
row, so chaining costs no extra lock, and a busy académie's transitions never wait for
each other. The previous hash travels with the dossier row the service loads anyway, and
the new head is written by the ``UPDATE`` it runs anyway: on the hot path the chain costs
one canonical JSON text and one SHA-256, no extra round trip.

What a hash chain cannot do: someone able to rewrite the whole table (its append-only
triggers dropped first) can recompute every hash after their edit. Anchoring heads outside
the database is what would close that gap, as for the journal.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert, select

from workflow.language.french import format_datetime
from workflow.language.labels import trigger_label
from workflow.store.tables import dossier_table as D
from workflow.store.tables import history_table as H

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
"""What a history row says, hence what its hash covers (its ``id`` is only a number)."""


def _plain(value: Any) -> Any:
    """What JSON cannot write by itself, as fixed text (called by the C encoder only for
    those values: most of a row costs no Python call)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} has no canonical form")


def canonical(data: Mapping[str, Any]) -> str:
    """Sorted keys, no spaces, UTF-8 kept, Decimals and datetimes as fixed strings: the same
    facts always give the same text, on every database and Python version."""
    return json.dumps(
        dict(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain
    )


def entry_hash(prev_hash: str, body: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def row_hash(prev_hash: str, row: Mapping[str, Any]) -> str:
    return entry_hash(prev_hash, canonical({name: row[name] for name in CHAINED}))


RECORD = insert(H)
"""Built once: on the hot path, building a statement costs more than SQLite running it."""


def chained(row: dict[str, Any], head: str | None) -> dict[str, Any]:
    """``row`` (the columns of ``CHAINED``) with its ``prev_hash`` — ``head``, the hash of
    the dossier's last row — and its own ``row_hash``, the dossier's new head, which the
    caller writes on the dossier row in the same transaction."""
    prev = head or GENESIS
    return {**row, "prev_hash": prev, "row_hash": row_hash(prev, row)}


def record(conn: Connection, row: dict[str, Any], head: str | None) -> tuple[int, str]:
    """Append ``row`` after ``head``; its id and its hash (the dossier's new head)."""
    values = chained(row, head)
    inserted = conn.execute(RECORD, values).inserted_primary_key
    assert inserted is not None
    return int(inserted[0]), str(values["row_hash"])


# --- Verifying ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HistoryFinding:
    """The first place where one dossier's chain breaks, said in French."""

    reference: str
    version: int | None
    """The history row (by the dossier version it produced) found broken, if one is."""
    message: str


@dataclass(frozen=True, slots=True)
class HistoryReport:
    rows: int
    dossiers: int
    findings: tuple[HistoryFinding, ...]

    @property
    def ok(self) -> bool:
        return not self.findings


def _rows(conn: Connection, academie_id: int | None) -> Iterator[Any]:
    query = (
        select(
            H,
            D.c.reference,
            D.c.workflow_name,
            D.c.workflow_version,
            D.c.history_head,
        )
        .join(D, D.c.id == H.c.dossier_id)
        .order_by(H.c.dossier_id, H.c.version)
    )
    if academie_id is not None:
        query = query.where(D.c.academie_id == academie_id)
    yield from conn.execution_options(yield_per=2000).execute(query)


def _heads(conn: Connection, academie_id: int | None) -> Iterator[Any]:
    """Dossiers whose head says they have a history: a whole history deleted shows here."""
    query = select(D.c.id, D.c.reference, D.c.history_head).where(D.c.history_head.is_not(None))
    if academie_id is not None:
        query = query.where(D.c.academie_id == academie_id)
    yield from conn.execute(query)


def verify_history(conn: Connection, academie_id: int | None = None) -> HistoryReport:
    """Walk every dossier's chain (or one académie's) and report where each first breaks."""
    findings: list[HistoryFinding] = []
    rows = 0
    seen: set[int] = set()
    broken: set[int] = set()
    current: int | None = None
    prev, head, reference = GENESIS, None, ""

    def close() -> None:
        if current is not None and current not in broken and head != prev:
            findings.append(
                HistoryFinding(
                    reference,
                    None,
                    f"Historique du dossier {reference} : sa dernière ligne n'est plus celle "
                    "que le dossier a enregistrée — des lignes ont été supprimées ou ajoutées "
                    "à la fin.",
                )
            )

    for row in _rows(conn, academie_id):
        rows += 1
        if row.dossier_id != current:
            close()
            current, prev = row.dossier_id, GENESIS
            head, reference = row.history_head, row.reference
            seen.add(int(row.dossier_id))
        if current in broken:
            continue
        where = (
            f"Historique du dossier {row.reference}, ligne v{row.version} "
            f"(« {trigger_label(row.workflow_name, row.workflow_version, row.trigger)} », "
            f"le {format_datetime(row.at)})"
        )
        problem = None
        if row.row_hash is None or row.prev_hash is None:
            problem = "elle n'est pas chaînée (aucune empreinte) : elle a été ajoutée à la main."
        elif row.prev_hash != prev:
            problem = (
                "elle ne suit pas la ligne précédente (empreinte précédente différente) : une "
                "ligne a été supprimée, insérée ou remplacée juste avant."
            )
        elif row_hash(row.prev_hash, row._mapping) != row.row_hash:
            problem = (
                "elle a été modifiée : ce qu'elle dit (qui a agi, pour qui, quand, le "
                "commentaire, les états) ne correspond plus à son empreinte."
            )
        if problem is not None:
            broken.add(int(row.dossier_id))
            findings.append(HistoryFinding(row.reference, int(row.version), f"{where} : {problem}"))
            continue
        prev = row.row_hash
    close()
    for dossier in _heads(conn, academie_id):
        if int(dossier.id) not in seen:
            findings.append(
                HistoryFinding(
                    dossier.reference,
                    None,
                    f"Historique du dossier {dossier.reference} : toutes ses lignes ont été "
                    "supprimées.",
                )
            )
    return HistoryReport(rows, len(seen), tuple(findings))
