"""« Décision de paiement »: the barème's proposal with its French calculation steps, the
responsable's adjustments within the barème's bounds, the decision, and once taken the
recorded lines (who, when, the adjustment and its justification).

The responsable types the units to pay per line (prefilled with the proposal), and a
justification when any differs; « Vérifier la décision » shows what would be recorded, and
only « Confirmer » fires ``accorder_paiement`` through the service, with the adjustments in
its payload — the same guard as the API then checks them again, in the transaction.

For an ``eafc_taux_a`` dossier some amounts are not in the bilan at all: the conception and
mise à jour vacations of each concepteur are decided within the barème's ranges, so the page
asks for them too; the proposal shown on « Vérifier la décision » is then computed with
them, and they go into the payload under ``conception`` / ``mise_a_jour``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
from workflow.dossiers.access import readable
from workflow.engine.errors import (
    GuardFailed,
    InvalidInput,
    NotPermitted,
    StaleVersion,
    TriggerNotAvailable,
)
from workflow.engine.service import FireCommand
from workflow.payments.baremes import (
    BaremeError,
    EmptyProposal,
    PaymentLine,
    Proposal,
    Rates,
    decided_refusal,
    override_range,
)
from workflow.payments.decision import (
    AdjustmentReview,
    DecidedFigure,
    adjustable_lines,
    compute_proposal,
    decided_figures,
    decided_payload,
    dossier_rates,
    review_adjustments,
)
from workflow.payments.simulation import COMPONENT_LABELS
from workflow.reads.queries import payment_decision, reading

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PROPOSAL_STATES = frozenset({"bilan_valide"})
DECISION_TRIGGERS = ("accorder_paiement", "refuser_paiement")
GRANT = "accorder_paiement"
JUSTIFICATION = "justification"
INCOMPLETE = "Ce formulaire est incomplet : rechargez la page puis recommencez."
NOTHING_DECIDED = (
    "Saisissez les vacations de conception ou de mise à jour d'au moins un concepteur : "
    "le bilan ne contient rien d'autre à rémunérer."
)
FIGURE_WHAT = {"conception": "Vacations de conception", "mise_a_jour": "Vacations de mise à jour"}


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


@dataclass(frozen=True, slots=True)
class FigureField:
    """One figure the responsable decides (a concepteur's conception or mise à jour
    vacations) as the form asks for it, its range taken from the barème."""

    figure: DecidedFigure

    @property
    def field_id(self) -> str:
        return f"{self.figure.component.replace('_', '-')}-{self.figure.person_id}"

    @property
    def label(self) -> str:
        low, high = _units_fr(self.figure.low), _units_fr(self.figure.high)
        return f"{FIGURE_WHAT[self.figure.component]} (entre {low} et {high})"

    @property
    def summary_label(self) -> str:
        """The label in the error summary, which must say whose figure it is."""
        return f"{self.label} — {self.figure.full_name}"


def _concepteurs(figures: list[FigureField]) -> list[tuple[str, list[FigureField]]]:
    """The figure fields grouped by concepteur, in the order they come, for one fieldset each."""
    groups: dict[int, tuple[str, list[FigureField]]] = {}
    for f in figures:
        groups.setdefault(f.figure.person_id, (f.figure.full_name, []))[1].append(f)
    return list(groups.values())


@dataclass(frozen=True, slots=True)
class Verified:
    """What « Vérifier la décision » shows: each line as the barème proposes it with the
    decided figures (component label, proposed line) beside the line that would be
    recorded, and the review whose payload the confirmation fires."""

    review: AdjustmentReview
    rows: list[tuple[str, PaymentLine, PaymentLine]] = field(default_factory=list)


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
        figures: list[FigureField] = []
        if decision is None and dossier.state in PROPOSAL_STATES:
            rates = dossier_rates(conn, dossier)
            figures = [FigureField(f) for f in decided_figures(conn, dossier)]
            try:
                proposal = compute_proposal(conn, dossier, {}, rates)
            except EmptyProposal as error:
                # Only the decided figures are left to make the proposal, if there are any.
                problem = None if figures else str(error)
            except BaremeError as error:
                problem = str(error)
    spec = get_spec(dossier.workflow_name, dossier.workflow_version)
    actions = [
        a
        for a in container.service.available(dossier_id, viewer.person_id)
        if a.trigger in DECISION_TRIGGERS
    ]
    grant = next((a for a in actions if a.trigger == GRANT), None)
    computable = proposal.decidable if proposal is not None else bool(figures) and not problem
    decides = computable and grant is not None
    return {
        "dossier": dossier,
        "state": spec.state(dossier.state),
        "decision": decision,
        "proposal": proposal,
        "problem": problem,
        "rates": rates,
        "lines": _fields(proposal) if proposal is not None else [],
        "components": COMPONENT_LABELS,
        "figures": figures,
        "concepteurs": _concepteurs(figures),
        "decides": decides,
        "others": [a for a in actions if a.trigger != GRANT],
        "grant": grant,
    }


def _form(context: dict[str, Any], values: dict[str, str] | None = None) -> FormState:
    lines: list[LineField] = context["lines"]
    figures: list[FigureField] = context["figures"]
    labels = (
        {f.field_id: f.summary_label for f in figures}
        | {f.field_id: f.label for f in lines}
        | {JUSTIFICATION: "Justification"}
    )
    if values is None:
        values = {f.field_id: _units_fr(f.line.units) for f in lines if f.adjustable}
    return FormState(values, labels=labels)


def _page(
    request: Request,
    container: Container,
    viewer: Viewer,
    dossier_id: int,
    form: FormState | None = None,
    verified: Verified | None = None,
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
            "review": verified.review if verified is not None else None,
            "review_rows": verified.rows if verified is not None else [],
            "alert": alert,
        },
        status_code=status_code,
    )


@router.get("/dossiers/{dossier_id}/paiement")
async def payment_page(request: Request, dossier_id: RowId, viewer: Seen, wired: Wired) -> Response:
    return await run_in_threadpool(_page, request, wired, viewer, dossier_id)


def _typed_figures(context: dict[str, Any], form: FormState) -> dict[tuple[str, int], Decimal]:
    """The decided figures typed (an empty field decides nothing), each checked against the
    barème's range; the refusals are put on ``form`` next to their field."""
    typed: dict[tuple[str, int], Decimal] = {}
    for f in context["figures"]:
        text = form.value(f.field_id).strip()
        if not text:
            continue
        value = french_decimal(text)
        refusal = (
            "nombre attendu, par exemple 15 ou 12,5"
            if value is None
            else decided_refusal(f.figure.component, value)
        )
        if refusal is not None:
            form.add(f.field_id, refusal)
        elif value is not None:
            typed[(f.figure.component, f.figure.person_id)] = value
    return typed


