"""The official document as its readers see it: the text to sign (or signed), the
signatures given so far, who is still awaited, and each version's sealed PDF.

The text is the stored text of the version (``contract_version``) once someone signed it,
otherwise the text as the dossier's data stand: in both cases the one whose SHA-256 a
signature now would record (``versions.text_to_sign``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from states.dispositifs import DISPOSITIFS
from states.roles import role_label
from workflow.documents.canonical import Block, parse
from workflow.documents.models import DOCUMENT_TITLES
from workflow.documents.signatures import SignatureStatus, signature_status
from workflow.documents.versions import Version, text_to_sign, version_by_number, versions
from workflow.engine.rows import DossierRow
from workflow.store.academie_settings import academie_settings
from workflow.store.tables import document_table, dossier_table, person_table
from workflow.store.tables import signature_table as S


@dataclass(frozen=True, slots=True)
class SignatureLine:
    person_id: int
    full_name: str
    role: str
    role_label: str
    version: int
    signed_at: datetime
    sha256: str


@dataclass(frozen=True, slots=True)
class SealedFile:
    version: int
    label: str
    document_id: int
    filename: str
    sha256: str


@dataclass(frozen=True, slots=True)
class ContractView:
    dossier: DossierRow
    title: str
    number: int | None
    """The version shown; None while the contract is a draft no one signed."""
    label: str
    text: str
    sha256: str
    blocks: list[Block]
    changes: tuple[str, ...]
    signatures: tuple[SignatureLine, ...]
    """Every signature given on the dossier's document, all versions."""
    status: SignatureStatus
    is_current: bool
    academie: str
    signature_block: tuple[str, ...]
    place: str | None
    sealed: tuple[SealedFile, ...]
    versions: tuple[Version, ...]

    def signatures_of(self, number: int) -> list[SignatureLine]:
        return [s for s in self.signatures if s.version == number]

    def signed_by(self, person_id: int) -> SignatureLine | None:
        """``person_id``'s latest signature, if any."""
        found = [s for s in self.signatures if s.person_id == person_id]
        return found[-1] if found else None


def _signatures(conn: Connection, dossier_id: int) -> tuple[SignatureLine, ...]:
    rows = conn.execute(
        select(
            S.c.person_id,
            S.c.role,
            S.c.contract_version,
            S.c.signed_at,
            S.c.contract_sha256,
            person_table.c.full_name,
            person_table.c.civilite,
        )
        .join(person_table, person_table.c.id == S.c.person_id)
        .where(S.c.dossier_id == dossier_id)
        .order_by(S.c.contract_version, S.c.signed_at, S.c.id)
    ).all()
    return tuple(
        SignatureLine(
            int(r.person_id),
            str(r.full_name),
            str(r.role),
            role_label(str(r.role), r.civilite),
            int(r.contract_version),
            r.signed_at,
            str(r.contract_sha256),
        )
        for r in rows
    )


def _sealed(conn: Connection, all_versions: list[Version]) -> tuple[SealedFile, ...]:
    ids = {v.sealed_document_id: v for v in all_versions if v.sealed_document_id is not None}
    if not ids:
        return ()
    rows = conn.execute(
        select(document_table.c.id, document_table.c.filename, document_table.c.sha256).where(
            document_table.c.id.in_(ids)
        )
    ).all()
    return tuple(
        SealedFile(ids[r.id].number, ids[r.id].label, int(r.id), str(r.filename), str(r.sha256))
        for r in sorted(rows, key=lambda r: ids[r.id].number)
    )


class NoContract(LookupError):
    """The dossier has no official document (no dispositif yet, or not a formation)."""

    def __init__(self) -> None:
        super().__init__(
            "Ce dossier n'a pas de contrat : ce n'est pas un dossier de formation, ou son "
            "dispositif n'est pas encore choisi."
        )


class NoSuchVersion(LookupError):
    def __init__(self, number: int) -> None:
        super().__init__(f"Ce dossier n'a pas de version {number} de son contrat.")


def contract_view(conn: Connection, dossier: DossierRow, number: int | None = None) -> ContractView:
    """The document to read now (``number`` None) or one stored version of it."""
    if dossier.workflow_name != "dossier_formation" or dossier.dispositif not in DISPOSITIFS:
        raise NoContract
    all_versions = versions(conn, dossier.id)
    settings = academie_settings(conn, dossier.academie_id)
    signatures = _signatures(conn, dossier.id)
    version: Version | None
    if number is not None:
        version = version_by_number(conn, dossier.id, number)
        if version is None:
            raise NoSuchVersion(number)
        text, digest = version.text, version.sha256
    else:
        text, digest = text_to_sign(conn, dossier)
        # An unsigned version follows the data until its first signature (then frozen).
        version = all_versions[-1] if all_versions else None
    is_current = number is None or (bool(all_versions) and all_versions[-1].number == number)
    shown = version.number if version is not None else None
    title = DOCUMENT_TITLES.get(dossier.dispositif or "", "Contrat")
    if version is None:
        label = f"{title} (projet)"
    else:
        label = title if version.number == 1 else version.label
    return ContractView(
        dossier=dossier,
        title=title,
        number=shown,
        label=label,
        text=text,
        sha256=digest,
        blocks=parse(text),
        changes=version.changes if version is not None else (),
        signatures=signatures,
        status=signature_status(conn, dossier.ref),
        is_current=is_current,
        academie=settings.name,
        signature_block=settings.signature_block,
        place=settings.place,
        sealed=_sealed(conn, all_versions),
        versions=tuple(all_versions),
    )


def etablissement_of(conn: Connection, dossier_id: int) -> str:
    """The établissement an ENT convention names (empty when not given)."""
    value = conn.execute(
        select(dossier_table.c.etablissement).where(dossier_table.c.id == dossier_id)
    ).scalar_one()
    return str(value or "")
