"""Signatures of a dossier's official document: who must sign which version, and signing.

Who must sign comes from ONE function, ``signatory_rules``: the académie's own rule for the
dispositif when it set one (``workflow.engine.roles.signatories_of``), else the
dispositif's default (``states.dispositifs``). A dossier's document has
versions (``versions``): the contract, then each avenant. A role in mode ``un`` (the
responsable, the chef d'établissement) signs every version; a role in mode ``chacun`` (the
formateurs…) signs the versions that concern them: the contract, and an avenant that adds
them or changes everyone's terms (hours, dispositif). A person's signature on a later
version stands for the earlier ones. The guards and effect that use it are in ``signing``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select

from states.dispositifs import SignatoryMode, SignatoryRule
from states.roles import ACADEMIE_ROLES, role_label
from workflow.engine.roles import (
    DossierRef,
    Member,
    members,
    members_of_many,
    signatories_of,
    unique_people,
)
from workflow.store.academie_settings import academie_settings
from workflow.store.tables import contract_version_table as CV
from workflow.store.tables import signature_table as S


def signatory_rules(conn: Connection, dossier: DossierRef) -> tuple[SignatoryRule, ...]:
    """Who must sign this dossier's document: the one place the rules are read.

    The académie's own setting for the dispositif (DOMAIN §9), else the dispositif's
    defaults: every caller (status, guards, recipients, documents) follows it at once.
    """
    return signatories_of(conn, dossier)


@dataclass(frozen=True, slots=True)
class Awaited:
    """One signature still missing: who, and on which version of the document."""

    member: Member
    version: int

    def describe(self) -> str:
        what = "du contrat" if self.version == 1 else f"de l'avenant n° {self.version - 1}"
        return (
            f"la signature {what} (version {self.version}) par {self.member.full_name} "
            f"({role_label(self.member.role, self.member.civilite)})"
        )


@dataclass(frozen=True, slots=True)
class SignatureStatus:
    required: tuple[Member, ...]
    """Every current signatory (one holder per 'one of' role once it has signed)."""
    signed: frozenset[int]
    """People whose signature of the current terms is given."""
    missing: tuple[Member, ...]
    awaited: tuple[Awaited, ...]
    current_version: int
    """The version being signed (1 before the contract exists as a version)."""

    @property
    def complete(self) -> bool:
        return not self.missing


@dataclass(frozen=True, slots=True)
class _Version:
    number: int
    concerned: frozenset[int]


def signatory_members(conn: Connection, dossier: DossierRef) -> list[Member]:
    """Holders of the signatory roles on the dossier (académie roles included)."""
    return members(conn, dossier, [rule.role for rule in signatory_rules(conn, dossier)])


def _versions_of(conn: Connection, dossier_ids: Sequence[int]) -> dict[int, list[_Version]]:
    found: dict[int, list[_Version]] = {}
    for start in range(0, len(dossier_ids), 500):
        rows = conn.execute(
            select(CV.c.dossier_id, CV.c.number, CV.c.concerned).where(
                CV.c.dossier_id.in_(dossier_ids[start : start + 500])
            )
        ).all()
        for r in rows:
            found.setdefault(int(r.dossier_id), []).append(
                _Version(int(r.number), frozenset(int(p) for p in r.concerned or ()))
            )
    return {k: sorted(v, key=lambda version: version.number) for k, v in found.items()}


def _signed_versions_of(
    conn: Connection, dossier_ids: Sequence[int]
) -> dict[int, dict[int, set[int]]]:
    """Per dossier, per person, the versions they signed."""
    found: dict[int, dict[int, set[int]]] = {}
    for start in range(0, len(dossier_ids), 500):
        rows = conn.execute(
            select(S.c.dossier_id, S.c.person_id, S.c.contract_version).where(
                S.c.dossier_id.in_(dossier_ids[start : start + 500])
            )
        ).all()
        for dossier_id, person_id, version in rows:
            found.setdefault(int(dossier_id), {}).setdefault(int(person_id), set()).add(
                int(version)
            )
    return found


def signature_status(conn: Connection, dossier: DossierRef) -> SignatureStatus:
    """Which required signatures are given and which are missing, version by version."""
    return signature_statuses(conn, [dossier])[dossier.id]


def signature_statuses(
    conn: Connection, dossiers: Sequence[DossierRef]
) -> dict[int, SignatureStatus]:
    """``signature_status`` of many dossiers at once (a list page's): the académies'
    rules once per académie, versions, signatures and holders in one query per 500
    dossiers each, instead of four queries per dossier."""
    # ``signatory_rules`` (``signatories_of``) for each, its académie's settings read once.
    settings = {a: academie_settings(conn, a) for a in {d.academie_id for d in dossiers}}
    rules_of = {d.id: settings[d.academie_id].signatories_for(d.dispositif) for d in dossiers}
    ruled = [d.id for d in dossiers if rules_of[d.id]]
    versions_of = _versions_of(conn, ruled)
    signed_of = _signed_versions_of(conn, ruled)
    holders_of = members_of_many(conn, {i: [rule.role for rule in rules_of[i]] for i in ruled})
    return {
        d.id: _status(
            rules_of[d.id],
            versions_of.get(d.id, []),
            signed_of.get(d.id, {}),
            holders_of.get(d.id, []),
        )
        for d in dossiers
    }


def _status(
    rules: Sequence[SignatoryRule],
    versions: list[_Version],
    signed_versions: dict[int, set[int]],
    holders: list[Member],
) -> SignatureStatus:
    if not rules:
        return SignatureStatus((), frozenset(), (), (), 1)
    current = versions[-1].number if versions else 1

    def needed(person_id: int) -> int:
        concerning = [v.number for v in versions if person_id in v.concerned]
        return max(concerning) if concerning else current

    def has_signed(person_id: int, version: int) -> bool:
        return any(v >= version for v in signed_versions.get(person_id, ()))

    required: list[Member] = []
    signed: set[int] = set()
    awaited: list[Awaited] = []
    for rule in rules:
        role_holders = [m for m in holders if m.role == rule.role]
        if rule.mode is SignatoryMode.EACH:
            for member in role_holders:
                required.append(member)
                version = needed(member.person_id)
                if has_signed(member.person_id, version):
                    signed.add(member.person_id)
                else:
                    awaited.append(Awaited(member, version))
        else:
            signers = [m for m in role_holders if has_signed(m.person_id, current)]
            required += signers or role_holders
            signed.update(m.person_id for m in signers)
            if not signers:
                awaited += [Awaited(m, current) for m in role_holders]
    missing = unique_people([a.member for a in awaited])
    return SignatureStatus(
        tuple(unique_people(required)),
        frozenset(signed),
        tuple(missing),
        tuple(awaited),
        current,
    )


def is_dossier_role(role: str) -> bool:
    return role not in ACADEMIE_ROLES
