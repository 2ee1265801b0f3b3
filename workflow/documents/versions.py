"""Versions of a dossier's official document: the contract, then its avenants.

A version's text is refreshed while nobody has signed it, and frozen by its first
signature (then journalled: the decision journal holds each version's hash). After that, a
change that alters the contract's terms (``content.terms``: a signatory of the dossier
added or removed, planned hours, dispositif) makes a new version, an avenant, through the
``etablir_avenant`` transition: its text, what changed, and whom it concerns. The dossier
keeps its state; the avenant is signed through ``signer_avenant`` (``signer`` while the
contract itself is still being signed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from states.dispositifs import DISPOSITIFS, SignatoryMode
from states.dossier_formation import AVENANT_STATES
from states.roles import role_label
from workflow.documents.canonical import sha256
from workflow.documents.content import ContractFacts, gather, known_dispositif, terms
from workflow.documents.models import document_text
from workflow.documents.signatures import signature_status
from workflow.engine.registry import Effect, EffectContext, Guard, GuardContext
from workflow.engine.rows import DossierRow
from workflow.language.french import format_hours
from workflow.payments import journal
from workflow.store.tables import contract_version_table as CV
from workflow.store.tables import person_table
from workflow.store.tables import signature_table as S


@dataclass(frozen=True, slots=True)
class Version:
    id: int
    dossier_id: int
    number: int
    text: str
    sha256: str
    changes: tuple[str, ...]
    concerned: tuple[int, ...]
    terms: dict[str, Any]
    created_at: datetime
    sealed_document_id: int | None

    @property
    def label(self) -> str:
        return "Contrat" if self.number == 1 else f"Avenant n° {self.number - 1}"


def _version(row: Any) -> Version:
    return Version(
        int(row.id),
        int(row.dossier_id),
        int(row.number),
        str(row.text),
        str(row.sha256),
        tuple(row.changes or ()),
        tuple(int(p) for p in row.concerned or ()),
        dict(row.terms or {}),
        row.created_at,
        row.sealed_document_id,
    )


def versions(conn: Connection, dossier_id: int) -> list[Version]:
    rows = conn.execute(select(CV).where(CV.c.dossier_id == dossier_id).order_by(CV.c.number))
    return [_version(r) for r in rows]


def current(conn: Connection, dossier_id: int) -> Version | None:
    row = conn.execute(
        select(CV).where(CV.c.dossier_id == dossier_id).order_by(CV.c.number.desc()).limit(1)
    ).first()
    return None if row is None else _version(row)


def version_by_number(conn: Connection, dossier_id: int, number: int) -> Version | None:
    row = conn.execute(
        select(CV).where(CV.c.dossier_id == dossier_id, CV.c.number == number)
    ).first()
    return None if row is None else _version(row)


def _signed_count(conn: Connection, dossier_id: int, number: int) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(S)
            .where(S.c.dossier_id == dossier_id, S.c.contract_version == number)
        ).scalar_one()
    )


def _each_holders(facts: ContractFacts) -> list[int]:
    each = {r.role for r in facts.rules if r.mode is SignatoryMode.EACH}
    return sorted({m.person_id for m in facts.signatories if m.role in each})


def text_to_sign(conn: Connection, dossier: DossierRow) -> tuple[str, str]:
    """The text a signatory signs now, and its SHA-256: the current version's once someone
    signed it (frozen), otherwise the text as the dossier's data stand."""
    version = current(conn, dossier.id)
    if version is not None and _signed_count(conn, dossier.id, version.number):
        return version.text, version.sha256
    text = document_text(gather(conn, dossier))
    return text, sha256(text)


def establish(conn: Connection, dossier: DossierRow, now: datetime) -> Version:
    """Version 1, the contract itself (``emettre_contrat``), or refresh it while unsigned."""
    facts = gather(conn, dossier)
    text = document_text(facts)
    values = {
        "text": text,
        "sha256": sha256(text),
        "changes": [],
        "concerned": _each_holders(facts),
        "terms": terms(facts),
        "created_at": now,
    }
    existing = current(conn, dossier.id)
    if existing is None:
        conn.execute(insert(CV).values(dossier_id=dossier.id, number=1, **values))
    elif not _signed_count(conn, dossier.id, existing.number):
        if existing.number == 1:
            conn.execute(update(CV).where(CV.c.id == existing.id).values(**values))
        else:
            _refresh_avenant(conn, dossier, existing, facts)
    found = current(conn, dossier.id)
    assert found is not None
    return found


def freeze_for_signature(conn: Connection, dossier: DossierRow, now: datetime) -> Version:
    """The version a signature being given is on: refreshed if nobody signed it yet, and
    journalled at its first signature (its text is frozen from then on)."""
    version = establish(conn, dossier, now)
    if not _signed_count(conn, dossier.id, version.number):
        journal.append(
            conn,
            academie_id=dossier.academie_id,
            kind=journal.KIND_VERSION,
            source_id=version.id,
            now=now,
        )
    return version


# --- Avenants ----------------------------------------------------------------------------------


