"""The web pages in a real browser (Debian's Chromium through Playwright): each role's work
done from the pages alone, French messages for refused actions, and axe-core reporting no
WCAG 2.1 A/AA violation on any page in its empty, full and form-with-errors states.
Every page looked at is kept as a screenshot under tests/artifacts/."""

from __future__ import annotations

import re

from playwright.sync_api import FilePayload, Page, expect
from sqlalchemy import select, update

from api.wiring import Container
from tests.e2e.conftest import People
from tests.support.browser import PASSWORD, check_page, sign_in
from workflow.dossiers.inputs import DossierInput
from workflow.engine.service import FireCommand
from workflow.store.tables import outbox_table


def _at(page: Page, base: str, path: str) -> None:
    expect(page).to_have_url(re.compile(re.escape(base + path) + r"(\?.*)?$"))


def test_sign_in_page_its_errors_and_the_redirect_back(
    page: Page, live_url: str, people: People
) -> None:
    page.goto(f"{live_url}/mes-taches")
    _at(page, live_url, "/connexion")
    assert "suivant=/mes-taches" in page.url
    expect(page.get_by_role("heading", name="Connexion à formaflow")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("ProConnect"))).to_have_count(0)
    check_page(page, "connexion")

    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_text("Le formulaire contient 2 erreurs")).to_be_visible()
    expect(page.locator("#email-erreur")).to_have_text("Saisissez votre adresse électronique.")
    check_page(page, "connexion-erreurs")

    email = people.email(people.world.team.formateurs[0])
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill("pas le bon mot de passe")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_text("Adresse électronique ou mot de passe incorrect.")).to_be_visible()
    expect(page.get_by_label("Adresse électronique")).to_have_value(email)

    sign_in(page, live_url, email, next_path="/mes-taches")
    _at(page, live_url, "/mes-taches")

    page.goto(f"{live_url}/deconnexion")
    check_page(page, "deconnexion")
    page.get_by_role("main").get_by_role("button", name="Se déconnecter").click()
    _at(page, live_url, "/connexion")
    expect(page.get_by_text("Vous êtes déconnecté.")).to_be_visible()
    page.goto(f"{live_url}/tableau-de-bord")
    _at(page, live_url, "/connexion")


def test_sign_in_never_redirects_off_site(page: Page, live_url: str, people: People) -> None:
    sign_in(page, live_url, people.email(people.world.team.formateurs[0]), "//evil.example/x")
    assert page.url.startswith(live_url)
    _at(page, live_url, "/a-traiter")


def test_pilot_reads_validates_and_returns_scenarios(
    page: Page, live_url: str, people: People
) -> None:
    world = people.world
    first = world.formation()
    world.builder.drive(first, world.team, "scenario_soumis")
    second = world.formation()
    world.builder.drive(second, world.team, "scenario_soumis")

    sign_in(page, live_url, people.email(world.team.pilote))
    page.goto(f"{live_url}/")
    _at(page, live_url, "/a-traiter")
    expect(page.get_by_role("heading", name="Scénarios à valider (2)")).to_be_visible()
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="À valider"
    ).click()
    _at(page, live_url, "/a-valider")
    sections = page.locator("main section")
    expect(sections).to_have_count(2)
    expect(page.get_by_role("heading", name="Séquence 1", exact=False).first).to_be_visible()
    check_page(page, "a-valider")

    refs = [t.split(" — ")[0] for t in page.locator("main section h2").all_inner_texts()]
    # Returning without the required comment: refused, in French, next to the field.
    page.get_by_role("button", name=f"Demander une révision du scénario — {refs[1]}").click()
    expect(page.get_by_text("Le formulaire contient 1 erreur")).to_be_visible()
    expect(page.locator("#commentaire-erreur")).to_have_text(
        "Saisissez un commentaire : il est obligatoire pour cette action."
    )
    check_page(page, "action-erreurs")
    page.get_by_label("Commentaire (obligatoire)").fill("Préciser l'accompagnement à distance.")
    page.get_by_role("button", name=re.compile("^Confirmer")).click()
    expect(page.get_by_text("Action effectuée : Demander une révision du scénario")).to_be_visible()
    expect(page.get_by_text("Scénario à réviser").first).to_be_visible()

    page.goto(f"{live_url}/a-valider")
    page.get_by_role("button", name=f"Valider le scénario hybride — {refs[0]}").click()
    _at(page, live_url, "/a-valider")
    expect(page.get_by_text("Action effectuée : Valider le scénario hybride")).to_be_visible()
    expect(page.get_by_text("Aucun scénario n'attend votre validation.")).to_be_visible()
    check_page(page, "a-valider-vide")


