"""The barème simulator: the same computation as a decision, from figures typed by hand.

EAFC staff building a budget (the T-Offres file) need to know what a dispositif will cost
before any dossier exists; a pilot wants to check the amount a trainer will be told. The
simulator therefore calls the very functions of ``workflow.payments.baremes`` that the decision
calls, so its steps and amounts cannot drift from what ``accorder_paiement`` stores.

Parameters have English snake_case names in code and JSON (``effective_trainees``), the
same with dashes on the command line (``--effective-trainees``); messages are French.
A parameter may be given several times for several trainers (``--hours 6 --hours 7``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from states.dispositifs import DISPOSITIFS
from workflow.payments.baremes import (
    BaremeError,
    Proposal,
    Rates,
    VirtualClass,
    eafc_taux_a,
    format_euros,
    format_units,
    hse_convention_ent,
    vacation_accompagnement,
)

MAX_VALUE = Decimal(100_000)
"""No simulated figure goes beyond this: a typo should not compute for a minute."""


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    integer: bool
    label: str
    repeatable: bool = False

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")


_HOURS_ACC = Parameter("hours", False, "heures d'intervention d'un formateur", repeatable=True)
_TRAINEES = Parameter("effective_trainees", True, "stagiaires ayant effectivement participé")
_HOURS_HSE = Parameter(
    "hours", False, "heures proposées par le chef d'établissement pour un formateur", True
)
_EAFC = (
    Parameter("conception", False, "vacations de conception décidées (10 à 20)"),
    Parameter("update", False, "vacations de mise à jour décidées (5 à 10)"),
    Parameter("followed_trainees", True, "stagiaires suivis en tutorat"),
    Parameter("class_hours", False, "durée de la classe virtuelle, en heures"),
    Parameter("class_trainers", True, "formateurs animant la classe virtuelle"),
    Parameter("class_trainees", True, "stagiaires de la classe virtuelle"),
)

PARAMETERS: dict[str, tuple[Parameter, ...]] = {
    "vacation_accompagnement": (_HOURS_ACC, _TRAINEES),
    "hse_convention_ent": (_HOURS_HSE,),
    "eafc_taux_a": _EAFC,
}
REQUIRED: dict[str, frozenset[str]] = {
    "vacation_accompagnement": frozenset({"hours", "effective_trainees"}),
    "hse_convention_ent": frozenset({"hours"}),
    "eafc_taux_a": frozenset(),
}

Value = Decimal | int
RawValue = str | int | Decimal
Params = dict[str, list[Value]]


@dataclass(frozen=True, slots=True)
class Simulation:
    bareme: str
    label: str
    proposal: Proposal
    rate_given: bool

    @property
    def lines(self) -> list[str]:
        return describe(self)


def bareme_label(name: str) -> str:
    return DISPOSITIFS[name].label


def _unknown_bareme(name: str) -> BaremeError:
    return BaremeError(f"Barème inconnu : « {name} » (connus : {', '.join(PARAMETERS)}).")


def _parse(param: Parameter, raw: RawValue) -> Value:
    text = str(raw).strip().replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise BaremeError(
            f"{param.option} ({param.label}) doit être un nombre : « {raw} » n'en est pas un."
        ) from exc
    if not value.is_finite() or value < 0 or value > MAX_VALUE:
        raise BaremeError(
            f"{param.option} ({param.label}) doit être un nombre entre 0 et "
            f"{int(MAX_VALUE)} (« {raw} »)."
        )
    if param.integer:
        if value != value.to_integral_value():
            raise BaremeError(f"{param.option} ({param.label}) doit être un nombre entier.")
        return int(value)
    return value


def parse_params(bareme: str, raw: Mapping[str, Sequence[RawValue]]) -> Params:
    """Check names and values against the barème's parameters, in French."""
    if bareme not in PARAMETERS:
        raise _unknown_bareme(bareme)
    known = {p.name: p for p in PARAMETERS[bareme]}
    values: Params = {}
    for name, items in raw.items():
        param = known.get(name)
        if param is None:
            expected = ", ".join(p.option for p in PARAMETERS[bareme])
            option = "--" + name.replace("_", "-")
            raise BaremeError(
                f"Paramètre inconnu pour le barème {bareme} : {option} (attendus : {expected})."
            )
        if not items:
            continue
        if len(items) > 1 and not param.repeatable:
            raise BaremeError(f"{param.option} ne peut être donné qu'une fois.")
        values[name] = [_parse(param, item) for item in items]
    for name in sorted(REQUIRED[bareme] - values.keys()):
        param = known[name]
        raise BaremeError(f"Paramètre obligatoire manquant : {param.option} ({param.label}).")
    return values


