"""Barèmes: how a dossier's payment proposal is computed, and shown.

Each figure below comes from a seed text (DOMAIN.md §6) and says which one. Every figure the
seeds do not give (the HSE rate, the accompaniment vacation rate, most of the virtual-class
table) is per-académie configuration and defaults to ``None``: a missing rate must stop the
decision with a French reason, never be replaced by an invented amount.

The module is pure (no I/O, no database, no web) so that the same computation can be
simulated, decided, stored and e-mailed, and money never goes through a float. Each line
carries its calculation as French steps because the decision must be explainable to the
person paid and to the services that check it.

Unit counts are kept to the hundredth of a unit (``ROUND_HALF_UP``) everywhere, like hours in
the database, so that every figure shown can be re-typed and every amount re-computed.

When a rate is missing, the lines still show their units and caps (the responsable can check
the counting), but their ``rate`` and ``amount`` are ``None`` and the proposal's ``total`` is
``None``; ``problems`` says in French why the decision cannot be taken.

One module, past the usual size, on purpose: every barème here is checked line by line
against the seed texts, and they share their rounding, caps and French steps; split per
dispositif, the shared rules would be read in one file and applied in another.
"""

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from workflow.language.vocabulary import CO_ANIMATION_MIN_PARTICIPANTS

__all__ = [
    "CONCEPTION_BOUNDS",
    "HOURS_PER_VACATION",
    "KNOWN_VIRTUAL_CLASS_POINT",
    "MAX_HSE_PER_FORMATEUR",
    "MAX_VACATIONS_PER_GROUP",
    "MIN_TRAINEES_FOR_CO_ANIMATION",
    "MISE_A_JOUR_BOUNDS",
    "TAUX_A_2023",
    "TRAINEES_PER_TUTORAT_VACATION",
    "BaremeError",
    "EmptyProposal",
    "PaymentLine",
    "Proposal",
    "Rates",
    "VirtualClass",
    "VirtualClassRate",
    "bounds",
    "check_override",
    "decided_refusal",
    "eafc_taux_a",
    "format_decimal_fr",
    "format_euros",
    "format_hours",
    "format_units",
    "hse_convention_ent",
    "override_range",
    "override_refusal",
    "vacation_accompagnement",
    "virtual_class_rate",
]

CENT = Decimal("0.01")
NARROW_NO_BREAK_SPACE = "\u202f"

DISPOSITIF_ACCOMPAGNEMENT = "vacation_accompagnement"
DISPOSITIF_HSE = "hse_convention_ent"
DISPOSITIF_EAFC = "eafc_taux_a"

COMPONENT_ACCOMPAGNEMENT = "accompagnement"
COMPONENT_HSE = "hse"
COMPONENT_CONCEPTION = "conception"
COMPONENT_MISE_A_JOUR = "mise_a_jour"
COMPONENT_TUTORAT = "tutorat"
COMPONENT_CLASSE_VIRTUELLE = "classe_virtuelle"

UNIT_VACATION = "vacation"
UNIT_HSE = "HSE"

HOURS_PER_VACATION = Decimal(2)
"""Seed 000 §3: « une vacation pour deux heures d'intervention »."""
MAX_VACATIONS_PER_GROUP = Decimal(8)
"""Seed 000 §3: « pour un groupe, la rémunération est limitée à huit vacations »."""
MAX_HSE_PER_FORMATEUR = Decimal(18)
"""Seed 001 §6: a flat maximum of 18 HSE for each formateur-accompagnateur."""
TAUX_A_2023 = Decimal("45.00")
"""Seed 004 §5.1 (EAFC, March 2023): « vacations au taux A - 45€ ». Dated and académie-specific,
hence only offered through ``Rates.default_eafc()``, never as an implicit default."""
CONCEPTION_BOUNDS = (Decimal(10), Decimal(20))
"""Seed 004 §5.1: conception of a parcours M@gistère, « entre 10 et 20 vacations »."""
MISE_A_JOUR_BOUNDS = (Decimal(5), Decimal(10))
"""Seed 004 §5.1: update the following year, « entre 5 et 10 vacations taux A »."""
TRAINEES_PER_TUTORAT_VACATION = 8
"""Seed 004 §5.2: « en général 1 vacation taux A pour 8 candidats suivis »."""
MIN_TRAINEES_FOR_CO_ANIMATION = CO_ANIMATION_MIN_PARTICIPANTS
"""Seed 004 §5.3: « la co-animation est possible à partir de 15 participants »."""

