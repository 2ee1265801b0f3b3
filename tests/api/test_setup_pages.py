"""The set-up pages (« Nouveau dossier », planification, « Équipe ») without a browser: what
a crafted or careless post gets back. Every bad input is a French message on the form or a
French « page introuvable », never a 500, and nothing is written when the form is refused.
Runs on SQLite and PostgreSQL like the rest of the suite."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.wiring import Container
from tests.conftest import World
from tests.support.api import Api, page_session
from workflow.dossiers.access import creatable_academies, may_create_in
from workflow.dossiers.inputs import PlanningInput
from workflow.engine.roles import members
from workflow.engine.rows import load
from workflow.language.french import PARIS
from workflow.store.tables import delegation_table, dossier_table, person_table


def _email(container: Container, person_id: int) -> str:
    with container.engine.connect() as conn:
        found: str = conn.execute(
            select(person_table.c.email).where(person_table.c.id == person_id)
        ).scalar_one()
    return found


def _dossiers(container: Container, academie_id: int) -> int:
    with container.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).where(dossier_table.c.academie_id == academie_id)
            ).scalar_one()
        )


def test_who_may_create_where_is_one_rule(world: World, api_container: Container) -> None:
    """The académies offered by the form are exactly those ``may_create_in`` accepts: the
    académie's pilotes and gestionnaires, nobody else holding a role there."""
    dossier = world.formation()
    team = world.team
    with api_container.engine.connect() as conn:
        for person in (team.gestionnaire, team.pilote):
            offered = creatable_academies(conn, person)
            assert [a.id for a in offered] == [world.academie_id]
            assert may_create_in(conn, world.academie_id, person)
        assert team.tuteur is not None
        others = [team.formateurs[0], team.stagiaires[0], team.tuteur, team.responsable]
        for person in (*others, world.outsider):
            assert creatable_academies(conn, person) == []
            assert not may_create_in(conn, world.academie_id, person)
        assert not may_create_in(conn, world.academie_id, world.other_academie_gestionnaire)
    del dossier


def test_a_stagiaire_may_not_create_a_dossier_by_the_api_nor_the_page(
    world: World, client: TestClient, api_container: Container
) -> None:
    """A stagiaire of one of the académie's dossiers used to open dossiers there, and
    became their pilote."""
    world.formation()
    stagiaire = world.team.stagiaires[0]
    before = _dossiers(api_container, world.academie_id)
    api = Api(client, api_container)
    body = {"title": "Ma propre formation", "academie": world.slug}
    refused = api.post("/api/v1/dossiers", stagiaire, json=body)
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"] == "/api/problemes/action-non-autorisee"

    csrf = page_session(client, api_container, stagiaire)
    assert client.get("/dossiers/nouveau").status_code == 403
    posted = client.post(
        "/dossiers/nouveau",
        data={"csrf_token": csrf, "academie": world.slug, "titre": "Ma propre formation"},
    )
    assert posted.status_code == 403
    assert _dossiers(api_container, world.academie_id) == before


def test_the_creator_becomes_pilote_only_if_they_are_one(
    world: World, client: TestClient, api_container: Container
) -> None:
    world.formation()
    api = Api(client, api_container)
    team = world.team
    for creator, becomes_pilote in ((team.pilote, True), (team.gestionnaire, False)):
        created = api.post(
            "/api/v1/dossiers", creator, json={"title": "Nouvelle action", "academie": world.slug}
        )
        assert created.status_code == 201, created.text
        roles = {(m["person_id"], m["role"]) for m in created.json()["team"]}
        assert ((creator, "pilote") in roles) is becomes_pilote


def test_new_dossier_refuses_bad_input_in_french_and_writes_nothing(
    world: World, client: TestClient, api_container: Container
) -> None:
    world.formation()
    csrf = page_session(client, api_container, world.team.gestionnaire)
    before = _dossiers(api_container, world.academie_id)

    empty = client.post("/dossiers/nouveau", data={"csrf_token": csrf})
    assert empty.status_code == 422
    assert "Le formulaire contient 2 erreurs" in empty.text
    assert "Académie : choisissez une académie de la liste" in empty.text
    assert "Titre de la formation : texte trop court" in empty.text

    garbage = {
        "csrf_token": csrf,
        "academie": world.slug,
        "titre": "Classe virtuelle <b>cycle 3</b>",
        "dispositif": "inconnu",
        "heures_presentiel": "beaucoup",
        "participants": "-3",
        "debut": "31/02/2026",
        "fin": "demain",
    }
    refused = client.post("/dossiers/nouveau", data=garbage)
    assert refused.status_code == 422
    text = refused.text
    assert "Le formulaire contient 5 erreurs" in text
    assert "Date de début prévue : date invalide : saisissez-la au format JJ/MM/AAAA" in text
    assert "Date de fin prévue : date invalide" in text
    assert "Dispositif (barème de rémunération) : dispositif inconnu : inconnu" in text
    assert "Heures prévues en présentiel : nombre décimal attendu" in text
    assert "Participants prévus : valeur trop petite" in text
    # The summary follows the form's order, not the order the checks ran in.
    summary = text[text.index("resume-erreurs") : text.index("</ul>", text.index("resume-erreurs"))]
    firsts = ["Dispositif", "Heures prévues en présentiel", "Participants", "Date de début"]
    assert [summary.index(label) for label in firsts] == sorted(
        summary.index(label) for label in firsts
    )
    # What was typed is shown again, escaped.
    assert 'value="Classe virtuelle &lt;b&gt;cycle 3&lt;/b&gt;"' in text
    assert 'value="beaucoup"' in text

    elsewhere = client.post(
        "/dossiers/nouveau",
        data={"csrf_token": csrf, "academie": f"autre-{world.slug[5:]}", "titre": "Ailleurs"},
    )
    assert elsewhere.status_code == 422
    assert "Académie : choisissez une académie de la liste" in elsewhere.text
    assert _dossiers(api_container, world.academie_id) == before


