"""Stagiaires as people: enrolment and its one source of truth, the import all or nothing,
convocations in the outbox (one per stagiaire, one per school head, updates not copies),
attendance and the counts the bilan and the barème read."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from api.imports.lists import read_list
from api.wiring import Container
from tests.conftest import World
from tests.support.participants import as_csv, outbox, schools, trainees
from workflow.dossiers.dates import EARLY_CONFIRMED
from workflow.dossiers.inputs import SessionInput
from workflow.engine.errors import InvalidInput
from workflow.engine.rows import load
from workflow.engine.service import FireCommand
from workflow.participants.counts import participated, trainee_counts
from workflow.participants.importing import ImportRefused
from workflow.participants.inputs import (
    ActivityMarks,
    CorrectionInput,
    SessionMarks,
    StagiaireInput,
)
from workflow.participants.roster import async_steps, events_of, roster, slots
from workflow.payments.decision import compute_proposal, dossier_rates
from workflow.reads.records import bilan_of
from workflow.store.tables import assignment_table as A
from workflow.store.tables import enrolment_table as N
from workflow.store.tables import person_table as P
from workflow.store.types import utcnow


def _stagiaire_roles(container: Container, dossier: int) -> set[int]:
    with container.engine.connect() as conn:
        return set(
            conn.execute(
                select(A.c.person_id).where(A.c.dossier_id == dossier, A.c.role == "stagiaire")
            ).scalars()
        )


def _active(container: Container, dossier: int) -> set[int]:
    with container.engine.connect() as conn:
        return {p.person_id for p in roster(conn, dossier, active_only=True)}


def test_the_role_comes_and_goes_with_the_enrolment_only(
    world: World, api_container: Container
) -> None:
    dossier = world.formation()
    container = api_container
    assert (
        _stagiaire_roles(container, dossier)
        == _active(container, dossier)
        == set(world.team.stagiaires)
    )
    # The team page's way (and the API's) is refused: one writer of the role.
    with pytest.raises(InvalidInput, match=r"s'inscrit .* depuis la page « Stagiaires »"):
        container.editor.assign(world.outsider, "stagiaire", dossier_id=dossier)
    with pytest.raises(InvalidInput, match="Stagiaires"):
        container.editor.unassign(world.team.stagiaires[0], "stagiaire", dossier)

    new = container.enrolments.enrol(
        dossier,
        StagiaireInput(last_name="Nouvelle", first_name="Inès", email=" Ines.N@Example.org "),
        actor_id=world.team.formateurs[0],
    )
    with container.engine.connect() as conn:
        person = conn.execute(
            select(P.c.id, P.c.full_name).where(P.c.email == "ines.n@example.org")
        ).one()
    assert person.full_name == "Inès Nouvelle"
    assert person.id in _stagiaire_roles(container, dossier)
    with pytest.raises(InvalidInput, match="déjà inscrit"):
        container.enrolments.enrol(
            dossier,
            StagiaireInput(last_name="N", first_name="I", email="ines.n@example.org"),
            actor_id=world.team.pilote,
        )

    # Withdrawal: the role goes, the row and its history stay; enrolling again restores it.
    container.enrolments.withdraw(dossier, new, "Mutée", actor_id=world.team.pilote)
    assert person.id not in _stagiaire_roles(container, dossier)
    assert _stagiaire_roles(container, dossier) == _active(container, dossier)
    with container.engine.connect() as conn:
        row = conn.execute(select(N).where(N.c.id == new)).one()
        assert row.withdrawn_at is not None and row.withdrawal_reason == "Mutée"
    again = container.enrolments.enrol(
        dossier,
        StagiaireInput(last_name="Nouvelle", first_name="Inès", email="ines.n@example.org"),
        actor_id=world.team.pilote,
    )
    assert again == new and person.id in _stagiaire_roles(container, dossier)
    with container.engine.connect() as conn:
        assert [e.kind for e in events_of(conn, new)] == [
            "inscription",
            "desinscription",
            "reinscription",
        ]

    # A stagiaire may not enrol anyone, nor read the roster as the team does.
    with pytest.raises(Exception, match="rôle requis"):
        container.enrolments.enrol(
            dossier,
            StagiaireInput(last_name="X", first_name="Y", email="xy@example.org"),
            actor_id=world.team.stagiaires[0],
        )


def test_the_import_reports_each_line_and_is_all_or_nothing(
    world: World, api_container: Container
) -> None:
    container = api_container
    dossier = world.formation()
    places = schools(container, world)
    rows = trainees(world, 6, places)
    rows.append(["Sans", "Adresse", "", places.college.uai, "EPS"])
    rows.append(["Double", "Ligne", rows[0][2].upper(), places.lycee.uai, ""])
    rows.append(["Inconnu", "Lieu", "lieu@example.org", "Collège Imaginaire", ""])
    rows.append(["", "Prénom", "pasdenom@example.org", places.ecole.uai, ""])
    existing = rows[1]
    container.enrolments.enrol(
        dossier,
        StagiaireInput(
            last_name=existing[0],
            first_name=existing[1],
            email=existing[2],
            etablissement_id=places.lycee.id,
        ),
        actor_id=world.team.pilote,
    )
    before = _active(container, dossier)
    read = read_list("liste.csv", as_csv(rows, encoding="cp1252"))
    assert read.encoding == "Windows-1252"
    report = container.enrolments.preview(
        dossier, read.header, read.rows, actor_id=world.team.pilote
    )
    by_line = {line.number: line for line in report.lines}
    assert [by_line[n].status for n in range(2, 8)] == ["a_inscrire", "deja_inscrit"] + [
        "a_inscrire"
    ] * 4
    assert by_line[8].messages == ("adresse électronique manquante",)
    assert by_line[9].messages == ("adresse déjà présente ligne 2 du fichier",)
    assert by_line[10].messages == (
        "établissement inconnu dans l'académie : « Collège Imaginaire »",
    )
    assert by_line[11].messages == ("nom manquant",)
    assert (report.to_enrol, report.already, report.refused, report.ok) == (5, 1, 4, False)
    assert by_line[3].etablissement == places.lycee.name
    with pytest.raises(ImportRefused, match="Rien n'a été importé : 4 lignes refusées"):
        container.enrolments.import_file(
            dossier, read.header, read.rows, actor_id=world.team.pilote
        )
    assert _active(container, dossier) == before

    good = read_list("liste.csv", as_csv(rows[:6], delimiter=",", encoding="utf-8"))
    assert good.encoding == "UTF-8"
    done = container.enrolments.import_file(
        dossier, good.header, good.rows, actor_id=world.team.pilote
    )
    assert (done.to_enrol, done.already) == (5, 1)
    assert len(_active(container, dossier)) == len(before) + 5
    assert _stagiaire_roles(container, dossier) == _active(container, dossier)


def test_a_file_missing_columns_is_refused_whole(world: World, api_container: Container) -> None:
    dossier = world.formation()
    report = api_container.enrolments.preview(
        dossier,
        ["Nom", "Prénom", "Adresse"],
        [["A", "B", "c@example.org"]],
        actor_id=world.team.pilote,
    )
    assert not report.ok and not report.lines
    assert "colonnes manquantes : « Courriel », « Établissement »" in report.problems[0]


def _validated(
    world: World, container: Container, count: int = 6, start: timedelta = timedelta(days=20)
) -> int:
    """A dossier with ``count`` stagiaires from three schools, two sessions, validated by
    the product's own service (which convokes)."""
    dossier = world.formation()
    places = schools(container, world)
    read = read_list("liste.csv", as_csv(trainees(world, count, places)))
    container.enrolments.import_file(dossier, read.header, read.rows, actor_id=world.team.pilote)
    world.builder.add_sessions(dossier, world.team, utcnow() + start)
    world.builder.drive(dossier, world.team, "scenario_soumis")
    container.service.fire(FireCommand(dossier, "valider_scenario", world.team.pilote))
    return dossier


