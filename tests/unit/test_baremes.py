"""The barèmes against every figure of the seeds, and their invariants under random inputs."""

import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflow.payments.baremes import (
    KNOWN_VIRTUAL_CLASS_POINT,
    TAUX_A_2023,
    BaremeError,
    PaymentLine,
    Proposal,
    Rates,
    VirtualClass,
    VirtualClassRate,
    bounds,
    check_override,
    eafc_taux_a,
    format_decimal_fr,
    format_euros,
    format_units,
    hse_convention_ent,
    vacation_accompagnement,
    virtual_class_rate,
)

D = Decimal
CENT = D("0.01")
RATE_45 = D("45.00")
ACCOMPAGNEMENT_45 = Rates(vacation_accompagnement=RATE_45)
HSE_TEST_RATE = D("12.34")
HSE_RATES = Rates(hse=HSE_TEST_RATE)
EAFC = Rates.default_eafc()
NNBSP = "\u202f"

HSE_MISSING = (
    "Le taux de l'HSE n'est pas configuré pour cette académie : la décision ne peut pas être prise."
)


def one(label: str, hours: str) -> dict[str, tuple[str, Decimal]]:
    return {"p1": (label, D(hours))}


def euros_in(text: str) -> Decimal:
    """Reads back the French amount that ends a step, independently of the module's helper."""
    match = re.search(r"= (\d{1,3}(?:\u202f\d{3})*),(\d\d) €$", text)
    assert match is not None, text
    return D(match.group(1).replace(NNBSP, "") + "." + match.group(2))


# --- Seed 000: vacation d'accompagnement à distance -------------------------------------------


def test_the_13_hours_5_trainees_example_reads_exactly_as_written() -> None:
    proposal = vacation_accompagnement(one("Alice Martin", "13"), 5, ACCOMPAGNEMENT_45)

    assert proposal.problems == ()
    [line] = proposal.lines
    assert line.steps == (
        "13 h ÷ 2 = 6,5 vacations",
        "plafond : 5 stagiaires effectifs → 5 vacations",
        "5 × 45,00 € = 225,00 €",
    )
    assert (line.units, line.rate, line.amount) == (D(5), RATE_45, D("225.00"))
    assert (line.payee, line.payee_label, line.component, line.unit) == (
        "p1",
        "Alice Martin",
        "accompagnement",
        "vacation",
    )
    assert proposal.total == D("225.00")
    assert proposal.dispositif == "vacation_accompagnement"


def test_one_vacation_per_two_hours_when_no_cap_is_reached() -> None:
    [line] = vacation_accompagnement(one("A", "7"), 10, ACCOMPAGNEMENT_45).lines

    assert line.units == D("3.5")
    assert line.steps == ("7 h ÷ 2 = 3,5 vacations", "3,5 × 45,00 € = 157,50 €")


def test_a_group_is_paid_at_most_8_vacations() -> None:
    [line] = vacation_accompagnement(one("A", "30"), 20, ACCOMPAGNEMENT_45).lines

    assert line.units == D(8)
    assert line.cap == D(8)
    assert line.steps[1] == "plafond : 8 vacations par groupe → 8 vacations"
    assert line.amount == D("360.00")


@pytest.mark.parametrize(
    ("trainees", "expected"),
    [(0, "0"), (1, "1"), (7, "7"), (8, "8"), (9, "8"), (40, "8")],
)
def test_at_most_one_vacation_per_effective_trainee(trainees: int, expected: str) -> None:
    [line] = vacation_accompagnement(one("A", "20"), trainees, ACCOMPAGNEMENT_45).lines

    assert line.units == D(expected)


def test_the_trainee_cap_step_agrees_in_the_singular() -> None:
    [line] = vacation_accompagnement(one("A", "10"), 1, ACCOMPAGNEMENT_45).lines

    assert line.steps[1] == "plafond : 1 stagiaire effectif → 1 vacation"


