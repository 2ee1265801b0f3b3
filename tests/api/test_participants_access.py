"""Authorization of the stagiaires' data, over HTTP (pages and API), on the real database.

A stagiaire reads their own enrolment, convocation, attendance and attestation, and never
another stagiaire's: not the roster, not the attendance registers, not the émargement
sheets, not the uploaded scans, not another's attestation. A questionnaire link serves
once, for its own enrolment only, and the aggregate never shows below three answers.
"""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import func, select

from api.app import create_app
from api.wiring import Container
from notifications.tokens import QuestionnaireClaim
from tests.conftest import World
from tests.support.api import Api, page_session
from tests.support.pdf import pdf_text
from workflow.dossiers.dates import EARLY_CONFIRMED
from workflow.engine.rows import load
from workflow.engine.service import FireCommand
from workflow.participants.enrolment import enrol_in
from workflow.participants.inputs import AnswerInput, SessionMarks, StagiaireInput
from workflow.participants.roster import enrolment_of, slots
from workflow.store.tables import answer_table, enrolment_table, person_table
from workflow.store.types import utcnow


def _finished(world: World, container: Container) -> int:
    """A dossier whose training is over: stagiaire A was present once, B never."""
    dossier = world.formation()
    team = world.team
    world.builder.add_sessions(dossier, team, utcnow() - timedelta(days=3))
    world.builder.drive(dossier, team, "en_cours")
    a, b = team.stagiaires
    with container.engine.connect() as conn:
        mine_a, mine_b = enrolment_of(conn, dossier, a), enrolment_of(conn, dossier, b)
        first = slots(conn, dossier)[0]
    assert mine_a is not None and mine_b is not None
    container.registers.record_session(
        dossier,
        first.id,
        SessionMarks(marks={mine_a.enrolment_id: "present", mine_b.enrolment_id: "absent"}),
        actor_id=team.formateurs[0],
    )
    container.service.fire(
        FireCommand(dossier, "terminer", team.formateurs[0], payload={EARLY_CONFIRMED: True})
    )
    return dossier


def _enrolment(container: Container, dossier: int, person: int) -> int:
    with container.engine.connect() as conn:
        found = enrolment_of(conn, dossier, person)
    assert found is not None
    return found.enrolment_id