_UNIT_OF_COMPONENT: dict[str, str] = {
    COMPONENT_ACCOMPAGNEMENT: UNIT_VACATION,
    COMPONENT_HSE: UNIT_HSE,
    COMPONENT_CONCEPTION: UNIT_VACATION,
    COMPONENT_MISE_A_JOUR: UNIT_VACATION,
    COMPONENT_TUTORAT: UNIT_VACATION,
    COMPONENT_CLASSE_VIRTUELLE: UNIT_VACATION,
}

# Fixed ranges the barèmes themselves state; the other components are bounded only by the
# cap computed for each line.
_BOUNDS: dict[str, tuple[Decimal, Decimal]] = {
    COMPONENT_ACCOMPAGNEMENT: (Decimal(0), MAX_VACATIONS_PER_GROUP),
    COMPONENT_HSE: (Decimal(0), MAX_HSE_PER_FORMATEUR),
    COMPONENT_CONCEPTION: CONCEPTION_BOUNDS,
    COMPONENT_MISE_A_JOUR: MISE_A_JOUR_BOUNDS,
}

_RATE_NAME: dict[str, str] = {
    COMPONENT_ACCOMPAGNEMENT: "le taux de la vacation d'accompagnement à distance",
    COMPONENT_HSE: "le taux de l'HSE",
    COMPONENT_CONCEPTION: "le taux A des vacations",
    COMPONENT_MISE_A_JOUR: "le taux A des vacations",
    COMPONENT_TUTORAT: "le taux A des vacations",
    COMPONENT_CLASSE_VIRTUELLE: "le taux A des vacations",
}


class BaremeError(ValueError):
    """Input a barème cannot accept; the message is French because it reaches the user."""


class EmptyProposal(BaremeError):
    """Nothing to pay yet: for ``eafc_taux_a``, the figures the responsable decides
    (conception, mise à jour) can still make a proposal, so a page asks for them instead of
    reporting an error."""


# --- French formatting -----------------------------------------------------------------------


def _group_thousands(digits: str) -> str:
    if len(digits) <= 3:
        return digits
    head = len(digits) % 3 or 3
    groups = [digits[:head], *(digits[i : i + 3] for i in range(head, len(digits), 3))]
    return NARROW_NO_BREAK_SPACE.join(groups)


def _require_finite(value: Decimal) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise BaremeError(f"Nombre invalide : {value!r} n'est pas un nombre décimal fini.")


def format_decimal_fr(value: Decimal) -> str:
    """French writing of a count: comma, no useless trailing zero, thousands spaced.

    Trailing zeros are dropped because « 5 vacations » is what people write, not « 5,00 ».
    """
    _require_finite(value)
    integer, _, fraction = format(abs(value), "f").partition(".")
    fraction = fraction.rstrip("0")
    text = ("-" if value < 0 else "") + _group_thousands(integer)
    return f"{text},{fraction}" if fraction else text


def format_euros(value: Decimal) -> str:
    """French writing of an amount, always to the cent, as on a payslip."""
    _require_finite(value)
    cents = value.quantize(CENT, rounding=ROUND_HALF_UP)
    integer, _, fraction = format(abs(cents), "f").partition(".")
    sign = "-" if cents < 0 else ""
    return f"{sign}{_group_thousands(integer)},{fraction} €"


def _plural(count: Decimal | int) -> bool:
    # French grammar: the plural starts at 2 (« 1,5 vacation », « 0 vacation »).
    return abs(Decimal(count)) >= 2


def _agree(count: Decimal | int, singular: str, plural: str) -> str:
    return plural if _plural(count) else singular


def _count(count: Decimal | int, singular: str, plural: str) -> str:
    number = format_decimal_fr(Decimal(count))
    return f"{number} {_agree(count, singular, plural)}"


def format_units(units: Decimal, unit: str) -> str:
    """« 1 vacation », « 2,25 vacations », « 18 HSE » (an acronym does not take the plural)."""
    if unit == UNIT_HSE:
        return f"{format_decimal_fr(units)} HSE"
    return _count(units, unit, unit + "s")


def format_hours(hours: Decimal) -> str:
    return f"{format_decimal_fr(hours)} h"


# --- Configuration -----------------------------------------------------------------------


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _is_to_the_cent(value: Decimal) -> bool:
    return value == _cents(value)