def test_with_several_trainers_the_caps_apply_to_the_group_and_shares_follow_hours() -> None:
    hours = {
        "alice": ("Alice Martin", D(8)),
        "bob": ("Bob Durand", D(5)),
        "chloe": ("Chloé Petit", D(3)),
    }
    proposal = vacation_accompagnement(hours, 5, ACCOMPAGNEMENT_45)

    units = {line.payee: line.units for line in proposal.lines}
    # 5 × 8/16 = 2,5 ; 5 × 5/16 = 1,5625 ; 5 × 3/16 = 0,9375 → the spare hundredth goes to the
    # largest remainder (Chloé's 0,75 hundredth beats Bob's 0,25).
    assert units == {"alice": D("2.50"), "bob": D("1.56"), "chloe": D("0.94")}
    assert sum(units.values()) == D(5)
    bob = next(line for line in proposal.lines if line.payee == "bob")
    assert bob.steps[0] == (
        "16 h au total pour le groupe (Alice Martin : 8 h, Bob Durand : 5 h, Chloé Petit : 3 h)"
    )
    assert bob.steps[2] == "plafond : 5 stagiaires effectifs → 5 vacations"
    assert bob.steps[3] == (
        "répartition au prorata des heures : 5 × 5 h ÷ 16 h → 1,56 vacation "
        "(au centième, les parts totalisent 5 vacations)"
    )
    assert proposal.total == D("225.00")


def test_the_split_does_not_depend_on_the_order_of_the_trainers() -> None:
    forward = {"a": ("A", D(1)), "b": ("B", D(1)), "c": ("C", D(1))}
    backward = dict(reversed(list(forward.items())))

    first = vacation_accompagnement(forward, 1, ACCOMPAGNEMENT_45)
    second = vacation_accompagnement(backward, 1, ACCOMPAGNEMENT_45)

    shares = {line.payee: line.units for line in first.lines}
    assert shares == {line.payee: line.units for line in second.lines}
    assert shares == {"a": D("0.34"), "b": D("0.33"), "c": D("0.33")}


def test_without_the_accompaniment_rate_no_amount_is_invented() -> None:
    proposal = vacation_accompagnement(one("A", "13"), 5, Rates(vacation_taux_a=RATE_45))

    [line] = proposal.lines
    assert line.units == D(5)
    assert line.rate is None
    assert line.amount is None
    assert proposal.total is None
    assert not proposal.decidable
    assert proposal.problems == (
        (
            "Le taux de la vacation d'accompagnement à distance n'est pas configuré pour cette "
            "académie : la décision ne peut pas être prise."
        ),
    )
    assert line.steps[-1].startswith("montant non calculé")


@pytest.mark.parametrize(
    ("hours", "trainees", "message"),
    [
        ("-1", 5, "ne peut pas être négatif"),
        ("NaN", 5, "nombre décimal fini"),
        ("Infinity", 5, "nombre décimal fini"),
        ("4", -1, "ne peut pas être négatif"),
    ],
)
def test_invalid_accompaniment_inputs_are_refused_in_french(
    hours: str, trainees: int, message: str
) -> None:
    with pytest.raises(BaremeError, match=message):
        vacation_accompagnement(one("Alice", hours), trainees, ACCOMPAGNEMENT_45)


def test_an_empty_or_anonymous_declaration_is_refused() -> None:
    with pytest.raises(BaremeError, match="Aucun formateur"):
        vacation_accompagnement({}, 5, ACCOMPAGNEMENT_45)
    with pytest.raises(BaremeError, match="identifiant"):
        vacation_accompagnement({" ": ("A", D(2))}, 5, ACCOMPAGNEMENT_45)
    with pytest.raises(BaremeError, match="pas de nom"):
        vacation_accompagnement({"p": (" ", D(2))}, 5, ACCOMPAGNEMENT_45)


# --- Seed 001: HSE, convention ENT ------------------------------------------------------------


def test_each_formateur_accompagnateur_is_paid_at_most_18_hse() -> None:
    proposal = hse_convention_ent(one("Alice", "20"), HSE_RATES)

    [line] = proposal.lines
    assert line.steps == (
        "20 h proposées ; plafond de 18 HSE par formateur-accompagnateur → 18 HSE",
        "18 × 12,34 € = 222,12 €",
    )
    assert (line.units, line.unit, line.amount) == (D(18), "HSE", D("222.12"))
    assert proposal.total == D("222.12")


@pytest.mark.parametrize(("hours", "expected"), [("0", "0"), ("17.5", "17.5"), ("18", "18")])
def test_hours_up_to_18_are_paid_as_proposed(hours: str, expected: str) -> None:
    [line] = hse_convention_ent(one("A", hours), HSE_RATES).lines

    assert line.units == D(expected)
    assert "plafond" not in line.steps[0]


