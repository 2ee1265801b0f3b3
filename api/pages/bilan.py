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
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from api.deps import RowId, Wired
from api.pages.dossier import done
from api.pages.errors import PageRoute
from api.pages.flash import Flash, set_flash
from api.pages.forms import FormState
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
from api.problems import ApiProblem, french_errors
from api.uploads import UploadForm, document_from, read_upload_form
from api.wiring import Container
from workflow.dossiers.access import Edit, may_edit, readable, require_edit
from workflow.dossiers.inputs import BilanInput
from workflow.dossiers.team import person_of
from workflow.engine.errors import InvalidInput, NotPermitted
from workflow.engine.roles import members
from workflow.engine.rows import DossierRow
from workflow.language.vocabulary import DOCUMENT_KINDS, KIND_LABELS
from workflow.participants.access import Part, may, participant_only
from workflow.participants.counts import (
    EFFECTIVE,
    TraineeCounts,
    followed_figure,
    trainee_counts,
)
from workflow.participants.questionnaire import aggregate
from workflow.payments.simulation import COMPONENT_LABELS
from workflow.reads.paperwork import bilan_view
from workflow.reads.previews import last_request, proposal_preview
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
SUBMIT = "soumettre_bilan"
REVIEW = ("valider_bilan", "demander_complement")
PROPOSAL_STATES = frozenset({"bilan_soumis", "bilan_valide"})
"""Where the read view shows the payment the bilan would lead to (before the decision)."""


@dataclass
class BilanForm:
    """The values as typed (strings) and the errors by field id."""

    values: dict[str, str] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)
    upload_error: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    saved: bool = False
    """Saved, but the submission that followed was refused (``errors`` say why)."""

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


def correction_choices(counts: TraineeCounts, tutors: dict[int, str]) -> list[tuple[str, str]]:
    """The counts a formateur may set apart from attendance: the effective participants,
    and each tuteur's candidats tutorés."""
    choices = [(EFFECTIVE, "Stagiaires ayant effectivement participé")]
    for tutor in counts.followed:
        choices.append(
            (followed_figure(tutor), f"Candidats tutorés par {tutors.get(tutor, str(tutor))}")
        )
    return choices


def _participants(conn: Connection, dossier: DossierRow, held: list[Any]) -> dict[str, Any]:
    """The counts from attendance (with the académie's rule and every correction) and the
    questionnaire's anonymous aggregate: for the team, never for a stagiaire."""
    if participant_only(held):
        return {"counts": None, "answers": None, "corrections": [], "may_correct": False}
    counts = trainee_counts(conn, dossier)
    tutors = {
        tutor: person.full_name
        for tutor in counts.followed
        if (person := person_of(conn, tutor)) is not None
    }
    names = {EFFECTIVE: "Stagiaires ayant effectivement participé"}
    names.update({n: label for n, label in correction_choices(counts, tutors)})
    return {
        "counts": counts,
        "tutors": tutors,
        "answers": aggregate(conn, dossier.id),
        "choices": correction_choices(counts, tutors),
        "corrections": [(names.get(f, f), c) for f, c in counts.corrections],
        "may_correct": counts.from_attendance and may(dossier, held, Part.COUNTS),
    }


