"""The dossier page, and the page that confirms then performs one action on it.

``GET /dossiers/{id}/actions/{trigger}`` names the dossier and the action and never acts
(a mail scanner may open any link); its form posts to the same address, which fires the
transition through the service. The dossier page posts there too, so the approve-from-email
link can reuse both as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from api.deps import RowId, Wired
from api.pages.errors import PageRoute
from api.pages.flash import Flash, set_flash
from api.pages.rendering import render
from api.pages.sessions import session_rows
from api.pages.signin import safe_next
from api.pages.viewer import Seen, Viewer
from api.wiring import Container
from states import get_spec
from states.roles import ROLES, role_label
from workflow.documents.signatures import signature_status
from workflow.dossiers.access import readable
from workflow.dossiers.dates import EARLY_CONFIRMED, early
from workflow.engine.errors import GuardFailed, NotPermitted, StaleVersion, TriggerNotAvailable
from workflow.engine.roles import members
from workflow.engine.rows import DossierRow
from workflow.engine.service import COMMENT_MISSING, Availability, FireCommand, FireResult
from workflow.language.vocabulary import MODALITIES
from workflow.participants.access import PARTICIPANT, participant_only
from workflow.payments.simulation import COMPONENT_LABELS
from workflow.reads.diagram_svg import size as diagram_size
from workflow.reads.downloads import downloads
from workflow.reads.previews import decision_grounds
from workflow.reads.queries import history, reading
from workflow.reads.records import scenario_of
from workflow.reads.worklists import tasks_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Trigger = Annotated[str, Path(max_length=64, pattern=r"^[a-z_]+$")]
CONTRACT_PAGE_TRIGGERS = frozenset({"signer", "signer_avenant"})


def _dossier_context(container: Container, viewer: Viewer, dossier_id: int) -> dict[str, Any]:
    now = container.service.clock()
    with reading(container.engine) as conn:
        dossier, held = readable(conn, dossier_id, viewer.person_id, now)
        if participant_only(held):
            # A stagiaire's view of the dossier is their own: no team, no other stagiaire.
            raise ParticipantView(dossier_id)
        spec = get_spec(dossier.workflow_name, dossier.workflow_version)
        is_formation = dossier.workflow_name == "dossier_formation"
        everyone = members(conn, dossier.ref, list(ROLES))
        participants = {m.person_id for m in everyone if m.role == PARTICIPANT}
        context = {
            "dossier": dossier,
            "spec": spec,
            "state": spec.state(dossier.state),
            "phase": spec.phase(spec.state(dossier.state).phase),
            "my_roles": sorted({c.recorded_role for c in held}),
            "team": [m for m in everyone if m.role != PARTICIPANT],
            "participants": len(participants),
            "signatures": signature_status(conn, dossier.ref) if is_formation else None,
            "history": history(conn, dossier_id),
            # The stagiaires' own tasks are theirs (« Mes formations »), not the team's.
            "tasks": [
                t
                for t in tasks_of(conn, dossier_id)
                if not (t.person_id in participants and t.role_label == role_label(PARTICIPANT))
            ],
            "scenario": scenario_of(conn, dossier_id) if is_formation else None,
            "sessions": session_rows(conn, dossier) if is_formation else None,
            "modalities": MODALITIES,
            "downloads": downloads(conn, dossier_id) if is_formation else None,
            "diagram_size": diagram_size(spec),
        }
    actions = container.service.available(dossier_id, viewer.person_id)
    context["actions"] = actions
    with reading(container.engine) as conn:
        # Starting or ending before the sessions' dates: the card asks to confirm it.
        context["early"] = {
            a.trigger: found
            for a in actions
            if (found := early(conn, dossier_id, a.trigger, now)) is not None
        }
    return context


class ParticipantView(Exception):
    """The viewer is only a stagiaire of this dossier: their page is « Mes formations »."""

    def __init__(self, dossier_id: int) -> None:
        super().__init__(dossier_id)
        self.dossier_id = dossier_id


@router.get("/dossiers/{dossier_id}")
async def dossier_page(request: Request, dossier_id: RowId, viewer: Seen, wired: Wired) -> Response:
    try:
        context = await run_in_threadpool(_dossier_context, wired, viewer, dossier_id)
    except ParticipantView:
        return RedirectResponse(f"/mes-formations/{dossier_id}", status_code=303)
    dossier: DossierRow = context["dossier"]
    return render(
        request,
        "pages/dossier.html",
        {**context, "page_title": f"Dossier {dossier.reference}"},
    )


@dataclass(frozen=True, slots=True)
class ActionForm:
    """What the person typed, and what went wrong, to show the confirmation page again."""

    comment: str = ""
    errors: tuple[tuple[str, str], ...] = ()
    comment_error: str | None = None
    alert: str | None = None


def _action_page(
    request: Request,
    container: Container,
    viewer: Viewer,
    dossier_id: int,
    trigger: str,
    form: ActionForm,
    status_code: int = 200,
    post_to: str | None = None,
) -> Response:
    """``post_to`` is where the confirmation goes: this page itself, or an email's link.

    Signing is done on the contract page, where the text signed is shown (and its hash
    checked): an email's or the dossier page's « Signer » leads there."""
    if trigger in CONTRACT_PAGE_TRIGGERS:
        return RedirectResponse(f"/dossiers/{dossier_id}/contrat", status_code=303)
    now = container.service.clock()
    with reading(container.engine) as conn:
        dossier, _ = readable(conn, dossier_id, viewer.person_id, now)
        grounds = decision_grounds(conn, dossier, trigger)
        ahead = early(conn, dossier_id, trigger, now)
    spec = get_spec(dossier.workflow_name, dossier.workflow_version)
    available = {a.trigger: a for a in container.service.available(dossier_id, viewer.person_id)}
    action: Availability | None = available.get(trigger)
    known = trigger in spec.triggers
    missing = (
        [] if action is None else [m for m in action.missing if not ahead or m != ahead.missing]
    )
    return render(
        request,
        "pages/action.html",
        {
            "page_title": spec.transition(trigger).label if known else "Action inconnue",
            "dossier": dossier,
            "state": spec.state(dossier.state),
            "label": spec.transition(trigger).label if known else trigger,
            "trigger": trigger,
            "action": action,
            "missing": missing,
            "early": ahead,
            "form": form,
            "grounds": grounds,
            "modalities": MODALITIES,
            "components": COMPONENT_LABELS,
            "post_to": post_to or f"/dossiers/{dossier_id}/actions/{trigger}",
        },
        status_code=status_code if action is not None or status_code != 200 else 409,
    )


@router.get("/dossiers/{dossier_id}/actions/{trigger}")
async def confirm_action(
    request: Request, dossier_id: RowId, trigger: Trigger, viewer: Seen, wired: Wired
) -> Response:
    return await run_in_threadpool(
        _action_page, request, wired, viewer, dossier_id, trigger, ActionForm()
    )


def _refusal(error: Exception, comment: str) -> tuple[ActionForm, int]:
    """The French reason a fire was refused, placed where the person will look for it."""
    if isinstance(error, GuardFailed):
        reasons = [r for r in error.reasons if r != COMMENT_MISSING]
        comment_error = None
        errors = [("", f"Il manque : {r}") for r in reasons]
        if COMMENT_MISSING in error.reasons:
            comment_error = "Saisissez un commentaire : il est obligatoire pour cette action."
            errors.insert(0, ("commentaire", comment_error))
        return ActionForm(comment, tuple(errors), comment_error), 422
    if isinstance(error, StaleVersion):
        return ActionForm(comment, alert=error.message), 409
    if isinstance(error, NotPermitted):
        return ActionForm(comment, alert=error.message), 403
    assert isinstance(error, TriggerNotAvailable)
    return ActionForm(comment, alert=error.message), 409


@router.post("/dossiers/{dossier_id}/actions/{trigger}")
async def perform_action(
    request: Request,
    dossier_id: RowId,
    trigger: Trigger,
    viewer: Seen,
    wired: Wired,
    version: Annotated[int, Form(ge=1, le=2**31 - 1)],
    commentaire: Annotated[str, Form(max_length=5000)] = "",
    confirme: Annotated[str, Form(max_length=10)] = "",
    retour: Annotated[str, Form(max_length=500)] = "",
    avant_date: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    if confirme != "oui":
        # Straight from the dossier page without the confirmation step: show it first.
        return await run_in_threadpool(
            _action_page, request, wired, viewer, dossier_id, trigger, ActionForm(commentaire)
        )
    command = FireCommand(
        dossier_id,
        trigger,
        viewer.person_id,
        expected_version=version,
        comment=commentaire or None,
        payload=confirmation(avant_date),
    )
    try:
        result = await run_in_threadpool(wired.service.fire, command)
    except (GuardFailed, StaleVersion, NotPermitted, TriggerNotAvailable) as error:
        form, status = _refusal(error, commentaire)
        return await run_in_threadpool(
            _action_page, request, wired, viewer, dossier_id, trigger, form, status
        )
    return done(request, result, safe_next(retour) if retour else f"/dossiers/{dossier_id}")


def confirmation(avant_date: str) -> dict[str, Any]:
    """The payload of a start or an end confirmed before the sessions' dates."""
    return {EARLY_CONFIRMED: True} if avant_date == "oui" else {}


def done(request: Request, result: FireResult, back: str) -> Response:
    """After a transition from a page: back to where one came from, with what happened."""
    request.app.state.metrics.transition(result.workflow_name, result.trigger)
    spec = get_spec(result.workflow_name, result.workflow_version)
    text = f"Le dossier {result.reference} est maintenant « {spec.state(result.to_state).label} »."
    if result.tasks_created:
        count = result.tasks_created
        text += (
            " 1 tâche de la charte a été attribuée à l'équipe."
            if count == 1
            else f" {count} tâches de la charte ont été attribuées à l'équipe."
        )
    response = RedirectResponse(back, status_code=303)
    set_flash(
        request,
        response,
        Flash("success", f"Action effectuée : {spec.transition(result.trigger).label}", text),
    )
    return response
