"""Demo data: a fictitious académie whose dossiers stand in every state of both workflows.

Every demo dossier reaches its state through the real service, by the people whose role
allows each step, so its history, signatures, tasks and decisions are what real use would
leave. The same recipes drive the printed walk-through and many tests. All people are
fictitious and use ``example.org`` addresses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from workflow.admin.paf import PafImporter
from workflow.admin.paf_lines import read_lines
from workflow.admin.service import Administration
from workflow.demo_participants import DemoAttendance, demo_schools, more_stagiaires
from workflow.documents.avenants import AvenantOnEdit
from workflow.dossiers.dates import EARLY_CONFIRMED, early
from workflow.dossiers.editing import DossierEditor
from workflow.dossiers.inputs import (
    BilanInput,
    DocumentInput,
    DossierInput,
    HoursInput,
    OuvertureInput,
    PlanningInput,
    ScenarioInput,
    SequenceInput,
    SessionInput,
    StepInput,
)
from workflow.engine.rows import load
from workflow.engine.service import FireCommand, FireResult, WorkflowService
from workflow.language.french import PARIS
from workflow.participants.counts import trainee_counts
from workflow.participants.enrolment import Enrolments
from workflow.participants.inputs import StagiaireInput
from workflow.store.academie_settings import PACKAGED
from workflow.store.tables import academie_table, dossier_table, person_table

DEMO_SLUG = "demo"

PEOPLE: list[tuple[str, str]] = [
    ("camille.morel", "Camille Morel"),
    ("helene.garnier", "Hélène Garnier"),
    ("paul.lefevre", "Paul Lefèvre"),
    ("nadia.rousseau", "Nadia Rousseau"),
    ("olivier.mercier", "Olivier Mercier"),
    ("lucie.fontaine", "Lucie Fontaine"),
    ("marc.girard", "Marc Girard"),
    ("sophie.bernard", "Sophie Bernard"),
    ("julien.petit", "Julien Petit"),
    ("claire.dubois", "Claire Dubois"),
    ("thomas.roux", "Thomas Roux"),
    ("emilie.laurent", "Émilie Laurent"),
    ("anne.lambert", "Anne Lambert"),
    ("bernard.faure", "Bernard Faure"),
    ("isabelle.chevalier", "Isabelle Chevalier"),
    ("alice.perrin", "Alice Perrin"),
    ("lea.martin", "Léa Martin"),
    ("hugo.simon", "Hugo Simon"),
    ("chloe.michel", "Chloé Michel"),
    ("nathan.leroy", "Nathan Leroy"),
    ("manon.garcia", "Manon Garcia"),
]

CIVILITES: dict[str, str] = {
    login: civilite
    for civilite, logins in (
        (
            "madame",
            "alice.perrin camille.morel helene.garnier nadia.rousseau lucie.fontaine "
            "sophie.bernard "
            "claire.dubois emilie.laurent anne.lambert isabelle.chevalier lea.martin "
            "chloe.michel manon.garcia",
        ),
        (
            "monsieur",
            "paul.lefevre olivier.mercier marc.girard julien.petit thomas.roux bernard.faure "
            "hugo.simon nathan.leroy",
        ),
    )
    for login in logins.split()
}
"""Each demo person's civilité, so that labels and emails agree (« Formatrice »)."""

# The canonical path of a formation dossier: each step's trigger and the team member who
# fires it. ``annule`` and ``paiement_refuse`` branch off it.
FORMATION_PATH: list[tuple[str, str]] = [
    ("emettre_contrat", "pilote"),
    ("signer", "*signataires"),
    ("soumettre_scenario", "concepteur_ou_formateur"),
    ("valider_scenario", "pilote"),
    ("demarrer", "formateur"),
    ("terminer", "formateur"),
    ("soumettre_bilan", "auteur_bilan"),
    ("valider_bilan", "gestionnaire"),
    ("accorder_paiement", "responsable"),
    ("mettre_en_paiement", "gestionnaire"),
]
STATE_AFTER: dict[str, str] = {
    "emettre_contrat": "contrat_a_signer",
    "signer": "contrat_signe",
    "soumettre_scenario": "scenario_soumis",
    "valider_scenario": "scenario_valide",
    "demarrer": "en_cours",
    "terminer": "realisee",
    "soumettre_bilan": "bilan_soumis",
    "valider_bilan": "bilan_valide",
    "accorder_paiement": "paiement_accorde",
    "mettre_en_paiement": "mis_en_paiement",
}


