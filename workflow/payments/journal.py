"""The decision journal: payment decisions and signatures, chained by SHA-256.

Each entry holds the canonical JSON of what was decided or signed (``body``) and
``entry_hash = SHA-256(prev_hash + "\\n" + body)``, where ``prev_hash`` is the hash of the
previous entry of the same académie (64 zeros for the first). Changing, inserting or
removing an entry therefore breaks the chain from that point on, and ``verify`` names the
first entry where it breaks.

Why one chain per académie: appends must be serialised or two concurrent decisions would
both extend the same entry (a fork). Serialising per académie keeps académies independent;
on PostgreSQL a transaction-scoped advisory lock per académie does it (taken after the
dossier row lock, always in that order, so no deadlock), on SQLite ``BEGIN IMMEDIATE``
already serialises every writer. The unique ``(academie_id, position)`` is the last line:
a fork would violate it and roll the transition back rather than be written.

Appends run inside the transition's own transaction (from the effects), so an entry exists
if and only if its decision or signature was committed.

What a hash chain cannot do: someone able to rewrite the whole table can recompute every
hash after their edit. ``verify`` therefore also checks the journal against the
decision and signature tables (append-only by trigger): every decision and signature must
have exactly one entry saying the same thing. Anchoring the last hash outside the database
(printing it in a report, say) is what would close that gap.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert, select, text

from workflow.store.database import is_postgresql
from workflow.store.tables import (
    academie_table,
    contract_version_table,
    decision_table,
    document_table,
    dossier_table,
    journal_table,
    payment_line_table,
    signature_table,
)

GENESIS = "0" * 64
KIND_DECISION = "decision"
KIND_SIGNATURE = "signature"
KIND_VERSION = "version"
"""A version of a dossier's official document (contract or avenant), at its first signature."""
KIND_DOCUMENT = "document"
"""A sealed PDF produced by formaflow (the file's SHA-256)."""
KIND_LABELS = {
    KIND_DECISION: "décision de paiement",
    KIND_SIGNATURE: "signature",
    KIND_VERSION: "version de contrat",
    KIND_DOCUMENT: "pièce scellée",
}
JOURNALED_DOCUMENT_KINDS = ("contrat_scelle",)
"""Documents formaflow produces and journals; uploads are not journalled."""
_LOCK_NAMESPACE = 0x4A4E4C  # "JNL": the advisory-lock class of journal appends

