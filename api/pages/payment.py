"""« Décision de paiement »: the barème's proposal with its French calculation steps, the
responsable's adjustments within the barème's bounds, the decision, and once taken the
recorded lines (who, when, the adjustment and its justification).

The responsable types the units to pay per line (prefilled with the proposal), and a
justification when any differs; « Vérifier la décision » shows what would be recorded, and
only « Confirmer » fires ``accorder_paiement`` through the service, with the adjustments in
its payload — the same guard as the API then checks them again, in the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from api.deps import RowId, Wired
from api.pages.dossier import done
from api.pages.errors import PageRoute
from api.pages.forms import FormState, french_decimal, typed_values
from api.pages.rendering import render
from api.pages.viewer import Seen, Viewer
from api.wiring import Container
from states import get_spec
from workflow.access import readable
from workflow.baremes import BaremeError, PaymentLine, Proposal, Rates, override_range
from workflow.errors import (
    GuardFailed,
    InvalidInput,
    NotPermitted,
    StaleVersion,
    TriggerNotAvailable,
)
from workflow.payment import (
    AdjustmentReview,
    adjustable_lines,
    compute_proposal,
    dossier_rates,
    review_adjustments,
)
from workflow.queries import payment_decision, reading
from workflow.service import FireCommand
from workflow.simulation import COMPONENT_LABELS

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PROPOSAL_STATES = frozenset({"bilan_valide"})
DECISION_TRIGGERS = ("accorder_paiement", "refuser_paiement")
GRANT = "accorder_paiement"
JUSTIFICATION = "justification"
INCOMPLETE = "Ce formulaire est incomplet : rechargez la page puis recommencez."


def _units_fr(value: Decimal) -> str:
    return format_decimal(value, "#,##0.##", locale="fr_FR")


@dataclass(frozen=True, slots=True)
class LineField:
    """One proposal line as the adjustment form shows it, with the range it allows."""

    index: int
    line: PaymentLine
    component_label: str
    adjustable: bool
    low: Decimal
    high: Decimal

    @property
    def field_id(self) -> str:
        return f"unites-{self.index}"

    @property
    def units_name(self) -> str:
        return "vacations" if self.line.unit == "vacation" else self.line.unit

    @property
    def label(self) -> str:
        what = "Vacations" if self.line.unit == "vacation" else self.line.unit
        return f"{what} retenues — {self.line.payee_label}, {self.component_label}"

    @property
    def hint(self) -> str:
        return (
            f"Entre {_units_fr(self.low)} et {_units_fr(self.high)} {self.units_name} ; "
            f"proposé : {_units_fr(self.line.units)}"
        )


def _fields(proposal: Proposal) -> list[LineField]:
    allowed = adjustable_lines(proposal)
    fields = []
    for index, line in enumerate(proposal.lines):
        low, high = override_range(line)
        label = COMPONENT_LABELS.get(line.component, line.component)
        fields.append(LineField(index, line, label, index in allowed, low, high))
    return fields


def _context(container: Container, viewer: Viewer, dossier_id: int) -> dict[str, Any]:
    now = container.service.clock()
    rates: Rates | None = None
    with reading(container.engine) as conn:
        dossier, _ = readable(conn, dossier_id, viewer.person_id, now)
        if dossier.workflow_name != "dossier_formation":
            raise InvalidInput("Ce dossier n'a pas de décision de paiement.")
        decision = payment_decision(conn, dossier_id)
        proposal, problem = None, None
        if decision is None and dossier.state in PROPOSAL_STATES:
            rates = dossier_rates(conn, dossier)
            try:
                proposal = compute_proposal(conn, dossier, {}, rates)
            except BaremeError as error:
                problem = str(error)
    spec = get_spec(dossier.workflow_name, dossier.workflow_version)
    actions = [
        a
        for a in container.service.available(dossier_id, viewer.person_id)
        if a.trigger in DECISION_TRIGGERS
    ]
    grant = next((a for a in actions if a.trigger == GRANT), None)
    decides = proposal is not None and proposal.decidable and grant is not None
    return {
        "dossier": dossier,
        "state": spec.state(dossier.state),
        "decision": decision,
        "proposal": proposal,
        "problem": problem,
        "rates": rates,
        "lines": _fields(proposal) if proposal is not None else [],
        "decides": decides,
        "others": [a for a in actions if a.trigger != GRANT],
        "grant": grant,
    }


def _form(context: dict[str, Any], values: dict[str, str] | None = None) -> FormState:
    lines: list[LineField] = context["lines"]
    labels = {f.field_id: f.label for f in lines} | {JUSTIFICATION: "Justification"}
    if values is None:
        values = {f.field_id: _units_fr(f.line.units) for f in lines if f.adjustable}
    return FormState(values, labels=labels)


def _page(
    request: Request,
    container: Container,
    viewer: Viewer,
    dossier_id: int,
    form: FormState | None = None,
    review: AdjustmentReview | None = None,
    status_code: int = 200,
    alert: str | None = None,
) -> Response:
    context = _context(container, viewer, dossier_id)
    return render(
        request,
        "pages/paiement.html",
        {
            **context,
            "page_title": f"Décision de paiement — {context['dossier'].reference}",
            "form": form or _form(context),
            "review": review,
            "alert": alert,
        },
        status_code=status_code,
    )


@router.get("/dossiers/{dossier_id}/paiement")
async def payment_page(request: Request, dossier_id: RowId, viewer: Seen, wired: Wired) -> Response:
    return await run_in_threadpool(_page, request, wired, viewer, dossier_id)


def _review(context: dict[str, Any], form: FormState) -> AdjustmentReview | None:
    """The typed units checked against the barème; None with the errors put on ``form``."""
    proposal: Proposal = context["proposal"]
    units: dict[int, Decimal] = {}
    for line in context["lines"]:
        if not line.adjustable:
            continue
        typed = form.value(line.field_id)
        value = french_decimal(typed)
        if value is None:
            form.add(line.field_id, "nombre attendu, par exemple 4 ou 4,5")
        else:
            units[line.index] = value
    justification = form.value(JUSTIFICATION)
    if len(justification) > 5000:
        form.add(JUSTIFICATION, "texte trop long (5 000 caractères au plus)")
    if "\x00" in justification:
        form.add(JUSTIFICATION, "caractère nul interdit")
    if form.errors:
        return None
    review = review_adjustments(proposal, units, justification, context["rates"])
    for index, message in sorted(review.line_errors.items()):
        form.add(f"unites-{index}", message)
    if review.justification_error is not None:
        form.add(JUSTIFICATION, review.justification_error)
    return None if form.errors else review


def _version(values: dict[str, str]) -> int | None:
    typed = values.get("version", "")
    return int(typed) if typed.isdigit() and 0 < int(typed) < 2**31 else None


@router.post("/dossiers/{dossier_id}/paiement")
async def decide_payment(
    request: Request, dossier_id: RowId, viewer: Seen, wired: Wired
) -> Response:
    values = typed_values(await request.form())
    context = await run_in_threadpool(_context, wired, viewer, dossier_id)
    if not context["decides"]:
        # Decided meanwhile, or not theirs to decide: the page says what stands now.
        return await run_in_threadpool(_page, request, wired, viewer, dossier_id, None, None, 409)
    step = values.pop("etape", "")
    form = _form(context, values)
    review = _review(context, form)
    if review is None or step != "confirmer":
        status = 422 if review is None and step != "modifier" else 200
        if step == "modifier":
            form.errors.clear()
            review = None
        return await run_in_threadpool(
            _page, request, wired, viewer, dossier_id, form, review, status
        )
    version = _version(values)
    if version is None:
        return await run_in_threadpool(
            _page, request, wired, viewer, dossier_id, form, None, 409, INCOMPLETE
        )
    command = FireCommand(
        dossier_id, GRANT, viewer.person_id, expected_version=version, payload=review.payload
    )
    try:
        result = await run_in_threadpool(wired.service.fire, command)
    except GuardFailed as error:
        for reason in error.reasons:
            form.add("", reason)
        return await run_in_threadpool(_page, request, wired, viewer, dossier_id, form, None, 422)
    except (StaleVersion, NotPermitted, TriggerNotAvailable) as error:
        return await run_in_threadpool(
            _page, request, wired, viewer, dossier_id, form, None, 409, error.message
        )
    return done(request, result, f"/dossiers/{dossier_id}/paiement")