def _typed_units(context: dict[str, Any], form: FormState) -> dict[tuple[str, str], Decimal]:
    """The units typed per adjustable line, by (payee, component): the line's place in the
    proposal moves once the decided figures add their own lines."""
    units: dict[tuple[str, str], Decimal] = {}
    for line in context["lines"]:
        if not line.adjustable:
            continue
        value = french_decimal(form.value(line.field_id))
        if value is None:
            form.add(line.field_id, "nombre attendu, par exemple 4 ou 4,5")
        else:
            units[(line.line.payee, line.line.component)] = value
    return units


def _with_figures(
    container: Container, context: dict[str, Any], payload: dict[str, Any]
) -> Proposal:
    """The proposal with the decided figures, at the rates the page was computed with: an
    adjustment is checked against the rate of its line (``override_refusal``)."""
    with reading(container.engine) as conn:
        return compute_proposal(conn, context["dossier"], payload, context["rates"])


def _review(container: Container, context: dict[str, Any], form: FormState) -> Verified | None:
    """The typed figures and units checked against the barème; None with the errors put on
    ``form``. Nothing is written: the guard checks the same payload again on confirmation."""
    figures = _typed_figures(context, form)
    figures_refused = bool(form.errors)
    units = _typed_units(context, form)
    justification = form.value(JUSTIFICATION)
    if len(justification) > 5000:
        form.add(JUSTIFICATION, "texte trop long (5 000 caractères au plus)")
    if "\x00" in justification:
        form.add(JUSTIFICATION, "caractère nul interdit")
    if context["proposal"] is None and not figures and not form.errors:
        form.add("", NOTHING_DECIDED)
    decided = decided_payload(figures)
    proposal: Proposal | None = context["proposal"]
    if decided and not figures_refused:
        try:
            proposal = _with_figures(container, context, decided)
        except BaremeError as error:
            form.add("", str(error))
            return None
    if proposal is None:
        return None
    # Even with a figure refused, the adjustments are checked (against the proposal without
    # the figures: their bounds do not depend on them), so that every error shows at once.
    # An adjustable line is the only one of its (payee, component): that key finds it again
    # in the proposal that now has the decided figures' lines too.
    place = {(line.payee, line.component): n for n, line in enumerate(proposal.lines)}
    keyed = {(f.line.payee, f.line.component): f.field_id for f in context["lines"]}
    field_of = {place[key]: field_id for key, field_id in keyed.items() if key in place}
    review = review_adjustments(
        proposal,
        {place[key]: value for key, value in units.items() if key in place},
        justification,
        context["rates"],
        decided,
    )
    for index, message in sorted(review.line_errors.items()):
        form.add(field_of.get(index, ""), message)
    if review.justification_error is not None:
        form.add(JUSTIFICATION, review.justification_error)
    if form.errors or review.proposal is None:
        return None
    rows = [
        (COMPONENT_LABELS.get(old.component, old.component), old, new)
        for old, new in zip(proposal.lines, review.proposal.lines, strict=True)
    ]
    return Verified(review, rows)


def _version(values: dict[str, str]) -> int | None:
    typed = values.get("version", "")
    digits = typed.isascii() and typed.isdigit() and len(typed) <= 10
    return int(typed) if digits and 0 < int(typed) < 2**31 else None


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
    verified = await run_in_threadpool(_review, wired, context, form)
    if verified is None or step != "confirmer":
        status = 422 if verified is None and step != "modifier" else 200
        if step == "modifier":
            form.errors.clear()
            verified = None
        return await run_in_threadpool(
            _page, request, wired, viewer, dossier_id, form, verified, status
        )
    version = _version(values)
    if version is None:
        return await run_in_threadpool(
            _page, request, wired, viewer, dossier_id, form, None, 409, INCOMPLETE
        )
    command = FireCommand(
        dossier_id,
        GRANT,
        viewer.person_id,
        expected_version=version,
        payload=verified.review.payload,
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
