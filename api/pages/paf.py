"""« Import du PAF »: drop the file, read the dry run line by line, then confirm.

The dropped file is kept (``PafImporter.store``) and the report page shows its dry run;
the confirmation imports that very file — planned again in the transaction that writes, all
lines or none — so what is imported is what was read, even if the person took a while.
Only the académie's gestionnaires and administrateurs reach these pages (the use case
checks it again on every step).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from api.deps import RowId, Wired
from api.exports.download import attachment
from api.imports.paf import parse, template_file
from api.pages.errors import PageRoute
from api.pages.flash import Flash, set_flash
from api.pages.forms import FormState
from api.pages.rendering import render
from api.pages.viewer import Seen, Viewer
from api.problems import ApiProblem
from api.uploads import clean_filename, read_upload_form
from api.wiring import Container
from workflow.admin.paf import (
    ACTION_LABELS,
    IMPORTERS,
    MAX_FILE_BYTES,
    Action,
    PafReport,
    StoredImport,
    importable_academies,
)
from workflow.admin.paf_lines import COLUMNS
from workflow.engine.errors import InvalidInput, NotPermitted
from workflow.reads.paf_imports import last_import_academie, recent_imports
from workflow.reads.queries import reading

router = APIRouter(route_class=PageRoute, include_in_schema=False)

LABELS = {"academie": "Académie", "fichier": "Fichier du PAF (CSV ou XLSX)"}
BADGES = {
    Action.CREATE: "success",
    Action.UPDATE: "success",
    Action.SAME: "info",
    Action.SKIP: "warning",
    Action.REFUSE: "error",
}


def _academies(container: Container, viewer: Viewer) -> list[tuple[int, str, str]]:
    with reading(container.engine) as conn:
        academies = importable_academies(conn, viewer.person_id)
    if not academies:
        raise NotPermitted("importer un PAF", ["Gestionnaire EAFC", "Administrateur de l'académie"])
    return academies


def _upload_page(
    request: Request,
    container: Container,
    viewer: Viewer,
    form: FormState | None = None,
    status_code: int = 200,
) -> Response:
    academies = _academies(container, viewer)
    ids = [a[0] for a in academies]
    with reading(container.engine) as conn:
        imports = recent_imports(conn, ids)
        last = None if len(academies) == 1 else last_import_academie(conn, viewer.person_id, ids)
    if form is None:
        default = academies[0][1] if len(academies) == 1 else ""
        chosen = next((slug for i, slug, _ in academies if i == last), default)
        form = FormState({"academie": chosen}, labels=LABELS)
    return render(
        request,
        "pages/paf.html",
        {
            "page_title": "Import du PAF",
            "form": form,
            "academies": [(slug, name) for _, slug, name in academies],
            "columns": COLUMNS,
            "imports": imports,
        },
        status_code=status_code,
    )


@router.get("/paf")
async def paf_page(request: Request, viewer: Seen, wired: Wired) -> Response:
    return await run_in_threadpool(_upload_page, request, wired, viewer)


@router.get("/paf/modele.{fmt}")
async def paf_template(fmt: str, viewer: Seen) -> Response:
    if fmt not in ("csv", "xlsx"):
        raise ApiProblem(404, "introuvable", "Modèle inconnu.")
    return attachment(template_file("csv" if fmt == "csv" else "xlsx"))


def _store(
    container: Container, viewer: Viewer, slug: str, filename: str, content: bytes, form: FormState
) -> int | None:
    academies = {s: i for i, s, _ in _academies(container, viewer)}
    if slug not in academies:
        form.add("academie", "choisissez une académie de la liste")
        return None
    try:
        return container.paf.store(academies[slug], filename, content, actor_id=viewer.person_id)
    except (InvalidInput, NotPermitted) as error:
        form.add("fichier", error.message)
        return None


@router.post("/paf")
async def paf_upload(request: Request, viewer: Seen, wired: Wired) -> Response:
    form = FormState(labels=LABELS)
    try:
        upload = await read_upload_form(
            request, MAX_FILE_BYTES, wired.settings.data_dir, fields=frozenset({"file", "academie"})
        )
    except ApiProblem as problem:
        form.add("fichier", problem.detail)
        return await run_in_threadpool(_upload_page, request, wired, viewer, form, 422)
    form.values = {"academie": upload.fields.get("academie", "")}
    content = upload.take_bytes()
    if not upload.has_file or not content:
        form.add("fichier", "choisissez le fichier du PAF (CSV ou XLSX)")
        return await run_in_threadpool(_upload_page, request, wired, viewer, form, 422)
    filename = clean_filename(upload.filename or "") or "paf"
    stored = await run_in_threadpool(
        _store, wired, viewer, form.values["academie"], filename, content, form
    )
    if stored is None:
        return await run_in_threadpool(_upload_page, request, wired, viewer, form, 422)
    return RedirectResponse(f"/paf/imports/{stored}", status_code=303)


def _report(container: Container, viewer: Viewer, stored: StoredImport) -> dict[str, Any]:
    """The dry run of a kept file (or why the file as a whole cannot be read)."""
    try:
        parsed = parse(stored.content)
    except InvalidInput as error:
        return {"file_error": error.message, "report": None}
    report = container.paf.dry_run(stored.academie_id, parsed, actor_id=viewer.person_id)
    return {"file_error": None, "report": report}


def _report_page(
    request: Request,
    container: Container,
    viewer: Viewer,
    import_id: int,
    errors: list[tuple[str, str]] | None = None,
    applied: PafReport | None = None,
    status_code: int = 200,
) -> Response:
    stored = container.paf.stored(import_id, actor_id=viewer.person_id)
    context = _report(container, viewer, stored) if applied is None else {"report": applied}
    report: PafReport | None = context.get("report")
    todo = 0 if report is None else report.count(Action.CREATE) + report.count(Action.UPDATE)
    return render(
        request,
        "pages/paf_rapport.html",
        {
            "page_title": f"Import du PAF — {stored.filename}",
            "stored": stored,
            "file_error": context.get("file_error"),
            "report": report,
            "todo": todo,
            "errors": errors or [],
            "actions": [(a, ACTION_LABELS[a]) for a in Action],
            "badges": BADGES,
            "form": FormState({"academie": stored.academie_slug}, labels=LABELS),
            "importers": IMPORTERS,
        },
        status_code=status_code,
    )


@router.get("/paf/imports/{import_id}")
async def paf_report(request: Request, import_id: RowId, viewer: Seen, wired: Wired) -> Response:
    return await run_in_threadpool(_report_page, request, wired, viewer, import_id)


def _apply(container: Container, viewer: Viewer, import_id: int) -> PafReport:
    stored = container.paf.stored(import_id, actor_id=viewer.person_id)
    if stored.status == "importe":
        raise InvalidInput(
            "Ce fichier a déjà été importé : déposez-le de nouveau pour le réimporter."
        )
    return container.paf.apply(
        stored.academie_id,
        parse(stored.content),
        actor_id=viewer.person_id,
        import_id=import_id,
    )


@router.post("/paf/imports/{import_id}")
async def paf_confirm(request: Request, import_id: RowId, viewer: Seen, wired: Wired) -> Response:
    try:
        report = await run_in_threadpool(_apply, wired, viewer, import_id)
    except InvalidInput as error:
        return await run_in_threadpool(
            _report_page, request, wired, viewer, import_id, [("", error.message)], None, 409
        )
    if not report.ok:
        message = (
            f"{len(report.refused)} ligne(s) sont maintenant refusées : rien n'a été importé. "
            "Corrigez le fichier puis déposez-le de nouveau."
        )
        return await run_in_threadpool(
            _report_page, request, wired, viewer, import_id, [("", message)], report, 409
        )
    response = RedirectResponse(f"/paf/imports/{import_id}", status_code=303)
    created, updated = report.count(Action.CREATE), report.count(Action.UPDATE)
    set_flash(
        request,
        response,
        Flash(
            "success",
            "Import du PAF effectué",
            f"{created} dossier(s) créé(s) en brouillon, {updated} mis à jour.",
        ),
    )
    return response
