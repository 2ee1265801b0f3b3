"""The exports on a real database: what each shows, for whom, and that it opens."""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from icalendar import Calendar
from openpyxl import load_workbook
from sqlalchemy import Engine, select

from api.exports import files
from tests.conftest import World
from workflow.dossiers.inputs import (
    DocumentInput,
    ScenarioInput,
    SequenceInput,
    SessionInput,
    StepInput,
)
from workflow.reads.dashboard import dossier_list
from workflow.reads.records import sessions_of
from workflow.reads.reports import Scope, budget
from workflow.store.tables import dossier_table

NOW = datetime.now(UTC)


def _reference(engine: Engine, dossier: int) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(
                select(dossier_table.c.reference).where(dossier_table.c.id == dossier)
            ).scalar_one()
        )


def _with_in_person_rate(world: World, rate: str) -> None:
    world.configure(tarifs__presentiel_par_heure=rate)


def test_the_budget_estimates_each_cost_family_and_shows_the_realised(
    world: World, engine: Engine
) -> None:
    _with_in_person_rate(world, "40.00")
    paid = world.formation("eafc_taux_a")
    world.builder.drive(
        paid,
        world.team,
        "mis_en_paiement",
        payloads={"accorder_paiement": {"conception": {str(world.team.concepteur): "12"}}},
    )
    planned = world.formation("vacation_accompagnement")
    with engine.connect() as conn:
        data = budget(conn, Scope(academie=world.slug), NOW)
    rows = {r.reference: r for r in data.rows}
    eafc = rows[_reference(engine, paid)]
    assert eafc.basis == "scénario validé"
    assert (eafc.conception.units, eafc.conception.amount) == (Decimal(10), Decimal("450.00"))
    assert (eafc.tutorat.units, eafc.tutorat.amount) == (Decimal("2.5"), Decimal("112.50"))
    # The scenario's 1.5 h virtual class (1 trainer, 20 trainees) has no row in the table.
    assert eafc.classes.amount is None
    assert any("Aucun taux de classe virtuelle configuré" in n for n in eafc.notes)
    assert (eafc.presentiel.units, eafc.presentiel.amount) == (Decimal(3), Decimal("120.00"))
    assert eafc.planned_total == Decimal("682.50")
    assert eafc.realised == Decimal("568.35")
    acc = rows[_reference(engine, planned)]
    assert acc.basis == "heures prévues (pas encore de scénario)"
    assert (acc.tutorat.units, acc.tutorat.amount) == (Decimal("6.5"), Decimal("292.50"))
    assert acc.realised is None
    assert data.totals["planned_total"] == eafc.planned_total + acc.planned_total
    assert data.totals["realised"] == Decimal("568.35")


def test_the_budget_counts_only_the_asynchronous_part_as_accompaniment(
    world: World, engine: Engine
) -> None:
    """Seed 000: distance modules are synchronous (« classe virtuelle ») or asynchronous
    (« accompagnement à distance »); only the asynchronous part is paid as accompaniment,
    not the virtual class nor the webinaire (26-DEM-0022 was counted (90 + 600 + 60 min) ÷ 2 h)."""
    dossier = world.formation("vacation_accompagnement")
    world.builder.drive(dossier, world.team, "contrat_signe")
    tutor = world.team.tuteur
    assert tutor is not None
    world.builder.editor.save_scenario(
        dossier,
        ScenarioInput(
            objectives="Animer une classe virtuelle",
            validation_criteria="Une séance conçue et menée",
            sequences=[
                SequenceInput(
                    title="Lancement",
                    steps=[
                        StepInput(duration_minutes=90, modality="classe_virtuelle", content="CV"),
                        StepInput(
                            duration_minutes=600,
                            modality="asynchrone",
                            led_by="tuteur",
                            tutor_id=tutor,
                            content="Conception accompagnée",
                        ),
                        StepInput(duration_minutes=60, modality="webinaire", content="Webinaire"),
                    ],
                )
            ],
        ),
    )
    with engine.connect() as conn:
        data = budget(conn, Scope(academie=world.slug), NOW)
    row = next(r for r in data.rows if r.reference == _reference(engine, dossier))
    assert row.basis == "scénario (non encore validé)"
    assert (row.tutorat.units, row.tutorat.amount) == (Decimal(5), Decimal("225.00"))


