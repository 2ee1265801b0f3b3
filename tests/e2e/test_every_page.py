"""Every page of the product, on the demo data, at a phone's width (390 px) and a laptop's
(1,280 px): nothing scrolls sideways, nothing is cut, and axe-core finds no WCAG 2.1 A/AA
violation.

The list of pages is the app's own: every GET route outside the API answers a page, and
``test_every_page_route_is_visited`` fails as soon as a route is neither visited here nor
named as a file download — a new page cannot escape the checks. Each visit names who looks at
it (their home, their work) and how its address is filled from the demo: the demo is
loaded through the real service into a database of this module's own, as ``make run``
loads it.

On each visit, at each width:

- the document is no wider than the window (``scrollWidth <= innerWidth``);
- no scrolling region inside it (a table's frame…) is wider than itself: nothing — the
  « État » column of a list, the right-hand columns of the payment page — hides behind a
  sideways scroll (but the circuit diagram, drawn at the size its 14 px text reads at, may
  scroll in its own frame on a phone: ``test_the_diagram_reads_at_14_px``);
- every skip link leads to an anchor of the page;
- axe-core reports nothing; the screenshot is kept as
  ``tests/artifacts/page-<name>-<width>.png``.

Each file of ``NOT_PAGES`` (émargement sheets, attestations, calendar, exports) is
downloaded by someone allowed to: 200, an attachment of its media type, content of that kind.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize
from sqlalchemy import Engine, select, update

from api.app import create_app
from api.pages.errors import MACHINE_PATHS
from api.settings import ApiSettings
from api.wiring import Container
from notifications.links import LinkClaim
from notifications.settings import MailSettings
from notifications.tokens import QuestionnaireClaim
from tests.support.browser import ARTIFACTS, PASSWORD, check_page, new_context, sign_in
from tests.support.live_server import serving
from tests.support.matrix import route_methods
from workflow import demo
from workflow.admin.paf_lines import read_lines
from workflow.dossiers.team import delegations_in
from workflow.engine.rows import load
from workflow.participants.roster import async_steps, roster
from workflow.reads.diagram_svg import ARC_FONT
from workflow.store.academie_settings import PACKAGED
from workflow.store.database import make_engine
from workflow.store.migrate import upgrade
from workflow.store.settings import WorkflowSettings, get_settings
from workflow.store.tables import assignment_table as A
from workflow.store.tables import outbox_table, person_table
from workflow.store.tables import session_table as S

NARROW: ViewportSize = {"width": 390, "height": 844}
WIDE: ViewportSize = {"width": 1280, "height": 800}

NOT_PAGES = {
    "/auth/oidc/login": "a redirect to the identity provider (ProConnect), off by default",
    "/auth/oidc/callback": "the identity provider's redirect back, which signs in",
    "/tableau-de-bord/export": "the dashboard's XLSX/CSV file",
    "/paf/modele.{fmt}": "the PAF template file",
    "/actions-groupees/{batch_id}/export": "a bulk action's results file",
    "/dossiers/{dossier_id}/emargement/sessions/{session_id}": (
        "a session's émargement sheet, a printable HTML file"
    ),
    "/dossiers/{dossier_id}/emargement/sessions/{session_id}/csv": (
        "a session's émargement sheet as CSV"
    ),
    "/dossiers/{dossier_id}/emargement/sessions/{session_id}/pdf": (
        "a session's émargement sheet as PDF"
    ),
    "/dossiers/{dossier_id}/emargement/etapes/{step_id}": (
        "an asynchronous step's émargement sheet, a printable HTML file"
    ),
    "/dossiers/{dossier_id}/emargement/etapes/{step_id}/csv": (
        "an asynchronous step's émargement sheet as CSV"
    ),
    "/dossiers/{dossier_id}/emargement/etapes/{step_id}/pdf": (
        "an asynchronous step's émargement sheet as PDF"
    ),
    "/dossiers/{dossier_id}/stagiaires/attestations": "every attestation of a dossier, one PDF",
    "/dossiers/{dossier_id}/stagiaires/{enrolment_id}/attestation": (
        "one stagiaire's attestation PDF"
    ),
    "/mes-formations/{dossier_id}/attestation": "the stagiaire's own attestation PDF",
    "/mes-formations/{dossier_id}/convocation.ics": "the convocation's calendar file (ICS)",
}
"""GET routes outside the API that answer a file or a helper, not a page."""

SIGN_IN_ELSEWHERE = {"/auth/oidc/login", "/auth/oidc/callback"}
"""The routes of ``NOT_PAGES`` that answer no file: the identity provider's redirects, off
here (none is configured). Every other one is downloaded by ``test_every_file_answers_its_type``."""


@dataclass
class Site:
    """The demo served over HTTP, and the ids its pages are addressed by."""

    url: str
    container: Container
    summary: demo.DemoSummary
    extra: dict[str, int | str] = field(default_factory=dict)

    def dossier(self, key: str) -> int:
        """``dossier_formation:en_cours``, ``ouverture_parcours:brouillon``, ``paf:…``."""
        return self.summary.dossiers[key]

    def formation(self, state: str) -> int:
        return self.dossier(f"dossier_formation:{state}")

    def holder(self, dossier_id: int, role: str) -> str:
        """The login of the first holder of ``role`` on the dossier."""
        with self.container.engine.connect() as conn:
            email = conn.execute(
                select(person_table.c.email)
                .join(A, A.c.person_id == person_table.c.id)
                .where(A.c.dossier_id == dossier_id, A.c.role == role)
                .order_by(A.c.id)
            ).scalar()
        assert email is not None, (dossier_id, role)
        return str(email).removesuffix("@example.org")

    def person(self, login: str) -> int:
        return self.summary.people[login]


@dataclass(frozen=True)
class Visit:
    name: str
    who: str | Callable[[Site], str] | None
    """A demo login, or how to find one; None: signed out."""
    path: Callable[[Site], str]

    def login(self, site: Site) -> str | None:
        return self.who(site) if callable(self.who) else self.who


GESTION, RESPONSABLE = "camille.morel", "helene.garnier"
ADMIN, STAGIAIRE = "alice.perrin", "lea.martin"
ACADEMIE = f"/administration/academies/{demo.DEMO_SLUG}"


def _f(state: str) -> Callable[[Site], int]:
    return lambda s: s.formation(state)


def _at(path: str) -> Callable[[Site], str]:
    """A fixed address."""
    return lambda s: path


def _on(state: str, role: str) -> Callable[[Site], str]:
    """Whoever holds ``role`` on the demo dossier standing in ``state``."""
    return lambda s: s.holder(s.formation(state), role)


PAGES: dict[str, list[Visit]] = {
    "/": [
        # Each role's home page: where « / » leads them.
        Visit("accueil-gestionnaire", GESTION, lambda s: "/"),
        Visit("accueil-responsable", RESPONSABLE, lambda s: "/"),
        Visit("accueil-pilote", _on("scenario_soumis", "pilote"), lambda s: "/"),
        Visit("accueil-conceptrice", "lucie.fontaine", lambda s: "/"),
        Visit("accueil-formatrice", _on("en_cours", "formateur"), lambda s: "/"),
    ],
    "/dossiers/{dossier_id}/contrat": [
        Visit(
            "contrat-a-signer",
            _on("contrat_a_signer", "formateur"),
            lambda s: f"/dossiers/{s.formation('contrat_a_signer')}/contrat",
        ),
        Visit(
            "contrat-signe",
            RESPONSABLE,
            lambda s: f"/dossiers/{s.formation('en_cours')}/contrat",
        ),
    ],
    "/connexion": [Visit("connexion", None, lambda s: "/connexion")],
    "/deconnexion": [Visit("deconnexion", "sophie.bernard", lambda s: "/deconnexion")],
    "/accessibilite": [Visit("accessibilite", None, lambda s: "/accessibilite")],
    "/mentions-legales": [Visit("mentions-legales", None, lambda s: "/mentions-legales")],
    "/gestion-des-cookies": [Visit("cookies", None, lambda s: "/gestion-des-cookies")],
    "/donnees-personnelles": [
        Visit("donnees-personnelles", None, lambda s: "/donnees-personnelles")
    ],
    "/mes-taches": [
        Visit(
            "mes-taches-formatrice", _on("scenario_valide", "formateur"), lambda s: "/mes-taches"
        ),
        Visit("mes-taches-tutrice", "emilie.laurent", lambda s: "/mes-taches?statut=faites"),
    ],
    "/a-valider": [Visit("a-valider", _on("scenario_soumis", "pilote"), lambda s: "/a-valider")],
    "/tableau-de-bord": [
        Visit("tableau-de-bord", GESTION, lambda s: "/tableau-de-bord"),
        Visit("mes-dossiers", "sophie.bernard", lambda s: "/tableau-de-bord"),
    ],
    "/dossiers/nouveau": [Visit("nouveau-dossier", GESTION, lambda s: "/dossiers/nouveau")],
    "/dossiers/{dossier_id}": [
        Visit("dossier-en-cours", GESTION, lambda s: f"/dossiers/{s.formation('en_cours')}"),
        Visit(
            "dossier-scenario-soumis",
            _on("scenario_soumis", "concepteur"),
            lambda s: f"/dossiers/{s.formation('scenario_soumis')}",
        ),
        Visit(
            "dossier-mis-en-paiement",
            _on("mis_en_paiement", "formateur"),
            lambda s: f"/dossiers/{s.formation('mis_en_paiement')}",
        ),
        Visit(
            "dossier-ouverture",
            "marc.girard",
            lambda s: f"/dossiers/{s.dossier('ouverture_parcours:a_completer')}",
        ),
    ],
    "/dossiers/{dossier_id}/actions/{trigger}": [
        Visit(
            "action-annuler",
            RESPONSABLE,
            lambda s: f"/dossiers/{s.formation('en_cours')}/actions/annuler",
        ),
        Visit(
            "action-valider-scenario",
            _on("scenario_soumis", "pilote"),
            lambda s: f"/dossiers/{s.formation('scenario_soumis')}/actions/valider_scenario",
        ),
    ],
    "/liens/{token}": [
        Visit("lien-courriel", _on("scenario_soumis", "pilote"), lambda s: str(s.extra["link"]))
    ],
    "/dossiers/{dossier_id}/bilan": [
        Visit(
            "bilan-a-rediger",
            _on("bilan_a_completer", "chef_etablissement"),
            lambda s: f"/dossiers/{s.formation('bilan_a_completer')}/bilan",
        ),
        Visit(
            "bilan-a-examiner",
            GESTION,
            lambda s: f"/dossiers/{s.formation('bilan_soumis')}/bilan",
        ),
    ],
    "/dossiers/{dossier_id}/scenario": [
        Visit(
            "scenario-editeur",
            _on("contrat_signe", "concepteur"),
            lambda s: f"/dossiers/{s.formation('contrat_signe')}/scenario",
        )
    ],
    "/dossiers/{dossier_id}/paiement": [
        Visit(
            "paiement-a-decider",
            RESPONSABLE,
            lambda s: f"/dossiers/{s.formation('bilan_valide')}/paiement",
        ),
        Visit(
            "paiement-decide",
            GESTION,
            lambda s: f"/dossiers/{s.formation('mis_en_paiement')}/paiement",
        ),
    ],
    "/dossiers/{dossier_id}/demande": [
        Visit(
            "demande-ouverture",
            "marc.girard",
            lambda s: f"/dossiers/{s.dossier('ouverture_parcours:brouillon')}/demande",
        )
    ],
    "/dossiers/{dossier_id}/sessions": [
        Visit(
            "sessions",
            _on("en_cours", "formateur"),
            lambda s: f"/dossiers/{s.formation('en_cours')}/sessions",
        )
    ],
    "/dossiers/{dossier_id}/sessions/{session_id}": [
        Visit(
            "session-modifier",
            _on("en_cours", "formateur"),
            lambda s: f"/dossiers/{s.formation('en_cours')}/sessions/{s.extra['session']}",
        )
    ],
    "/dossiers/{dossier_id}/planification": [
        Visit(
            "planification",
            GESTION,
            lambda s: f"/dossiers/{s.formation('brouillon')}/planification",
        )
    ],
    "/dossiers/{dossier_id}/equipe": [
        Visit("equipe", GESTION, lambda s: f"/dossiers/{s.formation('en_cours')}/equipe")
    ],
    "/dossiers/{dossier_id}/equipe/retirer/{person_id}/{role}": [
        Visit(
            "equipe-retirer",
            GESTION,
            lambda s: (
                f"/dossiers/{s.formation('brouillon')}/equipe/retirer/"
                f"{s.person(s.holder(s.formation('brouillon'), 'formateur'))}/formateur"
            ),
        )
    ],
    "/paf": [Visit("paf", GESTION, lambda s: "/paf")],
    "/paf/imports/{import_id}": [
        Visit("paf-essai", GESTION, lambda s: f"/paf/imports/{s.extra['paf_import']}")
    ],
    "/actions-groupees/nouvelle": [
        Visit(
            "action-groupee-preparer",
            GESTION,
            lambda s: (
                "/actions-groupees/nouvelle?action=valider_bilan&selection=cochees"
                f"&dossier={s.formation('bilan_soumis')}&dossier={s.formation('en_cours')}"
            ),
        )
    ],
    "/actions-groupees/{batch_id}": [
        Visit("action-groupee", GESTION, lambda s: f"/actions-groupees/{s.extra['batch']}")
    ],
    "/actions-groupees": [Visit("actions-groupees", GESTION, lambda s: "/actions-groupees")],
    "/dev/mailbox": [Visit("boite-dev", GESTION, lambda s: "/dev/mailbox")],
    "/dev/mailbox/{message_id}": [
        Visit("boite-dev-message", GESTION, lambda s: f"/dev/mailbox/{s.extra['message']}")
    ],
    "/a-traiter": [
        # « / » leads the roles above here; the administratrice and a stagiaire open it
        # from the menu.
        Visit("a-traiter-administratrice", ADMIN, lambda s: "/a-traiter"),
        Visit("a-traiter-stagiaire", STAGIAIRE, lambda s: "/a-traiter"),
    ],
    # The administration of the demo académie, by its administratrice.
    "/administration": [Visit("administration", ADMIN, lambda s: "/administration")],
    "/administration/nouvelle-academie": [
        Visit("admin-nouvelle-academie", ADMIN, lambda s: "/administration/nouvelle-academie")
    ],
    **{
        f"/administration/academies/{{slug}}{section}": [
            Visit(f"admin-{name}", ADMIN, _at(f"{ACADEMIE}{section}"))
        ]
        for name, section in (
            ("identite", ""),
            ("personnes", "/personnes"),
            ("import", "/personnes/import"),
            ("roles", "/roles"),
            ("suppleances", "/suppleances"),
            ("tarifs", "/tarifs"),
            ("echeances", "/echeances"),
            ("signataires", "/signataires"),
            ("regles", "/regles"),
            ("historique", "/historique"),
        )
    },
    "/administration/academies/{slug}/personnes/{person_id}/desactivation": [
        Visit(
            "admin-desactiver",
            ADMIN,
            lambda s: f"{ACADEMIE}/personnes/{s.person('thomas.roux')}/desactivation",
        )
    ],
    "/administration/academies/{slug}/personnes/{person_id}/reactivation": [
        Visit(
            "admin-reactiver",
            ADMIN,
            lambda s: f"{ACADEMIE}/personnes/{s.extra['deactivated']}/reactivation",
        )
    ],
    "/administration/academies/{slug}/roles/retirer/{person_id}/{role}": [
        Visit(
            "admin-retirer-role",
            ADMIN,
            lambda s: f"{ACADEMIE}/roles/retirer/{s.person(GESTION)}/gestionnaire",
        )
    ],
    "/administration/academies/{slug}/suppleances/{delegation_id}/revocation": [
        Visit(
            "admin-revoquer-suppleance",
            ADMIN,
            lambda s: f"{ACADEMIE}/suppleances/{s.extra['delegation']}/revocation",
        )
    ],
    "/dossiers/{dossier_id}/suppleances/{delegation_id}/revocation": [
        # The gestionnaire's own suppléance reaches every dossier of the académie.
        Visit(
            "revoquer-suppleance",
            GESTION,
            lambda s: (
                f"/dossiers/{s.formation('en_cours')}/suppleances/{s.extra['delegation']}"
                "/revocation"
            ),
        )
    ],
    # Signing in by a link received by email, signed out.
    "/connexion/lien": [Visit("connexion-lien", None, lambda s: "/connexion/lien")],
    "/connexion/lien/{token}": [
        Visit("connexion-lien-ouvrir", None, lambda s: str(s.extra["signin_link"]))
    ],
    # The stagiaires of the training under way, seen by its team.
    "/dossiers/{dossier_id}/stagiaires": [
        Visit(
            "stagiaires",
            GESTION,
            lambda s: f"/dossiers/{s.formation('en_cours')}/stagiaires",
        )
    ],
    "/dossiers/{dossier_id}/stagiaires/{enrolment_id}/desinscrire": [
        Visit(
            "stagiaire-desinscrire",
            GESTION,
            lambda s: (
                f"/dossiers/{s.formation('en_cours')}/stagiaires/{s.extra['enrolment']}/desinscrire"
            ),
        )
    ],
    "/dossiers/{dossier_id}/presences": [
        Visit(
            "presences",
            _on("en_cours", "formateur"),
            lambda s: f"/dossiers/{s.formation('en_cours')}/presences",
        )
    ],
    "/dossiers/{dossier_id}/presences/sessions/{session_id}": [
        Visit(
            "presences-session",
            _on("en_cours", "formateur"),
            lambda s: (
                f"/dossiers/{s.formation('en_cours')}/presences/sessions/{s.extra['session']}"
            ),
        )
    ],
    "/dossiers/{dossier_id}/presences/etapes/{step_id}": [
        Visit(
            "presences-etape",
            _on("en_cours", "formateur"),
            lambda s: f"/dossiers/{s.formation('en_cours')}/presences/etapes/{s.extra['step']}",
        )
    ],
    # A stagiaire's own trainings: one under way, one over (questionnaire, attestation).
    "/mes-formations": [Visit("mes-formations", STAGIAIRE, lambda s: "/mes-formations")],
    "/mes-formations/{dossier_id}": [
        Visit(
            "ma-formation-en-cours",
            STAGIAIRE,
            lambda s: f"/mes-formations/{s.formation('en_cours')}",
        ),
        Visit(
            "ma-formation-realisee",
            STAGIAIRE,
            lambda s: f"/mes-formations/{s.formation('realisee')}",
        ),
    ],
    "/questionnaire/{token}": [
        Visit("questionnaire", None, lambda s: str(s.extra["questionnaire"]))
    ],
}


PDF, CSV, HTML = "application/pdf", "text/csv", "text/html"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff".encode()


@dataclass(frozen=True)
class Download:
    """A file of ``NOT_PAGES``, fetched by someone allowed to: it must answer 200, as an
    attachment of ``media_type`` whose content opens with ``opens``."""

    route: str
    who: str | Callable[[Site], str]
    path: Callable[[Site], str]
    media_type: str
    opens: bytes

    def login(self, site: Site) -> str:
        return self.who(site) if callable(self.who) else self.who


def _sheet(kind: str, fmt: str = "") -> Callable[[Site], str]:
    """The émargement sheet of the training under way's first session or step."""
    item = "session" if kind == "sessions" else "step"
    return lambda s: (
        f"/dossiers/{s.formation('en_cours')}/emargement/{kind}/{s.extra[item]}"
        + (f"/{fmt}" if fmt else "")
    )