def _names(conn: Connection, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = conn.execute(
        select(person_table.c.id, person_table.c.full_name).where(person_table.c.id.in_(ids))
    ).all()
    return {int(r.id): str(r.full_name) for r in rows}


def _hours(value: str | None) -> str:
    return format_hours(None if value is None else Decimal(value))


def describe_changes(
    conn: Connection, old: dict[str, Any], new: dict[str, Any], each_roles: set[str]
) -> tuple[list[str], list[int], bool]:
    """What changed between two sets of terms, in French; who it concerns; whether it
    concerns every signatory (hours or dispositif changed)."""
    changes: list[str] = []
    everyone = False
    if old.get("dispositif") != new.get("dispositif"):
        everyone = True
        before = DISPOSITIFS.get(str(old.get("dispositif")))
        after = DISPOSITIFS.get(str(new.get("dispositif")))
        changes.append(
            f"Dispositif : « {before.label if before else old.get('dispositif')} » devient "
            f"« {after.label if after else new.get('dispositif')} »."
        )
    for key, what in (
        ("heures_presentiel", "Heures prévues en présentiel"),
        ("heures_distance", "Heures prévues à distance"),
    ):
        if old.get(key) != new.get(key):
            everyone = True
            changes.append(f"{what} : {_hours(old.get(key))} → {_hours(new.get(key))}.")
    before_set = {(int(p), str(r)) for p, r in old.get("signataires", [])}
    after_set = {(int(p), str(r)) for p, r in new.get("signataires", [])}
    names = _names(conn, {p for p, _ in before_set | after_set})
    added = sorted(after_set - before_set)
    removed = sorted(before_set - after_set)
    changes += [
        f"Signataire ajouté : {names.get(p, p)} ({role_label(r).lower()})." for p, r in added
    ]
    changes += [
        f"Signataire retiré : {names.get(p, p)} ({role_label(r).lower()})." for p, r in removed
    ]
    concerned = sorted({p for p, r in added if r in each_roles})
    return changes, concerned, everyone


def pending_changes(conn: Connection, dossier: DossierRow) -> list[str]:
    """What an avenant would have to say now, or nothing when none is due.

    None is due before the contract exists, after the payment decision, while the current
    version is unsigned (it is refreshed instead), or when the terms did not change.
    """
    if dossier.state not in AVENANT_STATES or not known_dispositif(dossier):
        return []
    version = current(conn, dossier.id)
    if version is None or not _signed_count(conn, dossier.id, version.number):
        return []
    facts = gather(conn, dossier)
    new_terms = terms(facts)
    if new_terms == version.terms:
        return []
    each = {r.role for r in facts.rules if r.mode is SignatoryMode.EACH}
    return describe_changes(conn, version.terms, new_terms, each)[0]


def _refresh_avenant(
    conn: Connection, dossier: DossierRow, version: Version, facts: ContractFacts
) -> None:
    """An avenant nobody signed yet follows later changes too (measured from the version
    before it)."""
    previous = version_by_number(conn, dossier.id, version.number - 1)
    assert previous is not None
    text = document_text(facts)
    new_terms = terms(facts)
    each = {r.role for r in facts.rules if r.mode is SignatoryMode.EACH}
    changes, concerned, everyone = describe_changes(conn, previous.terms, new_terms, each)
    conn.execute(
        update(CV)
        .where(CV.c.id == version.id)
        .values(
            text=text,
            sha256=sha256(text),
            changes=changes,
            concerned=_each_holders(facts) if everyone else concerned,
            terms=new_terms,
        )
    )


def avenant_necessaire(ctx: GuardContext) -> list[str]:
    if pending_changes(ctx.conn, ctx.dossier):
        return []
    return ["un changement des termes du contrat signé (signataire, heures prévues, dispositif)"]


def enregistrer_avenant(ctx: EffectContext) -> dict[str, bool]:
    g = ctx.guard
    version = current(g.conn, g.dossier.id)
    assert version is not None
    facts = gather(g.conn, g.dossier)
    new_terms = terms(facts)
    each = {r.role for r in facts.rules if r.mode is SignatoryMode.EACH}
    changes, concerned, everyone = describe_changes(g.conn, version.terms, new_terms, each)
    text = document_text(facts)
    g.conn.execute(
        insert(CV).values(
            dossier_id=g.dossier.id,
            number=version.number + 1,
            text=text,
            sha256=sha256(text),
            changes=changes,
            concerned=_each_holders(facts) if everyone else concerned,
            terms=new_terms,
            created_at=g.now,
        )
    )
    return {}


def sealable(conn: Connection, dossier: DossierRow) -> Version | None:
    """The current version once its last signature is given and before its PDF exists."""
    version = current(conn, dossier.id)
    if version is None or version.sealed_document_id is not None:
        return None
    if not _signed_count(conn, dossier.id, version.number):
        return None
    return version if signature_status(conn, dossier.ref).complete else None


def attach_seal(conn: Connection, version_id: int, document_id: int) -> None:
    conn.execute(update(CV).where(CV.c.id == version_id).values(sealed_document_id=document_id))


VERSION_GUARDS: dict[str, Guard] = {"avenant_necessaire": avenant_necessaire}


def etablir_contrat(ctx: EffectContext) -> dict[str, bool]:
    establish(ctx.guard.conn, ctx.guard.dossier, ctx.guard.now)
    return {}


VERSION_EFFECTS: dict[str, Effect] = {
    "etablir_contrat": Effect(etablir_contrat),
    "enregistrer_avenant": Effect(enregistrer_avenant),
}
