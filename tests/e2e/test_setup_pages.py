"""Setting a dossier up from the pages in a real browser: « Nouveau dossier » from the menu,
its team and a suppléance on « Équipe », a removal confirmed first, the planning edited;
forms refused with their errors; read-only and « page introuvable » for those without the
right. axe-core reports no WCAG 2.1 A/AA violation on any of these pages in any state, and
each is kept as a screenshot under tests/artifacts/."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect

from api.wiring import Container
from tests.e2e.conftest import People
from tests.support.browser import check_page, sign_in
from workflow.dossiers.team import delegations_of, person_of
from workflow.engine.roles import members
from workflow.engine.rows import load


def _at(page: Page, base: str, path: str) -> None:
    expect(page).to_have_url(re.compile(re.escape(base + path) + r"(\?.*)?$"))


def test_gestionnaire_sets_a_dossier_up_from_the_pages(
    page: Page, live_url: str, people: People, api_container: Container
) -> None:
    world = people.world
    team = world.team
    world.formation()  # the académie's people are known from an earlier dossier
    sign_in(page, live_url, people.email(team.gestionnaire))

    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Nouveau dossier"
    ).click()
    _at(page, live_url, "/dossiers/nouveau")
    expect(page.get_by_role("heading", name="Nouveau dossier", exact=True)).to_be_visible()
    check_page(page, "nouveau-dossier")

    # Refused: the title is too short and the hours are no number.
    page.get_by_label("Titre de la formation").fill("Cl")
    page.get_by_label("Heures prévues à distance").fill("treize")
    page.get_by_label("Date de début prévue").fill("30/10/2026")
    page.get_by_label("Date de fin prévue").fill("14/09/2026")
    page.get_by_role("button", name="Créer le dossier").click()
    expect(page.get_by_text("Le formulaire contient 2 erreurs")).to_be_visible()
    expect(page.locator("#titre-erreur")).to_have_text("texte trop court")
    expect(page.locator("#heures_distance-erreur")).to_have_text("nombre décimal attendu")
    expect(page.get_by_label("Heures prévues à distance")).to_have_value("treize")
    expect(page.get_by_label("Date de début prévue")).to_have_value("30/10/2026")
    check_page(page, "nouveau-dossier-erreurs")
    # Then the dates in the wrong order, once each field is right.
    page.get_by_label("Titre de la formation").fill("Classe virtuelle en cycle 3")
    page.get_by_label("Heures prévues à distance").fill("13")
    page.get_by_role("button", name="Créer le dossier").click()
    expect(page.get_by_text("Le formulaire contient 1 erreur")).to_be_visible()
    expect(
        page.get_by_role("alert").get_by_text("la date de fin précède la date de début")
    ).to_be_visible()

    page.get_by_label("Titre de la formation").fill("Classe virtuelle en cycle 3")
    page.get_by_text("Accompagnement à distance rémunéré en vacations").click()
    page.get_by_label("Heures prévues en présentiel").fill("6")
    page.get_by_label("Participants prévus").fill("20")
    page.get_by_label("Date de début prévue").fill("14/09/2026")
    page.get_by_label("Date de fin prévue").fill("30/10/2026")
    page.get_by_role("button", name="Créer le dossier").click()
    expect(page.get_by_role("heading", name="Classe virtuelle en cycle 3")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Dossier créé : "))).to_be_visible()
    expect(page.get_by_text("du 14 septembre 2026 au 30 octobre 2026")).to_be_visible()
    dossier_id = int(page.url.rstrip("/").rsplit("/", 1)[1])

    # Équipe: empty of dossier roles at first (the gestionnaire opened it, not a pilote).
    page.get_by_role("link", name="Voir ou modifier l'équipe et les suppléances").click()
    _at(page, live_url, f"/dossiers/{dossier_id}/equipe")
    expect(page.get_by_text("Ce dossier n'a pas encore d'équipe")).to_be_visible()
    check_page(page, "equipe-vide")

    def add(role: str, person: int) -> None:
        page.get_by_label("Rôle *").select_option(label=role)
        page.locator("#personne").select_option(value=str(person))
        page.get_by_role("button", name="Ajouter à l'équipe").click()
        expect(page.get_by_text("Membre ajouté à l'équipe")).to_be_visible()

    add("Pilote", team.pilote)
    add("Formateur", team.formateurs[0])
    assert team.concepteur is not None and team.tuteur is not None
    add("Concepteur", team.concepteur)
    # By address, for someone not in the list yet.
    page.get_by_label("Rôle *").select_option(label="Tuteur")
    page.get_by_label("Ou son adresse électronique").fill(people.email(team.tuteur).upper())
    page.get_by_role("button", name="Ajouter à l'équipe").click()
    expect(page.get_by_text(re.compile("est maintenant Tuteur sur ce dossier"))).to_be_visible()

    # Refused: already on the team, and an address nobody has.
    add_form = page.locator("form[action$='/equipe']")
    page.get_by_label("Rôle *").select_option(label="Formateur")
    page.locator("#personne").select_option(value=str(team.formateurs[0]))
    add_form.get_by_role("button", name="Ajouter à l'équipe").click()
    expect(page.get_by_text("Le formulaire contient 1 erreur")).to_be_visible()
    expect(page.locator("#personne-erreur")).to_have_text(
        "cette personne est déjà Formateur sur ce dossier"
    )
    expect(page.get_by_label("Rôle *")).to_have_value("formateur")
    check_page(page, "equipe-erreurs")
    page.get_by_label("Ou son adresse électronique").fill("inconnue@example.org")
    add_form.get_by_role("button", name="Ajouter à l'équipe").click()
    expect(page.locator("#courriel-erreur")).to_have_text(
        "aucune personne n'a l'adresse « inconnue@example.org » dans formaflow"
    )

    # A suppléance for the pilote; first refused for a missing date.
    page.goto(f"{live_url}/dossiers/{dossier_id}/equipe")
    page.locator("#suppleant").select_option(value=str(team.concepteur))
    page.get_by_label("Du (inclus)").fill("02/03/2026")
    page.get_by_role("button", name="Enregistrer la suppléance").click()
    expect(page.get_by_text("Le formulaire contient 1 erreur")).to_be_visible()
    expect(page.locator("#fin-erreur")).to_have_text("saisissez une date")
    expect(page.get_by_label("Du (inclus)")).to_have_value("02/03/2026")
    check_page(page, "equipe-suppleance-erreurs")
    page.get_by_label("Au (inclus)").fill("6/3/2026")
    page.get_by_role("button", name="Enregistrer la suppléance").click()
    expect(page.get_by_text("Suppléance enregistrée")).to_be_visible()
    rows = page.get_by_role("region", name="Suppléances du dossier").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td").nth(1)).to_have_text("Pilote")
    expect(rows.first.locator("td").nth(3)).to_have_text("2 mars 2026")
    expect(rows.first.locator("td").nth(4)).to_have_text("6 mars 2026 inclus")
    check_page(page, "equipe")

    # Removing goes through a confirmation page; « Annuler » changes nothing.
    page.get_by_role("link", name=re.compile(r"^Retirer .*\(Concepteur\)$")).click()
    _at(page, live_url, f"/dossiers/{dossier_id}/equipe/retirer/{team.concepteur}/concepteur")
    expect(page.get_by_role("heading", name="Retirer un membre de l'équipe")).to_be_visible()
    check_page(page, "equipe-retirer")
    page.get_by_role("link", name="Annuler").click()
    page.get_by_role("link", name=re.compile(r"^Retirer .*\(Concepteur\)$")).click()
    page.get_by_role("button", name=re.compile("^Confirmer : retirer")).click()
    expect(page.get_by_text("Membre retiré de l'équipe")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"\(Concepteur\)$"))).to_have_count(0)

    with api_container.engine.connect() as conn:
        dossier = load(conn, dossier_id)
        roles = ["pilote", "formateur", "concepteur", "tuteur"]
        held = {(m.person_id, m.role) for m in members(conn, dossier.ref, roles)}
        delegations = delegations_of(conn, dossier.ref)
    assert held == {
        (team.pilote, "pilote"),
        (team.formateurs[0], "formateur"),
        (team.tuteur, "tuteur"),
    }
    assert [(d.delegator, d.this_dossier_only) for d in delegations] == [
        (_name(api_container, team.pilote), True)
    ]

    # Planning: refused with a bad number, then saved.
    page.goto(f"{live_url}/dossiers/{dossier_id}")
    page.get_by_role("link", name="Voir ou modifier la planification").click()
    _at(page, live_url, f"/dossiers/{dossier_id}/planification")
    expect(page.get_by_label("Titre de la formation")).to_have_value("Classe virtuelle en cycle 3")
    expect(page.get_by_label("Date de début prévue")).to_have_value("14/09/2026")
    check_page(page, "planification")
    page.get_by_label("Heures prévues à distance").fill("treize")
    page.get_by_role("button", name="Enregistrer la planification").click()
    expect(page.get_by_text("Le formulaire contient 1 erreur")).to_be_visible()
    expect(page.locator("#heures_distance-erreur")).to_have_text("nombre décimal attendu")
    expect(page.get_by_label("Heures prévues à distance")).to_have_value("treize")
    check_page(page, "planification-erreurs")
    page.get_by_label("Heures prévues à distance").fill("12,5")
    page.get_by_label("Titre de la formation").fill("Classe virtuelle en cycles 2 et 3")
    page.get_by_role("button", name="Enregistrer la planification").click()
    _at(page, live_url, f"/dossiers/{dossier_id}")
    expect(page.get_by_text("Planification enregistrée")).to_be_visible()
    expect(page.get_by_role("heading", name="Classe virtuelle en cycles 2 et 3")).to_be_visible()
    expect(page.get_by_text("6 h en présentiel, 12,5 h à distance")).to_be_visible()


def _name(container: Container, person_id: int) -> str:
    with container.engine.connect() as conn:
        found = person_of(conn, person_id)
    assert found is not None
    return found.full_name


def test_a_pilote_opens_a_request_to_open_a_parcours(
    page: Page, live_url: str, people: People
) -> None:
    world = people.world
    world.formation()
    sign_in(page, live_url, people.email(world.team.pilote))
    page.goto(f"{live_url}/dossiers/nouveau")
    page.get_by_role("link", name="Demande d'ouverture de parcours M@gistère").click()
    _at(page, live_url, "/dossiers/nouveau")
    expect(page.get_by_label("Nom du parcours")).to_be_visible()
    # The only académie where they may create is chosen already.
    expect(page.get_by_label("Académie")).not_to_have_value("")
    check_page(page, "nouveau-dossier-demande")
    page.get_by_label("Nom du parcours").fill("Évaluer par compétences au collège")
    page.get_by_role("button", name="Créer la demande").click()
    expect(page).to_have_url(re.compile(r"/dossiers/\d+/demande$"))
    expect(page.get_by_text(re.compile(r"^Demande d'ouverture créée : "))).to_be_visible()
    expect(page.get_by_role("button", name="Enregistrer la demande")).to_be_visible()


def test_without_the_right_the_team_is_read_only_or_not_found(
    page: Page, live_url: str, people: People
) -> None:
    world = people.world
    dossier_id = world.formation()
    world.builder.editor.delegate(
        world.team.pilote,
        world.team.concepteur or world.team.pilote,
        *_next_week(),
        dossier_id=dossier_id,
    )
    sign_in(page, live_url, people.email(world.team.formateurs[0]))
    page.goto(f"{live_url}/dossiers/{dossier_id}/equipe")
    expect(page.get_by_text("vous la voyez en lecture seule")).to_be_visible()
    expect(page.get_by_role("heading", name="Formateur")).to_be_visible()
    expect(page.get_by_role("button", name="Ajouter à l'équipe")).to_have_count(0)
    expect(page.get_by_role("button", name="Enregistrer la suppléance")).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile("^Retirer"))).to_have_count(0)
    expect(
        page.get_by_role("region", name="Suppléances du dossier").locator("tbody tr")
    ).to_have_count(1)
    check_page(page, "equipe-lecture-seule")
    page.goto(f"{live_url}/dossiers/{dossier_id}/planification")
    expect(page.get_by_text("La planification ne peut être modifiée que par")).to_be_visible()
    expect(page.get_by_role("button", name="Enregistrer la planification")).to_have_count(0)
    check_page(page, "planification-lecture-seule")
    page.goto(f"{live_url}/dossiers/{dossier_id}/equipe/retirer/{world.team.pilote}/pilote")
    expect(page.get_by_role("heading", name="Accès refusé")).to_be_visible()

    page.context.clear_cookies()
    sign_in(page, live_url, people.email(world.outsider))
    nav = page.get_by_role("navigation", name="Menu principal")
    expect(nav.get_by_role("link", name="Mes tâches")).to_have_count(1)
    expect(nav.get_by_role("link", name="Nouveau dossier")).to_have_count(0)
    page.goto(f"{live_url}/dossiers/nouveau")
    expect(page.get_by_role("heading", name="Accès refusé")).to_be_visible()
    check_page(page, "nouveau-dossier-refuse")
    for path in ("equipe", "planification"):
        response = page.goto(f"{live_url}/dossiers/{dossier_id}/{path}")
        assert response is not None and response.status == 404
        expect(page.get_by_role("heading", name="Page introuvable")).to_be_visible()
    check_page(page, "equipe-introuvable")


def _next_week() -> tuple[datetime, datetime]:
    start = datetime.now(UTC) - timedelta(days=1)
    return start, start + timedelta(days=7)