J = journal_table


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def canonical(data: Mapping[str, Any]) -> str:
    """Sorted keys, no spaces, UTF-8 kept, Decimals and datetimes as fixed strings: the same
    facts always give the same text, on every database and Python version."""
    return json.dumps(_plain(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(prev_hash: str, body: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


# --- What an entry says, rebuilt from the source tables --------------------------------------


def decision_facts(conn: Connection, decision_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(decision_table).where(decision_table.c.id == decision_id)).first()
    if row is None:
        return None
    lines = conn.execute(
        select(payment_line_table)
        .where(payment_line_table.c.decision_id == decision_id)
        .order_by(payment_line_table.c.id)
    ).all()
    return {
        "dossier_id": row.dossier_id,
        "history_version": row.history_version,
        "dispositif": row.dispositif,
        "total": row.total,
        "justification": row.justification,
        "decided_by_id": row.decided_by_id,
        "decided_at": row.decided_at,
        "lines": [
            {
                "person_id": line.person_id,
                "component": line.component,
                "unit": line.unit,
                "units": line.units,
                "rate": line.rate,
                "amount": line.amount,
                "steps": list(line.steps),
            }
            for line in lines
        ],
    }


def signature_facts(conn: Connection, signature_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(signature_table).where(signature_table.c.id == signature_id)).first()
    if row is None:
        return None
    return {
        "dossier_id": row.dossier_id,
        "person_id": row.person_id,
        "role": row.role,
        "signed_at": row.signed_at,
        "contract_sha256": row.contract_sha256,
    }


def version_facts(conn: Connection, version_id: int) -> dict[str, Any] | None:
    t = contract_version_table
    row = conn.execute(select(t).where(t.c.id == version_id)).first()
    if row is None:
        return None
    return {
        "dossier_id": row.dossier_id,
        "number": row.number,
        "sha256": row.sha256,
        "changes": list(row.changes or ()),
    }


def document_facts(conn: Connection, document_id: int) -> dict[str, Any] | None:
    t = document_table
    row = conn.execute(select(t).where(t.c.id == document_id)).first()
    if row is None:
        return None
    return {
        "dossier_id": row.dossier_id,
        "kind": row.kind,
        "filename": row.filename,
        "size_bytes": row.size_bytes,
        "sha256": row.sha256,
        "uploaded_at": row.uploaded_at,
    }


def _facts(conn: Connection, kind: str, source_id: int) -> dict[str, Any] | None:
    if kind == KIND_DECISION:
        return decision_facts(conn, source_id)
    if kind == KIND_SIGNATURE:
        return signature_facts(conn, source_id)
    if kind == KIND_VERSION:
        return version_facts(conn, source_id)
    if kind == KIND_DOCUMENT:
        return document_facts(conn, source_id)
    return None


# --- Appending ---------------------------------------------------------------------------------


def _lock(conn: Connection, academie_id: int) -> None:
    if is_postgresql(conn):
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:ns, :academie)"),
            {"ns": _LOCK_NAMESPACE, "academie": academie_id},
        )


def append(conn: Connection, *, academie_id: int, kind: str, source_id: int, now: datetime) -> str:
    """Append the entry for a decision or signature just written on ``conn``; its hash.

    Runs in the caller's transaction (never commits): the entry and the fact it records are
    committed, or rolled back, together.
    """
    facts = _facts(conn, kind, source_id)
    assert facts is not None, f"no {kind} {source_id} to journal"
    _lock(conn, academie_id)
    last = conn.execute(
        select(J.c.position, J.c.entry_hash)
        .where(J.c.academie_id == academie_id)
        .order_by(J.c.position.desc())
        .limit(1)
    ).first()
    position = 1 if last is None else int(last.position) + 1
    prev = GENESIS if last is None else str(last.entry_hash)
    body = canonical(
        {
            "academie_id": academie_id,
            "position": position,
            "kind": kind,
            "source_id": source_id,
            "recorded_at": now,
            "facts": facts,
        }
    )
    digest = entry_hash(prev, body)
    conn.execute(
        insert(J).values(
            academie_id=academie_id,
            position=position,
            kind=kind,
            source_id=source_id,
            dossier_id=int(facts["dossier_id"]),
            recorded_at=now,
            body=body,
            prev_hash=prev,
            entry_hash=digest,
        )
    )
    return digest


# --- Verifying ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    """The first place where an académie's chain breaks, said in French."""

    academie: str
    position: int
    problem: str
    """``modifiee``, ``inseree`` or ``supprimee``."""
    message: str


@dataclass(frozen=True, slots=True)
class Report:
    entries: int
    academies: int
    findings: tuple[Finding, ...]
    last_hashes: dict[str, str]

    @property
    def ok(self) -> bool:
        return not self.findings


def _label(kind: str, source_id: int) -> str:
    return f"{KIND_LABELS.get(kind, kind)} n° {source_id}"


def _check_chain(conn: Connection, academie_id: int, slug: str) -> tuple[int, Finding | None, str]:
    rows = conn.execute(
        select(J).where(J.c.academie_id == academie_id).order_by(J.c.position, J.c.id)
    ).all()
    expected_position, prev = 1, GENESIS
    seen: set[tuple[str, int]] = set()

    def finding(position: int, problem: str, message: str) -> Finding:
        return Finding(
            slug, position, problem, f"Académie « {slug} », entrée n° {position} : {message}"
        )

    for row in rows:
        if row.position > expected_position:
            missing = (
                f"l'entrée n° {expected_position} a été supprimée"
                if row.position == expected_position + 1
                else f"les entrées n° {expected_position} à {row.position - 1} ont été supprimées"
            )
            return len(rows), finding(expected_position, "supprimee", f"{missing}."), prev
        if row.prev_hash != prev:
            return (
                len(rows),
                finding(
                    row.position,
                    "inseree",
                    "elle ne suit pas l'entrée précédente (empreinte précédente différente) : "
                    "une entrée a été insérée, supprimée ou remplacée à cet endroit.",
                ),
                prev,
            )
        facts = _facts(conn, row.kind, row.source_id)
        key = (str(row.kind), int(row.source_id))
        if facts is None or key in seen:
            return (
                len(rows),
                finding(
                    row.position,
                    "inseree",
                    f"elle a été insérée : la {_label(row.kind, row.source_id)} qu'elle "
                    + ("enregistre n'existe pas." if facts is None else "enregistre l'est déjà."),
                ),
                prev,
            )
        seen.add(key)
        expected_body = canonical(
            {
                "academie_id": row.academie_id,
                "position": row.position,
                "kind": row.kind,
                "source_id": row.source_id,
                "recorded_at": row.recorded_at,
                "facts": facts,
            }
        )
        if (
            entry_hash(row.prev_hash, row.body) != row.entry_hash
            or row.body != expected_body
            or row.dossier_id != facts["dossier_id"]
        ):
            return (
                len(rows),
                finding(
                    row.position,
                    "modifiee",
                    f"elle a été modifiée ({_label(row.kind, row.source_id)}, dossier "
                    f"{row.dossier_id}) : son contenu ne correspond plus à son empreinte ou à "
                    "ce qui a été décidé ou signé.",
                ),
                prev,
            )
        expected_position, prev = row.position + 1, row.entry_hash

    # Every decision and signature of the académie must be in its chain (a removed last entry
    # leaves no gap behind it).
    # Versions are journalled at their first signature, sealed PDFs when produced.
    signed_versions = select(signature_table.c.id).where(
        signature_table.c.dossier_id == contract_version_table.c.dossier_id,
        signature_table.c.contract_version == contract_version_table.c.number,
    )
    for kind, table, condition in (
        (KIND_DECISION, decision_table, None),
        (KIND_SIGNATURE, signature_table, None),
        (KIND_VERSION, contract_version_table, signed_versions.exists()),
        (KIND_DOCUMENT, document_table, document_table.c.kind.in_(JOURNALED_DOCUMENT_KINDS)),
    ):
        query = (
            select(table.c.id)
            .join(dossier_table, dossier_table.c.id == table.c.dossier_id)
            .where(dossier_table.c.academie_id == academie_id)
            .order_by(table.c.id)
        )
        if condition is not None:
            query = query.where(condition)
        ids = conn.execute(query).scalars()
        for source_id in ids:
            if (kind, int(source_id)) not in seen:
                return (
                    len(rows),
                    finding(
                        expected_position,
                        "supprimee",
                        f"l'entrée de la {_label(kind, int(source_id))} a été supprimée du "
                        "journal.",
                    ),
                    prev,
                )
    return len(rows), None, prev


def verify(conn: Connection, academie_slug: str | None = None) -> Report:
    """Walk every académie's chain (or one's) and report where each first breaks."""
    query = select(academie_table.c.id, academie_table.c.slug).order_by(academie_table.c.id)
    if academie_slug is not None:
        query = query.where(academie_table.c.slug == academie_slug)
    entries, findings, heads = 0, [], {}
    academies = conn.execute(query).all()
    for academie in academies:
        count, found, head = _check_chain(conn, int(academie.id), str(academie.slug))
        entries += count
        if found is not None:
            findings.append(found)
        elif count:
            heads[str(academie.slug)] = head
    return Report(entries, len(academies), tuple(findings), heads)