def _context(
    container: Container, viewer: Viewer, dossier_id: int, token: str | None = None
) -> dict[str, Any]:
    now = container.service.clock()
    with reading(container.engine) as conn:
        dossier, held = readable(conn, dossier_id, viewer.person_id, now)
        if dossier.workflow_name != "dossier_formation":
            raise InvalidInput("Ce dossier n'a pas de bilan d'activités.")
        editable = may_edit(dossier, held, Edit.BILAN)
        context = {
            **_participants(conn, dossier, held),
            "dossier": dossier,
            "bilan": bilan_of(conn, dossier_id),
            # Émargement scans name every stagiaire: not shown to a stagiaire.
            "documents": [] if participant_only(held) else documents_of(conn, dossier_id),
            "formateurs": members(conn, dossier.ref, ["formateur"]),
            "editable": editable,
            "may_upload": may_edit(dossier, held, Edit.DOCUMENTS),
            # A complement asked for, or a validated bilan reopened: the reason, on top.
            "complement": last_request(conn, dossier_id, "demander_complement", "rouvrir_bilan")
            if dossier.state == "bilan_a_completer"
            else None,
            "view": None if editable else bilan_view(conn, dossier_id),
            "preview": proposal_preview(conn, dossier)
            if not editable and dossier.state in PROPOSAL_STATES
            else None,
        }
    work = work_for(container, viewer, dossier, (*REVIEW, SUBMIT), token)
    return {
        **context,
        "submit": work.get(SUBMIT),
        "review": work.only(*REVIEW),
        "link": work.link,
        "components": COMPONENT_LABELS,
    }


def _page(
    request: Request,
    container: Container,
    viewer: Viewer,
    dossier_id: int,
    form: BilanForm | None,
    status_code: int = 200,
    correction: FormState | None = None,
    token: str | None = None,
) -> Response:
    context = _context(container, viewer, dossier_id, token)
    form = form or BilanForm()
    if not form.values:
        form.values = _typed(context["bilan"])
    return render(
        request,
        "pages/bilan.html",
        {
            **context,
            "page_title": f"Bilan d'activités — {context['dossier'].reference}",
            "correction": correction or FormState(labels=CORRECTION_LABELS),
            "form": form,
            "texts": TEXTS,
            "kinds": list(DOCUMENT_KINDS.items()),
            "kind_labels": KIND_LABELS,
        },
        status_code=status_code,
    )


CORRECTION_LABELS = {
    "figure": "Nombre à corriger",
    "valeur": "Nombre retenu",
    "justification": "Justification",
}


async def page_with_correction(
    request: Request, container: Container, viewer: Viewer, dossier_id: int, form: FormState
) -> Response:
    """The bilan page again, the refused correction shown with its errors."""
    return await run_in_threadpool(_page, request, container, viewer, dossier_id, None, 422, form)


@router.get("/dossiers/{dossier_id}/bilan")
async def bilan_page(
    request: Request, dossier_id: RowId, viewer: Seen, wired: Wired, lien: Link = None
) -> Response:
    return await run_in_threadpool(_page, request, wired, viewer, dossier_id, None, 200, None, lien)


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
    then = values.pop("apres", "")
    token = values.pop("lien", "") or None
    version = values.pop("version", "")
    context = await run_in_threadpool(_context, wired, viewer, dossier_id)
    formateurs = [m.person_id for m in context["formateurs"]]
    data, people = _parse(values, formateurs)
    labels = _labels(context["formateurs"])
    try:
        bilan = BilanInput.model_validate(data)
    except ValidationError as error:
        errors = [(_field_id(e.field, people), e.message) for e in french_errors(error.errors())]
        form = BilanForm(values, errors, labels=labels)
        return await run_in_threadpool(
            _page, request, wired, viewer, dossier_id, form, 422, None, token
        )
    try:
        await run_in_threadpool(
            wired.editor.save_bilan, dossier_id, bilan, actor_id=viewer.person_id
        )
    except (InvalidInput, NotPermitted) as error:
        form = BilanForm(values, [("", error.message)])
        return await run_in_threadpool(
            _page, request, wired, viewer, dossier_id, form, 409, None, token
        )
    if then != "soumettre":
        response = RedirectResponse(f"/dossiers/{dossier_id}/bilan", status_code=303)
        set_flash(request, response, Flash("success", "Bilan enregistré"))
        return response
    # « Enregistrer et soumettre »: saved above; the transition is its own transaction, so
    # a refusal leaves the bilan saved and says once what is missing.
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
        form = BilanForm(values, refusal_errors(error), labels=labels, saved=True)
        return await run_in_threadpool(
            _page, request, wired, viewer, dossier_id, form, refusal_status(error), None, token
        )
    return done(request, result, HOME)


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
