"""``/liens/<jeton>``: the action link of an email, confirmed then performed by its recipient.

A GET never acts (mail scanners open links): it checks the link and leads to the page
where the work is done — the scenario, the bilan, the sessions, the payment, the request —
whose button for this action posts back here; an action with nothing to look at first, or
a definitive one, gets the dossier's confirmation page, which shows what is decided. Only
the confirmation, a POST with the session's CSRF token, fires the transition — as the
signed-in person, who must be the recipient the link was written for, on the dossier
version it was written for; the link's use is recorded in the transition's own
transaction, so it serves once. Every refusal is a French explanation with a way to the
dossier.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from api.deps import Wired
from api.pages.claims import check, record_use
from api.pages.dossier import ActionForm, _action_page, _refusal, confirmation, done
from api.pages.errors import PageRoute
from api.pages.home import has_route
from api.pages.rendering import render
from api.pages.signin import safe_next
from api.pages.viewer import Seen
from api.wiring import Container
from notifications.links import LinkClaim, LinkError
from workflow.engine.errors import (
    GuardFailed,
    NotPermitted,
    StaleVersion,
    TriggerNotAvailable,
)
from workflow.engine.rows import load
from workflow.engine.service import FireCommand
from workflow.reads.queries import reading

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Token = Annotated[str, Path(min_length=10, max_length=500, pattern=r"^[A-Za-z0-9_.\-]+$")]


def _refused(request: Request, error: LinkError, dossier_id: int | None) -> Response:
    status = {
        "lien-autre-destinataire": 403,
        "lien-utilise": 410,
        "lien-deja-fait": 410,
        "lien-perime": 409,
    }
    return render(
        request,
        "pages/lien.html",
        {"page_title": "Lien d'action", "error": error, "dossier_id": dossier_id},
        status_code=status.get(error.code, 400),
    )


def _dossier_of(container: Container, token: str) -> int | None:
    try:
        return container.links.read(token).dossier_id
    except LinkError:
        return None


@router.get("/liens/{token}")
async def confirm_link(request: Request, token: Token, viewer: Seen, wired: Wired) -> Response:
    try:
        claim = await run_in_threadpool(check, wired, viewer, token)
    except LinkError as error:
        return _refused(request, error, _dossier_of(wired, token))
    page = await run_in_threadpool(work_page, request, wired, claim)
    if page is not None:
        # The page where the work is done, its button for this action posting to the link.
        return RedirectResponse(f"{page}?lien={token}", status_code=303)
    return await run_in_threadpool(
        _action_page,
        request,
        wired,
        viewer,
        claim.dossier_id,
        claim.trigger,
        ActionForm(),
        200,
        f"/liens/{token}",
    )


WORK_PAGES: dict[tuple[str, str], str] = {
    ("dossier_formation", "soumettre_scenario"): "scenario",
    ("dossier_formation", "valider_scenario"): "scenario",
    ("dossier_formation", "demander_revision"): "scenario",
    ("dossier_formation", "demarrer"): "sessions",
    ("dossier_formation", "terminer"): "sessions",
    ("dossier_formation", "soumettre_bilan"): "bilan",
    ("dossier_formation", "valider_bilan"): "bilan",
    ("dossier_formation", "demander_complement"): "bilan",
    ("dossier_formation", "accorder_paiement"): "paiement",
    ("dossier_formation", "signer"): "contrat",
    ("ouverture_parcours", "soumettre"): "demande",
    ("ouverture_parcours", "accepter"): "demande",
    ("ouverture_parcours", "demander_complement"): "demande",
}
"""The page where each linked action's work is done; the others (definitive ones, or with
nothing to look at first) keep the confirmation page, which shows what is decided."""


def work_page(request: Request, container: Container, claim: LinkClaim) -> str | None:
    with reading(container.engine) as conn:
        workflow = load(conn, claim.dossier_id).workflow_name
    part = WORK_PAGES.get((workflow, claim.trigger))
    if part is None:
        return None
    path = f"/dossiers/{claim.dossier_id}/{part}"
    if part == "contrat" and not has_route(request, "/dossiers/{dossier_id}/contrat"):
        return None
    return path


@router.post("/liens/{token}")
async def perform_link(
    request: Request,
    token: Token,
    viewer: Seen,
    wired: Wired,
    commentaire: Annotated[str, Form(max_length=5000)] = "",
    avant_date: Annotated[str, Form(max_length=10)] = "",
    retour: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    try:
        claim = await run_in_threadpool(check, wired, viewer, token)
    except LinkError as error:
        return _refused(request, error, _dossier_of(wired, token))
    command = FireCommand(
        claim.dossier_id,
        claim.trigger,
        viewer.person_id,
        expected_version=claim.version,
        comment=commentaire or None,
        payload=confirmation(avant_date),
    )

    try:
        result = await run_in_threadpool(
            wired.service.fire, command, also=record_use(token, viewer.person_id, claim.dossier_id)
        )
    except (GuardFailed, StaleVersion, NotPermitted, TriggerNotAvailable) as error:
        form, status = _refusal(error, commentaire)
        return await run_in_threadpool(
            _action_page,
            request,
            wired,
            viewer,
            claim.dossier_id,
            claim.trigger,
            form,
            status,
            f"/liens/{token}",
        )
    return done(request, result, safe_next(retour) if retour else f"/dossiers/{claim.dossier_id}")