@dataclass(frozen=True)
class VirtualClassRate:
    """One row of an académie's virtual-class table (seed 004 §5.3).

    The seed's table is an image lost from the text; the rate is expressed per hour and per
    trainer so that the one example it gives (3 h → 2,25 vacations each) is reproduced
    exactly, and rows are matched on the exact trainers count and a range of trainees
    (``max_trainees`` ``None`` means no upper limit).
    """

    trainers: int
    min_trainees: int
    max_trainees: int | None
    vacations_per_hour: Decimal

    def __post_init__(self) -> None:
        if self.trainers < 1:
            raise BaremeError("Une ligne du barème des classes virtuelles a moins d'un formateur.")
        if self.min_trainees < 0 or (
            self.max_trainees is not None and self.max_trainees < self.min_trainees
        ):
            raise BaremeError(
                "Une ligne du barème des classes virtuelles a une tranche de stagiaires "
                f"invalide ({self.min_trainees} à {self.max_trainees})."
            )
        _require_finite(self.vacations_per_hour)
        if self.vacations_per_hour <= 0:
            raise BaremeError(
                "Une ligne du barème des classes virtuelles a un nombre de vacations par heure "
                "nul ou négatif."
            )

    def covers(self, trainers: int, trainees: int) -> bool:
        return (
            trainers == self.trainers
            and trainees >= self.min_trainees
            and (self.max_trainees is None or trainees <= self.max_trainees)
        )

    def overlaps(self, other: "VirtualClassRate") -> bool:
        if self.trainers != other.trainers:
            return False
        below_other = self.max_trainees is not None and self.max_trainees < other.min_trainees
        above_other = other.max_trainees is not None and other.max_trainees < self.min_trainees
        return not (below_other or above_other)


KNOWN_VIRTUAL_CLASS_POINT = VirtualClassRate(
    trainers=2, min_trainees=20, max_trainees=20, vacations_per_hour=Decimal("0.75")
)
"""The only figure seed 004 §5.3 gives: « une Visio conférence de 3h avec deux formateurs
devant un groupe de stagiaires composé de 20 personnes donne lieu à une rémunération par
intervenant de 2,25 vacations », i.e. 0,75 vacation per hour and per trainer for exactly 2
trainers and exactly 20 trainees. Nothing is extrapolated to other headcounts: any other session
needs the académie's real table, and until then the decision is blocked with a French reason."""


@dataclass(frozen=True)
class Rates:
    """Per-académie rates; every rate the seeds do not give stays ``None`` until configured.

    The default virtual-class table holds only ``KNOWN_VIRTUAL_CLASS_POINT``.
    """

    vacation_taux_a: Decimal | None = None
    vacation_accompagnement: Decimal | None = None
    hse: Decimal | None = None
    virtual_class_table: tuple[VirtualClassRate, ...] = (KNOWN_VIRTUAL_CLASS_POINT,)

    def __post_init__(self) -> None:
        for name, rate in (
            ("taux A des vacations", self.vacation_taux_a),
            ("taux de la vacation d'accompagnement", self.vacation_accompagnement),
            ("taux de l'HSE", self.hse),
        ):
            if rate is None:
                continue
            _require_finite(rate)
            if rate <= 0 or not _is_to_the_cent(rate):
                raise BaremeError(
                    f"Le {name} doit être un montant positif au centime près "
                    f"({format_decimal_fr(rate)} €)."
                )
        table = self.virtual_class_table
        for index, row in enumerate(table):
            for other in table[index + 1 :]:
                if row.overlaps(other):
                    raise BaremeError(
                        "Deux lignes du barème des classes virtuelles se recouvrent pour "
                        f"{_count(row.trainers, 'formateur', 'formateurs')} : le taux "
                        "applicable serait ambigu."
                    )

    @classmethod
    def default_eafc(cls) -> "Rates":
        """The rates seed 004 states (taux A of March 2023), and nothing else."""
        return cls(vacation_taux_a=TAUX_A_2023)


def virtual_class_rate(
    table: Sequence[VirtualClassRate], trainers: int, trainees: int
) -> VirtualClassRate | None:
    """The row that applies, or ``None``: a missing row is configuration to complete."""
    for row in table:
        if row.covers(trainers, trainees):
            return row
    return None


def _rate_for(component: str, rates: Rates) -> Decimal | None:
    if component == COMPONENT_ACCOMPAGNEMENT:
        return rates.vacation_accompagnement
    if component == COMPONENT_HSE:
        return rates.hse
    return rates.vacation_taux_a


def _missing_rate_problem(component: str) -> str:
    name = _RATE_NAME[component]
    return (
        f"{name[0].upper()}{name[1:]} n'est pas configuré pour cette académie : "
        "la décision ne peut pas être prise."
    )