def test_the_18_hse_cap_is_per_person_not_per_group() -> None:
    hours = {"a": ("A", D(20)), "b": ("B", D(30)), "c": ("C", D(1))}
    proposal = hse_convention_ent(hours, HSE_RATES)

    assert [line.units for line in proposal.lines] == [D(18), D(18), D(1)]
    assert proposal.lines[2].steps[0] == "1 h proposée → 1 HSE"
    assert proposal.total == D("222.12") * 2 + D("12.34")


def test_without_the_hse_rate_the_decision_is_blocked_in_french() -> None:
    proposal = hse_convention_ent(one("A", "20"), Rates())

    assert proposal.problems == (HSE_MISSING,)
    [line] = proposal.lines
    assert line.units == D(18)
    assert (line.rate, line.amount, proposal.total) == (None, None, None)
    assert line.steps[-1] == "montant non calculé : le taux de l'HSE n'est pas configuré"


def test_negative_hse_hours_are_refused() -> None:
    with pytest.raises(BaremeError, match="ne peut pas être négatif"):
        hse_convention_ent(one("A", "-0.5"), HSE_RATES)


# --- Seed 004: EAFC, vacations taux A -----------------------------------------------------------


def test_the_eafc_default_is_the_45_euro_taux_a_and_nothing_else() -> None:
    assert D("45.00") == TAUX_A_2023
    assert EAFC.vacation_taux_a == D("45.00")
    assert EAFC.vacation_accompagnement is None
    assert EAFC.hse is None


def test_no_rate_is_invented_by_default() -> None:
    rates = Rates()

    assert (rates.vacation_taux_a, rates.vacation_accompagnement, rates.hse) == (None, None, None)
    assert rates.virtual_class_table == (KNOWN_VIRTUAL_CLASS_POINT,)
    assert VirtualClassRate(2, 20, 20, D("0.75")) == KNOWN_VIRTUAL_CLASS_POINT


@pytest.mark.parametrize("decided", ["10", "15", "20"])
def test_conception_between_10_and_20_vacations_is_accepted(decided: str) -> None:
    proposal = eafc_taux_a(rates=EAFC, conception=one("A", decided))

    [line] = proposal.lines
    assert line.units == D(decided)
    assert line.cap == D(20)
    assert line.amount == D(decided) * RATE_45
    assert "barème : 10 à 20 vacations" in line.steps[0]


@pytest.mark.parametrize("decided", ["9.99", "9", "20.01", "21"])
def test_conception_outside_10_to_20_is_refused(decided: str) -> None:
    with pytest.raises(BaremeError, match="entre 10 et 20 vacations"):
        eafc_taux_a(rates=EAFC, conception=one("A", decided))


@pytest.mark.parametrize("decided", ["5", "7.5", "10"])
def test_update_between_5_and_10_vacations_is_accepted(decided: str) -> None:
    [line] = eafc_taux_a(rates=EAFC, mise_a_jour=one("A", decided)).lines

    assert line.component == "mise_a_jour"
    assert line.units == D(decided)
    assert line.cap == D(10)


@pytest.mark.parametrize("decided", ["4.99", "4", "10.01", "11"])
def test_update_outside_5_to_10_is_refused(decided: str) -> None:
    with pytest.raises(BaremeError, match="mise à jour d'un parcours est rémunérée entre 5 et 10"):
        eafc_taux_a(rates=EAFC, mise_a_jour=one("A", decided))


def test_a_decided_count_finer_than_the_hundredth_is_refused() -> None:
    with pytest.raises(BaremeError, match="au centième près"):
        eafc_taux_a(rates=EAFC, conception=one("A", "12.345"))


@pytest.mark.parametrize(
    ("followed", "expected"),
    [(0, "0"), (8, "1"), (16, "2"), (20, "2.5"), (4, "0.5"), (3, "0.38"), (1, "0.13")],
)
def test_tutorat_is_one_vacation_per_8_trainees_followed(followed: int, expected: str) -> None:
    [line] = eafc_taux_a(rates=EAFC, tutorat={"t": ("Tuteur", followed)}).lines

    assert line.component == "tutorat"
    assert line.units == D(expected)
    assert line.amount == (D(expected) * RATE_45).quantize(CENT, rounding=ROUND_HALF_UP)


