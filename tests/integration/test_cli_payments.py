"""``formaflow bareme``, ``audit`` and ``export`` as an EAFC agent runs them, in a subprocess."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from icalendar import Calendar
from openpyxl import load_workbook
from sqlalchemy import text
from typer.testing import CliRunner

from api.cli import app
from tests.integration.test_cli import reference
from tests.support.cli import run_cli
from workflow.store.database import is_postgresql, make_engine

SIMULATIONS = [
    (
        [
            "vacation_accompagnement",
            "--hours",
            "13",
            "--effective-trainees",
            "5",
            "--rate",
            "45",
        ],
        [
            "  13 h ÷ 2 = 6,5 vacations",
            "  plafond : 5 stagiaires effectifs → 5 vacations",
            "  5 × 45,00 € = 225,00 €",
            "Total : 225,00 €",
        ],
    ),
    (
        ["vacation_accompagnement", "--hours", "20", "--effective-trainees", "12", "--rate", "45"],
        ["  plafond : 8 vacations par groupe → 8 vacations", "Total : 360,00 €"],
    ),
    (
        ["hse_convention_ent", "--hours", "25"],
        [
            "  25 h proposées ; plafond de 18 HSE par formateur-accompagnateur → 18 HSE",
            "Attention : Le taux de l'HSE n'est pas configuré pour cette académie : la décision "
            "ne peut pas être prise.",
        ],
    ),
    (["eafc_taux_a", "--conception", "20"], ["Total : 900,00 €"]),
    (["eafc_taux_a", "--update=5"], ["Total : 225,00 €"]),
    (["eafc_taux_a", "--followed-trainees", "8"], ["  8 stagiaires suivis ÷ 8 = 1 vacation"]),
    (
        ["eafc_taux_a", "--class-hours", "3", "--class-trainers", "2", "--class-trainees", "20"],
        ["  3 h × 0,75 = 2,25 vacations", "Total : 202,50 €"],
    ),
]


@pytest.mark.parametrize(
    ("args", "expected"), SIMULATIONS, ids=[" ".join(a[:2]) for a, _ in SIMULATIONS]
)
def test_bareme_simulate_prints_the_seed_figures(args: list[str], expected: list[str]) -> None:
    result = CliRunner().invoke(app, ["bareme", "simulate", *args])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    for line in expected:
        assert line in lines, result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [
                "eafc_taux_a",
                "--class-hours",
                "3",
                "--class-trainers",
                "2",
                "--class-trainees",
                "14",
            ],
            "La co-animation n'est possible qu'à partir de 15 participants (14 inscrits).",
        ),
        (["eafc_taux_a", "--conception", "25"], "entre 10 et 20 vacations"),
        (["eafc_taux_a", "--update", "11"], "entre 5 et 10 vacations"),
        (["vacation_accompagnement", "--hours"], "Valeur manquante après --hours."),
        (["nouveau", "--x", "1"], "Barème inconnu"),
    ],
)
def test_bareme_simulate_refuses_in_french_with_exit_code_2(args: list[str], message: str) -> None:
    """In process (no database needed): the subprocess round is the test below."""
    result = CliRunner().invoke(app, ["bareme", "simulate", *args])
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_audit_verify_then_exports_then_a_tampered_journal(loaded: tuple[str, Path]) -> None:
    url, data = loaded
    simulated = run_cli(
        url,
        data,
        "bareme",
        "simulate",
        "vacation_accompagnement",
        "--hours",
        "13",
        "--effective-trainees",
        "5",
        "--academie",
        "demo",
    )
    assert simulated.returncode == 0 and "  5 × 45,00 € = 225,00 €" in simulated.stdout
    ok = run_cli(url, data, "audit", "verify")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("Journal des décisions intègre : ")
    # Every signed demo contract was sealed when its last signature was given.
    sealed = re.search(r"dont (\d+) PDF scellé\(s\) au sceau valide", ok.stdout)
    assert sealed is not None and int(sealed.group(1)) > 0, ok.stdout

    # One byte changed in one stored sealed PDF: found, named, exit code 1.
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            key = conn.execute(
                text("select storage_key from document where kind = 'contrat_scelle' limit 1")
            ).scalar_one()
    finally:
        engine.dispose()
    stored = data / "documents" / key
    original = stored.read_bytes()
    stored.write_bytes(original[:100] + bytes([original[100] ^ 1]) + original[101:])
    altered = run_cli(url, data, "audit", "verify")
    stored.write_bytes(original)
    assert altered.returncode == 1
    assert "ne correspond plus à l'empreinte SHA-256 enregistrée" in altered.stderr

    paid = reference(url, "dossier_formation", "mis_en_paiement")
    for args, name in (
        (["budget", "--academie", "demo"], "budget-demo.xlsx"),
        (["dossiers", "--format", "csv"], "dossiers.csv"),
        (["fiche", paid], f"fiche-remuneration-{paid}.html"),
        (["bilan", paid], f"bilan-{paid}.html"),
        (["sofia", paid], f"sofia-fmo-{paid}.zip"),
        (["sessions", paid], f"sessions-{paid}.ics"),
    ):
        out = data / name
        result = run_cli(url, data, "export", *args, "--output", str(out))
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"Fichier écrit : {out}")
    sheet = load_workbook(data / "budget-demo.xlsx").active
    assert sheet["A1"].value == "Référence"
    assert "manifeste.csv" in zipfile.ZipFile(data / f"sofia-fmo-{paid}.zip").namelist()
    assert Calendar.from_ical((data / f"sessions-{paid}.ics").read_bytes()).walk("VEVENT")
    assert "Fiche de rémunération" in (data / f"fiche-remuneration-{paid}.html").read_text()

    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            if is_postgresql(conn):
                conn.execute(text("ALTER TABLE decision_journal DISABLE TRIGGER USER"))
            else:
                conn.execute(text("DROP TRIGGER decision_journal_no_update"))
            conn.execute(
                text(
                    "update decision_journal set body = replace(body, '\"role\"', '\"rôle\"') "
                    "where position = 2"
                )
            )
    finally:
        engine.dispose()
    broken = run_cli(url, data, "audit", "verify")
    assert broken.returncode == 1
    assert "Académie « demo », entrée n° 2 : elle a été modifiée" in broken.stderr
    assert "Journal des décisions ALTÉRÉ" in broken.stderr

    missing = run_cli(url, data, "export", "fiche", "26-XXX-9999")
    assert missing.returncode == 1 and "introuvable" in missing.stderr