def test_trainer_ticks_a_task_then_reopens_it(page: Page, live_url: str, people: People) -> None:
    world = people.world
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "scenario_valide")

    sign_in(page, live_url, people.email(world.team.formateurs[0]))
    page.goto(f"{live_url}/")
    _at(page, live_url, "/a-traiter")
    page.get_by_role("link", name="voir mes tâches").click()
    _at(page, live_url, "/mes-taches")
    rows = page.locator("main table tbody tr")
    count = rows.count()
    assert count >= 1
    check_page(page, "mes-taches")

    label = rows.first.locator("td").first.inner_text().split("\n")[0]
    rows.first.get_by_role("button", name=re.compile("^Marquer comme faite")).click()
    expect(page.get_by_text("Tâche faite")).to_be_visible()
    expect(rows).to_have_count(count - 1)

    page.get_by_role("link", name="Faites", exact=True).click()
    expect(page.get_by_role("cell", name=re.compile(re.escape(label))).first).to_be_visible()
    page.get_by_role("button", name=re.compile("^Rouvrir")).first.click()
    expect(page.get_by_text("Tâche rouverte")).to_be_visible()

    page.get_by_role("link", name="À faire").click()
    expect(rows).to_have_count(count)
    page.get_by_role("link", name=re.compile("Dossier de test")).first.click()
    _at(page, live_url, f"/dossiers/{dossier}")


def test_a_person_with_nothing_to_do_sees_empty_pages(
    page: Page, live_url: str, people: People
) -> None:
    sign_in(page, live_url, people.email(people.world.outsider))
    page.goto(f"{live_url}/mes-taches")
    expect(page.get_by_text("Aucune tâche à faire : tout est à jour.")).to_be_visible()
    expect(page.get_by_role("link", name="À valider")).to_have_count(0)
    check_page(page, "mes-taches-vide")
    page.goto(f"{live_url}/tableau-de-bord")
    expect(page.get_by_role("heading", name="Mes dossiers")).to_be_visible()
    expect(page.get_by_text("Aucun dossier pour l'instant.")).to_be_visible()
    check_page(page, "mes-dossiers-vide")


def test_formateur_starts_the_training_from_the_dossier_page(
    page: Page, live_url: str, people: People
) -> None:
    world = people.world
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "scenario_valide")

    sign_in(page, live_url, people.email(world.team.formateurs[0]))
    page.goto(f"{live_url}/dossiers/{dossier}")
    expect(page.get_by_role("heading", name="Historique")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Scénario validé"))).to_be_visible()
    check_page(page, "dossier")

    page.get_by_role("button", name="Démarrer la formation").click()
    expect(page.get_by_text("Action effectuée : Démarrer la formation")).to_be_visible()
    expect(page.get_by_text("Formation en cours").first).to_be_visible()
    check_page(page, "dossier-apres-action")


def test_a_stale_form_is_refused_in_french(
    page: Page, live_url: str, people: People, api_container: object
) -> None:
    world = people.world
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "scenario_valide")

    sign_in(page, live_url, people.email(world.team.formateurs[0]))
    page.goto(f"{live_url}/dossiers/{dossier}")
    # Meanwhile the gestionnaire starts it from elsewhere.
    world.builder.service.fire(FireCommand(dossier, "demarrer", world.team.gestionnaire))
    page.get_by_role("button", name="Démarrer la formation").click()
    expect(page.get_by_role("heading", name="Action non effectuée")).to_be_visible()
    expect(page.get_by_text(re.compile("Le dossier a été modifié entre-temps"))).to_be_visible()
    check_page(page, "action-version-perimee")


