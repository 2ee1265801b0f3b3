"""The simulator reproduces every figure of DOMAIN §6, with the decision's own steps."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflow.payments.baremes import BaremeError, Rates, format_decimal_fr, format_units
from workflow.payments.simulation import Simulation, describe, simulate

D = Decimal
SEED = Rates.default_eafc()  # what the texts give: taux A 45 €, the one virtual-class point


def test_the_13_hours_5_trainees_example_with_a_45_euro_vacation() -> None:
    result = simulate(
        "vacation_accompagnement", {"hours": ["13"], "effective_trainees": ["5"]}, SEED, D(45)
    )
    [line] = result.proposal.lines
    assert line.steps == (
        "13 h ÷ 2 = 6,5 vacations",
        "plafond : 5 stagiaires effectifs → 5 vacations",
        "5 × 45,00 € = 225,00 €",
    )
    assert result.proposal.total == D("225.00")
    assert describe(result)[-1] == "Total : 225,00 €"


def test_at_most_8_vacations_for_a_group() -> None:
    result = simulate(
        "vacation_accompagnement", {"hours": ["20"], "effective_trainees": ["12"]}, SEED, D(45)
    )
    [line] = result.proposal.lines
    assert line.units == 8 and line.amount == D("360.00")
    assert "plafond : 8 vacations par groupe → 8 vacations" in line.steps


def test_the_8_vacation_cap_applies_to_the_group_of_several_trainers() -> None:
    result = simulate(
        "vacation_accompagnement",
        {"hours": ["10", "12"], "effective_trainees": ["30"]},
        SEED,
        D(45),
    )
    assert [line.units for line in result.proposal.lines] == [D("3.64"), D("4.36")]
    assert result.proposal.total == D("360.00")


def test_at_most_one_vacation_per_effective_trainee() -> None:
    result = simulate(
        "vacation_accompagnement", {"hours": ["16"], "effective_trainees": ["3"]}, SEED, D(45)
    )
    assert result.proposal.lines[0].units == 3


def test_without_an_accompaniment_rate_the_units_show_but_no_amount_is_invented() -> None:
    result = simulate(
        "vacation_accompagnement", {"hours": ["13"], "effective_trainees": ["5"]}, SEED
    )
    [line] = result.proposal.lines
    assert line.units == 5 and line.amount is None and result.proposal.total is None
    assert result.proposal.problems == (
        "Le taux de la vacation d'accompagnement à distance n'est pas configuré pour cette "
        "académie : la décision ne peut pas être prise.",
    )
    assert describe(result)[-1].startswith("Total : non calculé")


def test_each_formateur_is_paid_at_most_18_hse_and_the_hse_rate_is_never_invented() -> None:
    result = simulate("hse_convention_ent", {"hours": ["25", "12"]}, SEED)
    assert [line.units for line in result.proposal.lines] == [18, 12]
    assert result.proposal.lines[0].steps[0] == (
        "25 h proposées ; plafond de 18 HSE par formateur-accompagnateur → 18 HSE"
    )
    assert result.proposal.total is None
    assert "Le taux de l'HSE n'est pas configuré" in result.proposal.problems[0]
    priced = simulate("hse_convention_ent", {"hours": ["25"]}, SEED, D("20.00"))
    assert priced.proposal.total == D("360.00")


@pytest.mark.parametrize(
    ("decided", "ok"), [("9.99", False), ("10", True), ("20", True), ("20.01", False)]
)
def test_conception_is_decided_between_10_and_20_vacations(decided: str, ok: bool) -> None:
    if ok:
        result = simulate("eafc_taux_a", {"conception": [decided]}, SEED)
        assert result.proposal.total == D(decided) * 45
    else:
        with pytest.raises(BaremeError, match="entre 10 et 20 vacations"):
            simulate("eafc_taux_a", {"conception": [decided]}, SEED)


@pytest.mark.parametrize(
    ("decided", "ok"), [("4.99", False), ("5", True), ("10", True), ("11", False)]
)
def test_an_update_is_decided_between_5_and_10_vacations(decided: str, ok: bool) -> None:
    if ok:
        assert (
            simulate("eafc_taux_a", {"update": [decided]}, SEED).proposal.total == D(decided) * 45
        )
    else:
        with pytest.raises(BaremeError, match="entre 5 et 10 vacations"):
            simulate("eafc_taux_a", {"update": [decided]}, SEED)


@pytest.mark.parametrize(("followed", "units"), [(8, "1"), (16, "2"), (20, "2.5"), (5, "0.63")])
def test_tutorat_is_one_vacation_per_8_trainees_followed(followed: int, units: str) -> None:
    result = simulate("eafc_taux_a", {"followed_trainees": [str(followed)]}, SEED)
    assert result.proposal.lines[0].units == D(units)


def test_a_3_hour_virtual_class_with_2_trainers_and_20_trainees_pays_2_25_each() -> None:
    result = simulate(
        "eafc_taux_a",
        {"class_hours": ["3"], "class_trainers": ["2"], "class_trainees": ["20"]},
        SEED,
    )
    assert [(line.units, line.amount) for line in result.proposal.lines] == [
        (D("2.25"), D("101.25")),
        (D("2.25"), D("101.25")),
    ]
    assert result.proposal.lines[0].steps[1] == "3 h × 0,75 = 2,25 vacations"


def test_co_animation_is_refused_under_15_trainees() -> None:
    with pytest.raises(BaremeError, match="co-animation n'est possible qu'à partir de 15"):
        simulate(
            "eafc_taux_a",
            {"class_hours": ["3"], "class_trainers": ["2"], "class_trainees": ["14"]},
            SEED,
        )


def test_a_virtual_class_outside_the_table_says_so_in_french() -> None:
    result = simulate(
        "eafc_taux_a",
        {"class_hours": ["3"], "class_trainers": ["1"], "class_trainees": ["12"]},
        SEED,
    )
    assert result.proposal.lines == ()
    assert (
        "Aucun taux de classe virtuelle configuré pour 1 formateur et 12 stagiaires"
        in (result.proposal.problems[0])
    )


@pytest.mark.parametrize(
    ("bareme", "params", "message"),
    [
        ("inconnu", {}, "Barème inconnu"),
        (
            "vacation_accompagnement",
            {"hours": ["13"]},
            "Paramètre obligatoire manquant : --effective-trainees",
        ),
        (
            "vacation_accompagnement",
            {"hours": ["x"], "effective_trainees": ["5"]},
            "doit être un nombre",
        ),
        ("vacation_accompagnement", {"hours": ["-1"], "effective_trainees": ["5"]}, "entre 0 et"),
        (
            "vacation_accompagnement",
            {"hours": ["1"], "effective_trainees": ["2.5"]},
            "nombre entier",
        ),
        (
            "hse_convention_ent",
            {"hours": ["1"], "trainees": ["2"]},
            "Paramètre inconnu pour le barème",
        ),
        ("eafc_taux_a", {"conception": ["10", "12"]}, "ne peut être donné qu'une fois"),
        ("eafc_taux_a", {"class_hours": ["3"]}, "ensemble"),
        ("eafc_taux_a", {}, "Aucune composante"),
    ],
)
def test_bad_parameters_are_refused_in_french(
    bareme: str, params: dict[str, list[str]], message: str
) -> None:
    with pytest.raises(BaremeError, match=message):
        simulate(bareme, params, SEED)


def test_a_simulated_rate_must_be_a_positive_amount_to_the_cent() -> None:
    with pytest.raises(BaremeError, match="au centime près"):
        simulate("hse_convention_ent", {"hours": ["3"]}, SEED, D("12.345"))


# --- Properties: the printed steps add up to the amounts, and the amounts to the total -------

NNBSP = "\u202f"
amounts = st.decimals(min_value=0, max_value=300, places=2)
rates_ = st.decimals(min_value=D("0.01"), max_value=D("200"), places=2)


def _euros(text: str) -> Decimal:
    match = re.search(r"(\d{1,3}(?:\u202f\d{3})*),(\d\d) €", text)
    assert match is not None, text
    return D(match.group(1).replace(NNBSP, "") + "." + match.group(2))


def _assert_steps_add_up(result: Simulation) -> None:
    proposal = result.proposal
    for line in proposal.lines:
        # The step before the amount ends on the units that are paid...
        units_text = format_units(line.units, line.unit)
        before = line.steps[-2]
        assert (
            f"→ {units_text}" in before
            or before.endswith(f"= {units_text}")
            or f": {units_text} décidée" in before
        ), line.steps
        # ...and the last step multiplies exactly those units by the rate.
        assert line.amount is not None and line.rate is not None
        assert line.steps[-1].startswith(f"{format_decimal_fr(line.units)} × ")
        assert _euros(line.steps[-1].split(" = ")[-1]) == line.amount
        assert 0 <= line.amount <= (line.cap * line.rate).quantize(D("0.01"), ROUND_HALF_UP)
        assert line.amount == line.amount.quantize(D("0.01"))
    text = describe(result)
    assert proposal.total is not None
    assert (
        _euros(text[-1])
        == proposal.total
        == sum((_euros(line.steps[-1].split(" = ")[-1]) for line in proposal.lines), D(0))
    )


@given(
    st.lists(amounts, min_size=1, max_size=4),
    st.integers(min_value=0, max_value=40),
    rates_,
)
def test_accompaniment_steps_add_up(hours: list[Decimal], trainees: int, rate: Decimal) -> None:
    result = simulate(
        "vacation_accompagnement",
        {"hours": [str(h) for h in hours], "effective_trainees": [str(trainees)]},
        SEED,
        rate,
    )
    _assert_steps_add_up(result)
    assert sum(line.units for line in result.proposal.lines) <= min(D(8), D(trainees))


@given(st.lists(amounts, min_size=1, max_size=4), rates_)
def test_hse_steps_add_up(hours: list[Decimal], rate: Decimal) -> None:
    result = simulate("hse_convention_ent", {"hours": [str(h) for h in hours]}, SEED, rate)
    _assert_steps_add_up(result)
    assert all(line.units <= 18 for line in result.proposal.lines)


@given(
    st.decimals(min_value=10, max_value=20, places=2),
    st.integers(min_value=0, max_value=200),
    st.sampled_from(["3", "1.5", "2.25", "0"]),
    rates_,
)
def test_eafc_steps_add_up(
    conception: Decimal, followed: int, class_hours: str, rate: Decimal
) -> None:
    result = simulate(
        "eafc_taux_a",
        {
            "conception": [str(conception)],
            "followed_trainees": [str(followed)],
            "class_hours": [class_hours],
            "class_trainers": ["2"],
            "class_trainees": ["20"],
        },
        SEED,
        rate,
    )
    _assert_steps_add_up(result)
