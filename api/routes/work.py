"""The work on a dossier outside its transitions: scenario, sessions, bilan, attendance,
documents, and the request to open a parcours.

Routes stay thin: reads ask ``readable`` first (a dossier one may not see is not found),
writes go through ``DossierEditor`` with the caller as actor (roles and frozen states are
checked there, in the write's own transaction), then the saved part is read back.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from api.deps import Caller, RowId, Wired
from api.problems import ApiProblem, problem_responses
from api.uploads import ACCEPTED, content_disposition, document_from, read_upload_form
from api.wiring import Container
from workflow.dossiers.access import Edit, readable, require_edit
from workflow.dossiers.inputs import (
    AttendanceInput,
    BilanInput,
    OuvertureInput,
    ScenarioInput,
    SessionInput,
)
from workflow.language.vocabulary import DOCUMENT_KINDS, KIND_LABELS
from workflow.participants.access import team_reader
from workflow.reads.queries import reading
from workflow.reads.records import (
    DocumentRecord,
    bilan_of,
    demande_of,
    document_of,
    document_path,
    documents_of,
    scenario_of,
    session_of,
    sessions_of,
)

log = logging.getLogger("formaflow.api")

router = APIRouter(prefix="/api/v1/dossiers/{dossier_id}", tags=["travail sur le dossier"])


ERRORS = problem_responses(400, 401, 403, 404, 422)
UPLOAD_ERRORS = problem_responses(400, 401, 403, 404, 413, 415, 422)


# Response shapes ---------------------------------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class StepOut(_Out):
    position: int
    period: str
    scheduled_at: datetime | None
    duration_minutes: int | None
    content: str
    modality: str | None
    led_by: str
    tutor_id: int | None
    material: str
    connection_link: str | None
    co_animation: bool


class SequenceOut(_Out):
    position: int
    title: str
    a_faire_en_amont: str
    steps: list[StepOut]


class ScenarioOut(_Out):
    objectives: str
    competences: str
    prerequisites: str
    public: str
    hours_presentiel: Decimal | None
    hours_distance: Decimal | None
    accompaniment_plan: str
    validation_criteria: str
    penser_a: str
    sequences: list[SequenceOut]
    updated_at: datetime | None


class SessionOut(_Out):
    id: int
    starts_at: datetime
    duration_minutes: int
    modality: str
    connection_link: str | None
    place: str | None = None
    planned_headcount: int | None
    held: bool
    actual_headcount: int | None
    formateur_id: int | None
    trainer_count: int
    created_at: datetime


class HoursOut(_Out):
    person_id: int
    hours: Decimal
    trainees_followed: int | None


class BilanOut(_Out):
    participants_enrolled: int | None
    participants_effective: int | None
    view_chef_etablissement: str
    view_formateurs: str
    eval_fiabilite: str
    eval_faisabilite: str
    eval_accompagnement: str
    eval_effets: str
    hours: list[HoursOut]
    updated_at: datetime | None


class DocumentOut(_Out):
    id: int
    kind: str
    kind_label: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_by_id: int | None
    uploaded_at: datetime


class DemandeOut(_Out):
    nom_parcours: str
    objectifs: str
    description: str
    pilote_nom: str
    pilote_courriel: str
    concepteurs: str
    associe_presentiel: bool | None
    duree_presentiel_h: Decimal | None
    duree_distance_h: Decimal | None
    accompagnement_distance: str
    publics: list[str]
    public_autre: str
    format_parcours: str


def _document_out(record: DocumentRecord) -> DocumentOut:
    return DocumentOut(
        id=record.id,
        kind=record.kind,
        kind_label=KIND_LABELS.get(record.kind, record.kind),
        filename=record.filename,
        content_type=record.content_type,
        size_bytes=record.size_bytes,
        sha256=record.sha256,
        uploaded_by_id=record.uploaded_by_id,
        uploaded_at=record.uploaded_at,
    )


def _not_found(detail: str) -> ApiProblem:
    return ApiProblem(404, "introuvable", detail)


# Scenario ----------------------------------------------------------------------------------


@router.get(
    "/scenario", response_model=ScenarioOut, responses=ERRORS, summary="Lire le scénario hybride"
)
def get_scenario(dossier_id: RowId, caller: Caller, wired: Wired) -> Any:
    with reading(wired.engine) as conn:
        readable(conn, dossier_id, caller.person_id, wired.service.clock())
        return ScenarioOut.model_validate(scenario_of(conn, dossier_id))


@router.put(
    "/scenario",
    response_model=ScenarioOut,
    responses=ERRORS,
    summary="Enregistrer le scénario hybride (il remplace le précédent)",
    description="Possible tant que le scénario n'est pas soumis au pilote ni validé.",
)
def put_scenario(dossier_id: RowId, body: ScenarioInput, caller: Caller, wired: Wired) -> Any:
    wired.editor.save_scenario(dossier_id, body, actor_id=caller.person_id)
    with reading(wired.engine) as conn:
        return ScenarioOut.model_validate(scenario_of(conn, dossier_id))


# Sessions ----------------------------------------------------------------------------------


@router.get(
    "/sessions",
    response_model=list[SessionOut],
    responses=ERRORS,
    summary="Lister les sessions (prévues et tenues)",
)
def list_sessions(dossier_id: RowId, caller: Caller, wired: Wired) -> Any:
    with reading(wired.engine) as conn:
        readable(conn, dossier_id, caller.person_id, wired.service.clock())
        return [SessionOut.model_validate(s) for s in sessions_of(conn, dossier_id)]


@router.post(
    "/sessions",
    status_code=201,
    response_model=SessionOut,
    responses=ERRORS,
    summary="Ajouter une session",
)
def add_session(
    dossier_id: RowId, body: SessionInput, caller: Caller, wired: Wired, response: Response
) -> Any:
    session_id = wired.editor.add_session(dossier_id, body, actor_id=caller.person_id)
    response.headers["Location"] = f"/api/v1/dossiers/{dossier_id}/sessions/{session_id}"
    return _read_session(wired, dossier_id, session_id)


@router.put(
    "/sessions/{session_id}",
    response_model=SessionOut,
    responses=ERRORS,
    summary="Modifier une session (par exemple : tenue, effectif réel)",
)
def update_session(
    dossier_id: RowId, session_id: RowId, body: SessionInput, caller: Caller, wired: Wired
) -> Any:
    if not wired.editor.update_session(dossier_id, session_id, body, actor_id=caller.person_id):
        raise _not_found(f"Le dossier {dossier_id} n'a pas de session {session_id}.")
    return _read_session(wired, dossier_id, session_id)


def _read_session(wired: Container, dossier_id: int, session_id: int) -> SessionOut:
    with reading(wired.engine) as conn:
        record = session_of(conn, dossier_id, session_id)
    if record is None:
        raise _not_found(f"Le dossier {dossier_id} n'a pas de session {session_id}.")
    return SessionOut.model_validate(record)


# Bilan -------------------------------------------------------------------------------------


@router.get(
    "/bilan", response_model=BilanOut, responses=ERRORS, summary="Lire le bilan d'activités"
)
def get_bilan(dossier_id: RowId, caller: Caller, wired: Wired) -> Any:
    with reading(wired.engine) as conn:
        readable(conn, dossier_id, caller.person_id, wired.service.clock())
        return BilanOut.model_validate(bilan_of(conn, dossier_id))


@router.put(
    "/bilan",
    response_model=BilanOut,
    responses=ERRORS,
    summary="Enregistrer le bilan d'activités (il remplace le précédent)",
    description="Possible pendant et après la formation, tant que le bilan n'est pas soumis.",
)
def put_bilan(dossier_id: RowId, body: BilanInput, caller: Caller, wired: Wired) -> Any:
    wired.editor.save_bilan(dossier_id, body, actor_id=caller.person_id)
    with reading(wired.engine) as conn:
        return BilanOut.model_validate(bilan_of(conn, dossier_id))


@router.put(
    "/attendance",
    response_model=BilanOut,
    responses=ERRORS,
    summary="Enregistrer les effectifs relevés sur les listes d'émargement",
    description=(
        "Ne modifie que les nombres d'inscrits et de présents du bilan ; "
        "`participants_enrolled` omis garde la valeur déjà enregistrée."
    ),
)
def put_attendance(dossier_id: RowId, body: AttendanceInput, caller: Caller, wired: Wired) -> Any:
    wired.editor.set_attendance(dossier_id, body, actor_id=caller.person_id)
    with reading(wired.engine) as conn:
        return BilanOut.model_validate(bilan_of(conn, dossier_id))


# Documents ---------------------------------------------------------------------------------

_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["kind", "file"],
                    "additionalProperties": False,
                    "properties": {
                        "kind": {"type": "string", "enum": list(DOCUMENT_KINDS)},
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "contentMediaType": "application/octet-stream",
                            "description": "PDF, ODT, DOCX, XLSX, PNG ou JPEG, reconnu à son "
                            "contenu ; l'extension du nom doit correspondre.",
                        },
                        "csrf_token": {"type": "string", "maxLength": 256},
                    },
                }
            }
        },
    }
}

_DOWNLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Le fichier, avec le type reconnu au dépôt.",
        "content": {
            kind.content_type: {"schema": {"type": "string", "format": "binary"}}
            for kind in ACCEPTED
        },
    },
    **ERRORS,
}


@router.get(
    "/documents",
    response_model=list[DocumentOut],
    responses=ERRORS,
    summary="Lister les documents déposés",
)
def list_documents(dossier_id: RowId, caller: Caller, wired: Wired) -> Any:
    with reading(wired.engine) as conn:
        # Émargement scans name every stagiaire: the team's, not another stagiaire's.
        team_reader(conn, dossier_id, caller.person_id, wired.service.clock())
        return [_document_out(d) for d in documents_of(conn, dossier_id)]


@router.post(
    "/documents",
    status_code=201,
    response_model=DocumentOut,
    responses=UPLOAD_ERRORS,
    openapi_extra=_UPLOAD_BODY,
    summary="Déposer un document (émargement, contrat, fiche de rémunération…)",
    description=(
        "Formulaire multipart : `kind` et `file`. Types acceptés, reconnus d'après le "
        "contenu : PDF, ODT, DOCX, XLSX, PNG, JPEG ; l'extension du nom doit correspondre "
        "au contenu (sinon 415). Au-delà de la taille maximale : 413."
    ),
)
async def upload_document(
    dossier_id: RowId, request: Request, caller: Caller, wired: Wired, response: Response
) -> Any:
    # Who may upload is checked before a single byte of the file is read; the editor checks
    # again in the transaction that writes the row.
    await run_in_threadpool(_may_upload, wired, dossier_id, caller.person_id)
    form = await read_upload_form(
        request, wired.api_settings.max_upload_bytes, wired.settings.data_dir
    )
    try:
        data = document_from(form)
    except ApiProblem:
        form.discard()
        raise
    assert form.staged is not None
    document_id = await run_in_threadpool(
        wired.editor.add_document,
        dossier_id,
        data,
        form.staged,
        caller.person_id,
        actor_id=caller.person_id,
    )
    response.headers["Location"] = f"/api/v1/dossiers/{dossier_id}/documents/{document_id}"
    return await run_in_threadpool(_read_document, wired, dossier_id, document_id)


def _read_document(wired: Container, dossier_id: int, document_id: int) -> DocumentOut:
    with reading(wired.engine) as conn:
        record = document_of(conn, dossier_id, document_id)
    if record is None:
        raise _not_found(f"Le dossier {dossier_id} n'a pas de document {document_id}.")
    return _document_out(record)


def _may_upload(wired: Container, dossier_id: int, person_id: int) -> None:
    with reading(wired.engine) as conn:
        require_edit(conn, dossier_id, person_id, Edit.DOCUMENTS, wired.service.clock())


@router.get(
    "/documents/{document_id}",
    response_class=FileResponse,
    responses=_DOWNLOAD_RESPONSES,
    summary="Télécharger un document",
)
def download_document(
    dossier_id: RowId, document_id: RowId, caller: Caller, wired: Wired
) -> FileResponse:
    with reading(wired.engine) as conn:
        team_reader(conn, dossier_id, caller.person_id, wired.service.clock())
        record = document_of(conn, dossier_id, document_id)
    if record is None:
        raise _not_found(f"Le dossier {dossier_id} n'a pas de document {document_id}.")
    path = document_path(wired.editor.data_dir, record.storage_key)
    if path is None or not path.is_file():
        log.error("document %s: no file at storage key %r", record.id, record.storage_key)
        raise _not_found("Le fichier de ce document est introuvable sur le serveur.")
    return FileResponse(
        path,
        media_type=record.content_type,
        headers={
            "Content-Disposition": content_disposition(record.filename),
            "X-Content-Type-Options": "nosniff",
        },
    )


# Demande d'ouverture de parcours -----------------------------------------------------------


@router.get(
    "/demande",
    response_model=DemandeOut,
    responses=ERRORS,
    summary="Lire la demande d'ouverture de parcours M@gistère",
)
def get_demande(dossier_id: RowId, caller: Caller, wired: Wired) -> Any:
    with reading(wired.engine) as conn:
        dossier, _ = readable(conn, dossier_id, caller.person_id, wired.service.clock())
        if dossier.workflow_name != "ouverture_parcours":
            raise _not_found("Ce dossier n'est pas une demande d'ouverture de parcours.")
        return DemandeOut.model_validate(demande_of(conn, dossier_id))


@router.put(
    "/demande",
    response_model=DemandeOut,
    responses=ERRORS,
    summary="Enregistrer la demande d'ouverture de parcours M@gistère",
    description="Possible en brouillon et quand un complément est demandé.",
)
def put_demande(dossier_id: RowId, body: OuvertureInput, caller: Caller, wired: Wired) -> Any:
    wired.editor.save_ouverture(dossier_id, body, actor_id=caller.person_id)
    with reading(wired.engine) as conn:
        return DemandeOut.model_validate(demande_of(conn, dossier_id))