def test_a_blocked_action_says_what_is_missing(page: Page, live_url: str, people: People) -> None:
    world = people.world
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "contrat_signe")

    sign_in(page, live_url, people.email(world.team.formateurs[0]))
    page.goto(f"{live_url}/dossiers/{dossier}")
    expect(page.get_by_text("Bloquée").first).to_be_visible()
    page.goto(f"{live_url}/dossiers/{dossier}/actions/soumettre_scenario")
    expect(page.get_by_role("heading", name="Il manque encore")).to_be_visible()
    check_page(page, "action-bloquee")
    page.get_by_role("button", name=re.compile("^Confirmer")).click()
    expect(page.get_by_text(re.compile("Le formulaire contient \\d+ erreur"))).to_be_visible()
    expect(page.get_by_text(re.compile("^Il manque : ")).first).to_be_visible()


def _responsable_on_a_validated_bilan(page: Page, live_url: str, people: People) -> int:
    """A dossier whose bilan is validated, open in the responsable's browser: the payment
    decision is theirs to take."""
    world = people.world
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "bilan_valide")
    sign_in(page, live_url, people.email(world.team.responsable))
    page.goto(f"{live_url}/dossiers/{dossier}")
    return dossier


def test_irreversible_action_goes_through_a_confirmation_page(
    page: Page, live_url: str, people: People
) -> None:
    dossier = _responsable_on_a_validated_bilan(page, live_url, people)
    page.get_by_role("link", name="Refuser le paiement…").click()
    _at(page, live_url, f"/dossiers/{dossier}/actions/refuser_paiement")
    expect(page.get_by_text("définitive")).to_be_visible()
    check_page(page, "action-confirmation")
    page.get_by_role("button", name=re.compile("^Confirmer")).click()
    expect(page.locator("#commentaire-erreur")).to_be_visible()
    page.get_by_label("Commentaire (obligatoire)").fill("Les listes d'émargement manquent.")
    page.get_by_role("button", name=re.compile("^Confirmer")).click()
    expect(page.get_by_text("Action effectuée : Refuser le paiement")).to_be_visible()
    expect(page.get_by_text("« Les listes d'émargement manquent. »")).to_be_visible()


def test_gestionnaire_dashboard_counts_and_filters(
    page: Page, live_url: str, people: People, api_container: Container
) -> None:
    world = people.world
    for target in ("brouillon", "scenario_soumis", "en_cours"):
        world.builder.drive(world.formation(), world.team, target)
    # One email of the académie that the mail server refused for good.
    emitted = api_container.service.fire(
        FireCommand(world.formation(), "emettre_contrat", world.team.pilote)
    )
    with api_container.engine.begin() as conn:
        target_id = conn.execute(
            select(outbox_table.c.id)
            .where(outbox_table.c.dossier_id == emitted.dossier_id)
            .limit(1)
        ).scalar_one()
        conn.execute(
            update(outbox_table)
            .where(outbox_table.c.id == target_id)
            .values(status="dead", last_error="550 5.1.1 Destinataire inconnu")
        )

    sign_in(page, live_url, people.email(world.team.gestionnaire))
    page.goto(f"{live_url}/")
    _at(page, live_url, "/a-traiter")
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Tableau de bord"
    ).click()
    _at(page, live_url, "/tableau-de-bord")
    expect(page.get_by_role("heading", name="Tableau de bord", exact=True)).to_be_visible()
    expect(page.get_by_role("table", name="Dossiers par état")).to_be_visible()
    expect(page.get_by_role("heading", name="Courriels en échec (1)")).to_be_visible()
    expect(page.get_by_text("550 5.1.1 Destinataire inconnu")).to_be_visible()
    check_page(page, "tableau-de-bord")

    page.get_by_label("État", exact=True).select_option(label="Formation en cours")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.locator("table").first.locator("tbody tr")).to_have_count(1)
    page.get_by_label("Intitulé ou référence").fill("aucun dossier ne porte ce nom")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.get_by_text("Aucun dossier ne correspond à ces filtres.")).to_be_visible()
    check_page(page, "tableau-de-bord-vide")