@dataclass
class Team:
    """Who holds which role on one dossier (académie roles included for convenience)."""

    pilote: int
    formateurs: list[int]
    gestionnaire: int
    responsable: int
    concepteur: int | None = None
    tuteur: int | None = None
    chef_etablissement: int | None = None
    ien: int | None = None
    coordonnateur_reseau: int | None = None
    stagiaires: list[int] = field(default_factory=list)

    def dossier_roles(self) -> list[tuple[int, str]]:
        pairs = [(self.pilote, "pilote")] + [(f, "formateur") for f in self.formateurs]
        for role in ("concepteur", "tuteur", "chef_etablissement", "ien", "coordonnateur_reseau"):
            person = getattr(self, role)
            if person is not None:
                pairs.append((person, role))
        return pairs + [(s, "stagiaire") for s in self.stagiaires]


Narrator = Callable[[str, str, FireResult], None]


class DemoBuilder:
    """Recipes for complete dossiers, shared by the demo loader, the walk-through and tests."""

    def __init__(self, engine: Engine, data_dir: Path, service: WorkflowService) -> None:
        self.engine = engine
        self.editor = DossierEditor(engine, data_dir, clock=service.clock)
        self.enrolments = Enrolments(engine, clock=service.clock)
        self.etablissements: list[int | None] = []
        """Schools the stagiaires of ``formation`` are enrolled from (cycled), if any."""
        self.service = service

    def formation(
        self,
        academie_id: int,
        team: Team,
        *,
        title: str,
        dispositif: str = "vacation_accompagnement",
        hours_distance: Decimal = Decimal("13"),
        participants: int = 20,
        start: date | None = None,
        undated: bool = False,
    ) -> int:
        """``undated``: no planned dates at all (the budget lists it « à dater »)."""
        start = start or date.today() + timedelta(days=30)
        dossier_id = self.editor.create_dossier(
            DossierInput(
                title=title,
                academie_id=academie_id,
                dispositif=dispositif,
                planned_hours_presentiel=Decimal("6"),
                planned_hours_distance=hours_distance,
                planned_participants=participants,
                planned_start=None if undated else start,
                planned_end=None if undated else start + timedelta(days=42),
            )
        )
        for person_id, role in team.dossier_roles():
            if role != "stagiaire":
                self.editor.assign(person_id, role, dossier_id=dossier_id)
        self.enrol(dossier_id, team.stagiaires, self.etablissements or None)
        return dossier_id

    def enrol(
        self, dossier_id: int, people: list[int], etablissements: list[int | None] | None = None
    ) -> list[int]:
        """Enrol existing people as stagiaires (the one way to give that role), each from
        the établissement of the same rank in ``etablissements`` (cycled), if any."""
        if not people:
            return []
        with self.engine.connect() as conn:
            rows = {
                int(r.id): r
                for r in conn.execute(
                    select(person_table.c.id, person_table.c.email, person_table.c.full_name).where(
                        person_table.c.id.in_(people)
                    )
                )
            }
        schools = etablissements or [None]
        items = []
        for n, person in enumerate(people):
            first, _, last = rows[person].full_name.partition(" ")
            items.append(
                StagiaireInput(
                    first_name=first or rows[person].full_name,
                    last_name=last or first or "—",
                    email=rows[person].email,
                    etablissement_id=schools[n % len(schools)],
                )
            )
        return self.enrolments.enrol_all(dossier_id, items, actor_id=None)

    def complete_scenario(self, dossier_id: int, team: Team) -> None:
        tutor = team.tuteur or team.formateurs[0]
        self.editor.save_scenario(
            dossier_id,
            ScenarioInput(
                objectives="Concevoir et animer une séance hybride avec ses élèves.",
                competences="Scénariser une activité à distance ; accompagner des pairs.",
                prerequisites="Avoir un compte M@gistère.",
                public="Enseignants de collège",
                hours_presentiel=Decimal("6"),
                hours_distance=Decimal("13"),
                accompaniment_plan="Retour individualisé sous 72 h sur chaque production.",
                validation_criteria="Dépôt d'une séance scénarisée et d'un retour réflexif.",
                penser_a="Réserver la salle informatique.",
                sequences=[
                    SequenceInput(
                        title="Lancement",
                        a_faire_en_amont="Envoyer les liens de connexion.",
                        steps=[
                            StepInput(
                                period="Semaine 1",
                                duration_minutes=180,
                                content="Présentation du dispositif et des attendus",
                                modality="presentiel",
                            ),
                            StepInput(
                                period="Semaine 2",
                                duration_minutes=90,
                                content="Classe virtuelle : prise en main du parcours",
                                modality="classe_virtuelle",
                                connection_link="https://visio.example.org/lancement",
                            ),
                        ],
                    ),
                    SequenceInput(
                        title="Mise en œuvre accompagnée",
                        steps=[
                            StepInput(
                                period="Semaines 3 à 5",
                                duration_minutes=600,
                                content="Conception d'une séance, échanges sur le forum",
                                modality="asynchrone",
                                led_by="tuteur",
                                tutor_id=tutor,
                            ),
                        ],
                    ),
                ],
            ),
        )

    def complete_bilan(self, dossier_id: int, team: Team, effective: int = 5) -> None:
        enrolled = max(effective, 6)
        with self.engine.connect() as conn:
            counts = trainee_counts(conn, load(conn, dossier_id))
        if counts.from_attendance and counts.effective.value is not None:
            # Attendance was recorded: the bilan carries its counts, as its page would.
            enrolled, effective = counts.enrolled, counts.effective.value
        self.editor.save_bilan(
            dossier_id,
            BilanInput(
                participants_enrolled=enrolled,
                participants_effective=effective,
                view_chef_etablissement="Les équipes se sont approprié l'outil.",
                view_formateurs="Bonne dynamique, un rythme d'accompagnement à alléger.",
                eval_fiabilite="Aucun incident technique ; engagements tenus.",
                eval_faisabilite="Séquençage adapté, rythme soutenu en semaine 3.",
                eval_accompagnement="Échanges réguliers et de qualité sur le forum.",
                eval_effets="Séances hybrides menées en classe par 4 stagiaires sur 5.",
                hours=[
                    HoursInput(person_id=f, hours=Decimal("13"), trainees_followed=effective)
                    for f in team.formateurs
                ]
                + (
                    [
                        HoursInput(
                            person_id=team.tuteur, hours=Decimal("10"), trainees_followed=effective
                        )
                    ]
                    if team.tuteur and team.tuteur not in team.formateurs
                    else []
                ),
            ),
        )
        self.editor.add_document(
            dossier_id,
            DocumentInput(
                kind="emargement", filename="emargement.pdf", content_type="application/pdf"
            ),
            _tiny_pdf(f"Liste d'émargement — dossier {dossier_id}"),
            uploaded_by=team.formateurs[0],
        )

    def add_sessions(
        self, dossier_id: int, team: Team, start: datetime, *, held: bool = False
    ) -> None:
        """Two sessions of 3 h a week apart; with ``held``, those already begun are
        recorded as held (a session cannot be before it starts)."""
        now = self.service.clock()
        for n, modality in enumerate(("presentiel", "classe_virtuelle")):
            starts_at = start + timedelta(days=7 * n)
            was_held = held and starts_at <= now
            headcount = len(team.stagiaires) or 6
            self.editor.add_session(
                dossier_id,
                SessionInput(
                    starts_at=starts_at,
                    duration_minutes=180,
                    modality=modality,
                    connection_link="https://visio.example.org/session" if n else None,
                    place=None if n else "Atelier Canopé, salle 2 — 12 rue de l'Exemple, Marseille",
                    planned_headcount=headcount,
                    held=was_held,
                    actual_headcount=headcount if was_held else None,
                    formateur_id=team.formateurs[0],
                    public_type="Enseignants de collège",
                ),
            )

    def actor_for(self, step_actor: str, team: Team, dispositif: str) -> int:
        if step_actor == "concepteur_ou_formateur":
            return team.concepteur or team.formateurs[0]
        if step_actor == "auteur_bilan":
            if dispositif == "hse_convention_ent" and team.chef_etablissement:
                return team.chef_etablissement
            return team.formateurs[0]
        if step_actor == "formateur":
            return team.formateurs[0]
        value = getattr(team, step_actor)
        assert isinstance(value, int)
        return value

    def signatories(self, team: Team, dispositif: str) -> list[int]:
        if dispositif == "hse_convention_ent":
            assert team.chef_etablissement is not None
            return [team.chef_etablissement, team.responsable]
        people = list(team.formateurs)
        if dispositif == "eafc_taux_a" and team.concepteur:
            people.append(team.concepteur)
        return [*people, team.responsable]

    def drive(
        self,
        dossier_id: int,
        team: Team,
        target: str,
        narrate: Narrator | None = None,
        payloads: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        """Take a formation dossier along the canonical path until it stands in ``target``."""
        payloads = payloads or {}
        with self.engine.connect() as conn:
            dossier = load(conn, dossier_id)
        dispositif = dossier.dispositif or ""
        if target == "annule":
            self._fire(
                dossier_id,
                "annuler",
                team.pilote,
                narrate,
                comment="Formation déprogrammée faute d'inscrits.",
            )
            return
        detour = {
            "scenario_a_reviser": "scenario_soumis",
            "bilan_a_completer": "bilan_soumis",
            "paiement_refuse": "bilan_valide",
        }
        goal = detour.get(target, target)
        state = dossier.state
        # Resume from where the dossier stands (a test may stop, edit, and drive on).
        reached = [i for i, (t, _) in enumerate(FORMATION_PATH) if STATE_AFTER[t] == state]
        path = FORMATION_PATH[reached[0] + 1 :] if reached else FORMATION_PATH
        for trigger, who in path:
            if state == goal:
                break
            if trigger == "soumettre_scenario":
                self.complete_scenario(dossier_id, team)
            if trigger == "soumettre_bilan":
                self.complete_bilan(dossier_id, team)
            if who == "*signataires":
                for person in self.signatories(team, dispositif):
                    self._fire(dossier_id, "signer", person, narrate)
            else:
                self._fire(
                    dossier_id,
                    trigger,
                    self.actor_for(who, team, dispositif),
                    narrate,
                    payload={**self._early(dossier_id, trigger), **payloads.get(trigger, {})},
                )
            state = STATE_AFTER[trigger]
        if target == "scenario_a_reviser":
            self._fire(
                dossier_id,
                "demander_revision",
                team.pilote,
                narrate,
                comment="Préciser l'accompagnement de la séquence 2.",
            )
        elif target == "bilan_a_completer":
            self._fire(
                dossier_id,
                "demander_complement",
                team.gestionnaire,
                narrate,
                comment="Il manque la liste d'émargement de la classe virtuelle.",
            )
        elif target == "paiement_refuse":
            self._fire(
                dossier_id,
                "refuser_paiement",
                team.responsable,
                narrate,
                comment="Service fait non attesté par le chef d'établissement.",
            )

    def _early(self, dossier_id: int, trigger: str) -> dict[str, Any]:
        """The recipe starts and ends trainings when it is told to: before the sessions'
        dates, it confirms it, as a person must (``workflow.dossiers.dates``)."""
        with self.engine.connect() as conn:
            ahead = early(conn, dossier_id, trigger, self.service.clock())
        return {EARLY_CONFIRMED: True} if ahead is not None else {}

    def _fire(
        self,
        dossier_id: int,
        trigger: str,
        actor: int,
        narrate: Narrator | None,
        comment: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> FireResult:
        result = self.service.fire(
            FireCommand(dossier_id, trigger, actor, comment=comment, payload=payload or {})
        )
        if narrate is not None:
            narrate(trigger, str(actor), result)
        return result


def _tiny_pdf(title: str) -> bytes:
    """A valid one-page PDF, so demo documents open in any viewer."""
    text = title.encode("latin-1", "replace").replace(b"(", b"[").replace(b")", b"]")
    stream = b"BT /F1 14 Tf 72 770 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return out


@dataclass
class DemoSummary:
    academie_id: int
    people: dict[str, int]
    dossiers: dict[str, int]


FORMATION_TARGETS: list[tuple[str, str, str]] = [
    ("brouillon", "vacation_accompagnement", "Accompagner l'usage de l'ENT au collège"),
    ("contrat_a_signer", "vacation_accompagnement", "Enseigner avec le numérique en cycle 3"),
    ("contrat_signe", "eafc_taux_a", "Évaluer par compétences en lycée professionnel"),
    ("scenario_soumis", "eafc_taux_a", "Différencier en mathématiques au cycle 4"),
    ("scenario_a_reviser", "vacation_accompagnement", "Oral et grand oral : accompagner"),
    ("scenario_valide", "hse_convention_ent", "Prendre en main l'ENT de l'établissement"),
    ("en_cours", "vacation_accompagnement", "Classe inversée en sciences"),
    ("realisee", "hse_convention_ent", "Utiliser l'ENT avec ses élèves"),
    ("bilan_soumis", "vacation_accompagnement", "Écrire pour apprendre en histoire"),
    ("bilan_a_completer", "hse_convention_ent", "Le cahier de textes numérique"),
    ("bilan_valide", "vacation_accompagnement", "Coopérer en EPS avec des outils numériques"),
    ("paiement_accorde", "vacation_accompagnement", "Accompagner les néo-titulaires"),
    ("paiement_refuse", "vacation_accompagnement", "Évaluer l'oral en langues vivantes"),
    ("mis_en_paiement", "vacation_accompagnement", "Hybrider une formation disciplinaire"),
    ("annule", "eafc_taux_a", "Parcours M@gistère : éducation aux médias"),
]

OUVERTURE_TARGETS: list[tuple[str, list[tuple[str, str, str | None]]]] = [
    ("brouillon", []),
    ("soumise", [("soumettre", "concepteur", None)]),
    (
        "a_completer",
        [
            ("soumettre", "concepteur", None),
            ("demander_complement", "gestionnaire", "Préciser la durée à distance."),
        ],
    ),
    ("acceptee", [("soumettre", "pilote", None), ("accepter", "gestionnaire", None)]),
    (
        "ouverte",
        [
            ("soumettre", "pilote", None),
            ("accepter", "gestionnaire", None),
            ("ouvrir", "gestionnaire", None),
        ],
    ),
    (
        "refusee",
        [
            ("soumettre", "concepteur", None),
            ("refuser", "gestionnaire", "Un parcours national couvre déjà ce besoin."),
        ],
    ),
    ("retiree", [("retirer", "concepteur", None)]),
]


def is_loaded(engine: Engine) -> bool:
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
        count = conn.execute(
            select(func.count())
            .select_from(academie_table)
            .where(academie_table.c.slug == DEMO_SLUG)
        ).scalar_one()
        return bool(count)


def load_demo(engine: Engine, data_dir: Path, service: WorkflowService) -> DemoSummary:
    """Create the demo académie, its people and its dossiers (call on an empty database)."""
    builder = DemoBuilder(engine, data_dir, service)
    editor = builder.editor
    admin = Administration(engine, clock=service.clock)
    # The académie comes from its seed file, as any new académie would (no running config).
    academie_id = admin.import_seed(
        (PACKAGED / f"{DEMO_SLUG}.toml").read_text("utf-8"), where=f"{DEMO_SLUG}.toml"
    )
    people = {
        login: editor.create_person(f"{login}@example.org", name, CIVILITES.get(login))
        for login, name in PEOPLE
    }
    admin.grant(academie_id, people["alice.perrin"], "administrateur", actor_id=None)
    administratrice = people["alice.perrin"]
    for login, role in (("camille.morel", "gestionnaire"), ("helene.garnier", "responsable")):
        admin.grant(academie_id, people[login], role, actor_id=administratrice)
    schools = demo_schools(engine, academie_id)
    builder.etablissements = list(schools)
    attendance = DemoAttendance(engine, service.clock)
    stagiaires = [
        people[k]
        for k in ("lea.martin", "hugo.simon", "chloe.michel", "nathan.leroy", "manon.garcia")
    ]
    formateurs = [
        people[k] for k in ("sophie.bernard", "julien.petit", "claire.dubois", "thomas.roux")
    ]
    dossiers: dict[str, int] = {}
    for n, (target, dispositif, title) in enumerate(FORMATION_TARGETS):
        team = Team(
            pilote=people["paul.lefevre"] if n % 2 == 0 else people["nadia.rousseau"],
            formateurs=[formateurs[n % len(formateurs)]],
            gestionnaire=people["camille.morel"],
            responsable=people["helene.garnier"],
            concepteur=people["lucie.fontaine"] if n % 2 == 0 else people["marc.girard"],
            tuteur=people["emilie.laurent"],
            chef_etablissement=people["anne.lambert"],
            ien=people["bernard.faure"] if dispositif != "hse_convention_ent" else None,
            coordonnateur_reseau=people["isabelle.chevalier"],
            stagiaires=stagiaires,
        )
        first = _first_session(target, service.clock())
        days = AGED.get(target)
        # A few dossiers were done some weeks ago, so that lateness shows on the pages (and
        # the timers send the matching reminders as soon as ``serve`` starts).
        recipe = builder if days is None else DemoBuilder(engine, data_dir, _earlier(service, days))
        dossier_id = recipe.formation(
            academie_id, team, title=title, dispositif=dispositif, start=first.date()
        )
        if dispositif == "hse_convention_ent":
            # The convention names its établissement (seed 001).
            editor.update_planning(dossier_id, PlanningInput(etablissement=DEMO_ETABLISSEMENT))
        recipe.add_sessions(dossier_id, team, first, held=True)
        if target == "en_cours":
            builder.enrolments.enrol_all(dossier_id, more_stagiaires(schools), actor_id=None)
        recipe.drive(dossier_id, team, target, narrate=attendance, payloads=DEMO_PAYLOADS)
        dossiers[f"dossier_formation:{target}"] = dossier_id
        if target == "en_cours":
            # DOMAIN §8: a formateur joins after signature, through the editor the app uses
            # (the avenant follows the edit); it waits for the newcomer and the responsable.
            newcomer = next(f for f in formateurs if f not in team.formateurs)
            DossierEditor(
                engine, data_dir, clock=service.clock, after_change=[AvenantOnEdit(service)]
            ).assign(newcomer, "formateur", dossier_id=dossier_id, actor_id=team.pilote)
    # A validated bilan reopened by the gestionnaire: the co-animated virtual class had one
    # participant too few for its two trainers to be paid (seed 004 §5.3).
    pair = Team(
        pilote=people["paul.lefevre"],
        formateurs=[formateurs[0], formateurs[1]],
        gestionnaire=people["camille.morel"],
        responsable=people["helene.garnier"],
        concepteur=people["lucie.fontaine"],
        tuteur=people["emilie.laurent"],
        stagiaires=stagiaires,
    )
    reopened = builder.formation(
        academie_id, pair, title="Co-animer une classe virtuelle", dispositif="eafc_taux_a"
    )
    builder.drive(reopened, pair, "bilan_valide")
    service.fire(
        FireCommand(
            reopened,
            "rouvrir_bilan",
            people["camille.morel"],
            comment="La classe virtuelle co-animée n'a réuni que 14 présents : corrigez les "
            "sessions tenues et les présences avant une nouvelle validation.",
        )
    )
    dossiers["dossier_formation:bilan_rouvert"] = reopened
    editor.delegate(
        people["paul.lefevre"],
        people["olivier.mercier"],
        service.clock(),
        service.clock() + timedelta(days=60),
    )
    _administration_demo(admin, editor, academie_id, people, dossiers, service.clock())
    for target, steps in OUVERTURE_TARGETS:
        dossier_id = editor.create_dossier(
            DossierInput(
                title=f"Parcours M@gistère — {_OUVERTURE_TITLES[target]}",
                academie_id=academie_id,
                workflow="ouverture_parcours",
            )
        )
        editor.assign(people["nadia.rousseau"], "pilote", dossier_id=dossier_id)
        editor.assign(people["marc.girard"], "concepteur", dossier_id=dossier_id)
        editor.save_ouverture(dossier_id, demo_ouverture(_OUVERTURE_TITLES[target]))
        actors = {
            "pilote": people["nadia.rousseau"],
            "concepteur": people["marc.girard"],
            "gestionnaire": people["camille.morel"],
        }
        for trigger, who, comment in steps:
            service.fire(FireCommand(dossier_id, trigger, actors[who], comment=comment))
        dossiers[f"ouverture_parcours:{target}"] = dossier_id
    for paf_id, dossier_id in _import_demo_paf(engine, service, academie_id).items():
        dossiers[f"paf:{paf_id}"] = dossier_id
    # Paid without ever being given planned dates: the budget shows it « à dater ».
    team = Team(
        pilote=people["nadia.rousseau"],
        formateurs=[formateurs[1]],
        gestionnaire=people["camille.morel"],
        responsable=people["helene.garnier"],
        tuteur=people["emilie.laurent"],
        chef_etablissement=people["anne.lambert"],
        ien=people["bernard.faure"],
        stagiaires=stagiaires,
    )
    undated = builder.formation(
        academie_id,
        team,
        title="Accompagner les tuteurs des néo-titulaires",
        undated=True,
    )
    # Paid: its sessions were held weeks ago (09:00 Paris on a weekday, whatever the host's
    # time zone), though nobody gave the dossier its planned dates.
    builder.add_sessions(
        undated, team, _first_session("mis_en_paiement", service.clock()), held=True
    )
    builder.drive(undated, team, "mis_en_paiement", payloads=DEMO_PAYLOADS)
    dossiers["dossier_formation:a_dater"] = undated
    return DemoSummary(academie_id, people, dossiers)


DEMO_PAF: list[list[str]] = [
    [
        "Identifiant PAF",
        "Intitulé",
        "Dispositif",
        "Pilote (courriel)",
        "Formateurs (courriels)",
        "Concepteurs (courriels)",
        "Heures présentiel",
        "Heures distance",
        "Participants prévus",
        "Date de début",
        "Date de fin",
        "Public",
    ],
    [
        "26A0140001",
        "Évaluer avec le numérique au cycle 3",
        "vacation_accompagnement",
        "paul.lefevre@example.org",
        "sophie.bernard@example.org",
        "lucie.fontaine@example.org",
        "6",
        "12",
        "18",
        "05/01/2027",
        "26/03/2027",
        "Enseignants du 1er degré",
    ],
    [
        "26A0140002",
        "Co-enseigner en classe virtuelle",
        "Parcours EAFC rémunéré au taux A",
        "nadia.rousseau@example.org",
        "julien.petit@example.org, claire.dubois@example.org",
        "marc.girard@example.org",
        "3",
        "9",
        "24",
        "11/01/2027",
        "02/04/2027",
        "Professeurs de collège",
    ],
    [
        "26A0140003",
        "L'ENT au service du lien école-familles",
        "Convention de formation ENT (HSE)",
        "paul.lefevre@example.org",
        "thomas.roux@example.org",
        "",
        "",
        "10",
        "15",
        "",
        "",
        "Équipes d'établissement",
    ],
]
"""A small plan académique de formation, imported as the gestionnaire would (« Import du
PAF »): three dossiers in « Brouillon » with their identifiant PAF and their team."""


def _import_demo_paf(engine: Engine, service: WorkflowService, academie_id: int) -> dict[str, int]:
    report = PafImporter(engine, clock=service.clock).apply(
        academie_id, read_lines(DEMO_PAF), actor_id=None
    )
    assert report.applied, [line.reasons for line in report.refused]
    return {line.paf_id: line.dossier_id for line in report.lines if line.dossier_id}


DEMO_ETABLISSEMENT = "Collège Jean Jaurès de Démoville"
"""Fictitious, like every name of the demo."""


def _administration_demo(
    admin: Administration,
    editor: DossierEditor,
    academie_id: int,
    people: dict[str, int],
    dossiers: dict[str, int],
    now: datetime,
) -> None:
    """What the administration pages show: a rate and a delay changed by the administratrice
    (in the history), a suppléance of an académie role (to come) and one of a formateur
    (revoked)."""
    administratrice = people["alice.perrin"]
    admin.change_settings(
        academie_id,
        {"tarifs.hse": "22.50", "delais.rappel_signature": "10"},
        actor_id=administratrice,
    )
    editor.delegate(
        people["camille.morel"],
        people["isabelle.chevalier"],
        now + timedelta(days=20),
        now + timedelta(days=34),
        role="gestionnaire",
        academie_id=academie_id,
        actor_id=administratrice,
    )
    formation = dossiers["dossier_formation:en_cours"]
    formateur = people[("sophie.bernard", "julien.petit", "claire.dubois", "thomas.roux")[6 % 4]]
    revoked = editor.delegate(
        formateur,
        people["thomas.roux"],
        now - timedelta(days=2),
        now + timedelta(days=5),
        role="formateur",
        dossier_id=formation,
        actor_id=people["paul.lefevre"],
    )
    editor.revoke_delegation(revoked, actor_id=people["paul.lefevre"])


AGED: dict[str, int] = {"scenario_soumis": 10, "realisee": 40}
"""Demo dossiers taken to their state this many days ago: the scenario has waited on its
pilote past the reminder, the bilan is past its due date (30 days after the end)."""


def _earlier(service: WorkflowService, days: int) -> WorkflowService:
    """The same service, on a clock ``days`` behind (the demo's history in the past)."""
    return WorkflowService(
        service.engine,
        service.rules,
        service.subscribers,
        clock=lambda: service.clock() - timedelta(days=days),
    )


def _first_session(target: str, now: datetime) -> datetime:
    """Sessions dated as the state says: ahead of a training not started yet, begun for
    one under way (the second still ahead), over for one already ended."""
    morning = datetime.combine(now.astimezone(PARIS).date(), time(9, 0), tzinfo=PARIS)
    if target == "en_cours":
        return _working_day(morning - timedelta(days=2), back=True)
    if target in AFTER_TRAINING:
        return _working_day(morning - timedelta(days=50), back=True)
    return _working_day(morning + timedelta(days=30), back=False)


def _working_day(moment: datetime, *, back: bool) -> datetime:
    """A weekday (a convocation for a Sunday releases nobody from classes): a date in the
    past moves back to the Friday, one ahead forward to the Monday, so neither crosses now."""
    while moment.weekday() >= 5:
        moment += timedelta(days=-1 if back else 1)
    return moment


AFTER_TRAINING = frozenset(
    {
        "realisee",
        "bilan_soumis",
        "bilan_a_completer",
        "bilan_valide",
        "paiement_accorde",
        "paiement_refuse",
        "mis_en_paiement",
    }
)


DEMO_PAYLOADS: dict[str, dict[str, Any]] = {}
"""Inputs a demo decision needs beyond the bilan (none for the demo's dispositifs)."""

_OUVERTURE_TITLES = {
    "brouillon": "Enseigner l'IA au lycée",
    "soumise": "Premiers pas avec l'ENT",
    "a_completer": "Évaluer sans noter",
    "acceptee": "Le numérique en maternelle",
    "ouverte": "Accueillir un élève allophone",
    "refusee": "Sensibilisation au RGPD",
    "retiree": "Jeux sérieux en SVT",
}


def demo_ouverture(name: str) -> OuvertureInput:
    return OuvertureInput(
        nom_parcours=name,
        objectifs="Permettre aux enseignants de concevoir des activités en autonomie.",
        description="Trois modules de deux semaines, un forum animé par le tuteur.",
        pilote_nom="Nadia Rousseau",
        pilote_courriel="nadia.rousseau@example.org",
        concepteurs="Marc Girard",
        associe_presentiel=True,
        duree_presentiel_h=Decimal("3"),
        duree_distance_h=Decimal("6"),
        accompagnement_distance="Tutorat asynchrone sur le forum, réponse sous 48 h.",
        publics=["college", "lycee"],
        format_parcours="Parcours accompagné",
    )


def count_dossiers(engine: Engine) -> int:
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
        return int(conn.execute(select(func.count()).select_from(dossier_table)).scalar_one())
