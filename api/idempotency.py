"""``Idempotency-Key`` for transitions: a retried request gets the first answer back.

The key is claimed in a short transaction of its own, so a second request with the same
key sees it at once (409 while the first is in flight). The answer is written in the same
transaction as the state change (``WorkflowService.fire(also=…)``), so a recorded success
always matches a committed transition; a refusal is recorded after the rollback. A claim
left unfinished by a crashed worker may be taken again after a lease; since transitions
also require ``If-Match``, a retried fire can never apply twice.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from api.problems import ApiProblem
from workflow.store.tables import idempotency_table as I

MAX_KEY_LENGTH = 255


def request_hash(method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Replay:
    status_code: int
    body: dict[str, Any]
    headers: dict[str, str]


class IdempotencyStore:
    def __init__(self, engine: Engine, lease_seconds: int) -> None:
        self.engine = engine
        self.lease = timedelta(seconds=lease_seconds)

    def claim(self, person_id: int, key: str, digest: str, now: datetime) -> Replay | None:
        """Claim ``key`` for this request, or return the first answer to replay."""
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ApiProblem(
                400,
                "requete-invalide",
                f"Idempotency-Key doit compter de 1 à {MAX_KEY_LENGTH} caractères.",
            )
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(I).values(
                        person_id=person_id, key=key, request_hash=digest, created_at=now
                    )
                )
            return None
        except IntegrityError:
            pass
        with self.engine.begin() as conn:
            row = conn.execute(select(I).where(I.c.person_id == person_id, I.c.key == key)).one()
            if row.request_hash != digest:
                raise ApiProblem(
                    422,
                    "cle-idempotence-reutilisee",
                    "Cette clé d'idempotence a déjà servi pour une autre requête.",
                )
            if row.status_code is not None:
                return Replay(row.status_code, row.response or {}, row.headers or {})
            if row.created_at > now - self.lease:
                raise ApiProblem(
                    409,
                    "requete-en-cours",
                    "La première requête avec cette clé est encore en cours.",
                )
            conn.execute(update(I).where(I.c.id == row.id).values(created_at=now))
            return None

    def record(
        self,
        conn: Connection,
        person_id: int,
        key: str,
        status_code: int,
        body: dict[str, Any],
        headers: dict[str, str],
        now: datetime,
    ) -> None:
        conn.execute(
            update(I)
            .where(I.c.person_id == person_id, I.c.key == key)
            .values(status_code=status_code, response=body, headers=headers, completed_at=now)
        )

    def record_alone(
        self, person_id: int, key: str, status_code: int, body: dict[str, Any], now: datetime
    ) -> None:
        with self.engine.begin() as conn:
            self.record(conn, person_id, key, status_code, body, {}, now)