def test_a_stagiaire_reads_only_their_own(
    world: World, client: TestClient, api: Api, api_container: Container
) -> None:
    dossier = _finished(world, api_container)
    a, b = world.team.stagiaires
    other = world.formation()  # A is enrolled there too; B's data there is not A's
    b_enrolment = _enrolment(api_container, dossier, b)

    # API: the roster is the team's; a stagiaire gets their own enrolment only.
    team_view = api.get(f"/api/v1/dossiers/{dossier}/stagiaires", world.team.formateurs[0]).json()
    assert {s["person_id"] for s in team_view} == {a, b}
    own = api.get(f"/api/v1/dossiers/{dossier}/stagiaires", a).json()
    assert [s["person_id"] for s in own] == [a]
    view = api.get(f"/api/v1/dossiers/{dossier}", a).json()
    assert [m["person_id"] for m in view["team"] if m["role"] == "stagiaire"] == [a]
    mine = api.get("/api/v1/moi/formations", a).json()
    assert {t["dossier_id"] for t in mine} == {dossier, other}
    trained = next(t for t in mine if t["dossier_id"] == dossier)
    assert trained["attestation_available"] is True
    assert [s["attendance"] for s in trained["sessions"]] == ["Présent", None]
    # The uploaded émargement scans and the Sofia-FMO pack name every stagiaire.
    for path in ("documents", "exports/sofia"):
        refused = api.get(f"/api/v1/dossiers/{dossier}/{path}", a)
        assert refused.status_code == 403, path
    # Attendance is written by the team only.
    marks = {"marks": {str(b_enrolment): "present"}}
    session = slots_of(api_container, dossier)[0]
    written = api.put(f"/api/v1/dossiers/{dossier}/sessions/{session}/presences", a, json=marks)
    assert written.status_code == 403

    # Pages: the team's pages are refused, the dossier page sends them to their own.
    page_session(client, api_container, a)
    for path in (
        "stagiaires",
        "presences",
        f"presences/sessions/{session}",
        f"emargement/sessions/{session}",
        f"emargement/sessions/{session}/csv",
        f"stagiaires/{b_enrolment}/attestation",
        "stagiaires/attestations",
    ):
        response = client.get(f"/dossiers/{dossier}/{path}")
        assert response.status_code == 403, path
        assert "Accès refusé" in response.text and "Stagiaire-B" not in response.text
    moved = client.get(f"/dossiers/{dossier}", follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == f"/mes-formations/{dossier}"
    page = client.get(f"/mes-formations/{dossier}")
    assert page.status_code == 200 and "Présent" in page.text
    assert "Stagiaire-B" not in page.text
    team_page = client.get(f"/dossiers/{dossier}/equipe")
    assert team_page.status_code == 200 and "Stagiaire-B" not in team_page.text
    bilan = client.get(f"/dossiers/{dossier}/bilan")
    assert bilan.status_code == 200 and "emargement.pdf" not in bilan.text
    assert "Effectifs d'après les présences" not in bilan.text
    attestation = client.get(f"/mes-formations/{dossier}/attestation")
    assert attestation.status_code == 200
    assert attestation.headers["content-type"] == "application/pdf"
    attested = pdf_text(attestation.content)
    assert "Stagiaire-A" in attested and "Stagiaire-B" not in attested
    calendar = client.get(f"/mes-formations/{dossier}/convocation.ics")
    events = Calendar.from_ical(calendar.content).walk("VEVENT")
    assert len(events) == 2

    # B took part in nothing: no attestation, whichever the address.
    page_session(client, api_container, b)
    assert client.get(f"/mes-formations/{dossier}/attestation").status_code == 404
    # Someone enrolled nowhere has no training to read.
    page_session(client, api_container, world.outsider)
    assert client.get(f"/mes-formations/{dossier}").status_code == 404
    assert client.get(f"/mes-formations/{dossier}/convocation.ics").status_code == 404


def slots_of(container: Container, dossier: int) -> list[int]:
    with container.engine.connect() as conn:
        return [s.id for s in slots(conn, dossier)]


def _answers(container: Container, dossier: int) -> int:
    with container.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(answer_table)
                .where(answer_table.c.dossier_id == dossier)
            ).scalar_one()
        )


ANSWER = {
    "fiabilite": "4",
    "faisabilite": "3",
    "accompagnement": "2",
    "effets": "4",
    "commentaire": "Très utile",
}


def test_a_questionnaire_link_serves_once_and_for_its_own_enrolment(
    world: World, api_container: Container
) -> None:
    dossier = _finished(world, api_container)
    a, b = world.team.stagiaires
    links = api_container.questionnaire_links
    token_a = links.token(QuestionnaireClaim(dossier, _enrolment(api_container, dossier, a)))
    token_b = links.token(QuestionnaireClaim(dossier, _enrolment(api_container, dossier, b)))
    with TestClient(create_app(api_container)) as anonymous:
        form = anonymous.get(f"/questionnaire/{token_a}")
        assert form.status_code == 200 and "Fiabilité du dispositif" in form.text
        missing = anonymous.post(f"/questionnaire/{token_a}", data={"fiabilite": "9"})
        assert missing.status_code == 422 and "choisissez une réponse" in missing.text
        assert _answers(api_container, dossier) == 0
        done = anonymous.post(f"/questionnaire/{token_a}", data=ANSWER)
        assert done.status_code == 200 and "Merci" in done.text
        again = anonymous.post(f"/questionnaire/{token_a}", data=ANSWER)
        assert again.status_code == 410 and "déjà été rempli" in again.text
        assert anonymous.get(f"/questionnaire/{token_a}").status_code == 410
        # A's use did not use B's link; a link altered to name B's enrolment is refused.
        assert anonymous.get(f"/questionnaire/{token_b}").status_code == 200
        forged = token_a.replace(token_a.split(".")[0], token_b.split(".")[0], 1)
        assert anonymous.post(f"/questionnaire/{forged}", data=ANSWER).status_code == 400
        assert anonymous.post(f"/questionnaire/{token_b}", data=ANSWER).status_code == 200
    assert _answers(api_container, dossier) == 2
    with api_container.engine.connect() as conn:
        answered = conn.execute(
            select(func.count())
            .select_from(enrolment_table)
            .where(
                enrolment_table.c.dossier_id == dossier, enrolment_table.c.questionnaire_answered
            )
        ).scalar_one()
        columns = set(answer_table.c.keys())
    assert answered == 2
    # Nothing in an answer points to a person or a moment.
    assert columns == {
        "id",
        "dossier_id",
        "fiabilite",
        "faisabilite",
        "accompagnement",
        "effets",
        "comment",
    }