def test_tutorat_steps_show_the_rounding_to_the_hundredth() -> None:
    [line] = eafc_taux_a(rates=EAFC, tutorat={"t": ("Tuteur", 3)}).lines

    assert line.steps == (
        "3 stagiaires suivis ÷ 8 = 0,375 vacation",
        "arrondi au centième → 0,38 vacation",
        "0,38 × 45,00 € = 17,10 €",
    )


def test_negative_tutorat_is_refused() -> None:
    with pytest.raises(BaremeError, match="stagiaires suivis ne peut pas être négatif"):
        eafc_taux_a(rates=EAFC, tutorat={"t": ("Tuteur", -1)})


def test_the_3_hours_2_trainers_20_trainees_virtual_class_pays_2_25_vacations_each() -> None:
    sessions = [
        VirtualClass("a", "Alice", D(3), trainers=2, trainees=20),
        VirtualClass("b", "Bob", D(3), trainers=2, trainees=20),
    ]
    proposal = eafc_taux_a(rates=EAFC, virtual_classes=sessions)

    assert proposal.problems == ()
    assert [line.units for line in proposal.lines] == [D("2.25"), D("2.25")]
    assert proposal.lines[0].steps == (
        (
            "classe virtuelle de 3 h, 2 formateurs, 20 stagiaires : "
            "0,75 vacation par heure et par formateur"
        ),
        "3 h × 0,75 = 2,25 vacations",
        "2,25 × 45,00 € = 101,25 €",
    )
    assert proposal.total == D("202.50")


def test_co_animation_under_15_trainees_is_refused() -> None:
    with pytest.raises(BaremeError) as refused:
        VirtualClass("a", "Alice", D(3), trainers=2, trainees=14)

    assert str(refused.value) == (
        "La co-animation n'est possible qu'à partir de 15 participants (14 inscrits)."
    )


def test_co_animation_from_15_trainees_is_accepted_and_priced_from_the_table() -> None:
    table = (
        KNOWN_VIRTUAL_CLASS_POINT,
        VirtualClassRate(trainers=2, min_trainees=15, max_trainees=19, vacations_per_hour=D("0.7")),
    )
    session = VirtualClass("a", "Alice", D(2), trainers=2, trainees=15)

    proposal = eafc_taux_a(
        rates=Rates(vacation_taux_a=RATE_45, virtual_class_table=table),
        virtual_classes=[session],
    )

    assert proposal.problems == ()
    assert proposal.lines[0].units == D("1.4")


def test_a_session_outside_the_configured_table_blocks_the_decision_without_a_line() -> None:
    session = VirtualClass("a", "Alice", D(3), trainers=2, trainees=15)

    proposal = eafc_taux_a(rates=EAFC, virtual_classes=[session], tutorat={"t": ("Tuteur", 8)})

    assert [line.component for line in proposal.lines] == ["tutorat"]
    assert proposal.total is None
    [problem] = proposal.problems
    assert problem.lower().startswith(
        "aucun taux de classe virtuelle configuré pour 2 formateurs et 15 stagiaires"
    )
    assert problem.endswith("la décision ne peut pas être prise.")


def test_a_single_trainer_needs_no_co_animation_minimum_but_a_table_row() -> None:
    session = VirtualClass("a", "Alice", D(1), trainers=1, trainees=5)

    proposal = eafc_taux_a(rates=EAFC, virtual_classes=[session])

    assert proposal.lines == ()
    assert "pour 1 formateur et 5 stagiaires" in proposal.problems[0]


def test_the_virtual_class_table_lookup_and_its_consistency() -> None:
    table = (KNOWN_VIRTUAL_CLASS_POINT,)

    assert virtual_class_rate(table, 2, 20) == KNOWN_VIRTUAL_CLASS_POINT
    assert virtual_class_rate(table, 2, 21) is None
    assert virtual_class_rate(table, 3, 20) is None
    with pytest.raises(BaremeError, match="se recouvrent"):
        Rates(virtual_class_table=(KNOWN_VIRTUAL_CLASS_POINT, VirtualClassRate(2, 15, None, D(1))))
    with pytest.raises(BaremeError, match="tranche de stagiaires"):
        VirtualClassRate(2, 20, 19, D(1))


