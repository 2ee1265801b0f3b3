"""Per-académie settings: stored in the database, read fresh, changed with their history,
refused in French when unusable; a seed file creates an académie and is then irrelevant."""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import DBAPIError

from states.dispositifs import SignatoryMode
from workflow.admin.catalog import SettingsRefused
from workflow.admin.changes import history
from workflow.admin.service import Administration
from workflow.dossiers.editing import DossierEditor
from workflow.payments.rates import academie_rates
from workflow.store import academie_settings as module
from workflow.store.academie_settings import academie_settings
from workflow.store.tables import academie_change_table, academie_setting_table, academie_table


def _slug() -> tuple[str, str]:
    tag = uuid.uuid4().hex[:6]
    return f"seed-{tag}", f"S{tag[:5].upper()}"


def test_the_demo_seed_creates_an_academie_with_its_settings(engine: Engine) -> None:
    slug, code = _slug()
    admin = Administration(engine)
    academie_id = admin.import_seed(
        (module.PACKAGED / "demo.toml").read_text("utf-8"), where="demo.toml", slug=slug, code=code
    )
    with engine.connect() as conn:
        settings = academie_settings(conn, academie_id)
        rates = academie_rates(conn, academie_id)
        lines, total = history(conn, academie_id)
    assert (settings.slug, settings.code, settings.name) == (
        slug,
        code,
        "Académie de démonstration",
    )
    assert settings.institution == "Académie de démonstration"
    assert settings.signature_block[0].startswith("École académique")
    assert settings.place == "Démoville"
    assert settings.reply_to == "eafc@example.org"
    assert settings.participation_rule == "une_presence"
    assert settings.offset_days("rappel_signature", 7) == 7
    assert rates.vacation_taux_a == Decimal("45.00") and rates.hse is None
    assert [(r.trainers, r.min_trainees, r.max_trainees) for r in rates.virtual_class_table] == [
        (2, 20, 20)
    ]
    # Every initial value is in the history, the creation first (oldest last).
    assert total == len(lines) and lines[-1].what == "Création de l'académie"
    assert any(line.what == "Vacation au taux A" and line.new == "45,00 €" for line in lines)


def test_a_change_applies_at_once_and_is_kept_with_who_and_old_to_new(
    engine: Engine, tmp_path: Path
) -> None:
    slug, code = _slug()
    editor = DossierEditor(engine, tmp_path)
    academie_id = editor.create_academie(slug, "Sans graine", code)
    admin_person = editor.create_person(f"admin-{slug}@example.org", "Alice Administratrice")
    admin = Administration(engine)
    admin.grant(academie_id, admin_person, "administrateur", actor_id=None)
    with engine.connect() as conn:
        before = academie_settings(conn, academie_id)
    assert (before.name, before.institution, before.signature_block) == (
        "Sans graine",
        "Sans graine",
        (),
    )
    assert before.rates.configured is False
    assert before.signatories_for("eafc_taux_a")[0].role == "formateur"

    made = admin.change_settings(
        slug,
        {
            "tarifs.hse": "21,5",
            "delais.rappel_signature": "3",
            "signature": "EAFC\nRectorat",
            "signataires.eafc_taux_a": [
                {"role": "responsable", "mode": "un"},
                {"role": "tuteur", "mode": "chacun"},
            ],
        },
        actor_id=admin_person,
    )
    assert {c.key for c in made} == {
        "tarifs.hse",
        "delais.rappel_signature",
        "signature",
        "signataires.eafc_taux_a",
    }
    with engine.connect() as conn:
        after = academie_settings(conn, academie_id)
        lines, _ = history(conn, academie_id)
    assert after.rates.hse == Decimal("21.50")
    assert after.offset_days("rappel_signature", 7) == 3
    assert after.signature_block == ("EAFC", "Rectorat")
    assert [(r.role, r.mode) for r in after.signatories_for("eafc_taux_a")] == [
        ("tuteur", SignatoryMode.EACH),
        ("responsable", SignatoryMode.ONE),
    ]
    hse = next(line for line in lines if line.what.startswith("Heure supplémentaire"))
    assert (hse.who, hse.old, hse.new) == ("Alice Administratrice", "(non renseigné)", "21,50 €")
    delay = next(line for line in lines if line.what.startswith("Délai"))
    assert (delay.old, delay.new) == ("par défaut (7 jours)", "3 jours")

    # The same values again change nothing and write no history; back to the default
    # removes the row.
    assert admin.change_settings(slug, {"tarifs.hse": "21.50"}, actor_id=admin_person) == []
    admin.change_settings(slug, {"delais.rappel_signature": "7"}, actor_id=admin_person)
    with engine.connect() as conn:
        assert "delais.rappel_signature" not in module.stored_values(conn, academie_id)
        assert academie_settings(conn, academie_id).offset_days("rappel_signature", 7) == 7