SHEET_CSV = BOM + "Nom et prénom;Courriel".encode()
DOWNLOADS = [
    Download(
        "/tableau-de-bord/export",
        GESTION,
        lambda s: "/tableau-de-bord/export?format=csv",
        CSV,
        BOM,
    ),
    Download("/paf/modele.{fmt}", GESTION, lambda s: "/paf/modele.xlsx", XLSX, b"PK\x03\x04"),
    Download(
        "/actions-groupees/{batch_id}/export",
        GESTION,
        lambda s: f"/actions-groupees/{s.extra['batch']}/export",
        XLSX,
        b"PK\x03\x04",
    ),
    *(
        Download(
            f"/dossiers/{{dossier_id}}/emargement/{kind}/{{{item}}}{suffix}",
            _on("en_cours", "formateur"),
            _sheet(kind, suffix.removeprefix("/")),
            media_type,
            opens,
        )
        for kind, item in (("sessions", "session_id"), ("etapes", "step_id"))
        for suffix, media_type, opens in (
            ("", HTML, b"<!doctype html>"),
            ("/csv", CSV, SHEET_CSV),
            ("/pdf", PDF, b"%PDF-"),
        )
    ),
    Download(
        "/dossiers/{dossier_id}/stagiaires/attestations",
        GESTION,
        lambda s: f"/dossiers/{s.formation('realisee')}/stagiaires/attestations",
        PDF,
        b"%PDF-",
    ),
    Download(
        "/dossiers/{dossier_id}/stagiaires/{enrolment_id}/attestation",
        GESTION,
        lambda s: (
            f"/dossiers/{s.formation('realisee')}/stagiaires/{s.extra['attested']}/attestation"
        ),
        PDF,
        b"%PDF-",
    ),
    Download(
        "/mes-formations/{dossier_id}/attestation",
        STAGIAIRE,
        lambda s: f"/mes-formations/{s.formation('realisee')}/attestation",
        PDF,
        b"%PDF-",
    ),
    Download(
        "/mes-formations/{dossier_id}/convocation.ics",
        STAGIAIRE,
        lambda s: f"/mes-formations/{s.formation('en_cours')}/convocation.ics",
        "text/calendar",
        b"BEGIN:VCALENDAR",
    ),
]