def test_validation_convokes_every_stagiaire_and_tells_each_head_once(
    world: World, api_container: Container
) -> None:
    container = api_container
    dossier = _validated(world, container)
    mails = outbox(container, dossier)
    convocations = [m for m in mails if m.template == "participants/convocation"]
    heads = [m for m in mails if m.template == "participants/responsable"]
    stagiaires = _active(container, dossier)
    assert len(convocations) == len(stagiaires) == 6 + 2
    assert {m.to for m in heads} == {
        f"ce.college.{world.slug[-6:]}@example.org",
        f"ce.lycee.{world.slug[-6:]}@example.org",
        f"ien.{world.slug[-6:]}@example.org",
    }
    with container.engine.connect() as conn:
        sessions = slots(conn, dossier)
    first = convocations[0]
    assert "Convocation à la formation" in first.subject
    text = first.text
    assert "Session synchrone : vous êtes libéré·e des cours qui englobent sa durée." in text
    assert "Une convocation asynchrone n'implique pas d'être libéré de cours" in text
    assert "Semaines 3 à 5 : Conception d'une séance" in text
    calendar = first.calendar()
    events = calendar.walk("VEVENT")
    assert {str(e["UID"]) for e in events} == {f"session-{s.id}@formaflow" for s in sessions}
    assert {int(str(e["SEQUENCE"])) for e in events} == {0}
    ien = next(m for m in heads if m.to.startswith("ien."))
    assert "Élise02 Stagiaire02" in ien.text and "Élise00 Stagiaire00" not in ien.text
    assert "CRÉNEAUX SYNCHRONES" in ien.text

    # A changed session: an update to each (new Message-ID, same UID, higher SEQUENCE).
    moved = sessions[1]
    container.editor.update_session(
        dossier,
        moved.id,
        SessionInput(
            starts_at=moved.starts_at + timedelta(days=1),
            duration_minutes=moved.duration_minutes,
            modality=moved.modality,
            connection_link=moved.connection_link,
            place=None,
            planned_headcount=8,
            formateur_id=world.team.formateurs[0],
        ),
        actor_id=world.team.formateurs[0],
    )
    mails = outbox(container, dossier)
    updates = [m for m in mails if m.template == "participants/convocation_modifiee"]
    assert len(updates) == len(stagiaires)
    assert len([m for m in mails if m.template == "participants/convocation"]) == len(stagiaires)
    assert len({m.message_id for m in mails}) == len(mails)
    assert "Convocation modifiée" in updates[0].subject and "a été modifiée" in updates[0].text
    event = next(
        e
        for e in updates[0].calendar().walk("VEVENT")
        if str(e["UID"]) == f"session-{moved.id}@formaflow"
    )
    assert int(str(event["SEQUENCE"])) == 1
    assert len([m for m in mails if m.template == "participants/responsable_modifie"]) == 3

    # Presences of a session still ahead are refused (they would make it held), and the
    # refusal writes nothing either.
    count = len(mails)
    with pytest.raises(InvalidInput, match="une fois qu'elle a commencé"):
        container.registers.record_session(
            dossier, moved.id, SessionMarks(marks={}), actor_id=world.team.formateurs[0]
        )
    assert len(outbox(container, dossier)) == count


