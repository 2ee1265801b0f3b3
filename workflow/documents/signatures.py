"""Signatures of a dossier's contract: who must sign, who has, and the signing itself.

The required signatories come from the dispositif (``states.dispositifs``), unless the
dossier's académie set its own for that dispositif (``signatories_of``); the guard
``signature_attendue`` and the effect ``enregistrer_signature`` are named in the spec and
registered by ``workflow.rules``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from states.dispositifs import SignatoryMode
from workflow.documents.contract import contract_sha256
from workflow.engine.registry import Effect, EffectContext, Guard, GuardContext
from workflow.engine.roles import DossierRef, Member, members, signatories_of, unique_people
from workflow.payments import journal
from workflow.store.tables import signature_table as S


@dataclass(frozen=True, slots=True)
class SignatureStatus:
    required: tuple[Member, ...]
    """Everyone whose signature is awaited or was given (one holder per 'one of' role)."""
    signed: frozenset[int]
    missing: tuple[Member, ...]

    @property
    def complete(self) -> bool:
        return not self.missing


def signature_status(conn: Connection, dossier: DossierRef) -> SignatureStatus:
    """Which required signatures of the contract are given and which are missing.

    A role in mode ``chacun`` needs every holder's signature; a role in mode ``un`` needs
    one signature from any holder, and while it is missing every holder is listed.
    """
    rules = signatories_of(conn, dossier)
    if not rules:
        return SignatureStatus((), frozenset(), ())
    signed = frozenset(
        conn.execute(select(S.c.person_id).where(S.c.dossier_id == dossier.id)).scalars()
    )
    holders = members(conn, dossier, [rule.role for rule in rules])
    required: list[Member] = []
    missing: list[Member] = []
    for rule in rules:
        role_holders = [m for m in holders if m.role == rule.role]
        if rule.mode is SignatoryMode.EACH:
            required += role_holders
            missing += [m for m in role_holders if m.person_id not in signed]
        else:
            signers = [m for m in role_holders if m.person_id in signed]
            required += signers or role_holders
            if not signers:
                missing += role_holders
    return SignatureStatus(tuple(required), signed, tuple(unique_people(missing)))


def signature_attendue(ctx: GuardContext) -> list[str]:
    status = signature_status(ctx.conn, ctx.dossier.ref)
    if ctx.actor_id in status.signed:
        return ["une signature attendue de votre part : vous avez déjà signé ce contrat"]
    if not any(m.person_id == ctx.actor_id for m in status.missing):
        return [
            "une signature attendue de votre part : la signature requise pour votre rôle "
            "a déjà été donnée"
        ]
    return []


def enregistrer_signature(ctx: EffectContext) -> dict[str, bool]:
    g = ctx.guard
    assert g.actor_id is not None
    held = {c.role for c in ctx.capacities if c.on_behalf_of is None}
    role = next(rule.role for rule in signatories_of(g.conn, g.dossier.ref) if rule.role in held)
    signature_id = g.conn.execute(
        insert(S).values(
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


SIGNATURE_GUARDS: dict[str, Guard] = {"signature_attendue": signature_attendue}

SIGNATURE_EFFECTS: dict[str, Effect] = {
    "enregistrer_signature": Effect(enregistrer_signature, facts=("signatures_completes",)),
}