def test_the_budget_xlsx_and_csv_read_back_with_french_headers_and_totals(
    world: World, engine: Engine
) -> None:
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "paiement_accorde")
    with engine.connect() as conn:
        xlsx = files.budget_file(conn, Scope(academie=world.slug), "xlsx", NOW)
        as_csv = files.budget_file(conn, Scope(academie=world.slug), "csv", NOW)
    assert xlsx.filename == f"budget-{world.slug}.xlsx"
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Référence", "Intitulé", "Académie")
    assert "Total prévisionnel (€)" in rows[0] and "Réalisé (€)" in rows[0]
    assert rows[-1][0] == "Total"
    realised = rows[0].index("Réalisé (€)")
    assert Decimal(str(rows[1][realised])) == Decimal("225.00")
    parsed = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig")), delimiter=";"))
    assert parsed[0] == list(rows[0])
    assert parsed[1][realised] == "225,00"
    assert parsed[-1][0] == "Total"


def test_a_formula_typed_in_a_title_is_neutralised_in_every_spreadsheet(
    world: World, engine: Engine
) -> None:
    dossier = world.builder.formation(
        world.academie_id, world.team, title='=HYPERLINK("http://x.example.org","clic")'
    )
    assert dossier
    with engine.connect() as conn:
        for kind in (files.budget_file, files.dossiers_file):
            sheet = load_workbook(
                io.BytesIO(kind(conn, Scope(academie=world.slug), "xlsx", NOW).content)
            ).active
            cell = sheet["B2"]
            assert cell.data_type == "s" and cell.value.startswith("'=HYPERLINK(")
            raw = kind(conn, Scope(academie=world.slug), "csv", NOW).content.decode("utf-8-sig")
            assert "'=HYPERLINK(" in raw


def test_the_dossier_list_names_late_deadlines_and_follows_visibility(
    world: World, engine: Engine
) -> None:
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "contrat_a_signer")
    later = NOW + timedelta(days=8)
    with engine.connect() as conn:
        [row] = dossier_list(conn, Scope(person_id=world.team.gestionnaire), later)
        assert (row.state, row.phase) == ("Contrat à signer", "Montage")
        assert row.late[0].startswith("Rappel aux signataires qui n'ont pas signé (depuis le ")
        assert dossier_list(conn, Scope(person_id=world.team.gestionnaire), NOW)[0].late == ()
        assert dossier_list(conn, Scope(person_id=world.outsider), NOW) == []
        assert dossier_list(conn, Scope(person_id=world.other_academie_gestionnaire), NOW) == []
        assert len(dossier_list(conn, Scope(person_id=world.team.formateurs[0]), NOW)) == 1
        sheet = load_workbook(
            io.BytesIO(files.dossiers_file(conn, Scope(academie=world.slug), "xlsx", later).content)
        ).active
    assert [c.value for c in sheet[1]][-2:] == ["Échéances dépassées", "Identifiant PAF"]
    assert "Rappel aux signataires" in str(sheet.cell(row=2, column=11).value)


def test_the_calendar_keeps_uids_and_bumps_the_sequence_of_a_changed_session(
    world: World, engine: Engine
) -> None:
    dossier = world.formation()
    world.builder.add_sessions(dossier, world.team, NOW + timedelta(days=20))
    editor = world.builder.editor

    def events() -> dict[str, tuple[int, datetime, str]]:
        with engine.connect() as conn:
            content = files.sessions_file(conn, dossier, NOW).content
        return {
            str(e["UID"]): (int(str(e["SEQUENCE"])), e.decoded("DTSTART"), str(e.get("URL", "")))
            for e in Calendar.from_ical(content).walk("VEVENT")
        }

    before = events()
    assert len(before) == 2 and all(seq == 0 for seq, _, _ in before.values())
    with engine.connect() as conn:
        first = sessions_of(conn, dossier)[1]
    moved = SessionInput(
        starts_at=first.starts_at + timedelta(hours=2),
        duration_minutes=first.duration_minutes,
        modality=first.modality,
        connection_link="https://visio.example.org/nouveau",
        planned_headcount=first.planned_headcount,
        formateur_id=first.formateur_id,
    )
    assert editor.update_session(dossier, first.id, moved)
    assert editor.update_session(dossier, first.id, moved)  # the same again: no change
    after = events()
    assert after.keys() == before.keys()
    uid = f"session-{first.id}@formaflow"
    assert after[uid][0] == 1
    moved_at = (first.starts_at + timedelta(hours=2)).astimezone(UTC).replace(microsecond=0)
    assert after[uid][1] == moved_at
    assert after[uid][2] == "https://visio.example.org/nouveau"
    assert [v[0] for k, v in after.items() if k != uid] == [0]