def with_rate(bareme: str, rates: Rates, rate: Decimal | None) -> Rates:
    """The académie's rates, with the barème's own rate replaced for this simulation."""
    if rate is None:
        return rates
    if bareme == "vacation_accompagnement":
        return dataclasses.replace(rates, vacation_accompagnement=rate)
    if bareme == "hse_convention_ent":
        return dataclasses.replace(rates, hse=rate)
    return dataclasses.replace(rates, vacation_taux_a=rate)


def _trainers(hours: list[Value]) -> dict[str, tuple[str, Decimal]]:
    if len(hours) == 1:
        return {"1": ("Formateur", Decimal(hours[0]))}
    return {str(n): (f"Formateur {n}", Decimal(h)) for n, h in enumerate(hours, start=1)}


def _one(params: Params, name: str) -> Value | None:
    values = params.get(name)
    return values[0] if values else None


def simulate(
    bareme: str,
    raw: Mapping[str, Sequence[RawValue]],
    rates: Rates,
    rate: Decimal | None = None,
) -> Simulation:
    """The proposal the barème makes for these figures; ``BaremeError`` in French if the
    figures are not acceptable (co-animation under 15 trainees, conception outside 10–20…)."""
    params = parse_params(bareme, raw)
    rates = with_rate(bareme, rates, rate)
    if bareme == "vacation_accompagnement":
        proposal = vacation_accompagnement(
            _trainers(params["hours"]), int(params["effective_trainees"][0]), rates
        )
    elif bareme == "hse_convention_ent":
        proposal = hse_convention_ent(_trainers(params["hours"]), rates)
    else:
        proposal = _eafc(params, rates)
    return Simulation(bareme, bareme_label(bareme), proposal, rate is not None)


def _eafc(params: Params, rates: Rates) -> Proposal:
    conception, update = _one(params, "conception"), _one(params, "update")
    followed = _one(params, "followed_trainees")
    class_fields = ("class_hours", "class_trainers", "class_trainees")
    given = [name for name in class_fields if name in params]
    classes: list[VirtualClass] = []
    if given:
        if len(given) != len(class_fields):
            raise BaremeError(
                "Une classe virtuelle se simule avec --class-hours, --class-trainers et "
                "--class-trainees ensemble."
            )
        trainers = int(params["class_trainers"][0])
        classes = [
            VirtualClass(
                payee=f"cv{n}",
                payee_label=f"Formateur {n}" if trainers > 1 else "Formateur",
                hours=Decimal(params["class_hours"][0]),
                trainers=trainers,
                trainees=int(params["class_trainees"][0]),
            )
            for n in range(1, max(trainers, 1) + 1)
        ]
    return eafc_taux_a(
        rates=rates,
        conception={"concepteur": ("Concepteur", Decimal(conception))}
        if conception is not None
        else None,
        mise_a_jour={"concepteur": ("Concepteur", Decimal(update))} if update is not None else None,
        tutorat={"tuteur": ("Tuteur", int(followed))} if followed is not None else None,
        virtual_classes=classes,
    )


COMPONENT_LABELS = {
    "accompagnement": "accompagnement à distance",
    "hse": "heures supplémentaires effectives",
    "conception": "conception du parcours",
    "mise_a_jour": "mise à jour du parcours",
    "tutorat": "tutorat",
    "classe_virtuelle": "classe virtuelle",
}


def describe(simulation: Simulation) -> list[str]:
    """The French text the CLI prints: each line's steps, then the total or why there is
    none."""
    proposal = simulation.proposal
    out = [f"Barème {simulation.bareme} — {simulation.label}"]
    for line in proposal.lines:
        units = format_units(line.units, line.unit)
        amount = format_euros(line.amount) if line.amount is not None else "montant non calculé"
        component = COMPONENT_LABELS.get(line.component, line.component)
        out.append(f"{line.payee_label} — {component} : {units}, {amount}")
        out.extend(f"  {step}" for step in line.steps)
    for problem in proposal.problems:
        out.append(f"Attention : {problem}")
    if proposal.total is not None:
        out.append(f"Total : {format_euros(proposal.total)}")
    else:
        out.append("Total : non calculé (voir ci-dessus ; --rate permet de simuler un taux).")
    return out