def test_new_dossier_takes_french_dates_and_decimals(
    world: World, client: TestClient, api_container: Container
) -> None:
    world.formation()
    csrf = page_session(client, api_container, world.team.pilote)
    created = client.post(
        "/dossiers/nouveau",
        data={
            "csrf_token": csrf,
            "workflow": "dossier_formation",
            "academie": world.slug,
            "titre": "Hybrider un cours de langues",
            "dispositif": "eafc_taux_a",
            "heures_presentiel": "4,5",
            "heures_distance": "10",
            "participants": "18",
            "debut": "14/09/2026",
            "fin": "2026-10-30",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    dossier_id = int(created.headers["location"].rsplit("/", 1)[1])
    with api_container.engine.connect() as conn:
        row = load(conn, dossier_id)
        team = members(conn, row.ref, ["pilote"])
    assert (row.title, row.dispositif, row.state) == (
        "Hybrider un cours de langues",
        "eafc_taux_a",
        "brouillon",
    )
    assert str(row.planned_hours_presentiel) == "4.50"
    assert (row.planned_start, row.planned_end) == (date(2026, 9, 14), date(2026, 10, 30))
    # A creator who is not EAFC staff steers what they open.
    assert [m.person_id for m in team] == [world.team.pilote]

    demande = client.post(
        "/dossiers/nouveau",
        data={
            "csrf_token": csrf,
            "workflow": "ouverture_parcours",
            "academie": world.slug,
            "titre": "Parcours « Évaluer par compétences »",
        },
        follow_redirects=False,
    )
    assert demande.status_code == 303, demande.text
    assert demande.headers["location"].endswith("/demande")


def test_someone_without_any_role_may_not_create(
    world: World, client: TestClient, api_container: Container
) -> None:
    csrf = page_session(client, api_container, world.outsider)
    page = client.get("/dossiers/nouveau")
    assert page.status_code == 403
    assert "Accès refusé" in page.text
    assert "Nouveau dossier</a>" not in page.text
    posted = client.post(
        "/dossiers/nouveau", data={"csrf_token": csrf, "academie": world.slug, "titre": "Non"}
    )
    assert posted.status_code == 403
    assert _dossiers(api_container, world.academie_id) == 0


def test_a_stale_planning_form_is_refused_and_a_saved_one_is_a_new_version(
    world: World, client: TestClient, api_container: Container
) -> None:
    dossier_id = world.formation()
    csrf = page_session(client, api_container, world.team.pilote)
    with api_container.engine.connect() as conn:
        read_at = load(conn, dossier_id).version
    form = {
        "csrf_token": csrf,
        "version": str(read_at),
        "titre": "Titre revu",
        "dispositif": "vacation_accompagnement",
        "heures_presentiel": "6",
        "heures_distance": "12,5",
        "participants": "20",
        "debut": "2026-09-01",
        "fin": "2026-09-30",
    }
    # Meanwhile the gestionnaire changes the planning from elsewhere.
    api_container.editor.update_planning(
        dossier_id, PlanningInput(title="Titre du gestionnaire"), actor_id=world.team.gestionnaire
    )
    stale = client.post(f"/dossiers/{dossier_id}/planification", data=form)
    assert stale.status_code == 409
    assert "Le dossier a été modifié entre-temps" in stale.text
    assert 'value="Titre revu"' in stale.text
    with api_container.engine.connect() as conn:
        row = load(conn, dossier_id)
    assert row.title == "Titre du gestionnaire"
    assert row.version == read_at + 1

    fresh = client.post(
        f"/dossiers/{dossier_id}/planification",
        data={**form, "version": str(row.version)},
        follow_redirects=False,
    )
    assert fresh.status_code == 303, fresh.text
    with api_container.engine.connect() as conn:
        saved = load(conn, dossier_id)
    assert (saved.title, str(saved.planned_hours_distance)) == ("Titre revu", "12.50")
    assert saved.version == row.version + 1

    garbage = client.post(
        f"/dossiers/{dossier_id}/planification",
        data={**form, "version": "pas un nombre", "debut": "2026-13-45"},
    )
    assert garbage.status_code == 422
    assert "Date de début prévue : date invalide" in garbage.text


def test_team_changes_refuse_unknown_people_duplicates_and_other_academies(
    world: World, client: TestClient, api_container: Container
) -> None:
    dossier_id = world.formation()
    team = world.team
    csrf = page_session(client, api_container, team.gestionnaire)
    path = f"/dossiers/{dossier_id}/equipe"

    unknown = client.post(
        path, data={"csrf_token": csrf, "role": "formateur", "courriel": "personne@example.org"}
    )
    assert unknown.status_code == 422
    assert "aucune personne n&#39;a l&#39;adresse « personne@example.org »" in unknown.text

    again = client.post(
        path, data={"csrf_token": csrf, "role": "formateur", "personne": str(team.formateurs[0])}
    )
    assert again.status_code == 422
    assert "cette personne est déjà Formateur sur ce dossier" in again.text

    nothing = client.post(path, data={"csrf_token": csrf, "role": "gestionnaire"})
    assert nothing.status_code == 422
    assert "Rôle : choisissez un rôle de la liste" in nothing.text
    assert "choisissez une personne dans la liste ou saisissez son adresse" in nothing.text

    # A person id that is nobody of this académie, sent by hand.
    forged = client.post(
        path,
        data={"csrf_token": csrf, "role": "tuteur", "personne": str(world.outsider)},
    )
    assert forged.status_code == 422
    assert "Personne : choisissez une personne de la liste" in forged.text

    by_address = client.post(
        path,
        data={
            "csrf_token": csrf,
            "role": "tuteur",
            "courriel": _email(api_container, world.outsider),
        },
        follow_redirects=False,
    )
    assert by_address.status_code == 303

    removal = f"{path}/retirer/{team.formateurs[0]}/stagiaire"
    assert client.get(removal).status_code == 404
    assert client.post(removal, data={"csrf_token": csrf, "confirme": "oui"}).status_code == 404
    assert client.get(f"{path}/retirer/{team.gestionnaire}/gestionnaire").status_code == 404

    other = world.builder.formation(
        world.builder.editor.create_academie(f"x{world.slug}", "Tierce", f"X{world.slug[-5:]}"),
        team,
        title="Ailleurs",
    )
    foreign = client.post(
        f"/dossiers/{other}/equipe",
        data={"csrf_token": csrf, "role": "tuteur", "courriel": "personne@example.org"},
    )
    assert foreign.status_code == 404
    assert "Page introuvable" in foreign.text
    assert client.get(f"/dossiers/{other}/equipe").status_code == 404


def test_delegation_form_checks_its_period_and_people(
    world: World, client: TestClient, api_container: Container
) -> None:
    dossier_id = world.formation()
    team = world.team
    csrf = page_session(client, api_container, team.pilote)
    path = f"/dossiers/{dossier_id}/suppleances"

    def count() -> int:
        with api_container.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).where(delegation_table.c.dossier_id == dossier_id)
                ).scalar_one()
            )

    bad = client.post(
        path,
        data={
            "csrf_token": csrf,
            "delegant": str(team.formateurs[0]),
            "suppleant": "",
            "debut": "demain",
            "fin": "",
        },
    )
    assert bad.status_code == 422
    assert "Pilote suppléé : choisissez un pilote de ce dossier" in bad.text
    assert "Du : date invalide" in bad.text
    assert "Au : saisissez une date" in bad.text

    backwards = client.post(
        path,
        data={
            "csrf_token": csrf,
            "delegant": str(team.pilote),
            "suppleant": str(team.concepteur),
            "debut": "2026-03-10",
            "fin": "2026-03-02",
        },
    )
    assert backwards.status_code == 422
    assert "Au : La fin de la suppléance doit suivre son début." in backwards.text

    myself = client.post(
        path,
        data={
            "csrf_token": csrf,
            "delegant": str(team.pilote),
            "suppleant": str(team.pilote),
            "debut": "2026-03-02",
            "fin": "2026-03-10",
        },
    )
    assert myself.status_code == 422
    assert "On ne peut pas se désigner soi-même comme suppléant." in myself.text
    assert count() == 0

    done = client.post(
        path,
        data={
            "csrf_token": csrf,
            "delegant": str(team.pilote),
            "suppleant": str(team.concepteur),
            "debut": "02/03/2026",
            "fin": "06/03/2026",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    with api_container.engine.connect() as conn:
        row = conn.execute(
            select(delegation_table).where(delegation_table.c.dossier_id == dossier_id)
        ).one()
    # « du 2 au 6 mars » in Paris: from the 2nd's midnight to the end of the 6th.
    assert row.starts_at == datetime(2026, 3, 2, tzinfo=PARIS)
    assert row.ends_at == datetime(2026, 3, 6, tzinfo=PARIS) + timedelta(days=1)
    assert (row.delegator_id, row.substitute_id) == (team.pilote, team.concepteur)
