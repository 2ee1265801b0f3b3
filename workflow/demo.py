"""Demo data: a fictitious académie whose dossiers stand in every state of both workflows.

Every demo dossier reaches its state through the real service, by the people whose role
allows each step, so its history, signatures, tasks and decisions are what real use would
leave. The same recipes drive the printed walk-through and many tests. All people are
fictitious and use ``example.org`` addresses.

This module is the entry point (``load_demo``, run by ``formaflow demo`` and ``serve``);
the pieces it assembles live beside it: the people and their ``Team``
(``demo_people``), what they type and upload (``demo_contents``), the recipes that drive
a dossier (``demo_recipes``), what the académie holds (``demo_academie``) and its
stagiaires (``demo_participants``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from workflow.admin.service import Administration
from workflow.demo_academie import (
    DEMO_ETABLISSEMENT,
    DEMO_PAF,
    FORMATION_TARGETS,
    OUVERTURE_TARGETS,
    OUVERTURE_TITLES,
    administration_demo,
    import_demo_paf,
)
from workflow.demo_contents import demo_ouverture
from workflow.demo_contents import tiny_pdf as _tiny_pdf
from workflow.demo_participants import DemoAttendance, demo_schools, more_stagiaires
from workflow.demo_people import CIVILITES, PEOPLE, Team
from workflow.demo_recipes import FORMATION_PATH, DemoBuilder
from workflow.documents.avenants import AvenantOnEdit
from workflow.dossiers.editing import DossierEditor
from workflow.dossiers.inputs import DossierInput, PlanningInput
from workflow.engine.service import FireCommand, WorkflowService
from workflow.language.french import PARIS
from workflow.store.academie_settings import PACKAGED
from workflow.store.tables import academie_table, dossier_table

# The entry point keeps its names: the CLI and the tests import from here what moved to
# the demo_* modules (people, contents, recipes, académie) as well as what is defined here.
__all__ = [
    "DEMO_PAF",
    "DEMO_SLUG",
    "FORMATION_PATH",
    "FORMATION_TARGETS",
    "PEOPLE",
    "DemoBuilder",
    "DemoSummary",
    "Team",
    "_tiny_pdf",
    "count_dossiers",
    "demo_ouverture",
    "is_loaded",
    "load_demo",
]

DEMO_SLUG = "demo"


@dataclass
class DemoSummary:
    academie_id: int
    people: dict[str, int]
    dossiers: dict[str, int]


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
    administration_demo(admin, editor, academie_id, people, dossiers, service.clock())
    for target, steps in OUVERTURE_TARGETS:
        dossier_id = editor.create_dossier(
            DossierInput(
                title=f"Parcours M@gistère — {OUVERTURE_TITLES[target]}",
                academie_id=academie_id,
                workflow="ouverture_parcours",
            )
        )
        editor.assign(people["nadia.rousseau"], "pilote", dossier_id=dossier_id)
        editor.assign(people["marc.girard"], "concepteur", dossier_id=dossier_id)
        editor.save_ouverture(dossier_id, demo_ouverture(OUVERTURE_TITLES[target]))
        actors = {
            "pilote": people["nadia.rousseau"],
            "concepteur": people["marc.girard"],
            "gestionnaire": people["camille.morel"],
        }
        for trigger, who, comment in steps:
            service.fire(FireCommand(dossier_id, trigger, actors[who], comment=comment))
        dossiers[f"ouverture_parcours:{target}"] = dossier_id
    for paf_id, dossier_id in import_demo_paf(engine, service, academie_id).items():
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


def count_dossiers(engine: Engine) -> int:
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
        return int(conn.execute(select(func.count()).select_from(dossier_table)).scalar_one())