def page_routes(app: FastAPI) -> set[str]:
    """Every GET route a person's browser may open: outside the API and the machines'
    addresses (health, metrics), static files being mounts rather than routes."""
    return {
        path
        for path, methods in route_methods(app)
        if "GET" in methods and not path.startswith(MACHINE_PATHS)
    }


def _scratch() -> Path:
    """A directory for the module's database: memory-backed where the machine has one (a
    SQLite file there skips the disk's fsyncs, which dominate loading the demo)."""
    shm = Path("/dev/shm")
    return Path(tempfile.mkdtemp(prefix="formaflow-pages-", dir=shm if shm.is_dir() else None))


def _passwords(engine: Engine, container: Container) -> None:
    hashed = container.accounts.hasher.hash(PASSWORD)
    with engine.begin() as conn:
        conn.execute(update(person_table).values(password_hash=hashed))


def _extras(site: Site) -> None:
    """What some pages show and the demo does not hold: a PAF file dropped for its dry run,
    a finished bulk action, an action link of an email, a message in the dev mailbox."""
    container, summary = site.container, site.summary
    gestion = summary.people[GESTION]
    rows = [list(r) for r in demo.DEMO_PAF]
    rows.append(
        [
            "26A0140099",
            "Une ligne nouvelle, à créer",
            "vacation_accompagnement",
            "paul.lefevre@example.org",
            "sophie.bernard@example.org",
            "",
            "6",
            "12",
            "18",
            "05/01/2027",
            "26/03/2027",
            "Enseignants du 1er degré",
        ]
    )
    assert read_lines(rows)
    content = "\n".join(";".join(r) for r in rows).encode("utf-8")
    site.extra["paf_import"] = container.paf.store(
        summary.academie_id, "paf-2027.csv", content, actor_id=gestion
    )
    refused = [site.formation("paiement_refuse"), site.formation("mis_en_paiement")]
    batch = container.bulk.create(
        summary.academie_id, "mettre_en_paiement", refused, actor_id=gestion
    )
    container.bulk.run_once(only=batch)
    site.extra["batch"] = batch
    submitted = site.formation("scenario_soumis")
    pilote = site.person(site.holder(submitted, "pilote"))
    with container.engine.connect() as conn:
        version = load(conn, submitted).version
        site.extra["session"] = int(
            conn.execute(
                select(S.c.id).where(S.c.dossier_id == site.formation("en_cours")).order_by(S.c.id)
            )
            .scalars()
            .first()
            or 0
        )
        raw = conn.execute(select(outbox_table.c.raw).order_by(outbox_table.c.id.desc())).scalar()
    url = container.links.url(LinkClaim(submitted, "valider_scenario", pilote, version))
    site.extra["link"] = url.removeprefix(container.mail_settings.base_url.rstrip("/"))
    assert raw is not None and site.extra["session"]
    mailbox = container.mail_settings.dev_mailbox_dir
    mailbox.mkdir(parents=True, exist_ok=True)
    name = f"{time.time_ns():019d}-{'0' * 32}"
    (mailbox / f"{name}.eml").write_bytes(raw.encode("utf-8"))
    site.extra["message"] = name
    _participants_and_people(site)


