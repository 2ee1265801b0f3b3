"""The PAF import on a real database: the dry run line by line, all or nothing, re-import
by the identifiant PAF, the encodings and formats a French spreadsheet writes."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, func, select

from api.exports.files import SheetFormat
from api.imports.paf import parse, template_file
from tests.conftest import World
from workflow.admin.paf import Action, PafImporter
from workflow.engine.errors import InvalidInput, NotPermitted
from workflow.store.tables import assignment_table, dossier_table, person_table, scenario_table

HEADER = (
    "Identifiant PAF;Intitulé;Dispositif;Pilote (courriel);Formateurs (courriels);"
    "Concepteurs (courriels);Heures présentiel;Heures distance;Participants prévus;"
    "Date de début;Date de fin;Public"
)


def email(engine: Engine, person_id: int) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(
                select(person_table.c.email).where(person_table.c.id == person_id)
            ).scalar_one()
        )


def paf_lines(world: World, engine: Engine, count: int, *, broken: bool = False) -> list[str]:
    team = world.team
    pilote = email(engine, team.pilote)
    formateur = email(engine, team.formateurs[0])
    assert team.concepteur is not None
    concepteur = email(engine, team.concepteur)
    lines = []
    for n in range(1, count + 1):
        dispositif = "Accompagnement à distance rémunéré en vacations" if n % 2 else "eafc_taux_a"
        trainers = f"{formateur}, {concepteur}" if n % 5 == 0 else formateur
        lines.append(
            f"26A{n:07d};Formation hybride n° {n} — écrire;{dispositif};{pilote};{trainers};"
            f"{concepteur};6;13,5;{10 + n};14/09/2026;12/12/2026;Enseignants de cycle 3"
        )
    if broken:
        lines[9] = lines[9].replace(pilote, "inconnu.du.plan@example.org")
        lines[29] = lines[29].replace("eafc_taux_a", "taux B")
    return lines


def csv_bytes(lines: list[str], encoding: str = "cp1252") -> bytes:
    return ("\r\n".join([HEADER, *lines]) + "\r\n").encode(encoding)


def count_paf_dossiers(engine: Engine, academie_id: int) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(dossier_table)
                .where(
                    dossier_table.c.academie_id == academie_id, dossier_table.c.paf_id.is_not(None)
                )
            ).scalar_one()
        )


def test_fifty_lines_two_refused_then_corrected_then_reimported(
    engine: Engine, world: World
) -> None:
    importer = PafImporter(engine)
    gestionnaire = world.team.gestionnaire
    broken = parse(csv_bytes(paf_lines(world, engine, 50, broken=True)))

    trial = importer.dry_run(world.academie_id, broken, actor_id=gestionnaire)
    assert trial.count(Action.CREATE) == 48
    refused = {line.line: line.reasons for line in trial.refused}
    assert set(refused) == {11, 31}  # the header is line 1
    assert "inconnu.du.plan@example.org" in refused[11][0]
    assert "importez d'abord les personnes" in refused[11][0]
    assert refused[31][0].startswith("Dispositif : « taux B » inconnu")

    # All or nothing: with two refused lines, nothing at all is written.
    applied = importer.apply(world.academie_id, broken, actor_id=gestionnaire)
    assert not applied.applied and len(applied.refused) == 2
    assert count_paf_dossiers(engine, world.academie_id) == 0

    fixed = parse(csv_bytes(paf_lines(world, engine, 50)))
    done = importer.apply(world.academie_id, fixed, actor_id=gestionnaire)
    assert done.applied and done.count(Action.CREATE) == 50
    assert count_paf_dossiers(engine, world.academie_id) == 50

    with engine.connect() as conn:
        row = conn.execute(
            select(dossier_table).where(
                dossier_table.c.academie_id == world.academie_id,
                dossier_table.c.paf_id == "26A0000005",
            )
        ).one()
        assert row.state == "brouillon"
        assert row.title == "Formation hybride n° 5 — écrire"
        assert row.dispositif == "vacation_accompagnement"
        assert row.planned_hours_distance == Decimal("13.50")
        assert row.planned_participants == 15
        assert (row.planned_start, row.planned_end) == (date(2026, 9, 14), date(2026, 12, 12))
        roles = sorted(
            (r.role, r.person_id)
            for r in conn.execute(
                select(assignment_table).where(assignment_table.c.dossier_id == row.id)
            )
        )
        public = conn.execute(
            select(scenario_table.c.public).where(scenario_table.c.dossier_id == row.id)
        ).scalar_one()
    team = world.team
    assert team.concepteur is not None
    assert roles == sorted(
        [
            ("pilote", team.pilote),
            ("formateur", team.formateurs[0]),
            ("formateur", team.concepteur),
            ("concepteur", team.concepteur),
        ]
    )
    assert public == "Enseignants de cycle 3"

    # The same file again: nothing new, nothing changed.
    again = importer.apply(world.academie_id, fixed, actor_id=gestionnaire)
    assert again.count(Action.SAME) == 50 and again.count(Action.CREATE) == 0
    assert count_paf_dossiers(engine, world.academie_id) == 50


def test_reimport_updates_drafts_and_ignores_dossiers_under_way(
    engine: Engine, world: World, builder: object
) -> None:
    importer = PafImporter(engine)
    lines = paf_lines(world, engine, 3)
    importer.apply(world.academie_id, parse(csv_bytes(lines)), actor_id=None)
    with engine.connect() as conn:
        ids = dict(
            conn.execute(
                select(dossier_table.c.paf_id, dossier_table.c.id).where(
                    dossier_table.c.academie_id == world.academie_id
                )
            ).all()
        )
    # The third dossier has its contract issued: the import must no longer rewrite it.
    world.builder.drive(ids["26A0000003"], world.team, "contrat_a_signer")
    changed = [line.replace(";6;", ";8;") for line in lines]
    other = world.person("remplacante")
    changed[1] = changed[1].replace(email(engine, world.team.formateurs[0]), email(engine, other))
    report = importer.apply(world.academie_id, parse(csv_bytes(changed)), actor_id=None)

    by_id = {line.paf_id: line for line in report.lines}
    first, second, third = by_id["26A0000001"], by_id["26A0000002"], by_id["26A0000003"]
    assert first.action is Action.UPDATE
    assert first.changes == ("heures en présentiel : 6 h → 8 h",)
    assert second.action is Action.UPDATE
    assert "Formateur ajouté : Remplacante" in second.changes
    assert any(c.startswith("Formateur retiré : Formatrice") for c in second.changes)
    assert third.action is Action.SKIP
    assert "« Contrat à signer »" in third.reasons[0]
    with engine.connect() as conn:
        hours = dict(
            conn.execute(
                select(dossier_table.c.paf_id, dossier_table.c.planned_hours_presentiel).where(
                    dossier_table.c.academie_id == world.academie_id
                )
            ).all()
        )
        formateurs = set(
            conn.execute(
                select(assignment_table.c.person_id).where(
                    assignment_table.c.dossier_id == ids["26A0000002"],
                    assignment_table.c.role == "formateur",
                )
            ).scalars()
        )
    assert hours == {
        "26A0000001": Decimal("8.00"),
        "26A0000002": Decimal("8.00"),
        "26A0000003": Decimal("6.00"),
    }
    assert formateurs == {other}


def test_xlsx_with_typed_cells_and_utf8_csv_with_commas(engine: Engine, world: World) -> None:
    pilote = email(engine, world.team.pilote)
    book = Workbook()
    sheet = book.active
    sheet.append(["identifiant paf", "INTITULE", "Bareme", "Pilote", "Heures à distance", "Dates"])
    sheet.append([260001, "Classe virtuelle", "HSE", pilote, 13.5, "du 01/10/2026 au 30/11/2026"])
    sheet.append([None, None, None, None, None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    parsed = parse(buffer.getvalue())
    assert parsed.lines[0].values["paf_id"] == "260001"
    assert parsed.lines[0].values["dispositif"] == "hse_convention_ent"
    assert parsed.lines[0].values["hours_distance"] == Decimal("13.50")
    assert parsed.lines[0].values["end"] == date(2026, 11, 30)
    assert len(parsed.lines) == 1

    text = "Identifiant PAF,Intitulé,Pilote (courriel),Colonne GAIA\nX1,Écrire à plusieurs,"
    text += f"{pilote},ignorée\n"
    report = PafImporter(engine).dry_run(
        world.academie_id, parse(b"\xef\xbb\xbf" + text.encode()), actor_id=None
    )
    assert report.ignored_columns == ("Colonne GAIA",)
    assert report.lines[0].action is Action.CREATE
    assert report.lines[0].title == "Écrire à plusieurs"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "vide"),
        (b"Intitule;Pilote\nA;b@example.org\n", "il manque « Identifiant PAF »"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "Excel 97-2003"),
        (b"PK\x03\x04not a zip", "n'est pas un classeur XLSX"),
    ],
)
def test_unreadable_files_are_refused_in_french(content: bytes, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse(content)
    assert message in caught.value.message


def test_cells_refused_with_every_reason(engine: Engine, world: World) -> None:
    text = (
        f"{HEADER}\n"
        "A1;ab;;;;;-2;x;1,5;31/02/2026;;\n"
        "A1;Titre correct;;nobody;;;;;;01/10/2026;01/09/2026;\n"
    )
    report = PafImporter(engine).dry_run(world.academie_id, parse(text.encode()), actor_id=None)
    first, second = report.lines
    assert first.action is Action.REFUSE and second.action is Action.REFUSE
    assert "Intitulé : 3 caractères au moins" in first.reasons
    assert "Heures présentiel : entre 0 et 10000 heures" in first.reasons
    assert "Heures distance : nombre attendu (ex. 6 ou 4,5)" in first.reasons
    assert "Participants prévus : nombre entier attendu" in first.reasons
    assert any(r.startswith("Date de début : « 31/02/2026 »") for r in first.reasons)
    assert "Pilote (courriel) : obligatoire pour créer le dossier" in first.reasons
    assert "Pilote (courriel) : « nobody » n'est pas une adresse électronique" in second.reasons
    assert "Dates : la date de fin précède la date de début" in second.reasons
    assert "Identifiant PAF : « A1 » figure déjà ligne 2 du fichier" in second.reasons


def test_only_gestionnaires_and_administrateurs_of_the_academie_import(
    engine: Engine, world: World
) -> None:
    importer = PafImporter(engine)
    parsed = parse(csv_bytes(paf_lines(world, engine, 1)))
    for outsider in (world.other_academie_gestionnaire, world.team.pilote, world.team.responsable):
        with pytest.raises(NotPermitted):
            importer.dry_run(world.academie_id, parsed, actor_id=outsider)
        with pytest.raises(NotPermitted):
            importer.apply(world.academie_id, parsed, actor_id=outsider)
    admin = world.person("administratrice")
    world.builder.editor.assign(admin, "administrateur", academie_id=world.academie_id)
    assert importer.apply(world.academie_id, parsed, actor_id=admin).applied
    assert count_paf_dossiers(engine, world.academie_id) == 1


def test_the_template_reads_back_as_one_valid_line(engine: Engine, world: World) -> None:
    formats: tuple[SheetFormat, ...] = ("csv", "xlsx")
    for fmt in formats:
        template = template_file(fmt)
        parsed = parse(template.content)
        assert len(parsed.lines) == 1 and not parsed.lines[0].problems, parsed.lines[0].problems
        assert parsed.ignored_columns == ()