# --- Results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentLine:
    """What one person is paid for one component, with the reasoning that justifies it.

    ``cap`` is the most the barème allows on this line, kept so that a later adjustment by
    the responsable can be checked against the barème. ``rate`` and ``amount`` are ``None``
    together when the rate is not configured: an amount is never guessed.
    """

    payee: str
    payee_label: str
    component: str
    unit: str
    units: Decimal
    cap: Decimal
    rate: Decimal | None
    amount: Decimal | None
    steps: tuple[str, ...]

    def __post_init__(self) -> None:
        expected_unit = _UNIT_OF_COMPONENT.get(self.component)
        if expected_unit is None:
            raise BaremeError(f"Composante de barème inconnue : « {self.component} ».")
        if self.unit != expected_unit:
            raise BaremeError(
                f"Unité « {self.unit} » incohérente pour la composante « {self.component} »."
            )
        _require_finite(self.units)
        _require_finite(self.cap)
        if not Decimal(0) <= self.units <= self.cap:
            raise BaremeError(
                f"Ligne incohérente : {format_units(self.units, self.unit)} hors de "
                f"l'intervalle autorisé (0 à {format_units(self.cap, self.unit)})."
            )
        if (self.rate is None) != (self.amount is None):
            raise BaremeError("Ligne incohérente : un montant sans taux, ou un taux sans montant.")
        if self.rate is not None and self.amount != _cents(self.units * self.rate):
            raise BaremeError("Ligne incohérente : le montant ne correspond pas au calcul.")
        if not self.steps:
            raise BaremeError("Ligne incohérente : le calcul n'est pas détaillé.")


def _total(lines: tuple[PaymentLine, ...], problems: tuple[str, ...]) -> Decimal | None:
    if problems:
        return None
    amounts = [line.amount for line in lines]
    if any(amount is None for amount in amounts):
        return None
    return sum((amount for amount in amounts if amount is not None), Decimal("0.00"))


@dataclass(frozen=True)
class Proposal:
    """A payment proposal for one dossier, ready to be decided, or the reasons it cannot be.

    ``total`` is derived (never passed) so that it always equals the sum of the lines; it is
    ``None`` as soon as there is a problem, because a partial total would read as a decision.
    """

    dispositif: str
    lines: tuple[PaymentLine, ...]
    problems: tuple[str, ...] = ()
    total: Decimal | None = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "total", _total(self.lines, self.problems))

    @property
    def decidable(self) -> bool:
        return not self.problems

    def with_line(self, index: int, line: PaymentLine) -> "Proposal":
        """The proposal with one line replaced, typically by ``check_override``'s result.

        The problems are kept: a newly configured rate calls for a fresh computation.
        """
        old = self.lines[index]
        if (line.payee, line.component) != (old.payee, old.component):
            raise BaremeError(
                "La ligne de remplacement ne concerne pas le même bénéficiaire ou la même "
                "composante."
            )
        lines = (*self.lines[:index], line, *self.lines[index + 1 :])
        return dataclasses.replace(self, lines=lines)


def _line(
    *,
    payee: str,
    payee_label: str,
    component: str,
    units: Decimal,
    cap: Decimal,
    rates: Rates,
    steps: Sequence[str],
) -> PaymentLine:
    # The amount step is always last, so a reader ends on the figure that is paid.
    rate = _rate_for(component, rates)
    amount: Decimal | None
    if rate is None:
        amount = None
        last = f"montant non calculé : {_RATE_NAME[component]} n'est pas configuré"
    else:
        amount = _cents(units * rate)
        last = f"{format_decimal_fr(units)} × {format_euros(rate)} = {format_euros(amount)}"
    return PaymentLine(
        payee=payee,
        payee_label=payee_label,
        component=component,
        unit=_UNIT_OF_COMPONENT[component],
        units=units,
        cap=cap,
        rate=rate,
        amount=amount,
        steps=(*steps, last),
    )


def _proposal(dispositif: str, lines: Sequence[PaymentLine], rates: Rates) -> Proposal:
    problems: list[str] = []
    for line in lines:
        if _rate_for(line.component, rates) is None:
            problem = _missing_rate_problem(line.component)
            if problem not in problems:
                problems.append(problem)
    return Proposal(dispositif=dispositif, lines=tuple(lines), problems=tuple(problems))


# --- Input checks ----------------------------------------------------------------------------