def test_an_invisible_dossier_is_a_french_404(page: Page, live_url: str, people: People) -> None:
    world = people.world
    dossier = world.formation()
    sign_in(page, live_url, people.email(world.outsider))
    response = page.goto(f"{live_url}/dossiers/{dossier}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Page introuvable")).to_be_visible()
    check_page(page, "introuvable")


def test_accessibility_statement(page: Page, live_url: str) -> None:
    page.goto(f"{live_url}/accessibilite")
    expect(page.get_by_role("heading", name="Déclaration d'accessibilité")).to_be_visible()
    check_page(page, "accessibilite")


def test_trainer_fills_the_bilan_uploads_attendance_and_submits(
    page: Page, live_url: str, people: People
) -> None:
    world = people.world
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "realisee")
    formateur = world.team.formateurs[0]

    sign_in(page, live_url, people.email(formateur))
    page.goto(f"{live_url}/dossiers/{dossier}")
    page.get_by_role("link", name="Bilan d'activités et documents du dossier").click()
    _at(page, live_url, f"/dossiers/{dossier}/bilan")
    expect(page.get_by_text("Aucun document déposé pour l'instant.")).to_be_visible()
    check_page(page, "bilan")

    # Typed values survive a refusal; each error is next to its field and in the summary.
    page.get_by_label("Inscrits").fill("8")
    page.get_by_label("Effectivement présents").fill("beaucoup")
    page.get_by_label("Effets de la formation").fill("Des séances hybrides conçues.")
    page.get_by_role("button", name="Enregistrer le bilan").click()
    expect(page.get_by_text(re.compile("Le formulaire contient 1 erreur"))).to_be_visible()
    expect(page.locator("#presents-erreur")).to_have_text("nombre entier attendu")
    page.get_by_role("link", name="Effectivement présents : nombre entier attendu").click()
    expect(page.get_by_label("Effectivement présents")).to_be_focused()
    expect(page.get_by_label("Effets de la formation")).to_have_value(
        "Des séances hybrides conçues."
    )
    check_page(page, "bilan-erreurs")

    page.get_by_label("Effectivement présents").fill("6")
    page.get_by_label(re.compile("^Heures de ")).fill("12,5")
    page.get_by_role("button", name="Enregistrer le bilan").click()
    expect(page.get_by_text("Bilan enregistré")).to_be_visible()
    expect(page.get_by_label(re.compile("^Heures de "))).to_have_value("12,5")

    page.get_by_role("button", name="Déposer le document").click()
    expect(page.locator("#document-fichier-messages")).to_contain_text("Choisissez un fichier")
    check_page(page, "bilan-depot-erreur")
    attendance: FilePayload = {
        "name": "emargement.pdf",
        "mimeType": "application/pdf",
        "buffer": _PDF,
    }
    page.get_by_label(re.compile("^Fichier à déposer")).set_input_files(files=attendance)
    page.get_by_role("button", name="Déposer le document").click()
    expect(page.get_by_text("Document déposé")).to_be_visible()
    expect(page.get_by_role("link", name="emargement.pdf")).to_be_visible()

    page.goto(f"{live_url}/dossiers/{dossier}")
    page.get_by_role("button", name="Soumettre le bilan d'activités").click()
    expect(page.get_by_text("Action effectuée : Soumettre le bilan d'activités")).to_be_visible()
    expect(page.get_by_text("Bilan soumis").first).to_be_visible()


