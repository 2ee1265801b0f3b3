"""Issue 15's acceptance in one story, through the pages, as the people concerned live it.

An administrateur of one académie creates a second one, imports its 30 people from a CSV,
sets its rates, imports its 50-line PAF (two lines refused with their French reasons, the
file corrected and imported, then dropped again without creating anything). Weeks pass: a
first payment decision is taken at the rate of the day. The administrateur changes a
deadline and a rate, and reads both in the académie's history. The gestionnaire of the new
académie validates 20 bilans in one bulk action from the dashboard (18 done, 2 refused with
their reasons, the result downloadable); the responsable receives one email per validated
bilan through a real SMTP server, decides the next payment at the new rate, while the
older decision keeps the rate it recorded; each payee's email states its own rate.

Playwright drives Debian Chromium against the real server. Every key page is checked by
axe-core, must not scroll sideways, and is kept as screenshots at 1280 and 390 px
(``tests/artifacts/plan-*.png``). The page loads and fields of the administrateur's job and
of the gestionnaire's are counted by the meter of ``tests/e2e/test_jobs.py`` and written to
``tests/artifacts/jobs/``.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Browser, FilePayload, Page, expect
from sqlalchemy import func, select

from api.wiring import Container
from tests.e2e.conftest import People
from tests.integration.test_paf_import import csv_bytes
from tests.support.browser import PASSWORD, check_page, new_context, sign_in
from tests.support.jobs import Meter, deliver
from tests.support.smtp import SmtpSink
from workflow.admin.service import Administration
from workflow.demo import Team
from workflow.engine.rows import load
from workflow.engine.service import FireCommand
from workflow.language.french import PARIS, format_date
from workflow.store.tables import academie_table, decision_table, dossier_table, person_table
from workflow.store.tables import payment_line_table as PL

NAMES = [
    ("Camille", "Durand"),  # 1: gestionnaire
    ("Mathieu", "Lefèvre"),  # 2: responsable
    ("Inès", "Moreau"),  # 3 to 5: pilotes
    ("Julien", "Garnier"),
    ("Sophie", "Roux"),
    ("Élodie", "Fournier"),  # 6 to 15: formateurs
    ("Karim", "Benali"),
    ("Laure", "Chevalier"),
    ("Nicolas", "Perrin"),
    ("Amélie", "Gauthier"),
    ("Thomas", "Robin"),
    ("Chloé", "Masson"),
    ("Hugo", "Lemaire"),
    ("Léa", "Barbier"),
    ("Rémi", "Colin"),
    ("Aurélie", "Vidal"),  # 16 to 20: concepteurs
    ("Yann", "Le Gall"),
    ("Nadia", "Haddad"),
    ("Olivier", "Brun"),
    ("Hélène", "Picard"),
    ("Bruno", "Marchand"),  # 21 to 30: in no line of the PAF
    ("Céline", "Aubert"),
    ("Damien", "Royer"),
    ("Estelle", "Faure"),
    ("François", "Noël"),
    ("Gaëlle", "Rolland"),
    ("Henri", "Lacroix"),
    ("Isabelle", "Renaud"),
    ("Jérôme", "Caron"),
    ("Kenza", "Meunier"),
]
THEMES = [
    "Enseigner avec le numérique en cycle 3",
    "Évaluer par compétences au collège",
    "Accompagner les élèves à besoins particuliers",
    "L'oral au lycée professionnel",
    "Former les tuteurs de néo-titulaires",
]
BULK_LINES = range(2, 22)
"""The PAF lines whose trainings are over when the gestionnaire validates the bilans."""
NOT_SUBMITTED, SENT_BACK = 9, 14
"""Two of them the bulk action refuses: a bilan not submitted yet, and one sent back."""
OLDER, NEXT = 1, 3
"""The line paid before the rate changes, and the one paid after (both in accompaniment
vacations: odd lines)."""
MISTYPED_PILOTE, REVERSED_DATES = 12, 37
"""The two lines of the first PAF file that are refused."""


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return plain.lower().replace(" ", "")


class Staff:
    """The 30 people of the new académie, by their rank in the CSV (from 1), and who works
    on each line of its PAF."""

    def __init__(self, tag: str) -> None:
        self.tag = tag

    def email(self, n: int) -> str:
        first, last = NAMES[n - 1]
        return f"{_ascii(first)}.{_ascii(last)}.{self.tag}@example.org"

    def csv(self) -> bytes:
        """The people file as a spreadsheet saves it in France: Windows-1252, « ; »."""
        roles = {1: "gestionnaire", 2: "responsable"}
        lines = ["Courriel;Prénom;Nom;Rôle"]
        for n, (first, last) in enumerate(NAMES, start=1):
            lines.append(f"{self.email(n)};{first};{last};{roles.get(n, '')}")
        return ("\r\n".join(lines) + "\r\n").encode("cp1252")

    @staticmethod
    def pilote(line: int) -> int:
        return 3 + line % 3

    @staticmethod
    def formateur(line: int) -> int:
        return 6 + line % 10

    @staticmethod
    def concepteur(line: int) -> int:
        return 16 + line % 5


def paf_id(line: int) -> str:
    return f"26B{line:07d}"


def paf(staff: Staff, *, broken: bool) -> bytes:
    """The académie's PAF, 50 lines, in the documented columns: odd lines paid in
    accompaniment vacations, even ones at the taux A. ``broken``: one pilote's address is
    mistyped, one line's dates are the wrong way round."""
    lines = []
    for n in range(1, 51):
        dispositif = (
            "Accompagnement à distance rémunéré en vacations"
            if n % 2
            else "Parcours EAFC rémunéré au taux A"
        )
        pilote = staff.email(staff.pilote(n))
        dates = "14/09/2026;27/11/2026"
        if broken and n == MISTYPED_PILOTE:
            pilote = pilote.replace("@", "x@")
        if broken and n == REVERSED_DATES:
            dates = "27/11/2026;14/09/2026"
        lines.append(
            f"{paf_id(n)};{THEMES[n % 5]} (groupe {n});{dispositif};{pilote};"
            f"{staff.email(staff.formateur(n))};{staff.email(staff.concepteur(n))};"
            f"6;13;20;{dates};Enseignants du second degré"
        )
    return csv_bytes(lines)


