"""Issue 13's acceptance, in a real browser and through a real SMTP server.

A formateur imports 25 stagiaires from a CSV file — first with one bad line, reported in
French, and nothing imported until the file is corrected; the pilote validates the
scenario; the SMTP server receives 25 convocations whose calendar attachments parse, and
one email per chef d'établissement / IEN; the formateur marks attendance for two
sessions; the barème's trainee count follows; after « Terminer la formation » three
stagiaires answer the questionnaire from their email links (no account), a link cannot
serve twice; the pilote sees the anonymous aggregate; a stagiaire signs in by an email
link and downloads their attestation. Every page is screenshotted at 1280 and 390 px
wide and checked by axe-core.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

from icalendar import Calendar
from playwright.sync_api import FilePayload, Page, expect
from sqlalchemy import func, select

from api.wiring import Container
from notifications.relay import Relay, SmtpTarget
from tests.e2e.conftest import People
from tests.support.browser import check_page, sign_in
from tests.support.mail import drain, mail_settings
from tests.support.participants import as_csv, schools, trainees
from tests.support.pdf import pdf_text
from tests.support.smtp import Received, SmtpSink
from workflow.engine.service import FireCommand
from workflow.participants.roster import async_steps, roster, slots
from workflow.store.tables import answer_table, enrolment_table
from workflow.store.types import utcnow

QUESTIONNAIRE = re.compile(r"https?://[^\s/]+(/questionnaire/[A-Za-z0-9_.\-]+)")
SIGNIN = re.compile(r"https?://[^\s/]+(/connexion/lien/[A-Za-z0-9_.\-]+)")


def _csv(content: bytes) -> FilePayload:
    return {"name": "liste.csv", "mimeType": "text/csv", "buffer": content}


def both(page: Page, name: str) -> None:
    """Screenshot and axe at 1280 px, then at 390 px (a phone), then back."""
    page.set_viewport_size({"width": 1280, "height": 900})
    check_page(page, name)
    page.set_viewport_size({"width": 390, "height": 844})
    check_page(page, f"{name}-390")
    page.set_viewport_size({"width": 1280, "height": 900})


def _text(received: Received) -> str:
    part = received.message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def _relay(container: Container, sink: SmtpSink) -> None:
    drain(Relay(container.engine, mail_settings(), SmtpTarget("127.0.0.1", sink.port)))


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="Se déconnecter").first.click()
    expect(page.get_by_role("button", name="Se connecter")).to_be_visible()


def test_stagiaires_from_a_list_to_their_attestation(
    page: Page, live_url: str, people: People, api_container: Container
) -> None:
    container = api_container
    world = people.world
    team = dataclasses.replace(world.team, stagiaires=[])
    dossier = world.builder.formation(world.academie_id, team, title="Classe virtuelle en cycle 3")
    # Both sessions already held (ten and three days ago): presences are taken once begun.
    world.builder.add_sessions(dossier, team, utcnow() - timedelta(days=10))
    world.builder.drive(dossier, team, "scenario_soumis")
    places = schools(container, world)
    formateur, pilote = team.formateurs[0], team.pilote
    sink = SmtpSink().start()
    try:
        # 1. The formateur imports the list: one bad line, nothing imported.
        sign_in(page, live_url, people.email(formateur))
        page.goto(f"{live_url}/dossiers/{dossier}/stagiaires")
        expect(page.get_by_role("heading", name="Stagiaires", exact=True)).to_be_visible()
        both(page, "stagiaires-liste-vide")
        rows = trainees(world, 25, places)
        bad = [
            *rows[:12],
            ["Sans", "Adresse", "pas-une-adresse", places.college.uai, "EPS"],
            *rows[12:],
        ]
        page.set_input_files(
            "#liste-fichier",
            files=[_csv(as_csv(bad))],
        )
        page.get_by_role("button", name="Lire la liste (sans rien inscrire)").click()
        expect(
            page.get_by_text("Rien ne sera importé tant que le fichier n'est pas corrigé")
        ).to_be_visible()
        expect(
            page.get_by_text("Ligne 14 (Adresse Sans) : adresse électronique invalide")
        ).to_be_visible()
        expect(page.get_by_role("button", name=re.compile("^Importer"))).to_have_count(0)
        both(page, "stagiaires-import-refuse")
        with container.engine.connect() as conn:
            assert roster(conn, dossier) == []

        # Corrected, read again, then imported for good.
        page.set_input_files(
            "#liste-fichier",
            files=[_csv(as_csv(rows, encoding="cp1252"))],
        )
        page.get_by_role("button", name="Lire la liste corrigée").click()
        expect(page.get_by_text("Le fichier peut être importé")).to_be_visible()
        both(page, "stagiaires-import-pret")
        page.get_by_role("button", name="Importer : inscrire 25 stagiaires").click()
        expect(page.get_by_text("Liste importée")).to_be_visible()
        expect(page.get_by_role("cell", name="Élise24 Stagiaire24", exact=True)).to_be_visible()
        both(page, "stagiaires-liste")
        _sign_out(page)

        # 2. The pilote validates the scenario: the convocations leave with it.
        sign_in(page, live_url, people.email(pilote))
        page.goto(f"{live_url}/dossiers/{dossier}/actions/valider_scenario")
        page.get_by_role("button", name="Confirmer : Valider le scénario hybride").click()
        expect(page.get_by_text("Action effectuée : Valider le scénario hybride")).to_be_visible()
        _sign_out(page)
        _relay(container, sink)
        with container.engine.connect() as conn:
            people_rows = roster(conn, dossier, active_only=True)
            sessions = slots(conn, dossier)
        emails = {p.email for p in people_rows}
        convocations = [
            r
            for r in sink.messages()
            if "Convocation à la formation" in str(r.message["Subject"]) and r.rcpt_tos[0] in emails
        ]
        assert len(convocations) == 25 and {r.rcpt_tos[0] for r in convocations} == emails
        for received in convocations:
            (ics,) = [
                p
                for p in received.message.iter_attachments()
                if p.get_content_type() == "text/calendar"
            ]
            payload = ics.get_payload(decode=True)
            assert isinstance(payload, bytes)
            events = Calendar.from_ical(payload).walk("VEVENT")
            assert {str(e["UID"]) for e in events} == {
                f"session-{s.id}@formaflow" for s in sessions
            }
        heads = [r for r in sink.messages() if "Personnels convoqués" in str(r.message["Subject"])]
        assert sorted(r.rcpt_tos[0] for r in heads) == sorted(
            {places.college.head_email, places.lycee.head_email, places.ecole.head_email}
        )
        assert "Élise01 Stagiaire01" in _text(
            next(r for r in heads if r.rcpt_tos[0] == places.lycee.head_email)
        )

        # 3. Attendance for two sessions, by the formateur.
        ids = [p.enrolment_id for p in people_rows]
        sign_in(page, live_url, people.email(formateur))
        page.goto(f"{live_url}/dossiers/{dossier}/actions/demarrer")
        page.get_by_role("button", name="Confirmer : Démarrer la formation").click()
        expect(page.get_by_text("Action effectuée : Démarrer la formation")).to_be_visible()
        page.goto(f"{live_url}/dossiers/{dossier}/presences")
        both(page, "presences")
        page.goto(f"{live_url}/dossiers/{dossier}/presences/sessions/{sessions[0].id}")
        expect(page.get_by_text("Tous sont « Présent » au départ")).to_be_visible()
        page.locator(f"label[for='statut-{ids[0]}-absent_excuse']").click()
        page.locator(f"label[for='statut-{ids[1]}-absent']").click()
        both(page, "presence-session")
        page.get_by_role("button", name="Enregistrer les présences").click()
        expect(page.get_by_text("23 présents.")).to_be_visible()
        page.goto(f"{live_url}/dossiers/{dossier}/presences/sessions/{sessions[1].id}")
        for enrolment in ids[:7]:
            page.locator(f"label[for='statut-{enrolment}-absent']").click()
        page.get_by_role("button", name="Enregistrer les présences").click()
        expect(page.get_by_text("18 présents.")).to_be_visible()
        with container.engine.connect() as conn:
            (step,) = async_steps(conn, dossier)
        page.goto(f"{live_url}/dossiers/{dossier}/presences/etapes/{step.id}")
        for enrolment in ids[10:20]:
            page.locator(f"label[for='fait-{enrolment}']").click()
        both(page, "presence-etape")
        page.get_by_role("button", name="Enregistrer").click()
        expect(page.get_by_text("Fait : 10.")).to_be_visible()
        sheet = page.request.get(
            f"{live_url}/dossiers/{dossier}/emargement/sessions/{sessions[0].id}/csv"
        )
        assert sheet.ok and "Absent excusé" in sheet.text()

        # The counts follow the attendance: 23 took part in at least one session.
        page.goto(f"{live_url}/dossiers/{dossier}/bilan")
        expect(page.get_by_role("heading", name="Effectifs d'après les présences")).to_be_visible()
        expect(page.get_by_text("ayant effectivement participé : 23")).to_be_visible()
        expect(
            page.locator("tr", has_text="Stagiaires ayant effectivement participé")
        ).to_contain_text("23")
        both(page, "bilan-effectifs")

        # 4. The training ends; its email carries each stagiaire's questionnaire link.
        page.goto(f"{live_url}/dossiers/{dossier}/actions/terminer")
        page.get_by_role("button", name="Confirmer : Terminer la formation").click()
        expect(page.get_by_text("Action effectuée : Terminer la formation")).to_be_visible()
        _sign_out(page)
        # The bilan is completed and validated (the lifecycle tests drive those pages).
        world.builder.complete_bilan(dossier, team)
        container.service.fire(FireCommand(dossier, "soumettre_bilan", formateur))
        container.service.fire(FireCommand(dossier, "valider_bilan", team.gestionnaire))
        _relay(container, sink)
        links = {}
        for address in sorted(emails)[:4]:
            (ended,) = [
                r for r in sink.to(address) if "Formation terminée" in str(r.message["Subject"])
            ]
            found = QUESTIONNAIRE.search(_text(ended))
            assert found is not None, _text(ended)
            links[address] = found.group(1)
        answers = [("4", "3", "4", "3"), ("3", "3", "2", "4"), ("4", "4", "3", "3")]
        for n, (_address, path) in enumerate(list(links.items())[:3]):
            page.goto(live_url + path)
            expect(page.get_by_role("heading", name="Questionnaire d'évaluation")).to_be_visible()
            if n == 0:
                page.get_by_role("button", name="Envoyer mes réponses").click()
                expect(page.get_by_text("Le formulaire contient 4 erreurs")).to_be_visible()
                both(page, "questionnaire-erreurs")
            for criterion, level in zip(
                ("fiabilite", "faisabilite", "accompagnement", "effets"), answers[n], strict=True
            ):
                page.locator(f"label[for='{criterion}-{level}']").click()
            page.get_by_label("Commentaire libre (facultatif)").fill(f"Avis numéro {n + 1}")
            if n == 0:
                both(page, "questionnaire")
            page.get_by_role("button", name="Envoyer mes réponses").click()
            expect(page.get_by_text("Merci : votre réponse est enregistrée")).to_be_visible()
        both(page, "questionnaire-merci")
        page.goto(live_url + links[sorted(emails)[0]])
        expect(page.get_by_text("Ce questionnaire a déjà été rempli avec ce lien")).to_be_visible()
        both(page, "questionnaire-deja-rempli")
        page.goto(live_url + links[sorted(emails)[3]][:-3] + "abc")
        expect(page.get_by_text("Ce lien de questionnaire n'est pas valide")).to_be_visible()
        with container.engine.connect() as conn:
            stored = conn.execute(
                select(func.count())
                .select_from(answer_table)
                .where(answer_table.c.dossier_id == dossier)
            ).scalar_one()
            answered = conn.execute(
                select(func.count())
                .select_from(enrolment_table)
                .where(
                    enrolment_table.c.dossier_id == dossier,
                    enrolment_table.c.questionnaire_answered.is_(True),
                )
            ).scalar_one()
        assert (stored, answered) == (3, 3)

        # 5. The pilote sees the aggregate; the responsable sees the barème's count.
        sign_in(page, live_url, people.email(pilote))
        page.goto(f"{live_url}/dossiers/{dossier}/bilan")
        expect(
            page.get_by_role("heading", name="Questionnaire d'évaluation des stagiaires")
        ).to_be_visible()
        expect(
            page.get_by_text("3 réponses sur 25 stagiaires (taux de réponse : 12 %)")
        ).to_be_visible()
        expect(page.get_by_role("cell", name="3,7 / 4")).to_be_visible()
        expect(page.get_by_text("Avis numéro 2")).to_be_visible()
        both(page, "bilan-questionnaire")
        _sign_out(page)
        sign_in(page, live_url, people.email(team.responsable))
        page.goto(f"{live_url}/dossiers/{dossier}/paiement")
        expect(
            page.get_by_text(
                "stagiaires ayant effectivement participé : 23, d'après les présences"
            ).first
        ).to_be_visible()
        both(page, "paiement-effectifs")
        _sign_out(page)

        # 6. A stagiaire signs in by an email link and downloads their attestation.
        stagiaire = sorted(emails)[5]
        page.goto(f"{live_url}/connexion")
        page.get_by_role("link", name="Recevoir un lien de connexion par courriel").click()
        page.get_by_label("Adresse électronique").fill(stagiaire)
        both(page, "connexion-lien")
        page.get_by_role("button", name="Recevoir le lien").click()
        expect(page.get_by_text("Si un compte formaflow existe pour cette adresse")).to_be_visible()
        _relay(container, sink)
        (mail,) = [
            r for r in sink.to(stagiaire) if "lien de connexion" in str(r.message["Subject"])
        ]
        path = SIGNIN.search(_text(mail))
        assert path is not None
        page.goto(live_url + path.group(1))
        both(page, "connexion-lien-ouvrir")
        page.get_by_role("button", name="Se connecter").click()
        expect(page.get_by_role("heading", name="Mes formations")).to_be_visible()
        both(page, "mes-formations")
        page.get_by_role("link", name="Classe virtuelle en cycle 3").click()
        expect(page.get_by_role("heading", name="Ma convocation")).to_be_visible()
        both(page, "ma-formation")
        with page.expect_download() as download:
            page.get_by_role("link", name="Télécharger mon attestation de formation (PDF)").click()
        attestation = pdf_text(download.value.path().read_bytes())
        assert "Attestation de formation" in attestation
        mine = next(p for p in people_rows if p.email == stagiaire)
        assert mine.full_name in attestation and "Classe virtuelle en cycle 3" in attestation
        # The same link does not serve twice.
        page.goto(live_url + path.group(1))
        page.get_by_role("button", name="Se connecter").click()
        expect(page.get_by_text("Ce lien de connexion a déjà servi")).to_be_visible()
        # What is kept about them, why and how long: linked from every page's footer.
        page.get_by_role("link", name="Données personnelles").click()
        expect(
            page.get_by_role("heading", name="Ce qui est conservé sur les stagiaires")
        ).to_be_visible()
        both(page, "donnees-personnelles")
    finally:
        sink.stop()