def _participants_and_people(site: Site) -> None:
    """What the stagiaires' and the administration's pages are addressed by: an
    asynchronous step, an enrolment, the suppléance of the gestionnaire's role, a sign-in
    link and a questionnaire link of the kind the emails carry; and someone the
    administratrice added to the directory, then deactivated (whom the reactivation page
    brings back)."""
    container = site.container
    under_way, over = site.formation("en_cours"), site.formation("realisee")
    gestion = site.person(GESTION)
    with container.engine.connect() as conn:
        site.extra["step"] = async_steps(conn, under_way)[0].id
        site.extra["enrolment"] = next(
            p.enrolment_id for p in roster(conn, under_way) if p.person_id == site.person(STAGIAIRE)
        )
        site.extra["delegation"] = next(
            d.id
            for d in delegations_in(conn, site.summary.academie_id)
            if d.delegator_id == gestion and d.revoked_at is None
        )
        unanswered = next(p for p in roster(conn, over) if not p.questionnaire_answered)
        site.extra["attested"] = next(
            p.enrolment_id for p in roster(conn, over) if p.person_id == site.person(STAGIAIRE)
        )
    base = container.mail_settings.base_url.rstrip("/")
    site.extra["signin_link"] = container.signin_links.url(site.person(STAGIAIRE)).removeprefix(
        base
    )
    claim = QuestionnaireClaim(over, unanswered.enrolment_id)
    site.extra["questionnaire"] = container.questionnaire_links.url(claim).removeprefix(base)
    admin = site.person(ADMIN)
    left = container.admin.add_person(
        demo.DEMO_SLUG, "gerard.moulin@example.org", "Gérard Moulin", actor_id=admin
    )
    container.admin.set_active(demo.DEMO_SLUG, left.person_id, False, actor_id=admin)
    site.extra["deactivated"] = left.person_id


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    directory = _scratch()
    academies = get_settings().academies_dir
    assert academies is not None
    shutil.copyfile(PACKAGED / "demo.toml", academies / f"{demo.DEMO_SLUG}.toml")
    url = f"sqlite:///{directory / 'formaflow.db'}"
    container = Container(
        WorkflowSettings(database_url=url, data_dir=directory / "var"),
        ApiSettings(env="development", data_dir=directory / "var", base_url="http://pages.test"),
        MailSettings(base_url="http://pages.test", dev_mailbox_dir=directory / "mailbox"),
    )
    engine = make_engine(url)
    container.__dict__["engine"] = engine
    try:
        upgrade(engine)
        summary = demo.load_demo(engine, container.settings.data_dir, container.service)
        _passwords(engine, container)
        with serving(create_app(container), name="formaflow-pages") as base:
            found = Site(base, container, summary)
            _extras(found)
            yield found
    finally:
        engine.dispose()
        shutil.rmtree(directory, ignore_errors=True)


