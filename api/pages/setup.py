"""Setting a dossier up from the pages: « Nouveau dossier » and « Modifier la planification ».

Creation goes through ``DossierEditor.create_dossier``, like ``POST /api/v1/dossiers``: who
may create where is ``workflow.dossiers.access``'s one rule (the form only offers those académies,
and the editor checks again). The planning edit goes through
``DossierEditor.update_planning``, like ``PATCH /api/v1/dossiers/{id}``, with the version
the form was read at: a dossier changed meanwhile is refused, never silently overwritten.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.deps import RowId, Wired
from api.pages.errors import PageRoute
from api.pages.flash import Flash, set_flash
from api.pages.forms import (
    DATE_HINT,
    FormState,
    input_errors,
    shown_date,
    shown_number,
    typed_date,
    typed_number,
    typed_values,
)
from api.pages.rendering import render
from api.pages.viewer import Seen, Viewer
from api.wiring import Container
from states.dispositifs import DISPOSITIFS
from workflow.dossiers.access import Edit, creatable_academies, may_edit, readable
from workflow.dossiers.inputs import DossierInput, PlanningInput
from workflow.engine.errors import InvalidInput, NotPermitted, StaleVersion
from workflow.engine.rows import DossierRow
from workflow.reads.contract import etablissement_of
from workflow.reads.queries import academie_id_by_slug, reading

router = APIRouter(route_class=PageRoute, include_in_schema=False)

FORMATION = "dossier_formation"
OUVERTURE = "ouverture_parcours"
CREATED = {
    FORMATION: (
        "Dossier créé",
        "Il est en brouillon. Composez son équipe depuis la page « Équipe » du dossier.",
    ),
    OUVERTURE: ("Demande d'ouverture créée", "Elle est en brouillon : remplissez-la ci-dessous."),
}
KINDS = {
    FORMATION: "Dossier de formation hybride",
    OUVERTURE: "Demande d'ouverture de parcours M@gistère",
}

PLANNING = {
    "titre": "Titre de la formation",
    "dispositif": "Dispositif (barème de rémunération)",
    "heures_presentiel": "Heures prévues en présentiel",
    "heures_distance": "Heures prévues à distance",
    "participants": "Participants prévus",
    "debut": "Date de début prévue",
    "fin": "Date de fin prévue",
    "etablissement": "Établissement (convention de formation ENT)",
}
"""Form field id → label, for the fields shared by creation and the planning edit."""

FIELD_OF_INPUT = {
    "title": "titre",
    "dispositif": "dispositif",
    "planned_hours_presentiel": "heures_presentiel",
    "planned_hours_distance": "heures_distance",
    "planned_participants": "participants",
    "planned_start": "debut",
    "planned_end": "fin",
    "etablissement": "etablissement",
    "academie": "academie",
    "academie_id": "academie",
    "workflow": "",
}
"""Domain input field → form field id, to put each message next to what was typed."""

CREATE_LABELS = {
    FORMATION: {"academie": "Académie", **PLANNING},
    OUVERTURE: {"academie": "Académie", "titre": "Nom du parcours"},
}

Input = TypeVar("Input", DossierInput, PlanningInput)


def _planning_data(form: FormState) -> dict[str, Any]:
    """Form strings → the planning fields of the domain inputs; a date that is no date is
    recorded on its field here (the input would only say « date attendue »)."""
    values = form.values
    data: dict[str, Any] = {
        "title": values.get("titre", ""),
        "dispositif": values.get("dispositif") or None,
        "planned_hours_presentiel": typed_number(values.get("heures_presentiel", "")),
        "planned_hours_distance": typed_number(values.get("heures_distance", "")),
        "planned_participants": values.get("participants", "").strip() or None,
        "etablissement": values.get("etablissement", "").strip(),
    }
    for name, field_id in (("planned_start", "debut"), ("planned_end", "fin")):
        try:
            data[name] = typed_date(values.get(field_id, ""))
        except ValueError as error:
            form.errors.append((field_id, str(error)))
    return data


def _validated(model: type[Input], data: dict[str, Any], form: FormState) -> Input | None:
    """The domain input, or None with every problem recorded on the form (dates already
    refused are not reported twice)."""
    try:
        checked = model.model_validate(data)
    except ValidationError as error:
        dated = {f for f, _ in form.errors}
        form.errors += [(f, m) for f, m in input_errors(error, FIELD_OF_INPUT) if f not in dated]
        return None
    return checked if not form.errors else None


# Nouveau dossier ---------------------------------------------------------------------


def _new_page(
    request: Request,
    container: Container,
    viewer: Viewer,
    kind: str,
    form: FormState | None,
    status_code: int = 200,
) -> Response:
    with reading(container.engine) as conn:
        academies = creatable_academies(conn, viewer.person_id)
    if not academies:
        raise NotPermitted("créer un dossier", ["Pilote", "Gestionnaire EAFC"])
    if form is None:
        only = academies[0].slug if len(academies) == 1 else ""
        form = FormState({"academie": only}, labels=CREATE_LABELS[kind])
    return render(
        request,
        "pages/nouveau_dossier.html",
        {
            "page_title": f"Nouveau dossier — {KINDS[kind]}",
            "kind": kind,
            "kinds": KINDS,
            "form": form,
            "academies": [(a.slug, a.name) for a in academies],
            "dispositifs": [(d.id, d.label) for d in DISPOSITIFS.values()],
            "labels": PLANNING,
            "date_hint": DATE_HINT,
        },
        status_code=status_code,
    )


Kind = Annotated[str, Query(pattern=f"^({FORMATION}|{OUVERTURE})$")]


@router.get("/dossiers/nouveau")
async def new_dossier_page(
    request: Request, viewer: Seen, wired: Wired, type: Kind = FORMATION
) -> Response:
    return await run_in_threadpool(_new_page, request, wired, viewer, type, None)


def _create(container: Container, viewer: Viewer, kind: str, form: FormState) -> DossierRow | None:
    """The new dossier, or None with what is wrong recorded on the form."""
    with reading(container.engine) as conn:
        offered = {a.slug for a in creatable_academies(conn, viewer.person_id)}
        slug = form.values.get("academie", "")
        academie_id = academie_id_by_slug(conn, slug) if slug in offered else 0
    if not academie_id:
        form.errors.append(("academie", "choisissez une académie de la liste"))
    data = {"title": form.values.get("titre", ""), "academie_id": academie_id, "workflow": kind}
    if kind == FORMATION:
        data.update(_planning_data(form))
    created = _validated(DossierInput, data, form)
    if created is None:
        return None
    try:
        dossier_id = container.editor.create_dossier(created, actor_id=viewer.person_id)
    except (InvalidInput, NotPermitted) as error:
        form.errors.append((FIELD_OF_INPUT.get(_field(error), ""), error.message))
        return None
    with reading(container.engine) as conn:
        dossier, _ = readable(conn, dossier_id, viewer.person_id, container.service.clock())
    return dossier


def _field(error: InvalidInput | NotPermitted) -> str:
    return (error.field or "") if isinstance(error, InvalidInput) else ""


@router.post("/dossiers/nouveau")
async def create_dossier(request: Request, viewer: Seen, wired: Wired) -> Response:
    values = typed_values(await request.form())
    kind = values.get("workflow", FORMATION)
    if kind not in KINDS:
        kind = FORMATION
    form = FormState(values, labels=CREATE_LABELS[kind])
    dossier = await run_in_threadpool(_create, wired, viewer, kind, form)
    if dossier is None:
        return await run_in_threadpool(_new_page, request, wired, viewer, kind, form, 422)
    page = f"/dossiers/{dossier.id}" + ("/demande" if kind == OUVERTURE else "")
    response = RedirectResponse(page, status_code=303)
    set_flash(
        request,
        response,
        Flash("success", f"{CREATED[kind][0]} : {dossier.reference}", CREATED[kind][1]),
    )
    return response


# Planification -----------------------------------------------------------------------


def _typed_planning(dossier: DossierRow, etablissement: str) -> FormState:
    return FormState(
        {
            "titre": dossier.title,
            "dispositif": dossier.dispositif or "",
            "heures_presentiel": shown_number(dossier.planned_hours_presentiel),
            "heures_distance": shown_number(dossier.planned_hours_distance),
            "participants": shown_number(dossier.planned_participants),
            "debut": shown_date(dossier.planned_start),
            "fin": shown_date(dossier.planned_end),
            "etablissement": etablissement,
            "version": str(dossier.version),
        },
        labels=PLANNING,
    )


def _planning_page(
    request: Request,
    container: Container,
    viewer: Viewer,
    dossier_id: int,
    form: FormState | None,
    status_code: int = 200,
) -> Response:
    with reading(container.engine) as conn:
        dossier, held = readable(conn, dossier_id, viewer.person_id, container.service.clock())
        etablissement = etablissement_of(conn, dossier_id)
    if dossier.workflow_name != FORMATION:
        raise InvalidInput("Ce dossier n'a pas de planification : c'est une demande d'ouverture.")
    return render(
        request,
        "pages/planification.html",
        {
            "page_title": f"Planification — {dossier.reference}",
            "dossier": dossier,
            "editable": may_edit(dossier, held, Edit.PLANNING),
            "form": form or _typed_planning(dossier, etablissement),
            "dispositifs": [(d.id, d.label) for d in DISPOSITIFS.values()],
            "labels": PLANNING,
            "date_hint": DATE_HINT,
        },
        status_code=status_code,
    )


@router.get("/dossiers/{dossier_id}/planification")
async def planning_page(
    request: Request, dossier_id: RowId, viewer: Seen, wired: Wired
) -> Response:
    return await run_in_threadpool(_planning_page, request, wired, viewer, dossier_id, None)


def _plan(container: Container, viewer: Viewer, dossier_id: int, form: FormState) -> int:
    """Save the planning; the HTTP status of the answer (303 when saved)."""
    version = form.values.get("version", "")
    data = _planning_data(form)
    planning = _validated(PlanningInput, data, form)
    if planning is None:
        return 422
    try:
        container.editor.update_planning(
            dossier_id,
            planning,
            actor_id=viewer.person_id,
            expected_version=(
                int(version) if version.isascii() and version.isdigit() and len(version) < 10 else 0
            ),
        )
    except (StaleVersion, InvalidInput, NotPermitted) as error:
        form.errors.append(("", error.message))
        return 409
    return 303


@router.post("/dossiers/{dossier_id}/planification")
async def save_planning(
    request: Request, dossier_id: RowId, viewer: Seen, wired: Wired
) -> Response:
    form = FormState(typed_values(await request.form()), labels=PLANNING)
    status = await run_in_threadpool(_plan, wired, viewer, dossier_id, form)
    if status != 303:
        return await run_in_threadpool(
            _planning_page, request, wired, viewer, dossier_id, form, status
        )
    response = RedirectResponse(f"/dossiers/{dossier_id}", status_code=303)
    set_flash(request, response, Flash("success", "Planification enregistrée"))
    return response