def test_the_sofia_pack_holds_the_documents_the_fiche_and_a_manifest(
    world: World, engine: Engine, data_dir: Path
) -> None:
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "mis_en_paiement")
    pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    world.builder.editor.add_document(
        dossier,
        DocumentInput(
            kind="fiche_remuneration", filename="fiche signée.pdf", content_type="application/pdf"
        ),
        pdf,
        world.team.gestionnaire,
    )
    with engine.connect() as conn:
        export = files.sofia_file(conn, dossier, data_dir, NOW)
    archive = zipfile.ZipFile(io.BytesIO(export.content))
    names = archive.namelist()
    assert any(n.startswith("emargements/") and n.endswith("emargement.pdf") for n in names)
    signed = next(n for n in names if n.startswith("fiches_remuneration/"))
    assert archive.read(signed) == pdf
    reference = _reference(engine, dossier)
    fiche = archive.read(f"fiche_remuneration_{reference}.html").decode()
    assert "13 h ÷ 2 = 6,5 vacations" in fiche and "225,00 €" in fiche
    manifest = list(
        csv.reader(io.StringIO(archive.read("manifeste.csv").decode("utf-8-sig")), delimiter=";")
    )
    assert manifest[0][0] == f"Dossier {reference}"
    assert manifest[1][:5] == [
        "Fichier",
        "Type de document",
        "Nom d'origine",
        "Taille (octets)",
        "SHA-256",
    ]
    listed = {row[0]: row for row in manifest[2:]}
    assert set(listed) == set(names) - {"manifeste.csv"}

    for name, row in listed.items():
        assert row[4] == hashlib.sha256(archive.read(name)).hexdigest()
        assert row[3] == str(len(archive.read(name)))
    assert listed[signed][1] == "Fiche de rémunération"


def test_the_printable_fiche_and_bilan_show_the_decision_and_the_bilan(
    world: World, engine: Engine
) -> None:
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "paiement_accorde")
    with engine.connect() as conn:
        fiche = files.fiche_file(conn, dossier, NOW).content.decode()
        bilan = files.bilan_file(conn, dossier, NOW).content.decode()
    assert "plafond : 5 stagiaires effectifs → 5 vacations" in fiche
    assert "Total du dossier : 225,00 €" in fiche
    assert "effectivement présents (émargement) : 5" in bilan
    assert "Liste d&#39;émargement : emargement.pdf" in bilan  # escaped apostrophe


def test_libreoffice_converts_the_budget_xlsx_to_pdf(
    world: World, engine: Engine, tmp_path: Path
) -> None:
    """The acceptance criterion: the export opens in LibreOffice. Not skipped when LibreOffice
    is missing — `make test` installs it (Debian's libreoffice-calc)."""
    office = shutil.which("libreoffice") or shutil.which("soffice")
    if office is None:
        pytest.fail(
            "LibreOffice est absent : installez libreoffice-calc (apt-get install "
            "libreoffice-calc, comme le fait make test) pour vérifier que l'export s'ouvre."
        )
    dossier = world.formation("eafc_taux_a")
    world.builder.drive(dossier, world.team, "scenario_valide")
    with engine.connect() as conn:
        export = files.budget_file(conn, Scope(academie=world.slug), "xlsx", NOW)
    source = tmp_path / export.filename
    source.write_bytes(export.content)
    result = subprocess.run(
        [
            office,
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    pdf = source.with_suffix(".pdf")
    assert result.returncode == 0 and pdf.is_file(), result.stdout + result.stderr
    assert pdf.read_bytes().startswith(b"%PDF")
