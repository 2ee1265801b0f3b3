"""The bilan d'activités form and the documents of a dossier (émargement lists…).

The form keeps what was typed when it is refused and puts each French message next to its
field and in the summary; the save goes through ``DossierEditor.save_bilan`` with the
person as actor, which checks roles and the dossier's state in its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from babel.numbers import format_decimal
from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.deps import RowId, Wired
from api.pages.errors import PageRoute
from api.pages.flash import Flash, set_flash
from api.pages.rendering import render
from api.pages.viewer import Seen, Viewer
from api.problems import ApiProblem, french_errors
from api.uploads import UploadForm, document_from, read_upload_form
from api.wiring import Container
from workflow.dossiers.access import Edit, may_edit, readable, require_edit
from workflow.dossiers.inputs import BilanInput
from workflow.engine.errors import InvalidInput, NotPermitted
from workflow.engine.roles import members
from workflow.language.vocabulary import DOCUMENT_KINDS
from workflow.reads.queries import reading
from workflow.reads.records import bilan_of, documents_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TEXTS = {
    "view_chef_etablissement": "Analyse du chef d'établissement",
    "view_formateurs": "Analyse des formateurs",
    "eval_fiabilite": "Fiabilité du dispositif (technique, engagements tenus)",
    "eval_faisabilite": "Faisabilité pédagogique (rythmes, séquençage, accompagnement)",
    "eval_accompagnement": "Accompagnement (nature et qualité des échanges)",
    "eval_effets": "Effets de la formation",
}
COUNTS = {"participants_enrolled": "inscrits", "participants_effective": "presents"}


@dataclass
class BilanForm:
    """The values as typed (strings) and the errors by field id."""

    values: dict[str, str] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)
    upload_error: str | None = None
    labels: dict[str, str] = field(default_factory=dict)

    def error(self, field_id: str) -> str | None:
        return next((m for f, m in self.errors if f == field_id), None)

    @property
    def summary(self) -> list[tuple[str, str]]:
        """The errors for the summary at the top: each names the field it is about."""
        return [(f, f"{self.labels[f]} : {m}" if f in self.labels else m) for f, m in self.errors]


def _labels(formateurs: list[Any]) -> dict[str, str]:
    labels = {"inscrits": "Inscrits", "presents": "Effectivement présents", **TEXTS}
    for member in formateurs:
        labels[f"heures-{member.person_id}"] = f"Heures de {member.full_name}"
        labels[f"suivis-{member.person_id}"] = f"Stagiaires suivis par {member.full_name}"
    return labels


def _typed(bilan: Any) -> dict[str, str]:
    values = {
        COUNTS[k]: "" if getattr(bilan, k) is None else str(getattr(bilan, k)) for k in COUNTS
    }
    values.update({k: getattr(bilan, k) for k in TEXTS})
    for line in bilan.hours:
        values[f"heures-{line.person_id}"] = format_decimal(line.hours, "0.##", locale="fr_FR")
        values[f"suivis-{line.person_id}"] = (
            "" if line.trainees_followed is None else str(line.trainees_followed)
        )
    return values


def _may_upload(container: Container, dossier_id: int, person_id: int) -> None:
    with reading(container.engine) as conn:
        require_edit(conn, dossier_id, person_id, Edit.DOCUMENTS, container.service.clock())


def _context(container: Container, viewer: Viewer, dossier_id: int) -> dict[str, Any]:
    now = container.service.clock()
    with reading(container.engine) as conn:
        dossier, held = readable(conn, dossier_id, viewer.person_id, now)
        if dossier.workflow_name != "dossier_formation":
            raise InvalidInput("Ce dossier n'a pas de bilan d'activités.")
        return {
            "dossier": dossier,
            "bilan": bilan_of(conn, dossier_id),
            "documents": documents_of(conn, dossier_id),
            "formateurs": members(conn, dossier.ref, ["formateur"]),
            "editable": may_edit(dossier, held, Edit.BILAN),
            "may_upload": may_edit(dossier, held, Edit.DOCUMENTS),
        }


def _page(
    request: Request,
    container: Container,
    viewer: Viewer,
    dossier_id: int,
    form: BilanForm | None,
    status_code: int = 200,
) -> Response:
    context = _context(container, viewer, dossier_id)
    form = form or BilanForm()
    if not form.values:
        form.values = _typed(context["bilan"])
    return render(
        request,
        "pages/bilan.html",
        {
            **context,
            "page_title": f"Bilan d'activités — {context['dossier'].reference}",
            "form": form,
            "texts": TEXTS,
            "kinds": list(DOCUMENT_KINDS.items()),
        },
        status_code=status_code,
    )


@router.get("/dossiers/{dossier_id}/bilan")
async def bilan_page(request: Request, dossier_id: RowId, viewer: Seen, wired: Wired) -> Response:
    return await run_in_threadpool(_page, request, wired, viewer, dossier_id, None)


def _field_id(loc: str, hours_people: list[int]) -> str:
    parts = loc.split(".")
    if parts[0] in COUNTS:
        return COUNTS[parts[0]]
    if parts[0] == "hours" and len(parts) == 3 and parts[1].isdigit():
        person = hours_people[int(parts[1])]
        return f"{'heures' if parts[2] == 'hours' else 'suivis'}-{person}"
    return parts[0] if parts[0] in TEXTS else ""


def _parse(values: dict[str, str], formateurs: list[int]) -> tuple[dict[str, Any], list[int]]:
    """Form strings → the shape of ``BilanInput`` (blank numbers are « not given »)."""
    data: dict[str, Any] = {k: values.get(v, "").strip() or None for k, v in COUNTS.items()}
    data.update({k: values.get(k, "") for k in TEXTS})
    hours, people = [], []
    for person in formateurs:
        typed = values.get(f"heures-{person}", "").strip().replace(",", ".")
        if typed:
            followed = values.get(f"suivis-{person}", "").strip() or None
            hours.append({"person_id": person, "hours": typed, "trainees_followed": followed})
            people.append(person)
    data["hours"] = hours
    return data, people


@router.post("/dossiers/{dossier_id}/bilan")
async def save_bilan(request: Request, dossier_id: RowId, viewer: Seen, wired: Wired) -> Response:
    submitted = await request.form()
    values = {k: v for k, v in submitted.items() if isinstance(v, str) and k != "csrf_token"}
    context = await run_in_threadpool(_context, wired, viewer, dossier_id)
    formateurs = [m.person_id for m in context["formateurs"]]
    data, people = _parse(values, formateurs)
    try:
        bilan = BilanInput.model_validate(data)
    except ValidationError as error:
        errors = [(_field_id(e.field, people), e.message) for e in french_errors(error.errors())]
        form = BilanForm(values, errors, labels=_labels(context["formateurs"]))
        return await run_in_threadpool(_page, request, wired, viewer, dossier_id, form, 422)
    try:
        await run_in_threadpool(
            wired.editor.save_bilan, dossier_id, bilan, actor_id=viewer.person_id
        )
    except (InvalidInput, NotPermitted) as error:
        form = BilanForm(values, [("", error.message)])
        return await run_in_threadpool(_page, request, wired, viewer, dossier_id, form, 409)
    response = RedirectResponse(f"/dossiers/{dossier_id}/bilan", status_code=303)
    set_flash(request, response, Flash("success", "Bilan enregistré"))
    return response


@router.post("/dossiers/{dossier_id}/documents")
async def upload(request: Request, dossier_id: RowId, viewer: Seen, wired: Wired) -> Response:
    form: UploadForm | None = None
    try:
        # Who may upload is checked before a single byte of the file is read (and again
        # by the editor, in the transaction that writes the row).
        await run_in_threadpool(_may_upload, wired, dossier_id, viewer.person_id)
        form = await read_upload_form(
            request, wired.api_settings.max_upload_bytes, wired.settings.data_dir
        )
        data = document_from(form)
        assert form.staged is not None
        await run_in_threadpool(
            wired.editor.add_document,
            dossier_id,
            data,
            form.staged,
            viewer.person_id,
            actor_id=viewer.person_id,
        )
    except ApiProblem as problem:
        if form is not None:
            form.discard()
        if problem.code == "jeton-csrf":
            raise
        failed = BilanForm(upload_error=problem.detail)
        return await run_in_threadpool(_page, request, wired, viewer, dossier_id, failed, 422)
    except NotPermitted:
        # Someone who may not deposit sees no upload form: « Accès refusé », not the form.
        if form is not None:
            form.discard()
        raise
    except InvalidInput as error:
        if form is not None:
            form.discard()
        failed = BilanForm(upload_error=error.message)
        return await run_in_threadpool(_page, request, wired, viewer, dossier_id, failed, 422)
    response = RedirectResponse(f"/dossiers/{dossier_id}/bilan", status_code=303)
    set_flash(request, response, Flash("success", "Document déposé", data.filename))
    return response