def test_the_questionnaire_is_closed_before_the_end_and_for_a_withdrawn_stagiaire(
    world: World, api_container: Container
) -> None:
    dossier = world.formation()
    a, b = world.team.stagiaires
    links = api_container.questionnaire_links
    token = links.token(QuestionnaireClaim(dossier, _enrolment(api_container, dossier, a)))
    api_container.enrolments.withdraw(dossier, _enrolment(api_container, dossier, b), actor_id=None)
    withdrawn = links.token(QuestionnaireClaim(dossier, _enrolment(api_container, dossier, b)))
    with TestClient(create_app(api_container)) as anonymous:
        early = anonymous.post(f"/questionnaire/{token}", data=ANSWER)
        assert early.status_code == 409 and "pas ouvert" in early.text
        gone = anonymous.get(f"/questionnaire/{withdrawn}")
        assert gone.status_code == 409 and "aucune inscription en cours" in gone.text
        broken = anonymous.get("/questionnaire/ceci-n-est-pas-un-jeton")
        assert broken.status_code == 400 and "pas valide" in broken.text
    assert _answers(api_container, dossier) == 0


def test_the_aggregate_never_shows_below_three_answers(
    world: World, client: TestClient, api_container: Container
) -> None:
    dossier = _finished(world, api_container)
    enrolments = [_enrolment(api_container, dossier, p) for p in world.team.stagiaires]
    page_session(client, api_container, world.team.pilote)
    comments = ["Premier avis", "Deuxième avis", "Troisième avis"]
    for n in range(3):
        enrolment = enrolments[n] if n < 2 else _late_enrolment(world, api_container, dossier)
        api_container.questionnaires.answer(
            dossier,
            enrolment,
            AnswerInput(
                fiabilite=4, faisabilite=3, accompagnement=2, effets=1, comment=comments[n]
            ),
        )
        bilan = client.get(f"/dossiers/{dossier}/bilan").text
        printed = client.get(f"/api/v1/dossiers/{dossier}/exports/bilan").text
        shown = n + 1 >= 3
        for text in (bilan, printed):
            assert (comments[0] in text) is shown
            assert ("Pas du tout satisfaisant" in text) is shown
            assert (re.search(r"à partir de 3 réponses", text) is not None) is not shown
        assert f"{n + 1} réponse" in bilan


def _late_enrolment(world: World, container: Container, dossier: int) -> int:
    """A third stagiaire, enrolled in the database as an enrolment made during the training
    would be (the roster is closed once the training is over)."""
    person = world.person("stagiaire-c")
    with container.engine.begin() as conn:
        email = conn.execute(
            select(person_table.c.email).where(person_table.c.id == person)
        ).scalar_one()
        (enrolment,) = enrol_in(
            conn,
            load(conn, dossier),
            [StagiaireInput(last_name="C", first_name="Stagiaire", email=email)],
            None,
            utcnow(),
        )
    return enrolment


def test_a_cancelled_training_tells_its_stagiaire_and_cancels_the_calendar(
    world: World, client: TestClient, api_container: Container
) -> None:
    dossier = world.formation()
    team = world.team
    world.builder.add_sessions(dossier, team, utcnow() + timedelta(days=10))
    world.builder.drive(dossier, team, "scenario_valide")
    a = team.stagiaires[0]
    page_session(client, api_container, a)
    assert "Prochaine session" in client.get("/mes-formations").text
    api_container.service.fire(FireCommand(dossier, "annuler", team.pilote, comment="Reportée."))
    listed = client.get("/mes-formations").text
    assert "Formation annulée" in listed and "Prochaine session" not in listed
    assert "Formation annulée" in client.get(f"/mes-formations/{dossier}").text
    calendar = Calendar.from_ical(client.get(f"/mes-formations/{dossier}/convocation.ics").content)
    assert str(calendar["METHOD"]) == "CANCEL"
    events = calendar.walk("VEVENT")
    assert events and {str(e["STATUS"]) for e in events} == {"CANCELLED"}