def test_every_page_route_is_visited(site: Site) -> None:
    routes = page_routes(create_app(site.container))
    missing = routes - set(PAGES) - set(NOT_PAGES)
    assert not missing, (
        f"GET pages without a visit in {__name__}.PAGES (add who looks at them and how "
        f"their address is filled from the demo): {sorted(missing)}"
    )
    gone = (set(PAGES) | set(NOT_PAGES)) - routes
    assert not gone, f"visits of routes the app no longer has: {sorted(gone)}"


OVERFLOW = """() => {
  const cut = [];
  for (const element of document.querySelectorAll('body *')) {
    // The circuit diagram is drawn at the size it reads at and scrolls in its own frame.
    if (element.classList.contains('ff-diagramme')) continue;
    const style = getComputedStyle(element);
    if (!['auto', 'scroll'].includes(style.overflowX)) continue;
    if (element.scrollWidth > element.clientWidth + 1) {
      cut.push((element.getAttribute('aria-label') || element.className || element.tagName)
        + ' : ' + element.scrollWidth + ' px dans ' + element.clientWidth + ' px');
    }
  }
  return cut;
}"""

SKIP_TARGETS = """() => [...document.querySelectorAll('.fr-skiplinks a[href^="#"]')]
  .map(a => a.getAttribute('href').slice(1))
  .filter(id => !document.getElementById(id))"""


