"""Bulk actions from the pages: choose on the « Tableau de bord », check, launch, follow.

The dashboard's selection (checked rows, or « tous ceux du filtre ») is a GET to
``/actions-groupees/nouvelle``, which lists exactly the dossiers the action will touch and
asks for the comment where one is needed; its POST launches the batch and lands on the
batch's page, which follows the worker's progress — a small static script
(``api/static/actions-groupees.js``; no inline script) polls the batch's state and updates
the figures in place, where a ``<meta http-equiv="refresh">`` would reload the page under a
screen reader's feet (WCAG 2.2.1); a reload or a closed tab loses nothing — then shows each
dossier's result and offers it for download.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, QueryParams

from api.deps import RowId, Wired
from api.exports.download import attachment
from api.exports.files import SheetFormat
from api.exports.results import bulk_results_file
from api.pages.errors import PageRoute
from api.pages.flash import Flash, set_flash
from api.pages.forms import FormState
from api.pages.rendering import render
from api.pages.viewer import Seen, Viewer
from api.wiring import Container
from workflow.admin.bulk import ACTIONS, MAX_DOSSIERS, BatchBusy
from workflow.engine.errors import InvalidInput, NotPermitted
from workflow.reads import bulk as reads
from workflow.reads.dossier_list import DossierFilters, filtered_dossiers
from workflow.reads.queries import reading

router = APIRouter(route_class=PageRoute, include_in_schema=False)

LABELS = {"action": "Action", "commentaire": "Commentaire", "dossiers": "Dossiers"}
FILTERS = ("academie", "etat", "phase", "dispositif", "pilote", "q")


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit() and 0 < int(v) < 2**31]


def _filters(params: QueryParams | FormData) -> dict[str, str]:
    return {
        name: value.strip()[:200]
        for name in FILTERS
        if isinstance(value := params.get(name, ""), str) and value.strip()
    }


def _academie(
    container: Container, viewer: Viewer, wanted: str, form: FormState
) -> reads.LaunchAcademie | None:
    with reading(container.engine) as conn:
        academies = reads.launcher_academies(conn, viewer.person_id)
    if not academies:
        raise NotPermitted("lancer une action groupée", ["Gestionnaire EAFC", "Responsable"])
    if wanted:
        found = next((a for a in academies if a.slug == wanted), None)
        if found is None:
            form.add("dossiers", "vous ne pouvez pas lancer d'action groupée dans cette académie")
        return found
    if len(academies) == 1:
        return academies[0]
    form.add(
        "dossiers",
        "vous suivez plusieurs académies : choisissez-en une dans les filtres du tableau de "
        "bord, puis recommencez",
    )
    return None


def _by_filter(
    container: Container, viewer: Viewer, academie: str, filters: dict[str, str]
) -> list[int]:
    pilote = filters.get("pilote", "")
    wanted = DossierFilters(
        academie=academie,
        state=filters.get("etat") or None,
        phase=filters.get("phase") or None,
        dispositif=filters.get("dispositif") or None,
        pilote=int(pilote) if pilote.isdigit() and int(pilote) < 2**31 else None,
        text=filters.get("q") or None,
    )
    now = container.service.clock()
    with reading(container.engine) as conn:
        query = filtered_dossiers(conn, viewer.person_id, wanted, now)
        return [int(r.id) for r in conn.execute(query.limit(MAX_DOSSIERS + 1))]


def _preview(
    request: Request,
    container: Container,
    viewer: Viewer,
    action: str,
    academie_slug: str,
    ids: list[int],
    filters: dict[str, str],
    by_filter: bool,
    form: FormState,
    status_code: int = 200,
) -> Response:
    spec = ACTIONS.get(action)
    if spec is None:
        form.add("action", "choisissez une action dans la liste")
    academie = _academie(container, viewer, academie_slug, form)
    chosen: list[reads.Candidate] = []
    if academie is not None:
        if by_filter:
            ids = _by_filter(container, viewer, academie.slug, filters)
        if len(ids) > MAX_DOSSIERS:
            form.add(
                "dossiers",
                f"une action groupée porte sur {MAX_DOSSIERS} dossiers au plus : affinez le filtre",
            )
            ids = ids[:MAX_DOSSIERS]
        with reading(container.engine) as conn:
            chosen = reads.candidates(conn, academie.id, ids)
        if not chosen and not form.error("dossiers"):
            form.add(
                "dossiers",
                "aucun dossier choisi : cochez des dossiers du tableau de bord, ou choisissez "
                "« tous ceux du filtre »",
            )
    back = "/tableau-de-bord" + (f"?{urlencode(filters)}" if filters else "")
    return render(
        request,
        "pages/action_groupee_nouvelle.html",
        {
            "page_title": "Action groupée",
            "action": spec,
            "actions": [(a.id, a.label) for a in ACTIONS.values()],
            "academie": academie,
            "chosen": chosen,
            "form": form,
            "back": back,
            "launchable": bool(chosen) and spec is not None and not form.errors,
        },
        status_code=status_code,
    )


@router.get("/actions-groupees/nouvelle")
async def new_bulk(
    request: Request,
    viewer: Seen,
    wired: Wired,
    action: Annotated[str, Query(max_length=64)] = "",
    selection: Annotated[str, Query(max_length=16)] = "cochees",
) -> Response:
    params = request.query_params
    filters = _filters(params)
    form = FormState({"action": action, "commentaire": ""}, labels=LABELS)
    return await run_in_threadpool(
        _preview,
        request,
        wired,
        viewer,
        action,
        filters.get("academie", ""),
        _ids(params.getlist("dossier")),
        filters,
        selection == "filtre",
        form,
    )


def _launch(
    container: Container,
    viewer: Viewer,
    academie: str,
    action: str,
    ids: list[int],
    form: FormState,
) -> tuple[int | None, int]:
    with reading(container.engine) as conn:
        found = next(
            (a for a in reads.launcher_academies(conn, viewer.person_id) if a.slug == academie),
            None,
        )
    if found is None:
        raise NotPermitted("lancer une action groupée dans cette académie", ["Gestionnaire EAFC"])
    try:
        batch_id = container.bulk.create(
            found.id, action, ids, actor_id=viewer.person_id, comment=form.value("commentaire")
        )
    except BatchBusy as busy:
        form.add("", busy.message)
        return None, 409
    except InvalidInput as error:
        form.add(error.field if error.field in LABELS else "", error.message)
        return None, 422
    return batch_id, 303


@router.post("/actions-groupees")
async def launch_bulk(request: Request, viewer: Seen, wired: Wired) -> Response:
    submitted = await request.form()
    action = str(submitted.get("action", ""))[:64]
    academie = str(submitted.get("academie", ""))[:64]
    ids = _ids([v for v in submitted.getlist("dossier") if isinstance(v, str)])
    comment = str(submitted.get("commentaire", ""))
    form = FormState({"action": action, "commentaire": comment}, labels=LABELS)
    batch_id, status = await run_in_threadpool(_launch, wired, viewer, academie, action, ids, form)
    if batch_id is None:
        return await run_in_threadpool(
            _preview, request, wired, viewer, action, academie, ids, {}, False, form, status
        )
    response = RedirectResponse(f"/actions-groupees/{batch_id}", status_code=303)
    set_flash(
        request,
        response,
        Flash(
            "success",
            "Action groupée lancée",
            "Chaque dossier est traité à son tour ; cette page se met à jour toute seule.",
        ),
    )
    return response


def _batch_page(request: Request, container: Container, viewer: Viewer, batch_id: int) -> Response:
    with reading(container.engine) as conn:
        batch = reads.batch(conn, batch_id, viewer.person_id)
    return render(
        request,
        "pages/action_groupee.html",
        {
            "page_title": f"Action groupée n° {batch.id} — {batch.action_label}",
            "batch": batch,
        },
    )


@router.get("/actions-groupees/{batch_id}")
async def bulk_page(request: Request, batch_id: RowId, viewer: Seen, wired: Wired) -> Response:
    return await run_in_threadpool(_batch_page, request, wired, viewer, batch_id)


def _results(container: Container, viewer: Viewer, batch_id: int, fmt: SheetFormat) -> Any:
    with reading(container.engine) as conn:
        batch = reads.batch(conn, batch_id, viewer.person_id)
    return bulk_results_file(batch, fmt)


@router.get("/actions-groupees/{batch_id}/export")
async def bulk_export(
    batch_id: RowId,
    viewer: Seen,
    wired: Wired,
    format: Annotated[SheetFormat, Query()] = "xlsx",
) -> Response:
    return attachment(await run_in_threadpool(_results, wired, viewer, batch_id, format))


def _list_page(request: Request, container: Container, viewer: Viewer) -> Response:
    with reading(container.engine) as conn:
        batches = reads.recent(conn, viewer.person_id)
    return render(
        request,
        "pages/actions_groupees.html",
        {"page_title": "Actions groupées", "batches": batches},
    )


@router.get("/actions-groupees")
async def bulk_list(request: Request, viewer: Seen, wired: Wired) -> Response:
    return await run_in_threadpool(_list_page, request, wired, viewer)
