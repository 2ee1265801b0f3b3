"""The contract page: the exact text each signatory signs, the signatures so far, « Signer ».

``GET /dossiers/{id}/contrat`` shows the document to sign now (or ``?version=N``, one
stored version): parsed from the very text whose SHA-256 a signature records, with that
hash, what an avenant changes, who signed which version and when, and who is awaited. For
a person whose signature is awaited it carries the « Signer » form (CSRF), which posts the
hash of the text shown: the service refuses it if the text changed in between (signed as
seen). Once signed, the page says « Vous avez signé le … ».
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from api.deps import RowId, Wired
from api.pages.errors import PageRoute
from api.pages.flash import Flash, set_flash
from api.pages.rendering import render
from api.pages.viewer import Seen, Viewer
from api.wiring import Container
from states import get_spec
from workflow.documents.signing import TEXT_HASH
from workflow.dossiers.access import readable
from workflow.engine.errors import GuardFailed, NotPermitted, StaleVersion, TriggerNotAvailable
from workflow.engine.service import FireCommand
from workflow.reads.contract import ContractView, NoContract, NoSuchVersion, contract_view
from workflow.reads.queries import reading

router = APIRouter(route_class=PageRoute, include_in_schema=False)

SIGNING = ("signer", "signer_avenant")
VersionNumber = Annotated[int | None, Query(ge=1, le=10_000)]


def _context(
    container: Container, viewer: Viewer, dossier_id: int, number: int | None
) -> dict[str, Any]:
    now = container.service.clock()
    with reading(container.engine) as conn:
        dossier, _ = readable(conn, dossier_id, viewer.person_id, now)
        try:
            view: ContractView | None = contract_view(conn, dossier, number)
        except NoSuchVersion:
            view = contract_view(conn, dossier)
        except NoContract:
            view = None
    spec = get_spec(dossier.workflow_name, dossier.workflow_version)
    available = {a.trigger: a for a in container.service.available(dossier_id, viewer.person_id)}
    sign = next((available[t] for t in SIGNING if t in available), None)
    awaited = (
        [a for a in view.status.awaited if a.member.person_id == viewer.person_id]
        if view is not None
        else []
    )
    return {
        "dossier": dossier,
        "state": spec.state(dossier.state),
        "view": view,
        "sign": sign
        if sign is not None and sign.ready and awaited and view is not None and view.is_current
        else None,
        "mine": view.signed_by(viewer.person_id) if view is not None else None,
        "awaited_me": awaited,
        "page_title": f"{view.title if view else 'Contrat'} — {dossier.reference}",
    }


def _page(
    request: Request,
    container: Container,
    viewer: Viewer,
    dossier_id: int,
    number: int | None = None,
    *,
    alert: str | None = None,
    errors: tuple[str, ...] = (),
    status_code: int = 200,
) -> Response:
    context = _context(container, viewer, dossier_id, number)
    return render(
        request,
        "pages/contrat.html",
        {**context, "alert": alert, "errors": errors},
        status_code=status_code,
    )


@router.get("/dossiers/{dossier_id}/contrat")
async def contract_page(
    request: Request,
    dossier_id: RowId,
    viewer: Seen,
    wired: Wired,
    version: VersionNumber = None,
) -> Response:
    return await run_in_threadpool(_page, request, wired, viewer, dossier_id, version)


@router.post("/dossiers/{dossier_id}/contrat/signer")
async def sign(
    request: Request,
    dossier_id: RowId,
    viewer: Seen,
    wired: Wired,
    version: Annotated[int, Form(ge=1, le=2**31 - 1)],
    texte_sha256: Annotated[str, Form(min_length=64, max_length=64, pattern="^[0-9a-f]{64}$")],
    trigger: Annotated[str, Form(pattern="^(signer|signer_avenant)$")],
) -> Response:
    command = FireCommand(
        dossier_id,
        trigger,
        viewer.person_id,
        expected_version=version,
        payload={TEXT_HASH: texte_sha256},
    )
    try:
        result = await run_in_threadpool(wired.service.fire, command)
    except GuardFailed as error:
        return await run_in_threadpool(
            _page, request, wired, viewer, dossier_id, errors=tuple(error.reasons), status_code=422
        )
    except (StaleVersion, NotPermitted, TriggerNotAvailable) as error:
        return await run_in_threadpool(
            _page, request, wired, viewer, dossier_id, alert=error.message, status_code=409
        )
    request.app.state.metrics.transition(result.workflow_name, result.trigger)
    response = RedirectResponse(f"/dossiers/{dossier_id}/contrat", status_code=303)
    spec = get_spec(result.workflow_name, result.workflow_version)
    set_flash(
        request,
        response,
        Flash(
            "success",
            "Signature enregistrée",
            f"Le dossier {result.reference} est « {spec.state(result.to_state).label} ».",
        ),
    )
    return response
