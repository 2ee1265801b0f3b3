"""French that agrees: « le 1er décembre », and roles that agree with the person."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from states.roles import FEMININE, ROLES, role_label, role_noun
from workflow.language.french import format_date, format_datetime


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (date(2026, 12, 1), "1er décembre 2026"),
        (date(2026, 12, 2), "2 décembre 2026"),
        (date(2027, 1, 11), "11 janvier 2027"),
        (date(2027, 3, 21), "21 mars 2027"),
    ],
)
def test_the_first_of_the_month_is_an_ordinal(value: date, text: str) -> None:
    assert format_date(value) == text


def test_weekdays_and_times_too() -> None:
    assert format_date(date(2027, 2, 1), weekday=True) == "lundi 1er février 2027"
    # 23:30 UTC on 30 November is 00:30 on 1 December in Paris: the Paris day decides.
    assert format_datetime(datetime(2026, 11, 30, 23, 30, tzinfo=UTC)) == (
        "1er décembre 2026 à 00:30"
    )
    assert format_datetime(datetime(2026, 12, 11, 9, 0, tzinfo=UTC)) == "11 décembre 2026 à 10:00"


def test_labels_agree_with_the_civilite() -> None:
    assert role_label("formateur") == "Formateur"
    assert role_label("formateur", "monsieur") == "Formateur"
    assert role_label("formateur", "madame") == "Formatrice"
    assert role_label("concepteur", "madame") == "Conceptrice"
    assert role_label("tuteur", "madame") == "Tutrice"
    assert role_label("chef_etablissement", "madame") == "Cheffe d'établissement"
    assert role_label("coordonnateur_reseau", "madame") == "Coordonnatrice de réseau"
    assert role_label("gestionnaire", "madame") == "Gestionnaire EAFC"  # epicene
    assert set(FEMININE) - {"auteur_bilan"} <= set(ROLES)


def test_roles_as_nouns_in_a_sentence() -> None:
    assert role_noun("gestionnaire", "madame") == "la gestionnaire EAFC"
    assert role_noun("gestionnaire", "monsieur") == "le gestionnaire EAFC"
    assert role_noun("gestionnaire") == "le gestionnaire EAFC"
    assert role_noun("pilote", "madame", "du") == "de la pilote"
    assert role_noun("pilote", None, "du") == "du pilote"
    assert role_noun("ien", "madame") == "l'IEN de circonscription"
    assert role_noun("ien", None, "du") == "de l'IEN de circonscription"
    assert role_noun("formateur", "madame", "au") == "à la formatrice"
    assert role_noun("formateur", "monsieur", "au") == "au formateur"