def test_without_the_taux_a_every_eafc_component_is_blocked() -> None:
    proposal = eafc_taux_a(
        rates=Rates(),
        conception=one("A", "12"),
        tutorat={"t": ("T", 8)},
        virtual_classes=[VirtualClass("a", "A", D(3), 2, 20)],
    )

    assert proposal.problems == (
        (
            "Le taux A des vacations n'est pas configuré pour cette académie : la décision ne "
            "peut pas être prise."
        ),
    )
    assert [line.units for line in proposal.lines] == [D(12), D(1), D("2.25")]
    assert all(line.amount is None and line.rate is None for line in proposal.lines)
    assert proposal.total is None


def test_an_eafc_proposal_needs_at_least_one_component() -> None:
    with pytest.raises(BaremeError, match="Aucune composante"):
        eafc_taux_a(rates=EAFC)


@pytest.mark.parametrize(
    "build",
    [
        lambda: Rates(hse=D("-1")),
        lambda: Rates(hse=D("0")),
        lambda: Rates(vacation_taux_a=D("45.001")),
        lambda: Rates(vacation_accompagnement=D("NaN")),
    ],
)
def test_a_rate_must_be_positive_and_to_the_cent(build: Callable[[], Rates]) -> None:
    with pytest.raises(BaremeError, match=r"montant positif au centime près|nombre décimal fini"):
        build()


# --- Adjustment by the responsable ------------------------------------------------------------


def test_the_bareme_bounds_per_component() -> None:
    assert bounds("conception") == (D(10), D(20))
    assert bounds("mise_a_jour") == (D(5), D(10))
    assert bounds("hse") == (D(0), D(18))
    assert bounds("accompagnement") == (D(0), D(8))
    assert bounds("tutorat") is None
    assert bounds("classe_virtuelle") is None
    with pytest.raises(BaremeError, match="inconnue"):
        bounds("prime")


def test_an_adjustment_inside_the_cap_is_recomputed_and_justified() -> None:
    [line] = vacation_accompagnement(one("A", "13"), 5, ACCOMPAGNEMENT_45).lines

    adjusted = check_override(line, D(4), "  bilan   incomplet ", ACCOMPAGNEMENT_45)

    assert adjusted.units == D(4)
    assert adjusted.amount == D("180.00")
    assert adjusted.cap == line.cap
    assert adjusted.steps[: len(line.steps)] == line.steps
    assert adjusted.steps[-2:] == (
        "Ajustement par le responsable : 4 vacations (justification : bilan incomplet)",
        "4 × 45,00 € = 180,00 €",
    )


@pytest.mark.parametrize("units", ["5.01", "6", "-0.01"])
def test_an_adjustment_outside_the_cap_is_refused(units: str) -> None:
    [line] = vacation_accompagnement(one("A", "13"), 5, ACCOMPAGNEMENT_45).lines

    with pytest.raises(BaremeError, match="entre 0 et 5 vacations pour cette ligne"):
        check_override(line, D(units), "bilan", ACCOMPAGNEMENT_45)


@pytest.mark.parametrize("justification", ["", "   ", "\n\t"])
def test_an_adjustment_without_justification_is_refused(justification: str) -> None:
    [line] = vacation_accompagnement(one("A", "13"), 5, ACCOMPAGNEMENT_45).lines

    with pytest.raises(BaremeError, match="justification est obligatoire"):
        check_override(line, D(4), justification, ACCOMPAGNEMENT_45)


@pytest.mark.parametrize(("units", "accepted"), [("9.99", False), ("10", True), ("20", True)])
def test_a_conception_adjustment_stays_within_10_to_20(units: str, accepted: bool) -> None:
    [line] = eafc_taux_a(rates=EAFC, conception=one("A", "15")).lines

    if accepted:
        assert check_override(line, D(units), "complexité", EAFC).units == D(units)
    else:
        with pytest.raises(BaremeError, match="entre 10 et 20 vacations"):
            check_override(line, D(units), "complexité", EAFC)


def test_an_hse_adjustment_and_a_changed_rate() -> None:
    [line] = hse_convention_ent(one("A", "20"), HSE_RATES).lines

    adjusted = check_override(line, D(10), "service partiel", HSE_RATES)
    assert adjusted.steps[-2] == (
        "Ajustement par le responsable : 10 HSE (justification : service partiel)"
    )
    assert adjusted.amount == D("123.40")
    with pytest.raises(BaremeError, match="Le taux a changé"):
        check_override(line, D(10), "service partiel", Rates(hse=D("13.00")))
    with pytest.raises(BaremeError, match="au centième près"):
        check_override(line, D("10.005"), "service partiel", HSE_RATES)


