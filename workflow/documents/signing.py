"""Signing, as the service runs it: the guards and the effect of ``signer`` and
``signer_avenant``, and the payment guard ``contrat_a_jour`` (registered by
``workflow.rules``; payments never import documents).

Signed as seen: the contract page posts the SHA-256 of the text it showed; the guard
refuses when that is no longer the text to sign, and the effect stores the hash of the
version actually signed, whose text is kept verbatim in ``contract_version``.
"""

from __future__ import annotations

from sqlalchemy import insert

from workflow.documents.signatures import signatory_rules, signature_status
from workflow.documents.versions import freeze_for_signature, text_to_sign
from workflow.engine.registry import Effect, EffectContext, Guard, GuardContext
from workflow.payments import journal
from workflow.store.tables import signature_table as S

TEXT_HASH = "texte_sha256"
"""Payload key: the SHA-256 of the text the signatory was shown."""


def signature_attendue(ctx: GuardContext) -> list[str]:
    status = signature_status(ctx.conn, ctx.dossier.ref)
    if not any(m.person_id == ctx.actor_id for m in status.missing):
        if ctx.actor_id in status.signed:
            return ["une signature attendue de votre part : vous avez déjà signé ce contrat"]
        return [
            "une signature attendue de votre part : la signature requise pour votre rôle "
            "a déjà été donnée"
        ]
    shown = ctx.payload.get(TEXT_HASH)
    if shown is not None and shown != text_to_sign(ctx.conn, ctx.dossier)[1]:
        return [
            "le texte en vigueur : le contrat a changé depuis que vous l'avez ouvert, "
            "relisez-le avant de signer"
        ]
    return []


def enregistrer_signature(ctx: EffectContext) -> dict[str, bool]:
    g = ctx.guard
    assert g.actor_id is not None
    held = {c.role for c in ctx.capacities if c.on_behalf_of is None}
    role = next(rule.role for rule in signatory_rules(g.conn, g.dossier.ref) if rule.role in held)
    version = freeze_for_signature(g.conn, g.dossier, g.now)
    signature_id = g.conn.execute(
        insert(S).values(
            dossier_id=g.dossier.id,
            person_id=g.actor_id,
            role=role,
            signed_at=g.now,
            contract_sha256=version.sha256,
            contract_version=version.number,
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


def contrat_a_jour(ctx: GuardContext) -> list[str]:
    """No payment decision while a current signatory has not signed the current version."""
    return [a.describe() for a in signature_status(ctx.conn, ctx.dossier.ref).awaited]


SIGNATURE_GUARDS: dict[str, Guard] = {
    "signature_attendue": signature_attendue,
    "contrat_a_jour": contrat_a_jour,
}

SIGNATURE_EFFECTS: dict[str, Effect] = {
    "enregistrer_signature": Effect(enregistrer_signature, facts=("signatures_completes",)),
}
