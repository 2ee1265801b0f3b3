"""« Administration »: the académies one administers, creating one, its identity (name,
institution of the page header, signature block, reply-to address, « Fait à » town) and the
history of every administrative change.

Creation goes through ``Administration.create_academie`` like ``POST /api/v1/academies``
and ``formaflow academie import``: the creator becomes its first administrateur.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api.deps import Wired
from api.pages import admin_common as common
from api.pages.errors import PageRoute
from api.pages.forms import FormState, typed_values
from api.pages.rendering import render
from api.pages.viewer import Seen, Viewer
from api.wiring import Container
from workflow.admin import authority, catalog, changes
from workflow.admin.academies import NewAcademie
from workflow.admin.catalog import SettingsRefused
from workflow.engine.errors import NotPermitted
from workflow.reads.queries import reading
from workflow.store import academie_settings as keys

router = APIRouter(route_class=PageRoute, include_in_schema=False)

IDENTITY_KEYS = (catalog.NAME, keys.INSTITUTION, keys.SIGNATURE, catalog.REPLY_TO, keys.PLACE)
CREATE_LABELS = {
    "nom": "Nom de l'académie",
    "slug": "Identifiant",
    "code": "Code des références de dossier",
    **common.labels(IDENTITY_KEYS[1:]),
}
HISTORY_PAGE = 50


def _shown_value(key: str, value: Any) -> str:
    if value is None:
        return ""
    if key == keys.SIGNATURE:
        return "\n".join(str(v) for v in value)
    return str(value)


# Index ---------------------------------------------------------------------------------


def _index(request: Request, container: Container, viewer: Viewer) -> Response:
    with reading(container.engine) as conn:
        academies = authority.administered(conn, viewer.person_id)
    if not academies:
        raise NotPermitted(
            "administrer une académie", [authority.ADMINISTRATEUR_LABEL], where="dans formaflow"
        )
    return render(
        request,
        "pages/admin/index.html",
        {"page_title": "Administration", "academies": academies},
    )


@router.get("/administration")
async def index(request: Request, viewer: Seen, wired: Wired) -> Response:
    return await run_in_threadpool(_index, request, wired, viewer)


# Creating an académie ------------------------------------------------------------------


def _new_page(
    request: Request, container: Container, viewer: Viewer, form: FormState, status: int = 200
) -> Response:
    with reading(container.engine) as conn:
        if not authority.may_create_academie(conn, viewer.person_id):
            raise NotPermitted(
                "créer une académie", [authority.ADMINISTRATEUR_LABEL], where="dans formaflow"
            )
    return render(
        request,
        "pages/admin/nouvelle.html",
        {"page_title": "Nouvelle académie", "form": form},
        status_code=status,
    )


@router.get("/administration/nouvelle-academie")
async def new_academie(request: Request, viewer: Seen, wired: Wired) -> Response:
    form = FormState(labels=CREATE_LABELS)
    return await run_in_threadpool(_new_page, request, wired, viewer, form)


def _create(container: Container, viewer: Viewer, form: FormState) -> str | None:
    values = form.values
    settings = {"nom": values.get("nom", "")} | {
        key: values.get(common.field_id(key), "") for key in IDENTITY_KEYS[1:]
    }
    data = NewAcademie(values.get("slug", ""), values.get("code", ""), settings)
    try:
        container.admin.create_academie(data, actor_id=viewer.person_id)
    except SettingsRefused as refused:
        common.refusals(form, refused, {})
        return None
    return data.slug.strip().lower()


@router.post("/administration/nouvelle-academie")
async def create_academie(request: Request, viewer: Seen, wired: Wired) -> Response:
    form = FormState(typed_values(await request.form()), labels=CREATE_LABELS)
    slug = await run_in_threadpool(_create, wired, viewer, form)
    if slug is None:
        return await run_in_threadpool(_new_page, request, wired, viewer, form, 422)
    return common.done(
        request,
        f"{common.ROOT}/academies/{slug}",
        "Académie créée",
        "Vous en êtes l'administrateur : complétez ses personnes, ses rôles, ses tarifs et ses "
        "échéances depuis le menu de gauche.",
    )


# Identity ------------------------------------------------------------------------------


def _identity_page(
    request: Request,
    container: Container,
    viewer: Viewer,
    slug: str,
    form: FormState | None = None,
    status: int = 200,
) -> Response:
    academie = common.administered(container, viewer, slug)
    if form is None:
        with reading(container.engine) as conn:
            current = changes.current_values(conn, academie.id)
        form = FormState(
            {common.field_id(k): _shown_value(k, current.get(k)) for k in IDENTITY_KEYS},
            labels=common.labels(IDENTITY_KEYS),
        )
    return render(
        request,
        "pages/admin/identite.html",
        {**common.context(academie, "", "Identité de l'académie"), "form": form},
        status_code=status,
    )


@router.get("/administration/academies/{slug}")
async def identity(request: Request, slug: str, viewer: Seen, wired: Wired) -> Response:
    return await run_in_threadpool(_identity_page, request, wired, viewer, slug)


@router.post("/administration/academies/{slug}")
async def save_identity(request: Request, slug: str, viewer: Seen, wired: Wired) -> Response:
    form = FormState(typed_values(await request.form()), labels=common.labels(IDENTITY_KEYS))
    wanted = {key: form.value(common.field_id(key)) for key in IDENTITY_KEYS}

    def save() -> list[changes.Change] | None:
        try:
            return wired.admin.change_settings(slug, wanted, actor_id=viewer.person_id)
        except SettingsRefused as refused:
            common.refusals(form, refused, {})
            return None

    made = await run_in_threadpool(save)
    if made is None:
        return await run_in_threadpool(_identity_page, request, wired, viewer, slug, form, 422)
    return common.saved(request, f"{common.ROOT}/academies/{slug}", made)


# History -------------------------------------------------------------------------------


def _history_page(
    request: Request, container: Container, viewer: Viewer, slug: str, page: int
) -> Response:
    academie = common.administered(container, viewer, slug)
    with reading(container.engine) as conn:
        lines, total = changes.history(
            conn, academie.id, limit=HISTORY_PAGE, offset=(page - 1) * HISTORY_PAGE
        )
    pages = max(1, -(-total // HISTORY_PAGE))
    return render(
        request,
        "pages/admin/historique.html",
        {
            **common.context(academie, "/historique", "Historique de l'administration"),
            "lines": lines,
            "total": total,
            "page": page,
            "pages": pages,
        },
    )


@router.get("/administration/academies/{slug}/historique")
async def history(
    request: Request,
    slug: str,
    viewer: Seen,
    wired: Wired,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    return await run_in_threadpool(_history_page, request, wired, viewer, slug, page)