def test_an_adjustment_of_an_unpriced_line_stays_unpriced() -> None:
    [line] = hse_convention_ent(one("A", "20"), Rates()).lines

    adjusted = check_override(line, D(10), "service partiel", Rates())

    assert (adjusted.units, adjusted.rate, adjusted.amount) == (D(10), None, None)


def test_replacing_a_line_recomputes_the_total() -> None:
    proposal = hse_convention_ent({"a": ("A", D(20)), "b": ("B", D(5))}, HSE_RATES)
    adjusted = check_override(proposal.lines[0], D(10), "service partiel", HSE_RATES)

    updated = proposal.with_line(0, adjusted)

    assert updated.total == D("123.40") + D("61.70")
    with pytest.raises(BaremeError, match="même bénéficiaire"):
        proposal.with_line(1, adjusted)


def test_an_inconsistent_line_cannot_be_built() -> None:
    with pytest.raises(BaremeError, match="montant ne correspond pas"):
        PaymentLine("a", "A", "hse", "HSE", D(2), D(18), D("10.00"), D("25.00"), ("x",))
    with pytest.raises(BaremeError, match="hors de l'intervalle"):
        PaymentLine("a", "A", "hse", "HSE", D(19), D(18), None, None, ("x",))
    with pytest.raises(BaremeError, match="Unité"):
        PaymentLine("a", "A", "hse", "vacation", D(2), D(18), None, None, ("x",))


# --- French numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("6.5", "6,5"),
        ("5", "5"),
        ("5.00", "5"),
        ("2.250", "2,25"),
        ("0", "0"),
        ("999", "999"),
        ("1000", f"1{NNBSP}000"),
        ("1234567.5", f"1{NNBSP}234{NNBSP}567,5"),
        ("1E+3", f"1{NNBSP}000"),
        ("-0.5", "-0,5"),
    ],
)
def test_french_decimal_writing(value: str, text: str) -> None:
    assert format_decimal_fr(D(value)) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("225", "225,00 €"),
        ("45", "45,00 €"),
        ("0.005", "0,01 €"),
        ("1234.5", f"1{NNBSP}234,50 €"),
    ],
)
def test_french_euro_writing(value: str, text: str) -> None:
    assert format_euros(D(value)) == text


@pytest.mark.parametrize(
    ("units", "unit", "text"),
    [
        ("1", "vacation", "1 vacation"),
        ("0", "vacation", "0 vacation"),
        ("1.5", "vacation", "1,5 vacation"),
        ("2", "vacation", "2 vacations"),
        ("2.25", "vacation", "2,25 vacations"),
        ("1", "HSE", "1 HSE"),
        ("18", "HSE", "18 HSE"),
    ],
)
def test_french_unit_agreement(units: str, unit: str, text: str) -> None:
    assert format_units(D(units), unit) == text


def test_a_non_finite_number_cannot_be_written() -> None:
    with pytest.raises(BaremeError):
        format_decimal_fr(D("NaN"))


# --- Properties -------------------------------------------------------------------------------

hours_values = st.decimals(min_value=0, max_value=400, places=2)
rate_values = st.decimals(min_value=D("0.01"), max_value=D("500"), places=2)
payee_keys = st.text(alphabet="abcdefgh", min_size=1, max_size=4)
hours_maps = st.dictionaries(payee_keys, hours_values, min_size=1, max_size=5).map(
    lambda hours: {payee: (f"Formateur {payee}", value) for payee, value in hours.items()}
)


def assert_line_is_sound(line: PaymentLine) -> None:
    assert D(0) <= line.units <= line.cap
    if line.rate is None:
        assert line.amount is None
        assert line.steps[-1].startswith("montant non calculé")
        return
    assert line.amount is not None
    assert line.amount >= 0
    assert line.amount == (line.units * line.rate).quantize(CENT, rounding=ROUND_HALF_UP)
    assert line.amount <= (line.cap * line.rate).quantize(CENT, rounding=ROUND_HALF_UP)
    assert line.amount == line.amount.quantize(CENT)
    assert euros_in(line.steps[-1]) == line.amount
    assert line.steps[-1] == (
        f"{format_decimal_fr(line.units)} × {format_euros(line.rate)} = {format_euros(line.amount)}"
    )