@contextmanager
def _contexts(browser: Browser, site: Site) -> Iterator[Callable[[str | None], Page]]:
    """One signed-in browser context per person looked through, opened on first use."""
    opened: dict[str | None, BrowserContext] = {}
    pages: dict[str | None, Page] = {}

    def page_for(login: str | None) -> Page:
        if login not in pages:
            context = new_context(browser)  # watches the Content-Security-Policy too
            context.set_default_timeout(15_000)
            opened[login] = context
            pages[login] = context.new_page()
            if login is not None:
                sign_in(pages[login], site.url, f"{login}@example.org")
        return pages[login]

    try:
        yield page_for
    finally:
        for context in opened.values():
            context.close()


def test_no_page_scrolls_sideways_and_axe_finds_nothing(browser: Browser, site: Site) -> None:
    problems: list[str] = []
    with _contexts(browser, site) as page_for:
        for route, visits in PAGES.items():
            for visit in visits:
                page = page_for(visit.login(site))
                for viewport in (NARROW, WIDE):
                    page.set_viewport_size(viewport)
                    response = page.goto(site.url + visit.path(site))
                    assert response is not None
                    where = f"{visit.name} ({route}) at {viewport['width']} px"
                    if response.status != 200:
                        problems.append(f"{where}: HTTP {response.status}")
                        continue
                    width = page.evaluate("document.documentElement.scrollWidth")
                    if width > viewport["width"]:
                        problems.append(f"{where}: the page is {width} px wide")
                    problems += [f"{where}: cut — {c}" for c in page.evaluate(OVERFLOW)]
                    problems += [
                        f"{where}: skip link to #{t}, absent" for t in page.evaluate(SKIP_TARGETS)
                    ]
                    try:
                        check_page(page, f"page-{visit.name}-{viewport['width']}")
                    except AssertionError as failure:
                        problems.append(f"{where}: {failure}")
    assert not problems, "\n".join(problems)


