"""« Demande d'ouverture de parcours M@gistère »: the form of DOMAIN §2 (seed 004, annex 3).

Its workflow (submit, complete, accept, open, refuse) is fired from the dossier page like
any other; this page edits the request while it is a draft or sent back for completion.
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
from api.pages.dossier import done
from api.pages.errors import PageRoute
from api.pages.flash import Flash, set_flash
from api.pages.rendering import render
from api.pages.viewer import Seen, Viewer
from api.pages.work import (
    HOME,
    WORK_REFUSALS,
    Link,
    fire_from_page,
    refusal_errors,
    refusal_status,
    work_for,
)
from api.problems import french_errors
from api.wiring import Container
from workflow.dossiers.access import Edit, may_edit, readable
from workflow.dossiers.inputs import OuvertureInput
from workflow.engine.errors import InvalidInput, NotPermitted
from workflow.language.vocabulary import PUBLICS
from workflow.reads.previews import last_request
from workflow.reads.queries import reading
from workflow.reads.records import DemandeRecord, demande_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)

SUBMIT = "soumettre"
INSTRUCTION = ("accepter", "demander_complement", "refuser", "ouvrir")

LINES = {
    "nom_parcours": "Nom du parcours",
    "pilote_nom": "Pilote : nom",
    "pilote_courriel": "Pilote : adresse électronique",
    "format_parcours": "Format du parcours",
    "public_autre": "Autre public (précisez)",
}
TEXTS = {
    "objectifs": "Objectifs visés",
    "description": "Description (contenu et organisation)",
    "concepteurs": "Concepteurs",
    "accompagnement_distance": "Accompagnement prévu pour la partie à distance",
}
HOURS = {
    "duree_presentiel_h": "Durée prévue en présentiel (heures)",
    "duree_distance_h": "Durée prévue à distance (heures)",
}
LABELS = {**LINES, **TEXTS, **HOURS, "associe_presentiel": "Associé à un présentiel"}


@dataclass
class DemandeForm:
    values: dict[str, str] = field(default_factory=dict)
    publics: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    saved: bool = False
    """Saved, but the submission that followed was refused (``errors`` say why)."""

    def error(self, field_id: str) -> str | None:
        return next((m for f, m in self.errors if f == field_id), None)

    @property
    def summary(self) -> list[tuple[str, str]]:
        return [(f, f"{LABELS[f]} : {m}" if f in LABELS else m) for f, m in self.errors]


def _from_record(record: DemandeRecord) -> DemandeForm:
    values = {k: getattr(record, k) for k in (*LINES, *TEXTS)}
    for name in HOURS:
        value = getattr(record, name)
        values[name] = "" if value is None else format_decimal(value, "0.##", locale="fr_FR")
    values["associe_presentiel"] = {True: "oui", False: "non", None: ""}[record.associe_presentiel]
    return DemandeForm(values, list(record.publics))


def _context(
    container: Container, viewer: Viewer, dossier_id: int, token: str | None = None
) -> dict[str, Any]:
    now = container.service.clock()
    with reading(container.engine) as conn:
        dossier, held = readable(conn, dossier_id, viewer.person_id, now)
        if dossier.workflow_name != "ouverture_parcours":
            raise InvalidInput("Ce dossier n'est pas une demande d'ouverture de parcours.")
        context = {
            "dossier": dossier,
            "record": demande_of(conn, dossier_id),
            "editable": may_edit(dossier, held, Edit.DEMANDE),
            "complement": last_request(conn, dossier_id, "demander_complement")
            if dossier.state == "a_completer"
            else None,
        }
    work = work_for(container, viewer, dossier, (SUBMIT, *INSTRUCTION), token)
    return {
        **context,
        "submit": work.get(SUBMIT),
        "review": work.only(*INSTRUCTION),
        "link": work.link,
    }


def _page(
    request: Request,
    container: Container,
    viewer: Viewer,
    dossier_id: int,
    form: DemandeForm | None,
    status_code: int = 200,
    token: str | None = None,
) -> Response:
    context = _context(container, viewer, dossier_id, token)
    return render(
        request,
        "pages/demande.html",
        {
            **context,
            "page_title": f"Demande d'ouverture — {context['dossier'].reference}",
            "form": form or _from_record(context["record"]),
            "lines": LINES,
            "texts": TEXTS,
            "hours": HOURS,
            "publics_choices": list(PUBLICS.items()),
        },
        status_code=status_code,
    )


@router.get("/dossiers/{dossier_id}/demande")
async def demande_page(
    request: Request, dossier_id: RowId, viewer: Seen, wired: Wired, lien: Link = None
) -> Response:
    return await run_in_threadpool(_page, request, wired, viewer, dossier_id, None, 200, lien)


@router.post("/dossiers/{dossier_id}/demande")
async def save_demande(request: Request, dossier_id: RowId, viewer: Seen, wired: Wired) -> Response:
    submitted = await request.form()
    values = {k: v for k, v in submitted.items() if isinstance(v, str) and k != "csrf_token"}
    then = values.pop("apres", "")
    token = values.pop("lien", "") or None
    version = values.pop("version", "")
    publics = [v for v in submitted.getlist("publics") if isinstance(v, str)]
    data: dict[str, Any] = {k: values.get(k, "") for k in (*LINES, *TEXTS)}
    data.update({k: values.get(k, "").strip().replace(",", ".") or None for k in HOURS})
    data["associe_presentiel"] = {"oui": True, "non": False}.get(
        values.get("associe_presentiel", "")
    )
    data["publics"] = publics
    form = DemandeForm(values, publics)
    try:
        demande = OuvertureInput.model_validate(data)
    except ValidationError as error:
        form.errors = [
            (e.field.split(".")[0] if e.field.split(".")[0] in LABELS else "", e.message)
            for e in french_errors(error.errors())
        ]
        return await run_in_threadpool(_page, request, wired, viewer, dossier_id, form, 422, token)
    try:
        await run_in_threadpool(
            wired.editor.save_ouverture, dossier_id, demande, actor_id=viewer.person_id
        )
    except (InvalidInput, NotPermitted) as error:
        form.errors = [("", error.message)]
        return await run_in_threadpool(_page, request, wired, viewer, dossier_id, form, 409, token)
    if then != "soumettre":
        response = RedirectResponse(f"/dossiers/{dossier_id}/demande", status_code=303)
        set_flash(request, response, Flash("success", "Demande enregistrée"))
        return response
    try:
        result = await run_in_threadpool(
            fire_from_page,
            wired,
            viewer,
            dossier_id,
            SUBMIT,
            int(version) if version.isdigit() else 0,
            token,
        )
    except WORK_REFUSALS as error:
        form.errors = refusal_errors(error)
        form.saved = True
        return await run_in_threadpool(
            _page, request, wired, viewer, dossier_id, form, refusal_status(error), token
        )
    return done(request, result, HOME)
