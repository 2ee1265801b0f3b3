"""The official papers over HTTP: the contract's text and signatures (JSON), and each
paper as a server-side PDF (contract or convention or lettre de mission, fiche de
rémunération, bilan d'activités, fiche bilan ENT). Read like every export: the dossier must
be readable by the caller, or it is not found."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.deps import Caller, RowId, Wired
from api.documents import files
from api.exports.download import attachment
from api.exports.files import ExportFile
from api.problems import ApiProblem, problem_responses
from api.wiring import Container
from workflow.dossiers.access import readable
from workflow.reads.contract import contract_view
from workflow.reads.queries import reading

router = APIRouter(tags=["documents"])

ERRORS = problem_responses(400, 401, 403, 404, 422)
PREFIX = "/api/v1/dossiers/{dossier_id}"
VersionNumber = Annotated[
    int | None, Query(ge=1, le=10_000, description="Numéro de version (1 : le contrat)")
]


class SignatureOut(BaseModel):
    person_id: int
    nom: str
    role: str
    version: int
    signe_le: datetime
    empreinte_sha256: str


class AttenduOut(BaseModel):
    person_id: int
    nom: str
    role: str
    version: int


class ContratOut(BaseModel):
    titre: str
    version: int | None
    libelle: str
    texte: str
    """Exactly the text signed (its SHA-256 is ``empreinte_sha256``)."""
    empreinte_sha256: str
    changements: list[str]
    signatures: list[SignatureOut]
    attendus: list[AttenduOut]
    pdf_scelles: list[int]
    """Ids of the sealed PDFs (``GET …/documents/{id}``), one per fully signed version."""


def _contract(wired: Container, dossier_id: int, person_id: int, number: int | None) -> Any:
    with reading(wired.engine) as conn:
        dossier, _ = readable(conn, dossier_id, person_id, wired.service.clock())
        try:
            view = contract_view(conn, dossier, number)
        except LookupError as missing:
            raise ApiProblem(404, "introuvable", str(missing)) from None
    return ContratOut(
        titre=view.title,
        version=view.number,
        libelle=view.label,
        texte=view.text,
        empreinte_sha256=view.sha256,
        changements=list(view.changes),
        signatures=[
            SignatureOut(
                person_id=s.person_id,
                nom=s.full_name,
                role=s.role,
                version=s.version,
                signe_le=s.signed_at,
                empreinte_sha256=s.sha256,
            )
            for s in view.signatures
        ],
        attendus=[
            AttenduOut(
                person_id=a.member.person_id,
                nom=a.member.full_name,
                role=a.member.role,
                version=a.version,
            )
            for a in view.status.awaited
        ],
        pdf_scelles=[f.document_id for f in view.sealed],
    )


@router.get(
    f"{PREFIX}/contrat",
    response_model=ContratOut,
    responses=ERRORS,
    summary="Lire le contrat (ou la convention, la lettre de mission) tel qu'il est signé",
)
async def get_contract(
    dossier_id: RowId, caller: Caller, wired: Wired, version: VersionNumber = None
) -> Any:
    return await run_in_threadpool(_contract, wired, dossier_id, caller.person_id, version)


def _pdf(wired: Container, dossier_id: int, person_id: int, kind: str) -> ExportFile:
    now = wired.service.clock()
    with reading(wired.engine) as conn:
        dossier, _ = readable(conn, dossier_id, person_id, now)
        if dossier.workflow_name != "dossier_formation":
            raise ApiProblem(
                404,
                "introuvable",
                "Ce dossier est une demande d'ouverture : il n'a pas ce document.",
            )
        if kind == "contrat":
            try:
                return files.contract_file(conn, dossier, now)
            except LookupError as missing:
                raise ApiProblem(404, "introuvable", str(missing)) from None
        if kind == "fiche_bilan_ent" and dossier.dispositif != "hse_convention_ent":
            raise ApiProblem(
                404, "introuvable", "La fiche bilan ENT n'existe que pour une convention ENT."
            )
        if kind == "fiche":
            return files.fiche_file(conn, dossier_id, now)
        if kind == "bilan":
            return files.bilan_file(conn, dossier_id, now)
        return files.fiche_bilan_ent_file(conn, dossier, now)


def _pdf_route(kind: str, path: str, name: str, summary: str) -> None:
    async def endpoint(dossier_id: RowId, caller: Caller, wired: Wired) -> Response:
        return attachment(await run_in_threadpool(_pdf, wired, dossier_id, caller.person_id, kind))

    router.add_api_route(
        f"{PREFIX}/exports/{path}",
        endpoint,
        methods=["GET"],
        name=name,
        response_class=Response,
        responses={
            200: {
                "description": "Document PDF",
                "content": {files.PDF: {"schema": {"type": "string", "format": "binary"}}},
            },
            **ERRORS,
        },
        summary=summary,
    )


_pdf_route("contrat", "contrat.pdf", "export_contrat_pdf", "Le contrat à lire, en PDF")
_pdf_route("fiche", "fiche-remuneration.pdf", "export_fiche_pdf", "Fiche de rémunération (PDF)")
_pdf_route("bilan", "bilan.pdf", "export_bilan_pdf", "Bilan d'activités (PDF)")
_pdf_route(
    "fiche_bilan_ent", "fiche-bilan-ent.pdf", "export_fiche_bilan_ent_pdf", "Fiche bilan ENT (PDF)"
)