def _file(name: str, content: bytes) -> FilePayload:
    return {"name": name, "mimeType": "text/csv", "buffer": content}


def look(page: Page, name: str) -> None:
    """axe-core and a screenshot at 1280 px, the same at 390 px (a phone), then back; the
    page never scrolls sideways."""
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        check_page(page, f"plan-{name}-{width}")
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= inner, f"{name} défile de côté à {width} px"
    page.set_viewport_size({"width": 1280, "height": 900})


def menu(job: Meter, label: str) -> None:
    """A page of the main menu."""
    navigation = job.page.get_by_role("navigation", name="Menu principal")
    job.follow(navigation.get_by_role("link", name=label, exact=True))


def section(job: Meter, label: str) -> None:
    """A section of the académie's administration, from its side menu."""
    job.follow(job.page.locator(".fr-sidemenu").get_by_role("link", name=label, exact=True))


@pytest.fixture
def browsers(browser: Browser) -> Iterator[Callable[[], Page]]:
    """A browser of their own (a context without cookies) for each person of the story."""
    contexts = []

    def open_page() -> Page:
        context = new_context(browser)
        contexts.append(context)
        page = context.new_page()
        page.set_viewport_size({"width": 1280, "height": 900})
        return page

    yield open_page
    for context in contexts:
        context.close()


def _person(container: Container, email: str) -> int:
    with container.engine.connect() as conn:
        return int(
            conn.execute(
                select(person_table.c.id).where(person_table.c.email == email)
            ).scalar_one()
        )


def _dossiers(container: Container, academie_id: int) -> dict[str | None, int]:
    """The académie's dossiers by identifiant PAF."""
    with container.engine.connect() as conn:
        rows = conn.execute(
            select(dossier_table.c.paf_id, dossier_table.c.id).where(
                dossier_table.c.academie_id == academie_id
            )
        ).all()
    return {r.paf_id: int(r.id) for r in rows}


def _rates(container: Container, dossier: int) -> set[Decimal]:
    """The rates its payment decision recorded."""
    with container.engine.connect() as conn:
        return {
            Decimal(rate)
            for rate in conn.execute(
                select(PL.c.rate)
                .join(decision_table, decision_table.c.id == PL.c.decision_id)
                .where(decision_table.c.dossier_id == dossier)
            ).scalars()
        }


