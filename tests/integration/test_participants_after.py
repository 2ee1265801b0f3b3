"""After the training: the questionnaire's reminder a week after the end (through the
deadline timer, once, to those who have not answered), attestations by email, and the
purge of a closed dossier's stagiaire data once its académie's retention period is over
(page action's use case and the ``formaflow stagiaires`` commands)."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update

from api.settings import ApiSettings
from api.wiring import Container
from tests.conftest import World, make_world
from tests.support.cli import run_cli
from tests.support.mail import mail_settings
from tests.support.participants import as_csv, schools, trainees
from tests.support.pdf import pdf_text
from workflow.demo import DemoBuilder
from workflow.dossiers.dates import EARLY_CONFIRMED
from workflow.engine.errors import InvalidInput
from workflow.engine.service import FireCommand, WorkflowService
from workflow.participants.inputs import AnswerInput, SessionMarks
from workflow.participants.purge import ANONYMOUS_NAME, Purges, anonymous_email
from workflow.participants.questionnaire import aggregate
from workflow.participants.roster import enrolment_of, roster, slots
from workflow.rules import RULES
from workflow.store.database import make_engine
from workflow.store.migrate import upgrade
from workflow.store.settings import WorkflowSettings
from workflow.store.tables import assignment_table as A
from workflow.store.tables import dossier_table as D
from workflow.store.tables import enrolment_table as N
from workflow.store.tables import outbox_table as O
from workflow.store.tables import person_table as P
from workflow.store.tables import purge_table


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def _container(engine: Engine, data_dir: Path, clock: Clock) -> Container:
    container = Container(
        WorkflowSettings(database_url="sqlite://", data_dir=data_dir),
        ApiSettings(env="production", data_dir=data_dir, base_url="http://testserver"),
        mail_settings(),
    )
    container.__dict__["engine"] = engine
    container.__dict__["service"] = WorkflowService(
        engine,
        RULES,
        subscribers=[container.outbox, container.participant_mail.on_transition],
        clock=clock,
    )
    return container


@pytest.fixture
def fresh(fresh_database_url: str, data_dir: Path) -> Iterator[tuple[Container, Clock, World]]:
    """A database of its own (a deadline scan looks at every dossier), a clock the test moves."""
    engine = make_engine(fresh_database_url)
    upgrade(engine)
    clock = Clock(datetime(2027, 3, 1, 8, 0, tzinfo=UTC))
    container = _container(engine, data_dir, clock)
    world = make_world(DemoBuilder(engine, data_dir, container.service))
    yield container, clock, world
    engine.dispose()


def _ended(container: Container, world: World) -> int:
    dossier = world.formation()
    world.builder.add_sessions(dossier, world.team, container.service.clock() - timedelta(days=30))
    world.builder.drive(dossier, world.team, "en_cours")
    with container.engine.connect() as conn:
        people = roster(conn, dossier, active_only=True)
        first = slots(conn, dossier)[0]
    container.registers.record_session(
        dossier,
        first.id,
        SessionMarks(marks=dict.fromkeys((p.enrolment_id for p in people), "present")),
        actor_id=world.team.formateurs[0],
    )
    container.service.fire(
        FireCommand(dossier, "terminer", world.team.formateurs[0], payload={EARLY_CONFIRMED: True})
    )
    return dossier


def _mails(container: Container, dossier: int, template: str) -> list[tuple[int | None, str]]:
    with container.engine.connect() as conn:
        rows = conn.execute(
            select(O.c.person_id, O.c.raw).where(
                O.c.dossier_id == dossier, O.c.template == template
            )
        ).all()
    found = []
    for row in rows:
        message = email.message_from_string(row.raw, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        found.append((row.person_id, str(body.get_content())))
    return found


def test_the_reminder_goes_once_a_week_after_to_those_who_did_not_answer(
    fresh: tuple[Container, Clock, World],
) -> None:
    container, clock, world = fresh
    dossier = _ended(container, world)
    a, b = world.team.stagiaires
    ended = dict(_mails(container, dossier, "dossier_formation/terminer"))
    assert "/questionnaire/" in ended[a] and "/questionnaire/" in ended[b]
    assert "/questionnaire/" not in ended[world.team.pilote]
    with container.engine.connect() as conn:
        mine = enrolment_of(conn, dossier, a)
    assert mine is not None
    container.questionnaires.answer(
        dossier,
        mine.enrolment_id,
        AnswerInput(fiabilite=3, faisabilite=3, accompagnement=3, effets=3),
    )
    clock.advance(days=6, hours=23)
    container.timer.run_once()
    assert _mails(container, dossier, "dossier_formation/rappel_questionnaire") == []
    clock.advance(hours=2)
    container.timer.run_once()
    container.timer.run_once()
    reminders = _mails(container, dossier, "dossier_formation/rappel_questionnaire")
    assert [person for person, _ in reminders] == [b]
    assert "/questionnaire/" in reminders[0][1] and "pas encore répondu" in reminders[0][1]


def test_attestations_are_sent_once_to_those_who_took_part(
    fresh: tuple[Container, Clock, World],
) -> None:
    container, _, world = fresh
    dossier = _ended(container, world)
    assert (
        container.attestation_mailing.send_pending(dossier, actor_id=world.team.formateurs[0]) == 2
    )
    assert container.attestation_mailing.send_pending(dossier, actor_id=world.team.pilote) == 0
    with container.engine.connect() as conn:
        rows = (
            conn.execute(
                select(O.c.raw).where(
                    O.c.dossier_id == dossier, O.c.template == "participants/attestation"
                )
            )
            .scalars()
            .all()
        )
    assert len(rows) == 2
    message = email.message_from_string(rows[0], policy=email.policy.default)
    (attached,) = list(message.iter_attachments())
    assert attached.get_content_type() == "application/pdf"
    assert (attached.get_filename() or "").endswith(".pdf")
    text = pdf_text(attached.get_content())
    assert "Attestation de formation" in text
    assert re.search(r"Présentiel\s+3\s?h", text), text  # the hours per modality
    with pytest.raises(Exception, match="rôle requis"):
        container.attestation_mailing.send_pending(dossier, actor_id=world.team.stagiaires[0])


def test_the_purge_keeps_counts_and_answers_and_forgets_people(
    world: World, api_container: Container, data_dir: Path
) -> None:
    container = api_container
    dossier = world.formation()
    a, b = world.team.stagiaires
    # A is a stagiaire elsewhere too: A's account stays; B is nobody else's concern.
    elsewhere = world.builder.formation(
        world.academie_id, dataclasses.replace(world.team, stagiaires=[a]), title="Ailleurs"
    )
    world.builder.add_sessions(dossier, world.team, container.service.clock() - timedelta(days=60))
    world.builder.drive(dossier, world.team, "en_cours")
    with container.engine.connect() as conn:
        first = slots(conn, dossier)[0]
    container.registers.record_session(
        dossier,
        first.id,
        SessionMarks(
            marks={_id(container, dossier, a): "present", _id(container, dossier, b): "absent"}
        ),
        actor_id=world.team.formateurs[0],
    )
    team = world.team
    container.service.fire(
        FireCommand(dossier, "terminer", team.formateurs[0], payload={EARLY_CONFIRMED: True})
    )
    world.builder.complete_bilan(dossier, team)
    for trigger, who in (
        ("soumettre_bilan", team.formateurs[0]),
        ("valider_bilan", team.gestionnaire),
        ("accorder_paiement", team.responsable),
        ("mettre_en_paiement", team.gestionnaire),
    ):
        container.service.fire(FireCommand(dossier, trigger, who))
    container.questionnaires.answer(
        dossier,
        _id(container, dossier, a),
        AnswerInput(fiabilite=4, faisabilite=4, accompagnement=4, effets=4),
    )
    with pytest.raises(InvalidInput, match="pourront être supprimées à partir du"):
        container.purges.purge(dossier, actor_id=world.team.gestionnaire)
    later = Purges(container.engine, clock=lambda: container.service.clock() + timedelta(days=366))
    with pytest.raises(Exception, match="rôle requis"):
        later.purge(dossier, actor_id=world.team.formateurs[0])
    result = later.purge(dossier, actor_id=world.team.gestionnaire)
    assert (result.enrolments, result.anonymised) == (2, 1)
    with container.engine.connect() as conn:
        assert roster(conn, dossier) == []
        assert (
            conn.execute(
                select(func.count())
                .select_from(A)
                .where(A.c.dossier_id == dossier, A.c.role == "stagiaire")
            ).scalar_one()
            == 0
        )
        kept = conn.execute(select(purge_table).where(purge_table.c.dossier_id == dossier)).one()
        assert (kept.enrolled, kept.withdrawn, kept.effective) == (2, 0, 1)
        assert kept.counts["sessions"][str(first.id)] == 1
        people = {r.id: r for r in conn.execute(select(P).where(P.c.id.in_([a, b])))}
        assert people[b].email == anonymous_email(b) and people[b].full_name == ANONYMOUS_NAME
        assert not people[b].active
        assert people[a].active and "@example.org" in people[a].email
        assert (
            conn.execute(
                select(func.count())
                .select_from(O)
                .where(O.c.dossier_id == dossier, O.c.person_id.in_([a, b]))
            ).scalar_one()
            == 0
        )
        # A's other enrolment is untouched; the anonymous answer and its rate remain.
        assert enrolment_of(conn, elsewhere, a) is not None
        assert aggregate(conn, dossier).answers == 1 and aggregate(conn, dossier).invited == 2
    with pytest.raises(InvalidInput, match="supprimées le"):
        later.purge(dossier, actor_id=world.team.gestionnaire)


def _id(container: Container, dossier: int, person: int) -> int:
    with container.engine.connect() as conn:
        found = enrolment_of(conn, dossier, person)
    assert found is not None
    return found.enrolment_id


def test_the_commands_load_schools_import_a_list_and_purge(
    world: World, api_container: Container, database_url: str, tmp_path: Path
) -> None:
    container = api_container
    schools_csv = tmp_path / "etablissements.csv"
    schools_csv.write_text(
        "UAI;Nom;Type;Commune;Responsable;Fonction du responsable;Courriel du responsable\n"
        "0139999Z;Collège des Tests;EPLE;Marseille;Rose Principale;Principal;rose@example.org\n"
        "0139998Y;École des Tests;École;Aix;Ivan Circonscription;IEN;ivan@example.org\n",
        encoding="utf-8",
    )
    slug = world.slug
    loaded = run_cli(
        database_url, tmp_path, "etablissements", "importer", str(schools_csv), "--academie", slug
    )
    assert loaded.returncode == 0, loaded.stderr
    assert "2 établissement(s) créé(s), 0 mis à jour." in loaded.stdout
    dossier = world.formation()
    with container.engine.connect() as conn:
        reference = conn.execute(select(D.c.reference).where(D.c.id == dossier)).scalar_one()
    places = schools(container, world)
    listing = tmp_path / "liste.csv"
    rows = trainees(world, 3, places)
    listing.write_bytes(
        as_csv([*rows, ["Sans", "École", "sans.ecole@example.org", "Inconnue", ""]])
    )
    dry = run_cli(database_url, tmp_path, "stagiaires", "importer", reference, str(listing))
    assert dry.returncode == 1
    assert (
        "ligne 5 : Refusée : École Sans <sans.ecole@example.org> — établissement inconnu"
        in dry.stdout
    )
    refused = run_cli(
        database_url, tmp_path, "stagiaires", "importer", reference, str(listing), "--executer"
    )
    assert refused.returncode == 1 and "Rien n'a été importé" in refused.stderr
    listing.write_bytes(as_csv(rows))
    done = run_cli(
        database_url, tmp_path, "stagiaires", "importer", reference, str(listing), "--executer"
    )
    assert done.returncode == 0 and "Liste importée." in done.stdout
    with container.engine.connect() as conn:
        assert len(roster(conn, dossier)) == 2 + 3

    world.builder.drive(dossier, world.team, "annule")
    with container.engine.begin() as conn:
        # Closed long ago: past any retention period.
        conn.execute(
            update(D)
            .where(D.c.id == dossier)
            .values(state_entered_at=datetime(2020, 1, 1, tzinfo=UTC))
        )
    listed = run_cli(database_url, tmp_path, "stagiaires", "purger")
    assert f"{reference} : données des stagiaires à supprimer" in listed.stdout
    with container.engine.connect() as conn:
        assert (
            conn.execute(
                select(func.count()).select_from(N).where(N.c.dossier_id == dossier)
            ).scalar_one()
            == 5
        )
    purged = run_cli(database_url, tmp_path, "stagiaires", "purger", "--executer")
    assert (
        purged.returncode == 0 and f"{reference} : 5 inscription(s) supprimée(s)" in purged.stdout
    )
    with container.engine.connect() as conn:
        assert (
            conn.execute(
                select(func.count()).select_from(N).where(N.c.dossier_id == dossier)
            ).scalar_one()
            == 0
        )
