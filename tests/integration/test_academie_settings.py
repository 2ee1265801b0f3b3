"""Per-académie settings: read from the académie's file, refused in French when unusable."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from workflow.dossiers.editing import DossierEditor
from workflow.store import academie_settings as module
from workflow.store.academie_settings import SettingsError, academie_settings
from workflow.store.settings import get_settings


def test_the_demo_file_gives_signature_block_place_and_rule(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "academies_dir", module.PACKAGED)
    academie_id = DossierEditor(engine, tmp_path).create_academie("demo", "Démo", "DMO")
    with engine.connect() as conn:
        settings = academie_settings(conn, academie_id)
    assert settings.name == "Démo"  # the row names it; the file seeds the rest
    assert settings.institution == "Académie de démonstration"
    assert settings.signature_block[0].startswith("École académique")
    assert settings.place == "Démoville"
    assert settings.participation_rule == "une_presence"
    assert settings.offset_days("rappel_signature", 7) == 7


def test_an_academie_without_a_file_gets_defaults(engine: Engine, tmp_path: Path) -> None:
    academie_id = DossierEditor(engine, tmp_path).create_academie(
        "sans-fichier", "Sans fichier", "SSF"
    )
    with engine.connect() as conn:
        settings = academie_settings(conn, academie_id)
    assert (settings.name, settings.institution, settings.signature_block) == (
        "Sans fichier",
        "Sans fichier",
        (),
    )
    assert settings.stagiaire_retention_days == module.DEFAULT_STAGIAIRE_RETENTION_DAYS


def test_an_unknown_rule_is_refused_in_french(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bad.toml").write_text(
        'participation = "parfois"\n[delais]\nrappel_signature = -1\n'
    )
    monkeypatch.setattr(get_settings(), "academies_dir", tmp_path)
    academie_id = DossierEditor(engine, tmp_path).create_academie("bad", "Mauvaise", "BAD")
    with engine.connect() as conn, pytest.raises(SettingsError, match="règle inconnue"):
        academie_settings(conn, academie_id)
