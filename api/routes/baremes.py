"""The barème simulator over HTTP: the same steps and amounts as a decision, as JSON."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field
from sqlalchemy import select

from api.deps import Caller, Wired
from api.problems import ApiProblem, problem_responses
from api.schemas import In
from workflow.dossiers.access import works_in
from workflow.payments.baremes import BaremeError, Rates
from workflow.payments.rates import ConfigurationError, rates_for
from workflow.payments.simulation import COMPONENT_LABELS, PARAMETERS, describe, simulate
from workflow.reads.queries import reading
from workflow.store.tables import academie_table

router = APIRouter(prefix="/api/v1/baremes", tags=["barèmes"])

ERRORS = problem_responses(400, 401, 403, 404, 422)

Hours = Annotated[Decimal, Field(ge=0, le=100_000, max_digits=8, decimal_places=2)]
Count = Annotated[int, Field(ge=0, le=100_000)]


class SimulationIn(In):
    """Figures to simulate; which ones a barème reads is listed in its description."""

    academie: str | None = Field(
        None,
        max_length=64,
        description="Slug d'une académie où vous avez un rôle : ses taux sont utilisés "
        "(sinon, seuls ceux des textes : taux A de 45 €).",
    )
    rate: Decimal | None = Field(
        None,
        gt=0,
        le=100_000,
        max_digits=8,
        decimal_places=2,
        description="Taux à simuler, en euros (remplace celui de l'académie pour ce barème).",
    )
    hours: Hours | Annotated[list[Hours], Field(max_length=50)] | None = Field(
        None, description="Heures d'intervention (ou proposées), une valeur par formateur."
    )
    effective_trainees: Count | None = None
    conception: Hours | None = None
    update: Hours | None = None
    followed_trainees: Count | None = None
    class_hours: Hours | None = None
    class_trainers: Annotated[int, Field(ge=1, le=20)] | None = None
    class_trainees: Count | None = None


class SimulatedLine(BaseModel):
    payee: str
    payee_label: str
    component: str
    component_label: str
    unit: str
    units: Decimal
    cap: Decimal
    rate: Decimal | None
    amount: Decimal | None
    steps: list[str]


class SimulationOut(BaseModel):
    bareme: str
    label: str
    lines: list[SimulatedLine]
    problems: list[str] = Field(description="Ce qui empêcherait la décision (taux manquant…).")
    total: Decimal | None
    text: list[str] = Field(description="Le détail en français, tel que la CLI l'affiche.")


_PARAMS_DOC = "; ".join(
    f"`{name}` : " + ", ".join(f"`{p.name}`" for p in params) for name, params in PARAMETERS.items()
)


def _rates(wired: Wired, caller: Caller, slug: str | None) -> Rates:
    if slug is None:
        return Rates.default_eafc()
    with reading(wired.engine) as conn:
        academie_id = conn.execute(
            select(academie_table.c.id).where(academie_table.c.slug == slug)
        ).scalar()
        allowed = academie_id is not None and works_in(conn, int(academie_id), caller.person_id)
    if not allowed:
        raise ApiProblem(
            422, "saisie-invalide", f"Académie inconnue ou hors de votre périmètre : {slug}."
        )
    try:
        return rates_for(slug)
    except ConfigurationError as error:
        raise ApiProblem(422, "saisie-invalide", str(error)) from error


@router.post(
    "/{name}/simulate",
    response_model=SimulationOut,
    responses=ERRORS,
    summary="Simuler un barème (mêmes étapes et montants qu'une décision)",
    description=(
        "Calcule ce que le barème proposerait pour ces chiffres, avec les étapes du calcul "
        "en français. Un taux que les textes ne donnent pas (HSE…) et que l'académie n'a pas "
        "configuré laisse le montant non calculé et le dit dans `problems`. Des chiffres "
        "que le barème refuse (co-animation sous 15 stagiaires, conception hors de 10 à 20 "
        f"vacations…) répondent 422. Paramètres lus : {_PARAMS_DOC}."
    ),
)
def simulate_bareme(
    name: Annotated[str, Path(max_length=64, description=", ".join(PARAMETERS))],
    body: SimulationIn,
    caller: Caller,
    wired: Wired,
) -> Any:
    if name not in PARAMETERS:
        raise ApiProblem(
            404, "introuvable", f"Barème inconnu : « {name} » (connus : {', '.join(PARAMETERS)})."
        )
    rates = _rates(wired, caller, body.academie)
    values = body.model_dump(exclude={"academie", "rate"}, exclude_none=True)
    params = {k: v if isinstance(v, list) else [v] for k, v in values.items()}
    try:
        result = simulate(name, params, rates, body.rate)
    except BaremeError as error:
        raise ApiProblem(422, "saisie-invalide", str(error)) from error
    proposal = result.proposal
    return SimulationOut(
        bareme=name,
        label=result.label,
        lines=[
            SimulatedLine(
                payee=line.payee,
                payee_label=line.payee_label,
                component=line.component,
                component_label=COMPONENT_LABELS.get(line.component, line.component),
                unit=line.unit,
                units=line.units,
                cap=line.cap,
                rate=line.rate,
                amount=line.amount,
                steps=list(line.steps),
            )
            for line in proposal.lines
        ],
        problems=list(proposal.problems),
        total=proposal.total,
        text=describe(result),
    )
