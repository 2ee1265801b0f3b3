"""The PAF import over HTTP: send the file (CSV or XLSX, multipart field ``file``) for an
académie; ``essai=true`` (the default) only reports, line by line, what would be done;
``essai=false`` imports — all lines or none: a file with a refused line answers 422 with
every refused line in ``errors`` and writes nothing."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.deps import Caller, Wired
from api.imports.paf import parse
from api.problems import ApiProblem, FieldError, problem_responses
from api.uploads import clean_filename, read_upload_form
from api.wiring import Container
from workflow.admin.paf import MAX_FILE_BYTES, PafReport
from workflow.reads.queries import academie_id_by_slug, reading

router = APIRouter(prefix="/api/v1/paf", tags=["PAF"])

ERRORS = problem_responses(400, 401, 403, 404, 413, 415, 422)

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "additionalProperties": False,
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


class LineOut(BaseModel):
    line: int
    paf_id: str
    title: str
    action: str
    """creation, mise_a_jour, inchangee, ignoree ou refusee"""
    action_label: str
    reference: str | None
    dossier_id: int | None
    changes: list[str]
    reasons: list[str]


class ReportOut(BaseModel):
    academie: str
    essai: bool
    applied: bool
    import_id: int | None
    counts: dict[str, int]
    ignored_columns: list[str]
    lines: list[LineOut]


def report_out(academie: str, report: PafReport, essai: bool, import_id: int | None) -> Any:
    return {
        "academie": academie,
        "essai": essai,
        "applied": report.applied,
        "import_id": import_id,
        "counts": report.counts,
        "ignored_columns": list(report.ignored_columns),
        "lines": [
            {
                "line": line.line,
                "paf_id": line.paf_id,
                "title": line.title,
                "action": line.action.value,
                "action_label": line.label,
                "reference": line.reference,
                "dossier_id": line.dossier_id,
                "changes": list(line.changes),
                "reasons": list(line.reasons),
            }
            for line in report.lines
        ],
    }


def _import(
    container: Container,
    person_id: int,
    academie: str,
    filename: str,
    content: bytes,
    essai: bool,
) -> Any:
    with reading(container.engine) as conn:
        academie_id = academie_id_by_slug(conn, academie)
    importer = container.paf
    parsed = parse(content)
    if essai:
        report = importer.dry_run(academie_id, parsed, actor_id=person_id)
        return report_out(academie, report, True, None)
    stored = importer.store(academie_id, filename, content, actor_id=person_id)
    report = importer.apply(academie_id, parsed, actor_id=person_id, import_id=stored)
    if not report.ok:
        raise ApiProblem(
            422,
            "saisie-invalide",
            f"{len(report.refused)} ligne(s) refusée(s) : rien n'a été importé. Corrigez-les "
            "puis renvoyez le fichier.",
            errors=[
                FieldError(field=f"ligne {line.line}", message=" ; ".join(line.reasons))
                for line in report.refused
            ],
        )
    return report_out(academie, report, False, stored)


@router.post(
    "/imports",
    response_model=ReportOut,
    responses=ERRORS,
    openapi_extra=_UPLOAD_BODY,
    summary="Importer un PAF (CSV ou XLSX) en dossiers « Brouillon »",
    description=(
        "Corps multipart/form-data, le fichier dans le champ `file` (5 Mio au plus). "
        "Colonnes documentées dans le README (« Import du PAF ») ; en-têtes français ; "
        "séparateur « ; » ou « , » ; UTF-8 avec ou sans BOM, ou Windows-1252. Réservé aux "
        "gestionnaires et administrateurs de l'académie."
    ),
)
async def import_paf(
    request: Request,
    caller: Caller,
    wired: Wired,
    academie: Annotated[str, Query(max_length=64, description="Slug de l'académie")],
    essai: Annotated[bool, Query(description="Seulement rapporter (par défaut)")] = True,
) -> Any:
    form = await read_upload_form(
        request, MAX_FILE_BYTES, wired.settings.data_dir, fields=frozenset({"file"})
    )
    content = form.take_bytes()
    if not form.has_file or not content:
        raise ApiProblem(422, "saisie-invalide", "Joignez le fichier du PAF (champ « file »).")
    filename = clean_filename(form.filename or "") or "paf"
    return await run_in_threadpool(
        _import, wired, caller.person_id, academie, filename, content, essai
    )