_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def test_concepteur_writes_the_scenario_and_submits_it(
    page: Page, live_url: str, people: People
) -> None:
    world = people.world
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "contrat_signe")
    assert world.team.concepteur is not None

    sign_in(page, live_url, people.email(world.team.concepteur))
    page.goto(f"{live_url}/dossiers/{dossier}")
    page.get_by_role("link", name="Voir ou modifier le scénario").click()
    _at(page, live_url, f"/dossiers/{dossier}/scenario")
    check_page(page, "scenario-vide")

    page.get_by_label("Objectifs opérationnels").fill("Concevoir une séance hybride.")
    page.get_by_label("Critères de validation").fill("Une séance scénarisée déposée.")
    page.get_by_label("Titre de la séquence 1").fill("Lancement")
    step = " (séquence 1, étape 1)"
    page.get_by_label("Contenu et objectifs pédagogiques" + step).fill("Forum de rentrée")
    page.get_by_label("Modalité" + step).select_option("asynchrone")
    page.get_by_label("Durée en minutes" + step).fill("une heure")
    page.get_by_role("button", name="Ajouter une étape à la séquence 1").click()
    expect(page.get_by_label("Durée en minutes (séquence 1, étape 2)")).to_be_visible()
    expect(page.get_by_label("Contenu et objectifs pédagogiques" + step)).to_have_value(
        "Forum de rentrée"
    )
    page.get_by_role("button", name="Enregistrer le scénario").click()
    expect(page.get_by_text("Le formulaire contient 1 erreur")).to_be_visible()
    expect(page.locator("#seq-0-step-0-duration-erreur")).to_have_text("nombre entier attendu")
    expect(
        page.get_by_role("link", name="Durée en minutes (séquence 1, étape 1) : nombre")
    ).to_be_visible()
    check_page(page, "scenario-erreurs")

    page.get_by_label("Durée en minutes" + step).fill("60")
    page.get_by_role("button", name="Enregistrer le scénario").click()
    expect(page.get_by_text("Scénario enregistré")).to_be_visible()
    check_page(page, "scenario")

    # The guard still wants a tutor for the asynchronous step: said on the dossier page.
    page.goto(f"{live_url}/dossiers/{dossier}")
    expect(page.get_by_text(re.compile("l'accompagnement \\(tuteur\\)"))).to_be_visible()
    page.goto(f"{live_url}/dossiers/{dossier}/scenario")
    page.get_by_label("Accompagnement (tuteur)" + step).select_option(index=1)
    page.get_by_role("button", name="Enregistrer le scénario").click()
    expect(page.get_by_text("Scénario enregistré")).to_be_visible()

    page.goto(f"{live_url}/dossiers/{dossier}")
    page.get_by_role("button", name="Soumettre le scénario au pilote").click()
    expect(page.get_by_text("Action effectuée : Soumettre le scénario au pilote")).to_be_visible()
    expect(page.get_by_text("Scénario soumis au pilote").first).to_be_visible()


def test_responsable_reads_the_proposal_and_grants_payment(
    page: Page, live_url: str, people: People
) -> None:
    dossier = _responsable_on_a_validated_bilan(page, live_url, people)
    page.get_by_role("link", name="Proposition et décision de paiement").click()
    _at(page, live_url, f"/dossiers/{dossier}/paiement")
    expect(
        page.get_by_role("heading", name=re.compile("^Proposition du barème : .* €"))
    ).to_be_visible()
    expect(page.get_by_text(re.compile("vacations")).first).to_be_visible()
    check_page(page, "paiement-proposition")

    # The proposal as it stands: verified, then confirmed (tests/e2e/test_work_pages.py
    # covers adjusting it).
    page.get_by_role("button", name="Vérifier la décision").click()
    page.get_by_role("button", name=re.compile("^Confirmer : accorder")).click()
    expect(page.get_by_text("Action effectuée : Accorder le paiement")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("^Paiement accordé : .* €"))).to_be_visible()
    check_page(page, "paiement-decision")