def assert_proposal_is_sound(proposal: Proposal) -> None:
    for line in proposal.lines:
        assert_line_is_sound(line)
    if proposal.problems:
        assert proposal.total is None
    else:
        amounts = [line.amount for line in proposal.lines]
        assert all(amount is not None for amount in amounts)
        assert proposal.total == sum((a for a in amounts if a is not None), D(0))
        assert proposal.total >= 0


@given(hours_maps, st.integers(min_value=0, max_value=60), st.none() | rate_values)
def test_accompaniment_invariants(
    hours: dict[str, tuple[str, Decimal]], trainees: int, rate: Decimal | None
) -> None:
    proposal = vacation_accompagnement(hours, trainees, Rates(vacation_accompagnement=rate))

    assert_proposal_is_sound(proposal)
    assert bool(proposal.problems) == (rate is None)
    total_hours = sum((value for _, value in hours.values()), D(0))
    group = min(total_hours / 2, D(trainees), D(8)).quantize(CENT, rounding=ROUND_HALF_UP)
    assert sum(line.units for line in proposal.lines) == group
    assert group <= 8
    for line in proposal.lines:
        share = group * hours[line.payee][1] / total_hours if total_hours else D(0)
        assert abs(line.units - share) < CENT


@given(hours_maps, st.none() | rate_values)
def test_hse_invariants(hours: dict[str, tuple[str, Decimal]], rate: Decimal | None) -> None:
    proposal = hse_convention_ent(hours, Rates(hse=rate))

    assert_proposal_is_sound(proposal)
    for line in proposal.lines:
        assert line.units == min(hours[line.payee][1], D(18))
        assert line.units <= 18
    if rate is None:
        assert proposal.problems == (HSE_MISSING,)


@given(
    st.decimals(min_value=10, max_value=20, places=2),
    st.decimals(min_value=5, max_value=10, places=2),
    st.integers(min_value=0, max_value=200),
    st.lists(
        st.tuples(st.decimals(min_value=0, max_value=12, places=2), st.integers(1, 3)), max_size=3
    ),
    st.none() | rate_values,
)
def test_eafc_invariants(
    conception: Decimal,
    update: Decimal,
    followed: int,
    sessions: list[tuple[Decimal, int]],
    rate: Decimal | None,
) -> None:
    table = (
        VirtualClassRate(1, 0, None, D("0.5")),
        VirtualClassRate(2, 15, None, D("0.75")),
        VirtualClassRate(3, 15, None, D("0.6")),
    )
    classes = [VirtualClass("v", "V", hours, trainers, 20) for hours, trainers in sessions]

    proposal = eafc_taux_a(
        rates=Rates(vacation_taux_a=rate, virtual_class_table=table),
        conception={"c": ("C", conception)},
        mise_a_jour={"m": ("M", update)},
        tutorat={"t": ("T", followed)},
        virtual_classes=classes,
    )

    assert_proposal_is_sound(proposal)
    assert len(proposal.lines) == 3 + len(sessions)
    tutorat = proposal.lines[2]
    assert tutorat.units == (D(followed) / 8).quantize(CENT, rounding=ROUND_HALF_UP)


@given(
    hours_values,
    st.integers(min_value=0, max_value=20),
    st.decimals(min_value=-2, max_value=10, places=2),
    rate_values,
)
def test_an_adjustment_is_accepted_exactly_within_zero_and_the_cap(
    hours: Decimal, trainees: int, new_units: Decimal, rate: Decimal
) -> None:
    rates = Rates(vacation_accompagnement=rate)
    [line] = vacation_accompagnement({"a": ("A", hours)}, trainees, rates).lines

    if D(0) <= new_units <= line.cap:
        adjusted = check_override(line, new_units, "bilan", rates)
        assert adjusted.units == new_units
        assert_line_is_sound(adjusted)
    else:
        with pytest.raises(BaremeError, match="L'ajustement doit rester entre"):
            check_override(line, new_units, "bilan", rates)


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=3))
def test_french_writing_reads_back_to_the_same_number(value: Decimal) -> None:
    text = format_decimal_fr(value)

    assert D(text.replace(NNBSP, "").replace(",", ".")) == value
    assert not text.endswith(",0")
    assert "." not in text