def test_attendance_makes_the_counts_the_bilan_and_the_bareme_follow(
    world: World, api_container: Container
) -> None:
    container = api_container
    # Both sessions already held: the first ten days ago, the second three days ago.
    dossier = _validated(world, container, count=10, start=-timedelta(days=10))
    container.service.fire(
        FireCommand(dossier, "demarrer", world.team.formateurs[0], payload={EARLY_CONFIRMED: True})
    )
    with container.engine.connect() as conn:
        people = roster(conn, dossier, active_only=True)
        sessions = slots(conn, dossier)
        (step,) = async_steps(conn, dossier)
    formateur = world.team.formateurs[0]
    ids = [p.enrolment_id for p in people]
    # Session 1: all present but two; session 2: three present.
    marks = dict.fromkeys(ids, "present")
    marks[ids[0]] = "absent_excuse"
    marks[ids[1]] = "absent"
    assert (
        container.registers.record_session(
            dossier, sessions[0].id, SessionMarks(marks=marks), actor_id=formateur
        )
        == 10
    )
    second = dict.fromkeys(ids, "absent")
    for e in ids[2:5]:
        second[e] = "present"
    container.registers.record_session(
        dossier, sessions[1].id, SessionMarks(marks=second), actor_id=formateur
    )
    container.registers.record_step(
        dossier, step.id, ActivityMarks(done={e: e in ids[2:7] for e in ids}), actor_id=formateur
    )
    with container.engine.connect() as conn:
        dossier_row = load(conn, dossier)
        counts = trainee_counts(conn, dossier_row)
        # « au moins une session ou une activité » (the demo académie's rule): all but
        # ids[0] and ids[1] (absent twice, did nothing) → 10 of 12.
        assert counts.rule == "une_presence" and counts.from_attendance
        assert (counts.enrolled, counts.effective.value, counts.units) == (12, 10, 3)
        tutor = world.team.tuteur
        assert tutor is not None and counts.followed[tutor].value == 5
        held = {s.id: s for s in slots(conn, dossier)}
        assert held[sessions[0].id].held and held[sessions[0].id].actual_headcount == 10
        bilan = bilan_of(conn, dossier)
        assert (bilan.participants_enrolled, bilan.participants_effective) == (12, 10)

    # The barème reads it (vacation_accompagnement: min(13 h ÷ 2, 10, 8) = 6,5) and says so.
    container.service.fire(
        FireCommand(dossier, "terminer", formateur, payload={EARLY_CONFIRMED: True})
    )
    # Hours declared, and counts typed in the bilan the old way: attendance still wins.
    world.builder.complete_bilan(dossier, world.team, effective=5)
    with container.engine.connect() as conn:
        proposal = compute_proposal(
            conn, load(conn, dossier), {}, dossier_rates(conn, load(conn, dossier))
        )
    line = proposal.lines[0]
    assert line.steps[:2] == (
        "stagiaires ayant effectivement participé : 10, d'après les présences",
        "règle de l'académie : au moins une session tenue ou une activité à distance faite",
    )

    # A justified correction wins, is recorded, and moves the barème's cap.
    with pytest.raises(Exception, match="justification obligatoire"):
        CorrectionInput(figure="effectifs", value=4, justification=" ")
    container.registers.correct(
        dossier,
        CorrectionInput(figure="effectifs", value=4, justification="Six ont quitté le parcours"),
        actor_id=formateur,
    )
    with container.engine.connect() as conn:
        row = load(conn, dossier)
        counts = trainee_counts(conn, row)
        assert counts.effective.value == 4 and counts.effective.computed == 10
        assert [c.justification for _, c in counts.corrections] == ["Six ont quitté le parcours"]
        proposal = compute_proposal(conn, row, {}, dossier_rates(conn, row))
    assert "plafond : 4 stagiaires effectifs → 4 vacations" in proposal.lines[0].steps
    assert "corrigé par" in proposal.lines[0].steps[0] and proposal.lines[0].units == Decimal(4)
    assert proposal.lines[0].steps[1] == (
        "justification de la correction : Six ont quitté le parcours"
    )


