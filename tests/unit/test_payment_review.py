"""Checking the responsable's adjustments before the decision: refusals by line and for
the justification, and otherwise the very proposal the guard will record."""

from __future__ import annotations

from decimal import Decimal

from workflow.payments.baremes import (
    Rates,
    decided_refusal,
    eafc_taux_a,
    override_range,
    vacation_accompagnement,
)
from workflow.payments.decision import adjustable_lines, decided_payload, review_adjustments

RATES = Rates(vacation_accompagnement=Decimal("45.00"))
PROPOSAL = vacation_accompagnement({"12": ("Alice Martin", Decimal(13))}, 5, RATES)


def test_unchanged_units_are_no_adjustment() -> None:
    review = review_adjustments(PROPOSAL, {0: Decimal(5)}, "", RATES)
    assert (review.payload, review.line_errors, review.justification_error) == ({}, {}, None)
    assert review.proposal == PROPOSAL and not review.changed


def test_out_of_bounds_and_unjustified_are_both_reported() -> None:
    assert override_range(PROPOSAL.lines[0]) == (Decimal(0), Decimal(5))
    review = review_adjustments(PROPOSAL, {0: Decimal(9)}, "   ", RATES)
    assert review.proposal is None
    assert review.line_errors == {
        0: "L'ajustement doit rester entre 0 et 5 vacations pour cette ligne (9 demandées)."
    }
    assert review.justification_error == "Une justification est obligatoire pour ajuster le barème."
    thousandth = review_adjustments(PROPOSAL, {0: Decimal("4.005")}, "bilan", RATES)
    assert "centième" in thousandth.line_errors[0]


def test_a_justified_adjustment_gives_the_payload_and_the_recorded_lines() -> None:
    review = review_adjustments(PROPOSAL, {0: Decimal(4)}, " Une  séance annulée ", RATES)
    assert review.payload == {
        "ajustements": [{"personne": 12, "composante": "accompagnement", "unites": "4"}],
        "justification": "Une séance annulée",
    }
    assert review.proposal is not None and review.proposal.total == Decimal("180.00")
    assert review.proposal.lines[0].steps[-2] == (
        "Ajustement par le responsable : 4 vacations (justification : Une séance annulée)"
    )


def test_two_lines_of_one_component_for_one_person_cannot_be_adjusted_alone() -> None:
    doubled = PROPOSAL.__class__(PROPOSAL.dispositif, (PROPOSAL.lines[0], PROPOSAL.lines[0]))
    assert adjustable_lines(doubled) == frozenset()
    review = review_adjustments(doubled, {1: Decimal(3)}, "bilan", RATES)
    assert review.line_errors == {1: "Cette ligne ne peut pas être ajustée seule."}


def test_decided_figures_are_refused_outside_the_bareme_range_in_french() -> None:
    assert decided_refusal("conception", Decimal(15)) is None
    assert decided_refusal("mise_a_jour", Decimal(5)) is None
    assert decided_refusal("conception", Decimal(25)) == (
        "La conception d'un parcours est rémunérée entre 10 et 20 vacations (25 demandées)."
    )
    assert decided_refusal("mise_a_jour", Decimal(4), "Alice Martin") == (
        "La mise à jour d'un parcours est rémunérée entre 5 et 10 vacations "
        "(4 demandées pour Alice Martin)."
    )
    assert "centième" in (decided_refusal("conception", Decimal("12.345")) or "")


def test_decided_figures_go_into_the_payload_with_the_adjustments() -> None:
    decided = decided_payload({("conception", 7): Decimal(15), ("mise_a_jour", 7): Decimal(6)})
    assert decided == {"conception": {"7": "15"}, "mise_a_jour": {"7": "6"}}
    rates = Rates.default_eafc()
    proposal = eafc_taux_a(
        rates=rates,
        conception={"7": ("Chloé Petit", Decimal(15))},
        mise_a_jour={"7": ("Chloé Petit", Decimal(6))},
        tutorat={"8": ("Léa Roux", 16)},
    )
    review = review_adjustments(proposal, {2: Decimal(1)}, "Un stagiaire parti", rates, decided)
    assert review.payload == {
        **decided,
        "ajustements": [{"personne": 8, "composante": "tutorat", "unites": "1"}],
        "justification": "Un stagiaire parti",
    }
    assert review.proposal is not None and review.proposal.total == Decimal("990.00")
    alone = review_adjustments(proposal, {}, "", rates, decided)
    assert alone.payload == decided and not alone.changed
