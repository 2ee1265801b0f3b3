"""An académie's people on the pages: its directory (add, deactivate, reactivate) and the
CSV import (a dry run shown line by line, then all or nothing); their roles and suppléances
are ``api.pages.admin_roles``.

Every change goes through the same use cases as the API and the CLI (``Administration``);
deactivating someone cannot be undone by a click, so it is confirmed on a page of its own
first: its link may be opened by anything, only the confirmation acts.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.deps import RowId, Wired
from api.pages import admin_common as common
from api.pages.errors import PageRoute
from api.pages.forms import FormState, typed_values
from api.pages.rendering import render
from api.pages.viewer import Seen, Viewer
from api.wiring import Container
from workflow.admin import people
from workflow.admin.authority import AcademieRef
from workflow.admin.people_import import MAX_BYTES, OUTCOME_LABELS, ImportReport, Outcome
from workflow.engine.errors import InvalidInput
from workflow.reads.queries import reading

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PERSON_LABELS = {"courriel": "Adresse électronique", "nom_complet": "Prénom et nom"}
OUTCOME_BADGES = {
    Outcome.CREATE: "success",
    Outcome.JOIN: "info",
    Outcome.NOTHING: "new",
    Outcome.REFUSED: "error",
}
PAGE = 100


# Directory -----------------------------------------------------------------------------


def _people_page(
    request: Request,
    container: Container,
    viewer: Viewer,
    slug: str,
    search: str = "",
    form: FormState | None = None,
    status: int = 200,
) -> Response:
    academie = common.administered(container, viewer, slug)
    with reading(container.engine) as conn:
        entries, total = people.directory(conn, academie.id, search=search, limit=PAGE)
    return render(
        request,
        "pages/admin/personnes.html",
        {
            **common.context(academie, "/personnes", "Personnes de l'académie"),
            "entries": entries,
            "total": total,
            "search": search,
            "form": form or FormState(labels=PERSON_LABELS),
            "limit": PAGE,
        },
        status_code=status,
    )


@router.get("/administration/academies/{slug}/personnes")
async def people_page(
    request: Request,
    slug: str,
    viewer: Seen,
    wired: Wired,
    recherche: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    return await run_in_threadpool(_people_page, request, wired, viewer, slug, recherche)


@router.post("/administration/academies/{slug}/personnes")
async def add_person(request: Request, slug: str, viewer: Seen, wired: Wired) -> Response:
    form = FormState(typed_values(await request.form()), labels=PERSON_LABELS)

    def add() -> str | None:
        try:
            added = wired.admin.add_person(
                slug, form.value("courriel"), form.value("nom_complet"), actor_id=viewer.person_id
            )
        except InvalidInput as error:
            form.add(
                {"nom": "nom_complet"}.get(error.field or "", error.field or ""), error.message
            )
            return None
        if added.created:
            return f"{form.value('nom_complet').strip()} est dans l'annuaire de l'académie."
        if added.joined:
            return (
                "Cette adresse était déjà connue de formaflow : la personne est ajoutée à "
                "l'annuaire."
            )
        return "Cette personne était déjà dans l'annuaire de l'académie."

    text = await run_in_threadpool(add)
    if text is None:
        return await run_in_threadpool(_people_page, request, wired, viewer, slug, "", form, 422)
    return common.done(
        request, f"{common.ROOT}/academies/{slug}/personnes", "Personne ajoutée", text
    )


def _person(
    container: Container, viewer: Viewer, slug: str, person_id: int
) -> tuple[AcademieRef, people.DirectoryEntry]:
    academie = common.administered(container, viewer, slug)
    with reading(container.engine) as conn:
        return academie, people.entry(conn, academie.id, person_id)


def _activation_page(
    request: Request, container: Container, viewer: Viewer, slug: str, person_id: int, active: bool
) -> Response:
    academie, entry = _person(container, viewer, slug, person_id)
    title = "Réactiver une personne" if active else "Désactiver une personne"
    return render(
        request,
        "pages/admin/activation.html",
        {
            **common.context(academie, "/personnes", title),
            "entry": entry,
            "active": active,
        },
    )


def _activation_routes(path: str, active: bool) -> None:
    async def confirm(
        request: Request, slug: str, person_id: RowId, viewer: Seen, wired: Wired
    ) -> Response:
        return await run_in_threadpool(
            _activation_page, request, wired, viewer, slug, person_id, active
        )

    async def act(
        request: Request,
        slug: str,
        person_id: RowId,
        viewer: Seen,
        wired: Wired,
        confirme: Annotated[str, Form(max_length=10)] = "",
    ) -> Response:
        if confirme != "oui":
            return await confirm(request, slug, person_id, viewer, wired)
        name = await run_in_threadpool(
            lambda: wired.admin.set_active(slug, person_id, active, actor_id=viewer.person_id)
        )
        title = "Personne réactivée" if active else "Personne désactivée"
        text = (
            f"{name} peut de nouveau se connecter."
            if active
            else f"{name} ne peut plus se connecter ; son nom reste dans l'historique des dossiers."
        )
        return common.done(request, f"{common.ROOT}/academies/{slug}/personnes", title, text)

    route = f"{common.ROOT}/academies/{{slug}}/personnes/{{person_id}}/{path}"
    router.add_api_route(route, confirm, methods=["GET"], name=f"admin_{path}_confirm")
    router.add_api_route(route, act, methods=["POST"], name=f"admin_{path}")


_activation_routes("desactivation", False)
_activation_routes("reactivation", True)


# Import --------------------------------------------------------------------------------


def _import_page(
    request: Request,
    container: Container,
    viewer: Viewer,
    slug: str,
    report: ImportReport | None = None,
    content: bytes = b"",
    error: str | None = None,
    status: int = 200,
) -> Response:
    academie = common.administered(container, viewer, slug)
    return render(
        request,
        "pages/admin/import.html",
        {
            **common.context(academie, "/personnes", "Importer des personnes"),
            "report": report,
            "content": base64.b64encode(content).decode("ascii")
            if report and report.importable
            else "",
            "error": error,
            "outcome_labels": OUTCOME_LABELS,
            "badges": OUTCOME_BADGES,
            "refused": Outcome.REFUSED,
        },
        status_code=status,
    )


@router.get("/administration/academies/{slug}/personnes/import")
async def import_form(request: Request, slug: str, viewer: Seen, wired: Wired) -> Response:
    return await run_in_threadpool(_import_page, request, wired, viewer, slug)


@router.post("/administration/academies/{slug}/personnes/import")
async def import_review(request: Request, slug: str, viewer: Seen, wired: Wired) -> Response:
    """The dry run: the file read line by line, nothing written."""
    submitted = await request.form()
    try:
        upload = submitted.get("fichier")
        chosen = isinstance(upload, UploadFile) and bool(upload.filename)
        content = await upload.read(MAX_BYTES + 1) if isinstance(upload, UploadFile) else b""
    finally:
        await submitted.close()  # the spooled upload is freed now, not at some later GC
    problem = None
    if not chosen:
        problem = "choisissez le fichier CSV à importer"
    elif len(content) > MAX_BYTES:
        problem = "fichier trop volumineux : 2 Mo au plus"
    if problem is not None:
        return await run_in_threadpool(
            _import_page, request, wired, viewer, slug, None, b"", problem, 422
        )
    report = await run_in_threadpool(
        lambda: wired.admin.review_import(slug, content, actor_id=viewer.person_id)
    )
    status = 200 if report.importable else 422
    return await run_in_threadpool(
        _import_page, request, wired, viewer, slug, report, content, report.problem, status
    )


@router.post("/administration/academies/{slug}/personnes/import/confirmation")
async def import_apply(request: Request, slug: str, viewer: Seen, wired: Wired) -> Response:
    """The import itself, of the file the dry run showed: whole, or nothing."""
    submitted = typed_values(await request.form())
    try:
        content = base64.b64decode(submitted.get("contenu", ""), validate=True)
    except (binascii.Error, ValueError):
        content = b""
    if not content:
        return await run_in_threadpool(
            _import_page,
            request,
            wired,
            viewer,
            slug,
            None,
            b"",
            "le fichier à importer est absent : déposez-le de nouveau",
            422,
        )

    def apply() -> ImportReport | str:
        try:
            return wired.admin.import_people(slug, content, actor_id=viewer.person_id)
        except InvalidInput as error:
            return error.message

    result = await run_in_threadpool(apply)
    if isinstance(result, str):
        report = await run_in_threadpool(
            lambda: wired.admin.review_import(slug, content, actor_id=viewer.person_id)
        )
        return await run_in_threadpool(
            _import_page, request, wired, viewer, slug, report, content, result, 422
        )
    return common.done(
        request,
        f"{common.ROOT}/academies/{slug}/personnes",
        "Import fait",
        result.summary(),
    )
