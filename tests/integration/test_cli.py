"""The ``formaflow`` command as an EAFC agent or an ops person runs it (in process, and in a
subprocess for the console script itself and the commands that run an event loop)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from states import LATEST
from tests.support.cli import run_cli
from tests.support.smtp import SmtpSink
from workflow.store.database import make_engine
from workflow.store.tables import dossier_table


def reference(url: str, workflow: str, state: str) -> str:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return str(
                conn.execute(
                    select(dossier_table.c.reference).where(
                        dossier_table.c.workflow_name == workflow, dossier_table.c.state == state
                    )
                )
                .scalars()
                .first()
            )
    finally:
        engine.dispose()


def test_demo_then_status_shows_every_state_of_both_workflows(loaded: tuple[str, Path]) -> None:
    url, data = loaded
    status = run_cli(url, data, "status", process=True)
    assert status.returncode == 0, status.stderr
    lines = status.stdout.splitlines()
    for spec in LATEST.values():
        for state in spec.states:
            row = next(line for line in lines if f" {state.label} " in f"{line} ")
            assert int(row.split()[-1]) >= 1, row
    again = run_cli(url, data, "demo")
    assert again.returncode == 0 and "déjà présentes" in again.stdout


def test_fire_reports_refusals_in_french_with_a_failing_exit_code(
    loaded: tuple[str, Path],
) -> None:
    url, data = loaded
    ref = reference(url, "dossier_formation", "scenario_soumis")
    cases = [
        (["fire", "99-XXX-9999", "annuler", "--as", "paul.lefevre@example.org"], 1, "introuvable"),
        (["fire", ref, "valider_scenario", "--as", "lea.martin@example.org"], 1, "rôle requis"),
        (
            ["fire", ref, "demander_revision", "--as", "nadia.rousseau@example.org"],
            1,
            "un commentaire (obligatoire",
        ),
        (
            ["fire", ref, "valider_bilan", "--as", "camille.morel@example.org"],
            1,
            "Actions possibles dans cet état",
        ),
        (["fire", ref, "valider_scenario", "--as", "personne@example.org"], 1, "Aucune personne"),
        (
            [
                "fire",
                ref,
                "valider_scenario",
                "--as",
                "nadia.rousseau@example.org",
                "--version",
                "1",
            ],
            1,
            "modifié entre-temps",
        ),
        (
            [
                "fire",
                ref,
                "valider_scenario",
                "--as",
                "nadia.rousseau@example.org",
                "--payload",
                "{pas du json",
            ],
            2,
            "Données JSON invalides",
        ),
    ]
    for args, code, message in cases:
        result = run_cli(url, data, *args)
        assert (result.returncode, message in result.stderr) == (code, True), (args, result)
        assert "Traceback" not in result.stderr
    ok = run_cli(url, data, "fire", ref, "valider_scenario", "--as", "nadia.rousseau@example.org")
    assert ok.returncode == 0, ok.stderr
    assert f"{ref} : Scénario soumis au pilote → Scénario validé" in ok.stdout


def test_a_substitute_acts_for_the_pilote_and_history_says_so(loaded: tuple[str, Path]) -> None:
    url, data = loaded
    ref = reference(url, "dossier_formation", "brouillon")
    actions = run_cli(url, data, "actions", ref, "--as", "olivier.mercier@example.org")
    assert "emettre_contrat — Émettre le contrat : prête" in actions.stdout
    fired = run_cli(
        url, data, "fire", ref, "emettre_contrat", "--as", "olivier.mercier@example.org"
    )
    assert fired.returncode == 0, fired.stderr
    shown = run_cli(url, data, "history", ref)
    assert (
        "Émettre le contrat par Olivier Mercier pour Paul Lefèvre (Pilote), « Brouillon » → "
        "« Contrat à signer »" in shown.stdout
    )


def test_walkthrough_takes_a_dossier_to_payment(loaded: tuple[str, Path]) -> None:
    url, data = loaded
    result = run_cli(url, data, "walkthrough")
    assert result.returncode == 0, result.stderr
    assert "au moins un formateur affecté au dossier" in result.stdout
    assert "Accorder le paiement — Bilan validé → Paiement accordé" in result.stdout
    assert "5 × 45,00 € = 225,00 €" in result.stdout
    assert result.stdout.rstrip().endswith("« Mis en paiement ».")


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_diagram_export(fmt: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'unused.db'}"
    result = run_cli(url, tmp_path, "diagram", "ouverture_parcours", "--format", fmt)
    assert result.returncode == 0
    expected = "stateDiagram-v2" if fmt == "mermaid" else 'digraph "ouverture_parcours"'
    assert result.stdout.startswith(expected)
    bad = run_cli(url, tmp_path, "diagram", "inconnu")
    assert bad.returncode == 2 and "Workflow inconnu" in bad.stderr


def test_outbox_relay_and_timers_commands(loaded: tuple[str, Path]) -> None:
    url, data = loaded
    listed = run_cli(url, data, "outbox", "list", "--statut", "pending", "--limit", "3")
    assert listed.returncode == 0, listed.stderr
    first = listed.stdout.splitlines()[0]
    assert first.startswith("En attente : ") and "en échec : 0" in first
    assert "[en attente]" in listed.stdout and "26-DEM-" in listed.stdout
    assert run_cli(url, data, "outbox", "list", "--statut", "perdu").returncode == 2
    # The relay, pointed at a real SMTP server, empties the queue.
    sink = SmtpSink().start()
    try:
        smtp = {"FORMAFLOW_SMTP_HOST": "127.0.0.1", "FORMAFLOW_SMTP_PORT": str(sink.port)}
        relayed = run_cli(url, data, "relay", "--once", extra=smtp, process=True)
    finally:
        sink.stop()
    assert relayed.returncode == 0, relayed.stderr
    count = int(relayed.stdout.split()[0])
    assert count > 100 and len(sink.messages()) == count
    after = run_cli(url, data, "outbox", "list", "--limit", "1").stdout.splitlines()[0]
    assert after.startswith("En attente : 0 · envoyés : ")
    timers = run_cli(url, data, "timers", "--once", process=True)
    assert timers.returncode == 0 and "échéance(s) traitée(s)." in timers.stdout
    assert run_cli(url, data, "outbox", "retry").stdout.strip() == "0 courriel(s) remis en file."
    purged = run_cli(url, data, "outbox", "purge", "--jours", "0")
    assert purged.stdout.strip() == f"{count} courriel(s) supprimé(s)."


def test_a_database_never_upgraded_is_explained_in_french(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'vide.db'}"
    result = run_cli(url, tmp_path, "outbox", "list", process=True)
    assert result.returncode == 1
    assert "n'est pas initialisée ou pas à jour : lancez « formaflow db upgrade »" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    assert run_cli(url, tmp_path, "db", "upgrade").returncode == 0
    assert run_cli(url, tmp_path, "outbox", "list").returncode == 0
