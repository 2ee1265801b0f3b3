"""The sessions page, the payment adjustment and the French 404, in a real browser: the
formateur plans then records sessions in Paris time, the responsable adjusts a line within
the barème with a justification, refusals keep what was typed and write nothing, and axe
reports no WCAG 2.1 A/AA violation on any state. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from decimal import Decimal

from playwright.sync_api import Page, expect
from sqlalchemy import select

from api.wiring import Container
from tests.e2e.conftest import People
from tests.support.browser import check_page, sign_in
from workflow.reads.queries import payment_decision
from workflow.reads.records import sessions_of
from workflow.store.tables import dossier_table


def _at(page: Page, base: str, path: str) -> None:
    expect(page).to_have_url(re.compile(re.escape(base + path) + r"(\?.*)?$"))


def test_formateur_adds_and_edits_sessions_and_their_attendance(
    page: Page, live_url: str, people: People, api_container: Container
) -> None:
    world = people.world
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "scenario_valide")
    other = world.formation()
    world.builder.drive(other, world.team, "scenario_valide")

    sign_in(page, live_url, people.email(world.team.formateurs[0]))
    page.goto(f"{live_url}/dossiers/{dossier}")
    expect(page.get_by_role("heading", name="Sessions", exact=True)).to_be_visible()
    page.get_by_role("link", name="Voir les sessions et les présences").click()
    _at(page, live_url, f"/dossiers/{dossier}/sessions")
    expect(page.get_by_text("Aucune session enregistrée pour l'instant.")).to_be_visible()

    # A form full of mistakes: every error by its field and in the summary, nothing kept.
    page.get_by_label("Date").fill("31/02/2026")
    page.get_by_label("Heure de début").fill("25:00")
    page.get_by_label("Durée en minutes").fill("-30")
    page.get_by_label("Participants prévus").fill("99999999999999999999")
    page.get_by_label("Lien de connexion").fill("javascript:alert(1)")
    page.get_by_role("button", name="Ajouter la session").click()
    expect(page.get_by_text("Le formulaire contient 6 erreurs")).to_be_visible()
    expect(page.locator("#date-erreur")).to_have_text("cette date n'existe pas")
    expect(page.locator("#heure-erreur")).to_have_text("cette heure n'existe pas")
    expect(page.locator("#duree-erreur")).to_have_text("valeur trop petite")
    expect(page.locator("#prevus-erreur")).to_have_text("nombre trop grand")
    expect(page.locator("#modalite-erreur")).to_have_text("choisissez une modalité")
    expect(page.locator("#lien-erreur")).to_contain_text("https://")
    page.get_by_role("link", name="Date : cette date n'existe pas").click()
    expect(page.get_by_label("Date")).to_be_focused()
    expect(page.get_by_label("Durée en minutes")).to_have_value("-30")
    expect(page.get_by_label("Lien de connexion")).to_have_value("javascript:alert(1)")
    check_page(page, "sessions-erreurs")
    with api_container.engine.connect() as conn:
        assert sessions_of(conn, dossier) == []

    # Typed in Paris (winter: UTC+1), stored in UTC, read back in Paris.
    page.get_by_label("Date").fill("12/03/2026")
    page.get_by_label("Heure de début").fill("14h00")
    page.get_by_label("Durée en minutes").fill("180")
    page.get_by_label("Modalité").select_option(label="Classe virtuelle (synchrone)")
    page.get_by_label("Formateur", exact=True).select_option(index=1)
    page.get_by_label("Participants prévus").fill("20")
    page.get_by_label("Lien de connexion").fill("https://visio.example.org/salle-12")
    page.get_by_role("button", name="Ajouter la session").click()
    expect(page.get_by_text("Session ajoutée")).to_be_visible()
    row = page.locator("main table tbody tr").first
    expect(row).to_contain_text("jeudi 12 mars 2026")
    expect(row).to_contain_text("14:00 – 17:00")
    expect(row).to_contain_text("3 h")
    expect(row).to_contain_text("Classe virtuelle (synchrone)")
    expect(row).to_contain_text("Prévue")
    with api_container.engine.connect() as conn:
        (stored,) = sessions_of(conn, dossier)
    assert stored.starts_at == datetime(2026, 3, 12, 13, 0, tzinfo=UTC)

    # After the session: held, with its headcount (summer time now: UTC+2).
    page.get_by_role("link", name="Modifier la session du jeudi 12 mars 2026").click()
    _at(page, live_url, f"/dossiers/{dossier}/sessions/{stored.id}")
    expect(page.get_by_label("Heure de début")).to_have_value("14:00")
    page.get_by_label("Date").fill("2026-04-02")
    page.get_by_label("Participants présents").fill("beaucoup")
    page.locator("label[for=tenue]").click()  # DSFR draws the box on the label
    page.get_by_role("button", name="Enregistrer la session").click()
    expect(page.locator("#presents-erreur")).to_have_text("nombre entier attendu")
    expect(page.get_by_label("Session tenue")).to_be_checked()
    expect(page.get_by_label("Date")).to_have_value("2026-04-02")
    page.get_by_label("Participants présents").fill("18")
    page.get_by_role("button", name="Enregistrer la session").click()
    expect(page.get_by_text("Session enregistrée")).to_be_visible()
    row = page.locator("main table tbody tr").first
    expect(row).to_contain_text("jeudi 2 avril 2026")
    expect(row).to_contain_text("Tenue")
    expect(row).to_contain_text("18")
    expect(page.get_by_role("link", name="les saisir dans le bilan")).to_have_count(0)
    expect(page.get_by_role("link", name="voir le bilan d'activités")).to_be_visible()
    check_page(page, "sessions")
    with api_container.engine.connect() as conn:
        (stored,) = sessions_of(conn, dossier)
    assert stored.starts_at == datetime(2026, 4, 2, 12, 0, tzinfo=UTC)
    assert (stored.held, stored.actual_headcount, stored.revision) == (True, 18, 1)

    # Another dossier's session through this dossier's address: not found, in French.
    page.goto(f"{live_url}/dossiers/{dossier}")
    expect(page.get_by_text("1 session, dont 1 tenue.")).to_be_visible()
    response = page.goto(f"{live_url}/dossiers/{other}/sessions/{stored.id}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Page introuvable")).to_be_visible()


def test_sessions_are_read_only_for_who_may_not_edit_them(
    page: Page, live_url: str, people: People
) -> None:
    world = people.world
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "scenario_valide")
    assert world.team.concepteur is not None
    sign_in(page, live_url, people.email(world.team.concepteur))
    page.goto(f"{live_url}/dossiers/{dossier}/sessions")
    expect(page.get_by_text("Les sessions ne peuvent pas être modifiées par vous")).to_be_visible()
    expect(page.get_by_role("button", name="Ajouter la session")).to_have_count(0)


def _version(api_container: Container, dossier: int) -> int:
    with api_container.engine.connect() as conn:
        return int(
            conn.execute(
                select(dossier_table.c.version).where(dossier_table.c.id == dossier)
            ).scalar_one()
        )


def test_responsable_adjusts_the_payment_within_the_bareme(
    page: Page, live_url: str, people: People, api_container: Container
) -> None:
    world = people.world
    dossier = world.formation()
    world.builder.drive(dossier, world.team, "bilan_valide")
    before = _version(api_container, dossier)

    sign_in(page, live_url, people.email(world.team.responsable))
    page.goto(f"{live_url}/dossiers/{dossier}/paiement")
    units = page.get_by_label(re.compile("^Vacations retenues — "))
    expect(units).to_have_value("5")
    expect(page.get_by_text("Entre 0 et 5 vacations ; proposé : 5")).to_be_visible()

    # Beyond the barème and unjustified, then unjustified, then not a number: each refusal
    # by its field and in the summary, what was typed kept, nothing recorded.
    units.fill("9")
    page.get_by_role("button", name="Vérifier la décision").click()
    expect(page.get_by_text("Le formulaire contient 2 erreurs")).to_be_visible()
    expect(page.locator("#unites-0-erreur")).to_contain_text(
        "L'ajustement doit rester entre 0 et 5 vacations"
    )
    expect(units).to_have_value("9")
    check_page(page, "paiement-erreurs")
    units.fill("4")
    page.get_by_role("button", name="Vérifier la décision").click()
    expect(page.get_by_text("Le formulaire contient 1 erreur")).to_be_visible()
    expect(page.locator("#justification-erreur")).to_have_text(
        "Une justification est obligatoire pour ajuster le barème."
    )
    units.fill("quatre")
    page.get_by_label("Justification").fill("Une séance annulée")
    page.get_by_role("button", name="Vérifier la décision").click()
    expect(page.locator("#unites-0-erreur")).to_have_text("nombre attendu, par exemple 4 ou 4,5")
    expect(page.get_by_label("Justification")).to_have_value("Une séance annulée")
    assert _version(api_container, dossier) == before
    with api_container.engine.connect() as conn:
        assert payment_decision(conn, dossier) is None

    # Within bounds, justified: the confirmation step, then the decision.
    units.fill("4")
    page.get_by_role("button", name="Vérifier la décision").click()
    expect(
        page.get_by_role("heading", name=re.compile(r"^Vérifiez la décision : 180,00\s€"))
    ).to_be_visible()
    expect(page.get_by_text("Cette décision est définitive")).to_be_visible()
    check_page(page, "paiement-ajustement")
    page.get_by_role("button", name="Modifier les montants").click()
    expect(page.get_by_label(re.compile("^Vacations retenues — "))).to_have_value("4")
    page.get_by_role("button", name="Vérifier la décision").click()
    page.get_by_role("button", name=re.compile(r"^Confirmer : accorder 180,00\s€")).click()
    _at(page, live_url, f"/dossiers/{dossier}/paiement")
    expect(page.get_by_text("Action effectuée : Accorder le paiement")).to_be_visible()
    expect(
        page.get_by_role("heading", name=re.compile(r"^Paiement accordé : 180,00\s€"))
    ).to_be_visible()
    expect(page.get_by_text("Justification : « Une séance annulée »")).to_be_visible()
    expect(
        page.get_by_text(
            "Ajustement par le responsable : 4 vacations (justification : Une séance annulée)"
        )
    ).to_be_visible()
    check_page(page, "paiement-decision-ajustee")
    with api_container.engine.connect() as conn:
        decision = payment_decision(conn, dossier)
    assert decision is not None
    assert str(decision.total) == "180.00"
    assert decision.justification == "Une séance annulée"


def test_responsable_decides_the_conception_of_an_eafc_parcours(
    page: Page, live_url: str, people: People, api_container: Container
) -> None:
    world = people.world
    # No tuteur and no virtual class: only the decided figures make the proposal.
    team = dataclasses.replace(world.team, tuteur=None)
    dossier = world.builder.formation(
        world.academie_id, team, title="Parcours M@gistère", dispositif="eafc_taux_a"
    )
    world.builder.drive(dossier, team, "bilan_valide")
    before = _version(api_container, dossier)
    assert team.concepteur is not None

    sign_in(page, live_url, people.email(team.responsable))
    page.goto(f"{live_url}/dossiers/{dossier}/paiement")
    expect(page.get_by_text("Le bilan ne contient ni tutorat ni classe virtuelle")).to_be_visible()
    expect(page.get_by_text("Aucune composante n'est renseignée")).to_have_count(0)
    conception = page.get_by_label("Vacations de conception (entre 10 et 20)")
    update = page.get_by_label("Vacations de mise à jour (entre 5 et 10)")
    expect(conception).to_have_value("")

    # Nothing decided, then out of range and not a number: refused by field, kept, unwritten.
    page.get_by_role("button", name="Vérifier la décision").click()
    expect(
        page.get_by_role("alert").get_by_text("Saisissez les vacations de conception")
    ).to_be_visible()
    conception.fill("25")
    update.fill("six")
    page.get_by_role("button", name="Vérifier la décision").click()
    expect(page.get_by_text("Le formulaire contient 2 erreurs")).to_be_visible()
    field = f"conception-{team.concepteur}"
    expect(page.locator(f"#{field}-erreur")).to_have_text(
        "La conception d'un parcours est rémunérée entre 10 et 20 vacations (25 demandées)."
    )
    expect(page.locator(f"#mise-a-jour-{team.concepteur}-erreur")).to_have_text(
        "nombre attendu, par exemple 15 ou 12,5"
    )
    expect(
        page.get_by_role("link", name=re.compile(r"^Vacations de conception .* — "))
    ).to_be_visible()
    expect(conception).to_have_value("25")
    expect(update).to_have_value("six")
    check_page(page, "paiement-conception-erreurs")
    assert _version(api_container, dossier) == before

    # Within the range: the proposal with its steps, then the decision.
    conception.fill("15")
    update.fill("")
    page.get_by_role("button", name="Vérifier la décision").click()
    expect(
        page.get_by_role("heading", name=re.compile(r"^Vérifiez la décision : 675,00\s€"))
    ).to_be_visible()
    expect(
        page.get_by_text(
            "conception du parcours : 15 vacations décidées (barème : 10 à 20 vacations)"
        )
    ).to_be_visible()
    expect(page.get_by_role("table").locator("tbody tr").first).to_contain_text("15 vacations")
    check_page(page, "paiement-conception")
    page.get_by_role("button", name=re.compile(r"^Confirmer : accorder 675,00\s€")).click()
    expect(
        page.get_by_role("heading", name=re.compile(r"^Paiement accordé : 675,00\s€"))
    ).to_be_visible()
    with api_container.engine.connect() as conn:
        decision = payment_decision(conn, dossier)
    expect(page.get_by_role("cell", name="conception du parcours", exact=True)).to_be_visible()
    assert decision is not None and decision.total == Decimal("675.00")
    assert [(line.person_id, line.component, line.units) for line in decision.lines] == [
        (team.concepteur, "conception", Decimal(15))
    ]


def test_an_unknown_address_is_a_french_404_page(page: Page, live_url: str) -> None:
    response = page.goto(f"{live_url}/nimporte-quoi")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Page introuvable")).to_be_visible()
    expect(
        page.get_by_text("Cette adresse ne correspond à aucune page de formaflow.")
    ).to_be_visible()
    expect(page.get_by_text("Not Found")).to_have_count(0)
    check_page(page, "page-introuvable")