def test_keyboard_only_sign_in_and_skip_link(page: Page, live_url: str, people: People) -> None:
    page.goto(f"{live_url}/connexion")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Contenu")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("#contenu$"))
    page.get_by_label("Adresse électronique").focus()
    page.keyboard.type(people.email(people.world.team.formateurs[0]))
    page.keyboard.press("Tab")
    expect(page.get_by_label("Mot de passe")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    _at(page, live_url, "/a-traiter")


def test_concepteur_fills_and_sends_an_ouverture_request(
    page: Page, live_url: str, people: People
) -> None:
    world = people.world
    editor = world.builder.editor
    dossier = editor.create_dossier(
        DossierInput(
            title="Parcours M@gistère — Évaluer sans noter",
            academie_id=world.academie_id,
            workflow="ouverture_parcours",
        )
    )
    assert world.team.concepteur is not None
    editor.assign(world.team.pilote, "pilote", dossier_id=dossier)
    editor.assign(world.team.concepteur, "concepteur", dossier_id=dossier)

    sign_in(page, live_url, people.email(world.team.concepteur))
    page.goto(f"{live_url}/dossiers/{dossier}")
    page.get_by_role("link", name="Formulaire de la demande d'ouverture").click()
    check_page(page, "demande-vide")

    for label, value in {
        "Nom du parcours": "Évaluer sans noter",
        "Pilote : nom": "Pilote de test",
        "Pilote : adresse électronique": "pas-une-adresse",
        "Format du parcours": "Parcours accompagné",
        "Objectifs visés": "Évaluer par compétences.",
        "Description (contenu et organisation)": "Trois modules.",
        "Concepteurs": "Concepteur de test",
        "Accompagnement prévu pour la partie à distance": "Forum tutoré.",
        "Durée prévue à distance (heures)": "trois",
    }.items():
        page.get_by_label(label).fill(value)
    # DSFR draws its own radios and checkboxes: a person clicks their label.
    page.locator("label[for=presentiel-non]").click()
    page.locator("label[for=public-college]").click()
    page.get_by_role("button", name="Enregistrer la demande").click()
    expect(page.get_by_text("Le formulaire contient 2 erreurs")).to_be_visible()
    expect(page.locator("#duree_distance_h-erreur")).to_have_text("nombre décimal attendu")
    expect(page.locator("#pilote_courriel-erreur")).to_have_text(
        "le courriel du pilote n'est pas une adresse électronique valide (attendu : nom@domaine.fr)"
    )
    expect(page.get_by_label("Collège")).to_be_checked()
    check_page(page, "demande-erreurs")

    page.get_by_label("Durée prévue à distance (heures)").fill("4,5")
    page.get_by_label("Pilote : adresse électronique").fill("pilote@example.org")
    page.get_by_role("button", name="Enregistrer la demande").click()
    expect(page.get_by_text("Demande enregistrée")).to_be_visible()
    expect(page.get_by_label("Durée prévue à distance (heures)")).to_have_value("4,5")
    check_page(page, "demande")

    page.goto(f"{live_url}/dossiers/{dossier}")
    page.get_by_role("button", name="Soumettre la demande").click()
    expect(page.get_by_text("Action effectuée : Soumettre la demande")).to_be_visible()


def _tab_to(page: Page, name: re.Pattern[str], limit: int = 120) -> None:
    """Press Tab until the focused element's visible text or label matches ``name``: what
    a keyboard user does, failing if the control is never reached."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement; if (!e) return ''; const id = e.id;"
            " const label = id ? document.querySelector(`label[for='${id}']`) : null;"
            " return (e.innerText || e.value || (label && label.innerText) || '').trim(); }"
        )
        if name.search(str(focused)):
            return
    raise AssertionError(f"« {name.pattern} » n'est pas atteignable au clavier")


def test_keyboard_only_a_definitive_action_from_the_dossier_page(
    page: Page, live_url: str, people: People
) -> None:
    dossier = _responsable_on_a_validated_bilan(page, live_url, people)

    _tab_to(page, re.compile("^Refuser le paiement"))
    page.keyboard.press("Enter")
    _at(page, live_url, f"/dossiers/{dossier}/actions/refuser_paiement")
    _tab_to(page, re.compile("^Commentaire"))
    page.keyboard.type("Bilan incomplet : listes manquantes.")
    _tab_to(page, re.compile("^Confirmer"))
    page.keyboard.press("Enter")
    expect(page.get_by_text("Action effectuée : Refuser le paiement")).to_be_visible()
    expect(page.get_by_text("Paiement refusé").first).to_be_visible()