def _reference(container: Container, dossier: int) -> str:
    with container.engine.connect() as conn:
        return load(conn, dossier).reference


def _states(container: Container, dossiers: list[int]) -> set[str]:
    with container.engine.connect() as conn:
        return {
            str(s)
            for s in conn.execute(
                select(dossier_table.c.state).where(dossier_table.c.id.in_(dossiers))
            ).scalars()
        }


def _texts(sink: SmtpSink, email: str, subject: str) -> list[str]:
    return [
        str(r.message.get_body(("plain",)).get_content())  # type: ignore[union-attr]
        for r in sink.to(email)
        if str(r.message["Subject"]).endswith(subject)
    ]


def test_a_second_academie_from_its_creation_to_a_bulk_validation_of_20_bilans(
    browsers: Callable[[], Page],
    live_url: str,
    people: People,
    api_container: Container,
    start_worker: Callable[[], None],
) -> None:
    container, world = api_container, people.world
    tag = uuid.uuid4().hex[:6]
    staff = Staff(tag)
    slug, code = f"seconde-{tag}", f"S{tag[:4].upper()}"

    # The administrateur of a first académie (a role the operator's CLI grants).
    admin = world.person("administratrice")
    Administration(container.engine).grant(
        world.academie_id, admin, "administrateur", actor_id=None
    )
    container.accounts.set_password(admin, PASSWORD)
    with container.engine.connect() as conn:
        admin_email = conn.execute(
            select(person_table.c.email).where(person_table.c.id == admin)
        ).scalar_one()
    page = browsers()
    sign_in(page, live_url, str(admin_email))
    job = Meter(page, "administrateur-plan-academie").start()

    # 1. The second académie.
    menu(job, "Administration")
    job.follow(page.get_by_role("link", name="Créer une académie"))
    job.fill(page.get_by_label("Nom de l'académie *"), "Académie de Secondeville")
    job.fill(page.get_by_label("Identifiant"), slug)
    job.fill(page.get_by_label("Code des références de dossier"), code)
    job.fill(page.get_by_label("Adresse de réponse des courriels"), "eafc@secondeville.example.org")
    job.fill(page.get_by_label("Institution (en-tête des pages)"), "Rectorat de Secondeville")
    job.fill(page.get_by_label("Bloc de signature"), "EAFC de Secondeville\nLe délégué académique")
    job.fill(page.get_by_label("Lieu « Fait à »"), "Secondeville")
    look(page, "nouvelle-academie")
    job.follow(page.get_by_role("button", name="Créer l'académie"))
    expect(page.get_by_text("Académie créée")).to_be_visible()
    with container.engine.connect() as conn:
        academie_id = int(
            conn.execute(
                select(academie_table.c.id).where(academie_table.c.slug == slug)
            ).scalar_one()
        )

    # 2. Its 30 people from a CSV: a trial first, then the import.
    section(job, "Personnes")
    job.follow(page.get_by_role("link", name="Importer un fichier CSV"))
    job.attach(page.get_by_label("Fichier CSV des personnes"), _file("personnes.csv", staff.csv()))
    job.follow(page.get_by_role("button", name="Essayer l'import"))
    expect(page.get_by_role("heading", name="Aucune ligne refusée")).to_be_visible()
    job.follow(page.get_by_role("button", name="Importer ces 30 lignes"))
    expect(page.get_by_text("Import fait")).to_be_visible()
    # The 30, and the administratrice who created the académie.
    expect(page.get_by_role("region", name="Personnes de l'académie (31)")).to_be_visible()
    look(page, "personnes")

    # 3. Its rates: nothing can be paid without them.
    section(job, "Tarifs")
    job.fill(page.get_by_label("Vacation au taux A"), "45,00")
    job.fill(page.get_by_label("Vacation d'accompagnement à distance"), "45,00")
    job.follow(page.get_by_role("button", name="Enregistrer les tarifs"))
    expect(page.get_by_text("Réglages enregistrés")).to_be_visible()

    # 4. Its PAF. Two lines refused, each with its reason in French; nothing written.
    menu(job, "Import du PAF")
    job.choose(page.get_by_label("Académie *"), slug)
    job.attach(
        page.get_by_label("Fichier du PAF (CSV ou XLSX) *"),
        _file("paf-2026-2027.csv", paf(staff, broken=True)),
    )
    job.follow(page.get_by_role("button", name="Vérifier le fichier (essai)"))
    alert = page.get_by_role("alert")
    expect(alert.get_by_role("heading")).to_have_text("2 lignes refusées : rien ne sera importé")
    mistyped = staff.email(staff.pilote(MISTYPED_PILOTE)).replace("@", "x@")
    expect(alert.get_by_role("listitem")).to_have_text(
        [  # the header is line 1
            f"Ligne 13 ({paf_id(MISTYPED_PILOTE)}) : Pilote (courriel) : aucune personne n'a "
            f"l'adresse {mistyped} dans formaflow (importez d'abord les personnes, ou "
            "corrigez l'adresse)",
            f"Ligne 38 ({paf_id(REVERSED_DATES)}) : Dates : la date de fin précède la date de "
            "début",
        ]
    )
    expect(page.get_by_text("Création : 48")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Importer"))).to_have_count(0)
    look(page, "paf-refus")
    assert _dossiers(container, academie_id) == {}

    # The corrected file, dropped on the report itself, then imported whole.
    job.attach(
        page.get_by_label("Fichier du PAF (CSV ou XLSX) *"),
        _file("paf-2026-2027-corrige.csv", paf(staff, broken=False)),
    )
    job.follow(page.get_by_role("button", name="Vérifier le fichier (essai)"))
    expect(page.get_by_text("Essai : rien n'a encore été importé")).to_be_visible()
    expect(page.get_by_text("Création : 50")).to_be_visible()
    job.follow(page.get_by_role("button", name="Importer : 50 création(s), 0 mise(s) à jour"))
    expect(page.get_by_text("50 dossier(s) créé(s) en brouillon, 0 mis à jour.")).to_be_visible()
    dossiers = _dossiers(container, academie_id)
    assert sorted(p or "" for p in dossiers) == [paf_id(n) for n in range(1, 51)]

    # The same file again: every line unchanged, nothing to import, nothing created.
    menu(job, "Import du PAF")
    job.choose(page.get_by_label("Académie *"), slug)
    job.attach(
        page.get_by_label("Fichier du PAF (CSV ou XLSX) *"),
        _file("paf-2026-2027-corrige.csv", paf(staff, broken=False)),
    )
    job.follow(page.get_by_role("button", name="Vérifier le fichier (essai)"))
    expect(page.get_by_text("Inchangée : 50")).to_be_visible()
    expect(page.get_by_text("Rien à importer : les dossiers sont déjà à jour.")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Importer"))).to_have_count(0)
    look(page, "paf-reimport")
    assert _dossiers(container, academie_id) == dossiers

    # Weeks pass. Pages cannot make trainings happen quickly: the real service takes the
    # dossiers along their path as their teams would (DemoBuilder.drive, one fire per
    # transition, on a service without emails: nobody reads those). A first payment is
    # decided at the rate of the day, by the product's service, which writes its emails.
    def team(line: int) -> Team:
        return Team(
            pilote=_person(container, staff.email(staff.pilote(line))),
            formateurs=[_person(container, staff.email(staff.formateur(line)))],
            gestionnaire=_person(container, staff.email(1)),
            responsable=_person(container, staff.email(2)),
            concepteur=_person(container, staff.email(staff.concepteur(line))),
        )

    older = dossiers[paf_id(OLDER)]
    world.builder.drive(older, team(OLDER), "bilan_valide")
    container.service.fire(FireCommand(older, "accorder_paiement", team(OLDER).responsable))
    assert _rates(container, older) == {Decimal("45.00")}

    # 5. A deadline and a rate change; the académie's history keeps both, before → after.
    menu(job, "Administration")
    job.follow(page.get_by_role("link", name="Académie de Secondeville"))
    section(job, "Échéances")
    job.fill(page.get_by_label("Relance : bilan en attente d'examen (jours)"), "10")
    job.follow(page.get_by_role("button", name="Enregistrer les délais"))
    expect(
        page.get_by_text("Relance : bilan en attente d'examen : par défaut (15 jours) → 10 jours")
    ).to_be_visible()
    section(job, "Tarifs")
    job.fill(page.get_by_label("Vacation d'accompagnement à distance"), "50")
    job.follow(page.get_by_role("button", name="Enregistrer les tarifs"))
    expect(
        page.get_by_text("Vacation d'accompagnement à distance : 45,00 € → 50,00 €")
    ).to_be_visible()
    section(job, "Historique")
    history = page.get_by_role("region", name=re.compile("^Historique de l'administration"))
    changes = history.locator("tbody tr")
    for rank, change in enumerate(
        [
            ("Vacation d'accompagnement à distance", "45,00 €", "50,00 €"),
            ("Délai : Relance : bilan en attente d'examen", "par défaut (15 jours)", "10 jours"),
        ]
    ):
        cells = changes.nth(rank).locator("td")
        expect(cells.nth(1)).to_have_text("Administratrice")  # who; the first cell says when
        expect(cells.nth(2)).to_have_text(change[0])
        expect(cells.nth(3)).to_have_text(change[1])
        expect(cells.nth(4)).to_have_text(change[2])
    look(page, "historique")
    figures = job.record()
    assert (figures["page_loads"], figures["fields"]) == (23, 17), figures

    # The 20 trainings are over; their bilans submitted through the service, but for one
    # still being written and one the gestionnaire sent back to its author.
    for line in BULK_LINES:
        dossier, people_of = dossiers[paf_id(line)], team(line)
        world.builder.drive(
            dossier, people_of, "realisee" if line == NOT_SUBMITTED else "bilan_soumis"
        )
        if line == SENT_BACK:
            container.service.fire(
                FireCommand(
                    dossier,
                    "demander_complement",
                    people_of.gestionnaire,
                    comment="Il manque la liste d'émargement de la classe virtuelle.",
                )
            )
    submitted_at = datetime.now(PARIS)

    # 6. The gestionnaire validates the bilans in one bulk action, from the dashboard.
    gestionnaire = staff.email(1)
    container.accounts.set_password(_person(container, gestionnaire), PASSWORD)
    page = browsers()
    sign_in(page, live_url, gestionnaire)
    expect(page.get_by_text("Rectorat de Secondeville").first).to_be_visible()
    job = Meter(page, "gestionnaire-valider-20-bilans").start()
    menu(job, "Tableau de bord")
    job.choose(page.locator("#filtre-phase"), "apres")
    job.follow(page.get_by_role("button", name="Filtrer"))
    expect(page.get_by_label(re.compile(r"^Sélectionner "))).to_have_count(20)
    # The bilans wait on her until the académie's new delay: 10 days, not 15.
    waiting = page.get_by_role("row").filter(has=page.get_by_text(f"PAF {paf_id(NEXT)}"))
    expect(waiting).to_contain_text(format_date((submitted_at + timedelta(days=10)).date()))
    look(page, "tableau-de-bord")
    job.choose(page.get_by_label("Action", exact=True), "valider_bilan")
    job.tick(page.get_by_text("Tous ceux du filtre"))
    job.follow(page.get_by_role("button", name="Préparer l'action groupée"))
    expect(page.get_by_text(re.compile("^20 dossiers de l'académie"))).to_be_visible()
    look(page, "action-groupee-preparation")
    job.follow(page.get_by_role("button", name="Lancer « Valider le bilan » sur 20 dossiers"))
    expect(page.get_by_text("0 dossier traité sur 20")).to_be_visible()
    # One follower of the batch: two would poll twice as often and reload twice at the end.
    expect(page.locator('script[src$="/actions-groupees.js"]')).to_have_count(1)
    start_worker()  # the serve process's worker; the page follows it, reloads once at the end
    expect(page.get_by_role("heading", name="Terminée")).to_be_visible(timeout=90_000)
    expect(page.get_by_text("Fait : 18")).to_be_visible()
    expect(page.get_by_text("Refusé : 2")).to_be_visible()
    refusals = {
        NOT_SUBMITTED: (
            "Formation réalisée",
            "L'action « Valider le bilan » n'est pas possible quand le dossier est "
            "« Formation réalisée ».",
        ),
        SENT_BACK: (
            "Bilan à compléter",
            "L'action « Valider le bilan » n'est pas possible quand le dossier est "
            "« Bilan à compléter ».",
        ),
    }
    for line in BULK_LINES:
        row = page.get_by_role("row").filter(has=page.get_by_text(f"PAF {paf_id(line)}"))
        if line in refusals:
            expect(row).to_contain_text("Refusé")
            expect(row).to_contain_text(refusals[line][1])
        else:
            expect(row).to_contain_text("Fait")
            expect(row).to_contain_text("Bilan soumis → Bilan validé")
    look(page, "action-groupee-terminee")
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger le résultat (CSV)").click()
    figures = job.record()
    assert (figures["page_loads"], figures["fields"]) == (6, 3), figures

    result = list(
        csv.DictReader(
            io.StringIO(Path(download.value.path()).read_text("utf-8-sig")), delimiter=";"
        )
    )
    assert sorted(r["Identifiant PAF"] for r in result) == [paf_id(n) for n in BULK_LINES]
    for r in result:
        line = int(r["Identifiant PAF"].removeprefix("26B"))
        if line in refusals:
            state, reason = refusals[line]
            assert (r["Résultat"], r["État actuel"]) == ("Refusé", state), r
            assert r["Détail"].startswith(reason), r
        else:
            assert (r["Résultat"], r["Détail"]) == ("Fait", "Bilan soumis → Bilan validé"), r
    validated = [dossiers[paf_id(n)] for n in BULK_LINES if n not in refusals]
    assert _states(container, validated) == {"bilan_valide"}

    # Each validated bilan was its own transition with its own email to the responsable,
    # sent by the product's relay to a real SMTP server; the refused ones sent nothing.
    sink = deliver(container)
    responsable = staff.email(2)
    for line in BULK_LINES:
        reference = _reference(container, dossiers[paf_id(line)])
        subject = f"{reference} — Bilan validé : décision de paiement attendue"
        assert len(_texts(sink, responsable, subject)) == (0 if line in refusals else 1)
    (paid,) = _texts(
        sink,
        staff.email(staff.formateur(OLDER)),
        f"{_reference(container, older)} — Paiement accordé",
    )
    assert "Accompagnement à distance : 5 vacations × 45,00 € = 225,00 €" in paid

    # 7. The responsable decides the next payment: at the new rate; the older decision keeps
    # the rate it recorded, on its page.
    container.accounts.set_password(_person(container, responsable), PASSWORD)
    page = browsers()
    sign_in(page, live_url, responsable)
    following = dossiers[paf_id(NEXT)]
    reference = _reference(container, following)
    page.locator("main li", has_text=reference).get_by_role(
        "link", name=re.compile("^Décider du paiement")
    ).click()
    page.get_by_role("button", name="Vérifier la décision").click()
    page.get_by_role("button", name="Confirmer : accorder 250,00 €").click()
    expect(page.get_by_text("Action effectuée : Accorder le paiement")).to_be_visible()
    decided = page.get_by_role("table", name="Montants par personne")
    expect(decided.locator("tbody td").nth(3)).to_have_text("50,00 €")
    expect(decided).to_contain_text("5 × 50,00 € = 250,00 €")
    look(page, "decision-nouveau-taux")
    page.goto(f"{live_url}/dossiers/{older}/paiement")
    decided = page.get_by_role("table", name="Montants par personne")
    expect(decided.locator("tbody td").nth(3)).to_have_text("45,00 €")
    expect(decided).to_contain_text("5 × 45,00 € = 225,00 €")
    look(page, "decision-ancien-taux")
    assert _rates(container, following) == {Decimal("50.00")}
    assert _rates(container, older) == {Decimal("45.00")}

    sink = deliver(container)
    (paid,) = _texts(sink, staff.email(staff.formateur(NEXT)), f"{reference} — Paiement accordé")
    assert "Accompagnement à distance : 5 vacations × 50,00 € = 250,00 €" in paid
    with container.engine.connect() as conn:
        count = conn.execute(
            select(func.count())
            .select_from(dossier_table)
            .where(dossier_table.c.academie_id == academie_id)
        ).scalar_one()
    assert count == 50, "the re-import created nothing"