def test_refusals_name_every_field_in_french_and_write_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    slug, code = _slug()
    academie_id = DossierEditor(engine, tmp_path).create_academie(slug, "Refus", code)
    admin = Administration(engine)
    with pytest.raises(SettingsRefused) as refused:
        admin.change_settings(
            slug,
            {
                "tarifs.vacation_taux_a": "quarante",
                "tarifs.hse": "-3",
                "delais.rappel_signature": "demain",
                "participation": "parfois",
                "reply_to": "pas une adresse",
                "tarifs.classes_virtuelles": [
                    {
                        "formateurs": 2,
                        "stagiaires_min": 15,
                        "stagiaires_max": 25,
                        "vacations_par_heure": "0.75",
                    },
                    {
                        "formateurs": 2,
                        "stagiaires_min": 20,
                        "stagiaires_max": None,
                        "vacations_par_heure": "0.5",
                    },
                ],
            },
            actor_id=None,
        )
    errors = dict(refused.value.errors)
    assert "nombre décimal attendu" in errors["tarifs.vacation_taux_a"]
    assert errors["tarifs.hse"].startswith("montant positif attendu")
    assert "nombre entier attendu" in errors["delais.rappel_signature"]
    assert errors["participation"].startswith("règle inconnue")
    assert errors["reply_to"].startswith("adresse électronique invalide")
    assert "se recouvrent" in errors["tarifs.classes_virtuelles"]
    with engine.connect() as conn:
        assert module.stored_values(conn, academie_id) == {}
        assert history(conn, academie_id) == ([], 0)
    with pytest.raises(SettingsRefused, match="Paramètre inconnu"):
        admin.change_settings(slug, {"tarifs.inconnu": "3"}, actor_id=None)


def test_a_seed_with_an_unknown_key_or_a_taken_slug_is_refused(engine: Engine) -> None:
    admin = Administration(engine)
    slug, code = _slug()
    with pytest.raises(SettingsRefused, match="clé\\(s\\) inconnue\\(s\\) : tarif"):
        admin.import_seed('nom = "X"\n[tarif]\nhse = "1"\n', where="x.toml", slug=slug, code=code)
    admin.import_seed('nom = "Première"\n', where="x.toml", slug=slug, code=code)
    with pytest.raises(SettingsRefused) as taken:
        admin.import_seed('nom = "Seconde"\n', where="x.toml", slug=slug, code=code)
    assert dict(taken.value.errors) == {
        "slug": f"l'identifiant « {slug} » est déjà pris",
        "code": f"le code « {code} » est déjà pris",
    }


def test_the_history_is_append_only_in_the_database(engine: Engine, tmp_path: Path) -> None:
    slug, code = _slug()
    academie_id = DossierEditor(engine, tmp_path).create_academie(slug, "Journal", code)
    Administration(engine).change_settings(slug, {"tarifs.hse": "20"}, actor_id=None)
    with engine.connect() as conn:
        change = conn.execute(
            select(academie_change_table.c.id).where(
                academie_change_table.c.academie_id == academie_id
            )
        ).scalar_one()
    for statement in (
        update(academie_change_table)
        .where(academie_change_table.c.id == change)
        .values(new_value='"1.00"'),
        academie_change_table.delete().where(academie_change_table.c.id == change),
    ):
        with pytest.raises(DBAPIError), engine.begin() as conn:
            conn.execute(statement)


def test_an_unreadable_stored_value_is_refused_in_french(engine: Engine, tmp_path: Path) -> None:
    slug, code = _slug()
    academie_id = DossierEditor(engine, tmp_path).create_academie(slug, "Abîmée", code)
    with engine.begin() as conn:
        conn.execute(
            insert(academie_setting_table).values(
                academie_id=academie_id, key="participation", value='"parfois"'
            )
        )
    with engine.connect() as conn, pytest.raises(module.SettingsError, match="règle inconnue"):
        academie_settings(conn, academie_id)
    with engine.connect() as conn:
        assert (
            conn.execute(
                select(academie_table.c.slug).where(academie_table.c.id == academie_id)
            ).scalar_one()
            == slug
        )