def test_every_file_answers_its_type(browser: Browser, site: Site) -> None:
    """Each file of ``NOT_PAGES`` (the identity provider's redirects aside) is downloaded by
    someone allowed to: 200, an attachment of its type, its content of that kind."""
    assert {d.route for d in DOWNLOADS} == set(NOT_PAGES) - SIGN_IN_ELSEWHERE
    problems: list[str] = []
    with _contexts(browser, site) as page_for:
        for download in DOWNLOADS:
            path = download.path(site)
            response = page_for(download.login(site)).request.get(site.url + path)
            where = f"{path} ({download.login(site)})"
            if response.status != 200:
                problems.append(f"{where}: HTTP {response.status}")
                continue
            media_type = response.headers.get("content-type", "").split(";")[0].strip()
            if media_type != download.media_type:
                problems.append(f"{where}: {media_type}, not {download.media_type}")
            if not response.headers.get("content-disposition", "").startswith("attachment;"):
                problems.append(f"{where}: not an attachment")
            body = response.body()
            if not body.startswith(download.opens):
                problems.append(f"{where}: opens with {body[:40]!r}, not {download.opens!r}")
    assert not problems, "\n".join(problems)


DIAGRAM = """() => {
  const img = document.querySelector('.ff-diagramme img');
  const frame = img.closest('.ff-diagramme');
  return {
    complete: img.complete && img.naturalWidth > 0,
    natural: img.naturalWidth,
    shown: img.getBoundingClientRect().width,
    frame: frame.getBoundingClientRect().width,
    page: document.documentElement.scrollWidth,
  };
}"""


def test_the_diagram_reads_at_14_px(browser: Browser, site: Site) -> None:
    """The circuit on the dossier page, at both widths: shown at its own size (so its
    smallest text, drawn at 14 px, is read at 14 px), its frame within the page."""
    with _contexts(browser, site) as page_for:
        page = page_for(GESTION)
        for state in ("en_cours", "scenario_soumis"):
            for viewport in (NARROW, WIDE):
                page.set_viewport_size(viewport)
                page.goto(f"{site.url}/dossiers/{site.formation(state)}")
                page.wait_for_function("() => document.querySelector('.ff-diagramme img').complete")
                seen = page.evaluate(DIAGRAM)
                assert seen["complete"], seen
                scale = seen["shown"] / seen["natural"]
                assert ARC_FONT * scale >= 14, seen
                assert seen["frame"] <= viewport["width"] and seen["page"] <= viewport["width"]
                frame = page.locator(".ff-diagramme")
                frame.scroll_into_view_if_needed()
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                page.locator(".ff-diagramme img").screenshot(
                    path=str(ARTIFACTS / f"diagramme-{state}-{viewport['width']}.png")
                )
                frame.screenshot(
                    path=str(ARTIFACTS / f"diagramme-cadre-{state}-{viewport['width']}.png")
                )
