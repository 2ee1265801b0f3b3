"""The whole life of a dossier through the web pages, one dossier of each dispositif.

Each person signs in with their own account in their own browser context and does only
what their role allows, from the pages alone: the gestionnaire creates the dossier on
« Nouveau dossier », composes the team on « Équipe » and emits the contract; the
signatories the dispositif requires sign; the concepteur writes and submits the scenario;
the pilote validates it from the link of the email read from a real SMTP server; the
formateur plans and records the sessions, starts and ends the training, fills the bilan
and uploads the émargement; the bilan's author submits it; the gestionnaire validates it;
the responsable decides the payment on « Décision de paiement »; the gestionnaire puts it
into payment. Every step is checked by the French state label the dossier page shows, kept
as a screenshot ``tests/artifacts/parcours-<dispositif>-<n>-<step>.png``, and every
distinct page passed through is checked by axe-core (WCAG 2.1 A/AA). The database must
then hold the history of all these people, the amount the barème gives for the typed
figures (computed here by hand from DOMAIN §6), and the pilot's use of the email link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from types import TracebackType

import pytest
from playwright.sync_api import Browser, BrowserContext, FilePayload, Locator, Page, expect
from sqlalchemy import select

from api.wiring import Container
from notifications.relay import Relay, SmtpTarget
from tests.e2e.conftest import People
from tests.support.browser import (
    ARTIFACTS,
    assert_policy_kept,
    axe_violations,
    describe,
    new_context,
    sign_in,
)
from tests.support.mail import drain, mail_settings
from tests.support.smtp import SmtpSink
from workflow.reads.queries import payment_decision
from workflow.store.tables import action_link_use_table, dossier_table, history_table

VACATION, HSE, EAFC = "vacation_accompagnement", "hse_convention_ent", "eafc_taux_a"
DISPOSITIF_LABELS = {
    VACATION: "Accompagnement à distance rémunéré en vacations",
    HSE: "Convention de formation ENT (HSE)",
    EAFC: "Parcours EAFC rémunéré au taux A",
}
HSE_RATE = "12.34"
HOURS = {VACATION: "13", HSE: "20", EAFC: "13"}
"""Hours the formateur declares in the bilan."""
ENROLLED, EFFECTIVE, FOLLOWED, CONCEPTION = 8, 6, 16, "15"
EXPECTED_TOTAL = {
    # DOMAIN §6.1: min(13 h ÷ 2, 6 effective trainees, 8) = 6 vacations × 45,00 € (demo rate).
    VACATION: Decimal("270.00"),
    # DOMAIN §6.2: min(20 h proposed, 18) = 18 HSE × 12,34 € (the académie's rate here).
    HSE: Decimal("222.12"),
    # DOMAIN §6.3: 15 conception vacations (decided, within 10–20) + tutorat 16 followed ÷ 8
    # = 2 vacations, all at the taux A of 45,00 €: 17 × 45 = 765.
    EAFC: Decimal("765.00"),
}
EXPECTED_TOTAL_FR = {VACATION: "270,00", HSE: "222,12", EAFC: "765,00"}
LINK = re.compile(r"- Valider le scénario hybride : https?://[^\s/]+(/liens/\S+)")
_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def _follow(page: Page, control: Locator) -> None:
    """Click a link or button that loads a page, and wait for that load (an event, not a
    poll): the next field filled is then surely the new page's, never the old one's."""
    with page.expect_navigation(wait_until="domcontentloaded"):
        control.click()


def _page_kind(url: str) -> str:
    """One name per page whatever the dossier, session or link it shows: axe runs once each."""
    path = re.sub(r"^https?://[^/]+", "", url).split("?")[0]
    path = re.sub(r"/liens/[^/]+", "/liens/{jeton}", path)
    return re.sub(r"/\d+", "/{id}", path)


@dataclass
class Parcours:
    """One dossier driven through the pages: a signed-in browser context per person, a
    numbered screenshot per step, axe on each page the first time it is seen, and the
    (trigger, person) of each transition in order, for the history to be compared with."""

    browser: Browser
    base: str
    people: People
    container: Container
    dispositif: str
    dossier: int = 0
    steps: int = 0
    fired: list[tuple[str, int]] = field(default_factory=list)
    _pages: dict[int, Page] = field(default_factory=dict)
    _contexts: list[BrowserContext] = field(default_factory=list)
    _checked: set[str] = field(default_factory=set)

    def __enter__(self) -> Parcours:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        for context in self._contexts:
            context.close()

    # People and pages ----------------------------------------------------------------

    def as_(self, person: int, arriving_at: str | None = None) -> Page:
        """The page of ``person``, signed in with their own account the first time, then
        sent where they were going (``arriving_at``, else the dossier once it exists)."""
        if person not in self._pages:
            context = new_context(self.browser)
            self._contexts.append(context)
            page = context.new_page()
            target = arriving_at or (f"/dossiers/{self.dossier}" if self.dossier else None)
            sign_in(page, self.base, self.people.email(person), next_path=target)
            self._pages[person] = page
        elif arriving_at is not None:
            self._pages[person].goto(self.base + arriving_at)
        return self._pages[person]

    def open_dossier(self, person: int) -> Page:
        """The dossier page of ``person``, as it stands now (loaded again if already open)."""
        signed_in = person in self._pages
        page = self.as_(person)
        if signed_in:
            page.goto(f"{self.base}/dossiers/{self.dossier}")
        return page

    def snap(self, page: Page, step: str, kind: str | None = None) -> None:
        """Screenshot of this step, then axe-core on the page (``check``)."""
        self.steps += 1
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = f"parcours-{self.dispositif}-{self.steps:02d}-{step}"
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True, caret="initial")
        assert_policy_kept(page, name)
        self.check(page, kind)

    def check(self, page: Page, kind: str | None = None) -> None:
        """axe-core on the page, once per kind of page (its address without ids, or ``kind``
        for a second page at one address, such as the payment's verification)."""
        kind = kind or _page_kind(page.url)
        if kind not in self._checked:
            self._checked.add(kind)
            violations = axe_violations(page)
            assert not violations, f"axe-core on « {kind} » ({page.url}):\n{describe(violations)}"

    def expect_state(self, page: Page, label: str) -> None:
        """The state as the dossier page names it, under its title."""
        expect(page).to_have_url(re.compile(rf"/dossiers/{self.dossier}(\?.*)?$"))
        expect(page.locator("main h1 + p .fr-badge")).to_have_text(label)

    # Steps ------------------------------------------------------------------------------

    def act(self, person: int, trigger: str, button: str, state: str, step: str) -> None:
        """A transition from the dossier page's own button, then the state it leads to."""
        page = self.open_dossier(person)
        _follow(page, page.get_by_role("button", name=button, exact=True))
        expect(page.get_by_text(f"Action effectuée : {button}")).to_be_visible()
        self.expect_state(page, state)
        self.fired.append((trigger, person))
        self.snap(page, step)

    def create(self, gestionnaire: int, title: str) -> None:
        page = self.as_(gestionnaire)
        _follow(
            page,
            page.get_by_role("navigation", name="Menu principal").get_by_role(
                "link", name="Nouveau dossier"
            ),
        )
        expect(page.get_by_role("heading", name="Nouveau dossier", exact=True)).to_be_visible()
        self.snap(page, "nouveau-dossier")
        page.get_by_label("Titre de la formation").fill(title)
        page.locator(f"label[for=dispositif-{self.dispositif}]").click()
        page.get_by_label("Heures prévues en présentiel").fill("6")
        page.get_by_label("Heures prévues à distance").fill("13")
        page.get_by_label("Participants prévus").fill(str(ENROLLED))
        page.get_by_label("Date de début prévue").fill("14/09/2026")
        page.get_by_label("Date de fin prévue").fill("30/10/2026")
        _follow(page, page.get_by_role("button", name="Créer le dossier"))
        expect(page.get_by_role("heading", name=title)).to_be_visible()
        expect(page.get_by_text(re.compile(r"^Dossier créé : "))).to_be_visible()
        self.dossier = int(page.url.rstrip("/").rsplit("/", 1)[1])
        self.expect_state(page, "Brouillon")
        expect(page.get_by_text(DISPOSITIF_LABELS[self.dispositif], exact=True)).to_be_visible()
        self.snap(page, "brouillon")

    def compose_team(self, gestionnaire: int, members: list[tuple[str, int]]) -> None:
        """Each member added on « Équipe » by their address, as for someone new to the list."""
        page = self.open_dossier(gestionnaire)
        _follow(page, page.get_by_role("link", name="Voir ou modifier l'équipe et les suppléances"))
        expect(page.get_by_text("Ce dossier n'a pas encore d'équipe")).to_be_visible()
        for role, person in members:
            page.get_by_label("Rôle *").select_option(label=role)
            page.get_by_label("Ou son adresse électronique").fill(self.people.email(person))
            _follow(page, page.get_by_role("button", name="Ajouter à l'équipe"))
            expect(page.get_by_text(f"est maintenant {role} sur ce dossier")).to_be_visible()
        self.snap(page, "equipe")

    def sign(self, signatories: list[int]) -> None:
        for n, person in enumerate(signatories, start=1):
            last = n == len(signatories)
            state = "Contrat signé" if last else "Contrat à signer"
            # The dossier page leads to the contract's text; one signs it there.
            page = self.open_dossier(person)
            _follow(page, page.get_by_role("link", name="Lire et signer le contrat"))
            _follow(page, page.get_by_role("button", name="Signer le contrat"))
            expect(page.get_by_text("Signature enregistrée")).to_be_visible()
            expect(page.get_by_text(f"est « {state} »")).to_be_visible()
            self.fired.append(("signer", person))
            self.snap(page, f"signature-{n}")

    def write_scenario(self, concepteur: int, tutor: int) -> None:
        page = self.open_dossier(concepteur)
        _follow(page, page.get_by_role("link", name="Voir ou modifier le scénario"))
        expect(page.get_by_role("heading", name="Scénario hybride")).to_be_visible()
        page.get_by_label("Objectifs opérationnels").fill("Concevoir une séance hybride.")
        page.get_by_label("Critères de validation").fill("Une séance scénarisée déposée.")
        page.get_by_label("Titre de la séquence 1").fill("Lancement")
        step = " (séquence 1, étape 1)"
        page.get_by_label("Contenu et objectifs pédagogiques" + step).fill("Forum de rentrée")
        page.get_by_label("Modalité" + step).select_option("asynchrone")
        page.get_by_label("Durée en minutes" + step).fill("60")
        page.get_by_label("Accompagnement (tuteur)" + step).select_option(str(tutor))
        _follow(page, page.get_by_role("button", name="Enregistrer le scénario"))
        expect(page.get_by_text("Scénario enregistré")).to_be_visible()
        self.snap(page, "scenario")

    def validate_from_email(self, pilote: int) -> None:
        """The pilot's email as the SMTP server received it, its link opened and confirmed."""
        sink = SmtpSink().start()
        try:
            relay = Relay(
                self.container.engine, mail_settings(), SmtpTarget("127.0.0.1", sink.port)
            )
            drain(relay)
        finally:
            sink.stop()
        texts = [
            r.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
            for r in sink.to(self.people.email(pilote))
            if "Scénario hybride à valider" in str(r.message["Subject"])
        ]
        (text,) = [t for t in texts if f"/dossiers/{self.dossier}" in t]
        found = LINK.search(text)
        assert found is not None, text
        # The pilot signs in on their way to the link, as the link's page sends them to do.
        page = self.as_(pilote, arriving_at=found.group(1))
        # The link leads to the scenario, its decision beside it (posting back to the link).
        expect(page.get_by_role("heading", name="Scénario hybride", level=1)).to_be_visible()
        self.snap(page, "lien-du-courriel")
        _follow(page, page.get_by_role("button", name="Valider le scénario hybride"))
        expect(page.get_by_text("Action effectuée : Valider le scénario hybride")).to_be_visible()
        page = self.open_dossier(pilote)
        self.expect_state(page, "Scénario validé")
        self.fired.append(("valider_scenario", pilote))
        self.snap(page, "scenario-valide")

    def plan_session(self, formateur: int) -> None:
        page = self.open_dossier(formateur)
        _follow(page, page.get_by_role("link", name="Voir les sessions et les présences"))
        expect(page.get_by_text("Aucune session enregistrée pour l'instant.")).to_be_visible()
        page.get_by_label("Date").fill("15/09/2026")
        page.get_by_label("Heure de début").fill("09:00")
        page.get_by_label("Durée en minutes").fill("180")
        page.get_by_label("Modalité").select_option("presentiel")
        page.get_by_label("Formateur", exact=True).select_option(str(formateur))
        page.get_by_label("Participants prévus").fill(str(ENROLLED))
        _follow(page, page.get_by_role("button", name="Ajouter la session"))
        expect(page.get_by_text("Session ajoutée")).to_be_visible()
        expect(page.locator("main table tbody tr").first).to_contain_text("Prévue")
        self.snap(page, "session-prevue")

    def record_session(self, formateur: int) -> None:
        page = self.as_(formateur)
        page.goto(f"{self.base}/dossiers/{self.dossier}/sessions")
        _follow(
            page, page.get_by_role("link", name="Modifier la session du mardi 15 septembre 2026")
        )
        self.check(page)
        page.get_by_label("Participants présents").fill(str(EFFECTIVE))
        page.locator("label[for=tenue]").click()  # DSFR draws the box on the label
        _follow(page, page.get_by_role("button", name="Enregistrer la session"))
        expect(page.get_by_text("Session enregistrée")).to_be_visible()
        expect(page.locator("main table tbody tr").first).to_contain_text("Tenue")
        self.snap(page, "session-tenue")

    def fill_bilan(self, author: int) -> None:
        page = self.open_dossier(author)
        _follow(page, page.get_by_role("link", name="Bilan d'activités et documents du dossier"))
        expect(page.get_by_role("heading", name="Bilan d'activités")).to_be_visible()
        page.get_by_label("Inscrits").fill(str(ENROLLED))
        page.get_by_label("Effectivement présents").fill(str(EFFECTIVE))
        page.get_by_label(re.compile("^Heures de ")).fill(HOURS[self.dispositif])
        if self.dispositif == EAFC:
            page.get_by_label(re.compile("^Stagiaires suivis par ")).fill(str(FOLLOWED))
        page.get_by_label("Effets de la formation").fill("Des séances hybrides menées en classe.")
        _follow(page, page.get_by_role("button", name="Enregistrer le bilan"))
        expect(page.get_by_text("Bilan enregistré")).to_be_visible()
        attendance: FilePayload = {
            "name": "emargement.pdf",
            "mimeType": "application/pdf",
            "buffer": _PDF,
        }
        page.get_by_label(re.compile("^Fichier à déposer")).set_input_files(files=attendance)
        _follow(page, page.get_by_role("button", name="Déposer le document"))
        expect(page.get_by_text("Document déposé")).to_be_visible()
        expect(page.get_by_role("link", name="emargement.pdf")).to_be_visible()
        self.snap(page, "bilan")

    def decide_payment(self, responsable: int) -> None:
        page = self.open_dossier(responsable)
        _follow(page, page.get_by_role("link", name="Proposition et décision de paiement"))
        expect(page.get_by_role("heading", name="Décision de paiement")).to_be_visible()
        if self.dispositif == EAFC:
            page.get_by_label("Vacations de conception (entre 10 et 20)").fill(CONCEPTION)
        self.snap(page, "proposition")
        _follow(page, page.get_by_role("button", name="Vérifier la décision"))
        total = EXPECTED_TOTAL_FR[self.dispositif]
        expect(
            page.get_by_role("heading", name=re.compile(rf"^Vérifiez la décision : {total}\s€"))
        ).to_be_visible()
        self.snap(page, "verification", kind="paiement-verification")
        _follow(
            page, page.get_by_role("button", name=re.compile(rf"^Confirmer : accorder {total}\s€"))
        )
        expect(page.get_by_text("Action effectuée : Accorder le paiement")).to_be_visible()
        expect(
            page.get_by_role("heading", name=re.compile(rf"^Paiement accordé : {total}\s€"))
        ).to_be_visible()
        self.fired.append(("accorder_paiement", responsable))
        self.open_dossier(responsable)
        self.expect_state(page, "Paiement accordé")
        self.snap(page, "paiement-accorde")

    def put_into_payment(self, gestionnaire: int) -> None:
        """An irreversible action: the dossier page's link, then its confirmation page."""
        page = self.open_dossier(gestionnaire)
        _follow(page, page.get_by_role("link", name="Mettre en paiement…"))
        expect(page.get_by_role("heading", name="Mettre en paiement")).to_be_visible()
        self.snap(page, "confirmation-mise-en-paiement")
        _follow(page, page.get_by_role("button", name="Confirmer : Mettre en paiement"))
        expect(page.get_by_text("Action effectuée : Mettre en paiement")).to_be_visible()
        self.expect_state(page, "Mis en paiement")
        self.fired.append(("mettre_en_paiement", gestionnaire))
        self.snap(page, "mis-en-paiement")


@pytest.mark.parametrize("dispositif", [VACATION, HSE, EAFC])
def test_one_dossier_from_creation_to_payment_through_the_pages(
    dispositif: str, browser: Browser, live_url: str, people: People, api_container: Container
) -> None:
    world = people.world
    team = world.team
    if dispositif == HSE:
        world.configure_hse(HSE_RATE)
    formateur = team.formateurs[0]
    concepteur, chef = team.concepteur, team.chef_etablissement
    assert concepteur is not None and chef is not None
    gestionnaire, responsable, pilote = team.gestionnaire, team.responsable, team.pilote
    members = [("Pilote", pilote), ("Formateur", formateur), ("Concepteur", concepteur)]
    signatories = [formateur, responsable]
    bilan_author = formateur
    if dispositif == HSE:
        members.append(("Chef d'établissement", chef))
        signatories = [chef, responsable]
        bilan_author = chef
    if dispositif == EAFC:
        members.append(("Tuteur", formateur))  # the formateur also follows trainees (tutorat)
        signatories = [formateur, concepteur, responsable]

    with Parcours(browser, live_url, people, api_container, dispositif) as parcours:
        parcours.create(gestionnaire, f"Parcours hybride — {DISPOSITIF_LABELS[dispositif]}")
        parcours.compose_team(gestionnaire, members)
        parcours.act(
            gestionnaire,
            "emettre_contrat",
            "Émettre le contrat",
            "Contrat à signer",
            "contrat-emis",
        )
        parcours.sign(signatories)
        parcours.write_scenario(concepteur, tutor=formateur)
        parcours.act(
            concepteur,
            "soumettre_scenario",
            "Soumettre le scénario au pilote",
            "Scénario soumis au pilote",
            "scenario-soumis",
        )
        parcours.validate_from_email(pilote)
        parcours.plan_session(formateur)
        parcours.act(
            formateur,
            "demarrer",
            "Démarrer la formation",
            "Formation en cours",
            "formation-en-cours",
        )
        parcours.record_session(formateur)
        parcours.act(
            formateur,
            "terminer",
            "Terminer la formation",
            "Formation réalisée",
            "formation-realisee",
        )
        # On an ENT convention the hours are the chef d'établissement's proposal (seed 001).
        parcours.fill_bilan(bilan_author)
        parcours.act(
            bilan_author,
            "soumettre_bilan",
            "Soumettre le bilan d'activités",
            "Bilan soumis",
            "bilan-soumis",
        )
        parcours.act(
            gestionnaire, "valider_bilan", "Valider le bilan", "Bilan validé", "bilan-valide"
        )
        parcours.decide_payment(responsable)
        parcours.put_into_payment(gestionnaire)
        dossier, fired = parcours.dossier, parcours.fired

    with api_container.engine.connect() as conn:
        state = conn.execute(
            select(dossier_table.c.state).where(dossier_table.c.id == dossier)
        ).scalar_one()
        history = conn.execute(
            select(history_table.c.trigger, history_table.c.actor_id, history_table.c.at)
            .where(history_table.c.dossier_id == dossier)
            .order_by(history_table.c.version)
        ).all()
        decision = payment_decision(conn, dossier)
        link_uses = conn.execute(
            select(action_link_use_table.c.person_id, action_link_use_table.c.used_at).where(
                action_link_use_table.c.dossier_id == dossier
            )
        ).all()
    assert state == "mis_en_paiement"
    assert [(h.trigger, h.actor_id) for h in history] == fired
    assert len({h.actor_id for h in history}) >= 5
    assert decision is not None and decision.total == EXPECTED_TOTAL[dispositif]
    expected_lines = {
        VACATION: [(formateur, "accompagnement", Decimal(6))],
        HSE: [(formateur, "hse", Decimal(18))],
        EAFC: [(concepteur, "conception", Decimal(15)), (formateur, "tutorat", Decimal(2))],
    }
    assert [(line.person_id, line.component, line.units) for line in decision.lines] == (
        expected_lines[dispositif]
    )
    validation = next(h for h in history if h.trigger == "valider_scenario")
    assert [(u.person_id, u.used_at) for u in link_uses] == [(pilote, validation.at)]
