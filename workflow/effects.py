"""Named effects: the writes a transition makes besides state, version and history.

An effect runs after the guards passed, in the service's transaction, and returns the
facts the Machine's conditions read (``signatures_completes`` for ``signer``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import insert

from states.dispositifs import DISPOSITIFS
from workflow import journal
from workflow.contract import contract_sha256
from workflow.guards import GuardContext
from workflow.tables import signature_table
from workflow.team import Capacity, signature_status


@dataclass(frozen=True, slots=True)
class EffectContext:
    guard: GuardContext
    capacities: tuple[Capacity, ...]


EffectFn = Callable[[EffectContext], dict[str, bool]]


@dataclass(frozen=True, slots=True)
class Effect:
    run: EffectFn
    facts: tuple[str, ...] = ()
    """The Machine conditions this effect answers."""


def enregistrer_signature(ctx: EffectContext) -> dict[str, bool]:
    g = ctx.guard
    assert g.actor_id is not None
    dispositif = DISPOSITIFS[g.dossier.dispositif or ""]
    held = {c.role for c in ctx.capacities if c.on_behalf_of is None}
    role = next(rule.role for rule in dispositif.signatories if rule.role in held)
    signature_id = g.conn.execute(
        insert(signature_table).values(
            dossier_id=g.dossier.id,
            person_id=g.actor_id,
            role=role,
            signed_at=g.now,
            contract_sha256=contract_sha256(g.conn, g.dossier),
        )
    ).inserted_primary_key
    assert signature_id is not None
    # Same transaction as the signature: the journal entry exists iff the signature does.
    journal.append(
        g.conn,
        academie_id=g.dossier.academie_id,
        kind=journal.KIND_SIGNATURE,
        source_id=int(signature_id[0]),
        now=g.now,
    )
    return {"signatures_completes": signature_status(g.conn, g.dossier.ref).complete}


BASE_EFFECTS: dict[str, Effect] = {
    "enregistrer_signature": Effect(enregistrer_signature, facts=("signatures_completes",)),
}
