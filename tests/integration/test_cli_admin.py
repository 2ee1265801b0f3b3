"""The operator's administration commands: an académie from a seed file, its settings and
history, its people from a CSV (a dry run, then all or nothing), roles and suppléances."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import run_cli

SEED = """slug = "lyon-test"
code = "LYT"
nom = "Académie de Lyon (essai)"
reply_to = "eafc-lyon@example.org"
institution = "Académie de Lyon"
signature = ["EAFC de Lyon", "eafc-lyon@example.org"]
lieu = "Lyon"

[delais]
rappel_signature = 5

[tarifs]
vacation_taux_a = "45.00"
hse = "20.50"

[[tarifs.classes_virtuelles]]
formateurs = 1
stagiaires_min = 1
vacations_par_heure = "0.5"

[signataires]
eafc_taux_a = [{ role = "formateur", mode = "chacun" }, { role = "responsable", mode = "un" }]
"""


def test_an_academie_from_its_seed_then_settings_people_roles(
    loaded: tuple[str, Path], tmp_path: Path
) -> None:
    url, data = loaded
    seed = tmp_path / "lyon.toml"
    seed.write_text(SEED, "utf-8")
    created = run_cli(url, data, "academie", "import", str(seed), process=True)
    assert created.returncode == 0, created.stderr
    assert "Académie créée : Académie de Lyon (essai) (identifiant lyon-test, code LYT)" in (
        created.stdout
    )
    again = run_cli(url, data, "academie", "import", str(seed))
    assert again.returncode == 2 and "l'identifiant « lyon-test » est déjà pris" in again.stderr
    # The seed is read once: editing the file afterwards changes nothing.
    seed.write_text(SEED.replace('hse = "20.50"', 'hse = "99.00"'), "utf-8")
    shown = run_cli(url, data, "academie", "show", "lyon-test")
    assert "Heure supplémentaire effective (HSE) [tarifs.hse] : 20,50 €" in shown.stdout
    assert (
        "Délai : Rappel aux signataires qui n'ont pas signé [delais.rappel_signature] : 5 jours"
        in (shown.stdout)
    )

    changed = run_cli(url, data, "academie", "set", "lyon-test", "tarifs.hse=21", "lieu=")
    assert changed.returncode == 0, changed.stderr
    assert "Heure supplémentaire effective (HSE) : 20,50 € → 21,00 €" in changed.stdout
    refused = run_cli(url, data, "academie", "set", "lyon-test", "tarifs.hse=vingt")
    assert refused.returncode == 2
    assert "Heure supplémentaire effective (HSE) (tarifs.hse) : montant : nombre décimal" in (
        refused.stderr
    )
    history = run_cli(url, data, "academie", "history", "lyon-test")
    assert "l'exploitant (ligne de commande) — Heure supplémentaire effective (HSE) : " in (
        history.stdout
    )

    csv = tmp_path / "personnes.csv"
    csv.write_text(
        "courriel;prénom;nom;rôle\nines.lyon@example.org;Inès;Roche;administrateur\n"
        "faux;Jean;Faux;\n",
        "utf-8",
    )
    dry = run_cli(url, data, "personnes", "import", str(csv), "--academie", "lyon-test")
    assert dry.returncode == 1
    assert "ligne 3 [REFUSÉE] faux : adresse électronique invalide « faux »" in dry.stdout
    csv.write_text("courriel;prénom;nom;rôle\nines.lyon@example.org;Inès;Roche;administrateur\n")
    ok = run_cli(
        url, data, "personnes", "import", str(csv), "--academie", "lyon-test", "--appliquer"
    )
    assert ok.returncode == 0 and "Import fait." in ok.stdout, ok.stderr
    listed = run_cli(url, data, "personnes", "list", "--academie", "lyon-test")
    assert "Inès Roche <ines.lyon@example.org> — Administrateur de l'académie" in listed.stdout

    granted = run_cli(
        url,
        data,
        "academie",
        "grant",
        "camille.morel@example.org",
        "gestionnaire",
        "--academie",
        "lyon-test",
    )
    assert granted.returncode == 0, granted.stderr
    delegated = run_cli(
        url,
        data,
        "delegate",
        "camille.morel@example.org",
        "ines.lyon@example.org",
        "--role",
        "gestionnaire",
        "--academie",
        "lyon-test",
        "--jours",
        "3",
    )
    assert delegated.returncode == 0, delegated.stderr
    assert "(Gestionnaire EAFC) jusqu'au" in delegated.stdout
    listed = run_cli(url, data, "suppleance", "list", "--academie", "lyon-test")
    number = listed.stdout.split()[1]
    assert "Inès Roche supplée Camille Morel (Gestionnaire EAFC, l'académie)" in listed.stdout
    revoked = run_cli(url, data, "suppleance", "revoke", number)
    assert revoked.returncode == 0 and "révoquée" in revoked.stdout
    twice = run_cli(url, data, "suppleance", "revoke", number)
    assert twice.returncode == 2 and "déjà révoquée" in twice.stderr