def test_counts_follow_the_academie_rule(world: World, api_container: Container) -> None:
    assert participated("une_presence", 1, 5) and not participated("une_presence", 0, 5)
    assert participated("moitie", 3, 6) and not participated("moitie", 2, 6)
    assert participated("toutes", 4, 4) and not participated("toutes", 3, 4)
    assert not participated("toutes", 0, 0)


def test_people_created_by_import_are_counted_once(world: World, api_container: Container) -> None:
    container = api_container
    dossier = world.formation()
    places = schools(container, world)
    read = read_list("liste.csv", as_csv(trainees(world, 3, places)))
    container.enrolments.import_file(dossier, read.header, read.rows, actor_id=None)
    other = world.formation()
    container.enrolments.import_file(other, read.header, read.rows, actor_id=None)
    with container.engine.connect() as conn:
        created = conn.execute(
            select(func.count())
            .select_from(P)
            .where(P.c.email.like(f"eleve%.{world.slug}@example.org"))
        ).scalar_one()
    assert created == 3


def test_whoever_joins_after_the_validation_is_convoked_and_their_head_told(
    world: World, api_container: Container
) -> None:
    container = api_container
    team = dataclasses.replace(world.team, stagiaires=[])
    dossier = world.builder.formation(world.academie_id, team, title="Sans stagiaire")
    world.builder.add_sessions(dossier, team, utcnow() + timedelta(days=9))
    world.builder.drive(dossier, team, "scenario_soumis")
    container.service.fire(FireCommand(dossier, "valider_scenario", team.pilote))
    assert outbox(container, dossier) == []  # nobody to convoke yet
    places = schools(container, world)
    joined = container.enrolments.enrol(
        dossier,
        StagiaireInput(
            last_name="Tardive",
            first_name="Iris",
            email=f"iris.{world.slug}@example.org",
            etablissement_id=places.ecole.id,
        ),
        actor_id=team.formateurs[0],
    )
    mails = outbox(container, dossier)
    assert [(m.template, m.to) for m in mails] == [
        ("participants/convocation", f"iris.{world.slug}@example.org"),
        ("participants/responsable", places.ecole.head_email),
    ]
    assert "Iris Tardive" in mails[1].text
    container.enrolments.withdraw(dossier, joined, "Mutée", actor_id=team.pilote)
    last = outbox(container, dossier)[-1]
    assert (last.template, last.to) == ("participants/responsable_modifie", places.ecole.head_email)
    assert (
        "Iris Tardive" not in last.text
        and "la liste des personnels convoqués a changé" in last.text
    )
    # A session added during the training reaches the (new) stagiaires as an update.
    container.enrolments.enrol(
        dossier,
        StagiaireInput(last_name="Neuve", first_name="Léa", email=f"lea.{world.slug}@example.org"),
        actor_id=team.formateurs[0],
    )
    container.editor.add_session(
        dossier,
        SessionInput(
            starts_at=utcnow() + timedelta(days=30), duration_minutes=60, modality="webinaire"
        ),
        actor_id=team.formateurs[0],
    )
    added = outbox(container, dossier)[-1]
    assert added.template == "participants/convocation_modifiee"
    assert "une session a été ajoutée" in added.text
    assert len(added.calendar().walk("VEVENT")) == 3