def _non_negative(value: Decimal, what: str) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise BaremeError(f"{what} doit être un nombre décimal fini.")
    if value < 0:
        raise BaremeError(f"{what} ne peut pas être négatif ({format_decimal_fr(value)}).")
    return value


def _payees(
    values_by_payee: Mapping[str, tuple[str, Decimal]], what: str
) -> list[tuple[str, str, Decimal]]:
    if not values_by_payee:
        raise BaremeError("Aucun formateur n'est déclaré : la proposition serait vide.")
    entries: list[tuple[str, str, Decimal]] = []
    for payee, (label, value) in values_by_payee.items():
        if not payee.strip():
            raise BaremeError("Un bénéficiaire n'a pas d'identifiant.")
        if not label.strip():
            raise BaremeError(f"Le bénéficiaire « {payee} » n'a pas de nom.")
        entries.append((payee, label, _non_negative(value, f"{what} pour {label}")))
    return entries


def _rounding_step(exact: Decimal, unit: str) -> list[str]:
    rounded = _cents(exact)
    if rounded == exact:
        return []
    return [f"arrondi au centième → {format_units(rounded, unit)}"]


# --- Barème 000: vacation d'accompagnement à distance -------------------------------------------


def _split_pro_rata(
    total: Decimal, weights: Sequence[tuple[str, Decimal]]
) -> dict[str, tuple[Decimal, bool]]:
    """Largest-remainder split of ``total`` (a multiple of 0,01) by the weights, to the cent.

    Each share is the pro-rata share floored to the hundredth; the hundredths left over go
    one each to the largest remainders (ties: more hours, then payee key). Integers are used
    throughout so the split is exact and reproducible. Returns share and "was rounded".
    """
    scale = max(0, *(-int(weight.as_tuple().exponent) for _, weight in weights))
    ints = {payee: int(weight.scaleb(scale)) for payee, weight in weights}
    weight_sum = sum(ints.values())
    total_hundredths = int(total.scaleb(2))
    if weight_sum == 0 or total_hundredths == 0:
        return {payee: (Decimal("0.00"), False) for payee, _ in weights}
    floors = {p: total_hundredths * w // weight_sum for p, w in ints.items()}
    remainders = {p: total_hundredths * w % weight_sum for p, w in ints.items()}
    left_over = total_hundredths - sum(floors.values())
    order = sorted(ints, key=lambda p: (-remainders[p], -ints[p], p))
    for payee in order[:left_over]:
        floors[payee] += 1
    return {p: (Decimal(floors[p]).scaleb(-2).quantize(CENT), remainders[p] != 0) for p in floors}


def vacation_accompagnement(
    hours_by_payee: Mapping[str, tuple[str, Decimal]],
    effective_trainees: int,
    rates: Rates,
) -> Proposal:
    """Seed 000 §3: V = min(hours ÷ 2, effective trainees, 8) for the group.

    The caps are stated « pour un groupe » and « par stagiaire », so with several trainers on
    one group they apply to the group's total hours; the capped total is then shared in
    proportion to each trainer's hours, to the hundredth, by largest remainders, so the
    shares add up exactly to the group's vacations. Each share is that line's cap.
    """
    entries = _payees(hours_by_payee, "Le nombre d'heures déclaré")
    if effective_trainees < 0:
        raise BaremeError(
            f"Le nombre de stagiaires effectifs ne peut pas être négatif ({effective_trainees})."
        )
    total_hours = sum((hours for _, _, hours in entries), Decimal(0))
    several = len(entries) > 1
    steps: list[str] = []
    if several:
        detail = ", ".join(f"{label} : {format_hours(hours)}" for _, label, hours in entries)
        steps.append(f"{format_hours(total_hours)} au total pour le groupe ({detail})")
    value = total_hours / HOURS_PER_VACATION
    steps.append(
        f"{format_hours(total_hours)} ÷ {format_decimal_fr(HOURS_PER_VACATION)} = "
        f"{format_units(value, UNIT_VACATION)}"
    )
    trainees = Decimal(effective_trainees)
    if trainees < value:
        value = trainees
        steps.append(
            f"plafond : {_count(effective_trainees, 'stagiaire effectif', 'stagiaires effectifs')}"
            f" → {format_units(value, UNIT_VACATION)}"
        )
    if value > MAX_VACATIONS_PER_GROUP:
        value = MAX_VACATIONS_PER_GROUP
        steps.append(
            f"plafond : {format_units(MAX_VACATIONS_PER_GROUP, UNIT_VACATION)} par groupe → "
            f"{format_units(value, UNIT_VACATION)}"
        )
    steps.extend(_rounding_step(value, UNIT_VACATION))
    group_units = _cents(value)

    lines: list[PaymentLine] = []
    shares = _split_pro_rata(group_units, [(payee, hours) for payee, _, hours in entries])
    for payee, label, hours in entries:
        share, rounded = shares[payee]
        line_steps = list(steps)
        if several:
            if group_units == 0:
                line_steps.append("répartition : aucune vacation à répartir → 0 vacation")
            else:
                whole = format_units(group_units, UNIT_VACATION)
                note = f" (au centième, les parts totalisent {whole})" if rounded else ""
                line_steps.append(
                    "répartition au prorata des heures : "
                    f"{format_decimal_fr(group_units)} × {format_hours(hours)} ÷ "
                    f"{format_hours(total_hours)} → {format_units(share, UNIT_VACATION)}{note}"
                )
        lines.append(
            _line(
                payee=payee,
                payee_label=label,
                component=COMPONENT_ACCOMPAGNEMENT,
                units=share,
                cap=share,
                rates=rates,
                steps=line_steps,
            )
        )
    return _proposal(DISPOSITIF_ACCOMPAGNEMENT, lines, rates)


# --- Barème 001: HSE, convention ENT ----------------------------------------------------------


def hse_convention_ent(hours_by_payee: Mapping[str, tuple[str, Decimal]], rates: Rates) -> Proposal:
    """Seed 001: the chef d'établissement proposes each formateur-accompagnateur's hours,
    paid one HSE per hour up to the flat maximum of 18 HSE each. The line's cap is that
    result: an adjustment may lower it, not pay hours that were not proposed.
    """
    entries = _payees(hours_by_payee, "Le nombre d'heures proposé")
    lines: list[PaymentLine] = []
    for payee, label, hours in entries:
        proposed = f"{format_hours(hours)} {_agree(hours, 'proposée', 'proposées')}"
        if hours > MAX_HSE_PER_FORMATEUR:
            value = MAX_HSE_PER_FORMATEUR
            steps = [
                (
                    f"{proposed} ; plafond de {format_units(value, UNIT_HSE)} par "
                    f"formateur-accompagnateur → {format_units(value, UNIT_HSE)}"
                )
            ]
        else:
            value = hours
            steps = [f"{proposed} → {format_units(value, UNIT_HSE)}"]
        steps.extend(_rounding_step(value, UNIT_HSE))
        units = _cents(value)
        lines.append(
            _line(
                payee=payee,
                payee_label=label,
                component=COMPONENT_HSE,
                units=units,
                cap=units,
                rates=rates,
                steps=steps,
            )
        )
    return _proposal(DISPOSITIF_HSE, lines, rates)


# --- Barème 004: EAFC, vacations taux A ---------------------------------------------------------


@dataclass(frozen=True)
class VirtualClass:
    """One trainer's part in one virtual-class session (each trainer is paid, seed 004 §5.3).

    Checked on construction, so a session that breaks the co-animation rule cannot exist.
    """

    payee: str
    payee_label: str
    hours: Decimal
    trainers: int
    trainees: int

    def __post_init__(self) -> None:
        if not self.payee.strip():
            raise BaremeError("Un bénéficiaire n'a pas d'identifiant.")
        if not self.payee_label.strip():
            raise BaremeError(f"Le bénéficiaire « {self.payee} » n'a pas de nom.")
        _non_negative(self.hours, f"La durée de la classe virtuelle pour {self.payee_label}")
        if self.trainers < 1:
            raise BaremeError("Une classe virtuelle a au moins un formateur.")
        if self.trainees < 0:
            raise BaremeError(
                f"Le nombre de stagiaires ne peut pas être négatif ({self.trainees})."
            )
        if self.trainers >= 2 and self.trainees < MIN_TRAINEES_FOR_CO_ANIMATION:
            raise BaremeError(
                "La co-animation n'est possible qu'à partir de "
                f"{MIN_TRAINEES_FOR_CO_ANIMATION} participants "
                f"({_count(self.trainees, 'inscrit', 'inscrits')})."
            )


_DECIDED_WHAT: dict[str, str] = {
    COMPONENT_CONCEPTION: "conception",
    COMPONENT_MISE_A_JOUR: "mise à jour",
}
"""The components whose units are decided (typed) inside a range, not computed from the bilan."""


def decided_refusal(component: str, value: Decimal, payee_label: str | None = None) -> str | None:
    """Why the barème refuses ``value`` vacations decided for ``component`` (conception or
    mise à jour, seed 004 §5.1), in French, or None. One wording for the form field that
    takes the figure and for the guard that checks it again (``payee_label`` names whom it
    is for when the message is read away from the field)."""
    low, high = _BOUNDS[component]
    what = _DECIDED_WHAT[component]
    _require_finite(value)
    whom = f" pour {payee_label}" if payee_label else ""
    if not low <= value <= high:
        return (
            f"La {what} d'un parcours est rémunérée entre {format_decimal_fr(low)} et "
            f"{format_units(high, UNIT_VACATION)} ({format_decimal_fr(value)} "
            f"{_agree(value, 'demandée', 'demandées')}{whom})."
        )
    if not _is_to_the_cent(value):
        return (
            f"Le nombre de vacations de {what} s'exprime au centième près "
            f"({format_decimal_fr(value)}{whom})."
        )
    return None


def _decided_vacations(
    values_by_payee: Mapping[str, tuple[str, Decimal]], component: str
) -> list[tuple[str, str, Decimal]]:
    entries = _payees(values_by_payee, f"Le nombre de vacations de {_DECIDED_WHAT[component]}")
    for _, label, value in entries:
        refusal = decided_refusal(component, value, label)
        if refusal is not None:
            raise BaremeError(refusal)
    return entries


def eafc_taux_a(
    *,
    rates: Rates,
    conception: Mapping[str, tuple[str, Decimal]] | None = None,
    mise_a_jour: Mapping[str, tuple[str, Decimal]] | None = None,
    tutorat: Mapping[str, tuple[str, int]] | None = None,
    virtual_classes: Sequence[VirtualClass] = (),
) -> Proposal:
    """Seed 004 §5: every component is paid in vacations at the taux A.

    Conception and mise à jour are decided by the EAFC inside the seed's ranges; the line's
    cap is the top of the range, so an adjustment stays inside it. Tutorat counts trainees
    followed: followed ÷ 8, kept to the hundredth like every other count (n ÷ 8 would be
    exact at the thousandth, but one precision everywhere keeps figures re-typeable; the
    rounding is written in the steps when it happens). Virtual classes are paid per trainer
    from the académie's table; a session with no matching row is left out and named in the
    problems, since its units cannot be counted.
    """
    lines: list[PaymentLine] = []
    problems: list[str] = []
    conception_entries = _decided_vacations(conception, COMPONENT_CONCEPTION) if conception else []
    update_entries = _decided_vacations(mise_a_jour, COMPONENT_MISE_A_JOUR) if mise_a_jour else []
    if not (conception_entries or update_entries or tutorat or virtual_classes):
        raise EmptyProposal("Aucune composante n'est renseignée : la proposition serait vide.")

    for component, entries, what, limits in (
        (COMPONENT_CONCEPTION, conception_entries, "conception du parcours", CONCEPTION_BOUNDS),
        (COMPONENT_MISE_A_JOUR, update_entries, "mise à jour du parcours", MISE_A_JOUR_BOUNDS),
    ):
        low, high = limits
        for payee, label, value in entries:
            decided = _agree(value, "décidée", "décidées")
            step = (
                f"{what} : {format_units(value, UNIT_VACATION)} {decided} (barème : "
                f"{format_decimal_fr(low)} à {format_units(high, UNIT_VACATION)})"
            )
            lines.append(
                _line(
                    payee=payee,
                    payee_label=label,
                    component=component,
                    units=value,
                    cap=high,
                    rates=rates,
                    steps=[step],
                )
            )

    for payee, (label, followed) in (tutorat or {}).items():
        if not payee.strip() or not label.strip():
            raise BaremeError("Un tuteur n'a pas d'identifiant ou de nom.")
        if followed < 0:
            raise BaremeError(
                f"Le nombre de stagiaires suivis ne peut pas être négatif ({followed} pour "
                f"{label})."
            )
        exact = Decimal(followed) / TRAINEES_PER_TUTORAT_VACATION
        steps = [
            (
                f"{_count(followed, 'stagiaire suivi', 'stagiaires suivis')} ÷ "
                f"{TRAINEES_PER_TUTORAT_VACATION} = {format_units(exact, UNIT_VACATION)}"
            ),
            *_rounding_step(exact, UNIT_VACATION),
        ]
        units = _cents(exact)
        lines.append(
            _line(
                payee=payee,
                payee_label=label,
                component=COMPONENT_TUTORAT,
                units=units,
                cap=units,
                rates=rates,
                steps=steps,
            )
        )

    for session in virtual_classes:
        trainers = _count(session.trainers, "formateur", "formateurs")
        trainees = _count(session.trainees, "stagiaire", "stagiaires")
        row = virtual_class_rate(rates.virtual_class_table, session.trainers, session.trainees)
        if row is None:
            problems.append(
                f"Aucun taux de classe virtuelle configuré pour {trainers} et {trainees} "
                f"({session.payee_label}, {format_hours(session.hours)}) : la décision ne peut "
                "pas être prise."
            )
            continue
        exact = session.hours * row.vacations_per_hour
        steps = [
            (
                f"classe virtuelle de {format_hours(session.hours)}, {trainers}, {trainees} : "
                f"{format_units(row.vacations_per_hour, UNIT_VACATION)} par heure et par formateur"
            ),
            (
                f"{format_hours(session.hours)} × {format_decimal_fr(row.vacations_per_hour)} = "
                f"{format_units(exact, UNIT_VACATION)}"
            ),
            *_rounding_step(exact, UNIT_VACATION),
        ]
        units = _cents(exact)
        lines.append(
            _line(
                payee=session.payee,
                payee_label=session.payee_label,
                component=COMPONENT_CLASSE_VIRTUELLE,
                units=units,
                cap=units,
                rates=rates,
                steps=steps,
            )
        )

    proposal = _proposal(DISPOSITIF_EAFC, lines, rates)
    if not problems:
        return proposal
    return dataclasses.replace(proposal, problems=(*proposal.problems, *problems))


# --- Adjustment by the responsable ----------------------------------------------------------


def bounds(component: str) -> tuple[Decimal, Decimal] | None:
    """The fixed range a barème states for a component, or ``None`` when only the line's
    own computed cap bounds it (tutorat, classes virtuelles)."""
    if component not in _UNIT_OF_COMPONENT:
        raise BaremeError(f"Composante de barème inconnue : « {component} ».")
    return _BOUNDS.get(component)


def override_range(line: PaymentLine) -> tuple[Decimal, Decimal]:
    """The units the responsable may set on ``line``: from the barème's lower bound (0, or
    10 / 5 for conception / mise à jour) up to the cap computed for the line."""
    limits = bounds(line.component)
    return (limits[0] if limits is not None else Decimal(0), line.cap)


def override_refusal(line: PaymentLine, new_units: Decimal, rates: Rates) -> str | None:
    """Why the barème refuses ``new_units`` on ``line`` (French), or None: within
    ``override_range``, to the hundredth, at the rate the line was computed with."""
    if not new_units.is_finite():
        return "Le nombre d'unités doit être un nombre décimal fini."
    low, high = override_range(line)
    if not low <= new_units <= high:
        return (
            f"L'ajustement doit rester entre {format_decimal_fr(low)} et "
            f"{format_units(high, line.unit)} pour cette ligne "
            f"({format_decimal_fr(new_units)} {_agree(new_units, 'demandée', 'demandées')})."
        )
    if not _is_to_the_cent(new_units):
        return f"L'ajustement s'exprime au centième près ({format_decimal_fr(new_units)})."
    rate = _rate_for(line.component, rates)
    if line.rate is not None and rate != line.rate:
        now = format_euros(rate) if rate is not None else "non configuré"
        return (
            f"Le taux a changé depuis le calcul de la proposition ({format_euros(line.rate)} → "
            f"{now}) : recalculez la proposition avant de l'ajuster."
        )
    return None


JUSTIFICATION_REQUIRED = "Une justification est obligatoire pour ajuster le barème."


def check_override(
    line: PaymentLine, new_units: Decimal, justification: str, rates: Rates
) -> PaymentLine:
    """The line as adjusted by the responsable, if the barème allows it
    (``override_refusal``), with a written justification, which is kept in the steps. The
    rate must be the one the line was computed with, so an adjustment never silently
    re-prices a proposal.
    """
    reason = " ".join(justification.split())
    if not reason:
        raise BaremeError(JUSTIFICATION_REQUIRED)
    _require_finite(new_units)
    refusal = override_refusal(line, new_units, rates)
    if refusal is not None:
        raise BaremeError(refusal)
    adjusted = (
        f"Ajustement par le responsable : {format_units(new_units, line.unit)} "
        f"(justification : {reason})"
    )
    return _line(
        payee=line.payee,
        payee_label=line.payee_label,
        component=line.component,
        units=new_units,
        cap=line.cap,
        rates=rates,
        steps=(*line.steps, adjusted),
    )
