"""« Décision de paiement »: the barème's proposal with its French calculation steps before
the decision, the decision itself (lines, total, who and when) after it.

The proposal shown is the one ``accorder_paiement`` would record without adjustment; the
decision is taken through the dossier's confirmation page, like every other action.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from api.deps import RowId, Wired
from api.pages.errors import PageRoute
from api.pages.rendering import render
from api.pages.viewer import Seen, Viewer
from api.wiring import Container
from states import get_spec
from workflow.access import readable
from workflow.baremes import BaremeError
from workflow.errors import InvalidInput
from workflow.payment import compute_proposal, dossier_rates
from workflow.queries import payment_decision, reading

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PROPOSAL_STATES = frozenset({"bilan_valide"})
DECISION_TRIGGERS = ("accorder_paiement", "refuser_paiement")


def _context(container: Container, viewer: Viewer, dossier_id: int) -> dict[str, Any]:
    now = container.service.clock()
    with reading(container.engine) as conn:
        dossier, _ = readable(conn, dossier_id, viewer.person_id, now)
        if dossier.workflow_name != "dossier_formation":
            raise InvalidInput("Ce dossier n'a pas de décision de paiement.")
        decision = payment_decision(conn, dossier_id)
        proposal, problem = None, None
        if decision is None and dossier.state in PROPOSAL_STATES:
            try:
                proposal = compute_proposal(conn, dossier, {}, dossier_rates(conn, dossier))
            except BaremeError as error:
                problem = str(error)
    spec = get_spec(dossier.workflow_name, dossier.workflow_version)
    actions = [
        a
        for a in container.service.available(dossier_id, viewer.person_id)
        if a.trigger in DECISION_TRIGGERS
    ]
    return {
        "dossier": dossier,
        "state": spec.state(dossier.state),
        "decision": decision,
        "proposal": proposal,
        "problem": problem,
        "actions": actions,
    }


@router.get("/dossiers/{dossier_id}/paiement")
async def payment_page(request: Request, dossier_id: RowId, viewer: Seen, wired: Wired) -> Response:
    context = await run_in_threadpool(_context, wired, viewer, dossier_id)
    return render(
        request,
        "pages/paiement.html",
        {**context, "page_title": f"Décision de paiement — {context['dossier'].reference}"},
    )
