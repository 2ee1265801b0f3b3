"""The demo's stagiaires: their schools, their attendance and their questionnaire answers.

Fictitious schools and people with ``example.org`` addresses only. Everything goes through
the participants' use cases (enrolment, registers, questionnaire), at the moment of the
dossier's life a real training would record it: attendance once the training started,
answers once it ended. The convocations leave by themselves, with the scenario's
validation, through the service the demo drives.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from workflow.engine.service import FireResult
from workflow.participants.attendance import Registers
from workflow.participants.etablissements import Etablissements, etablissements_of
from workflow.participants.inputs import (
    ActivityMarks,
    AnswerInput,
    EtablissementInput,
    SessionMarks,
    StagiaireInput,
)
from workflow.participants.questionnaire import Questionnaires
from workflow.participants.roster import async_steps, roster, slots
from workflow.reads.queries import reading

SCHOOLS = [
    EtablissementInput(
        uai="0130001A",
        name="Collège Marie Curie",
        kind="etablissement",
        commune="Marseille",
        head_role="chef_etablissement",
        head_name="Anne Lambert",
        head_email="anne.lambert@example.org",
    ),
    EtablissementInput(
        uai="0130002B",
        name="Lycée Jean Jaurès",
        kind="etablissement",
        commune="Aix-en-Provence",
        head_role="chef_etablissement",
        head_name="Yves Perrin",
        head_email="yves.perrin@example.org",
    ),
    EtablissementInput(
        uai="0130003C",
        name="École des Lilas",
        kind="ecole",
        commune="Aubagne",
        head_role="ien",
        head_name="Bernard Faure",
        head_email="bernard.faure@example.org",
    ),
]

MORE_STAGIAIRES = [
    ("Roux", "Inès", "Mathématiques"),
    ("Blanc", "Théo", "Physique-chimie"),
    ("Faure", "Lina", "Professeur des écoles"),
    ("Gauthier", "Maxime", "SVT"),
    ("Perrot", "Jade", "Professeur des écoles"),
    ("Colin", "Louis", "Technologie"),
    ("Vidal", "Rose", "Mathématiques"),
    ("Masson", "Adam", "Professeur des écoles"),
]
"""Extra fictitious stagiaires of the training « en cours »: a fuller roster to look at."""

ANSWERS = [
    AnswerInput(fiabilite=4, faisabilite=3, accompagnement=4, effets=3, comment="Très concret."),
    AnswerInput(fiabilite=3, faisabilite=2, accompagnement=4, effets=3, comment="Rythme soutenu."),
    AnswerInput(fiabilite=4, faisabilite=3, accompagnement=3, effets=4),
    AnswerInput(fiabilite=3, faisabilite=3, accompagnement=4, effets=2, comment="Forum utile."),
]


def demo_schools(engine: Engine, academie_id: int) -> list[int]:
    """The demo académie's schools; their ids, in the order of ``SCHOOLS``."""
    Etablissements(engine).save_all(academie_id, SCHOOLS)
    with reading(engine) as conn:
        by_uai = {e.uai: e.id for e in etablissements_of(conn, academie_id)}
    return [by_uai[s.uai] for s in SCHOOLS]


def _ascii(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def more_stagiaires(schools: list[int]) -> list[StagiaireInput]:
    return [
        StagiaireInput(
            last_name=last,
            first_name=first,
            email=f"{_ascii(first)}.{_ascii(last)}@example.org",
            etablissement_id=schools[n % len(schools)],
            discipline=discipline,
        )
        for n, (last, first, discipline) in enumerate(MORE_STAGIAIRES)
    ]


class DemoAttendance:
    """A narrator for ``DemoBuilder.drive``: once a demo training has started, its
    attendance (everyone at the first session, all but one at the second, most of the
    asynchronous work); once it has ended, four of its stagiaires answer the questionnaire."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.registers = Registers(engine, clock=clock)
        self.questionnaires = Questionnaires(engine, clock=clock)

    def __call__(self, trigger: str, actor: str, result: FireResult) -> None:
        if trigger == "demarrer":
            self._attend(result.dossier_id)
        elif trigger == "terminer":
            self._answer(result.dossier_id)

    def _attend(self, dossier_id: int) -> None:
        with reading(self.engine) as conn:
            people = [p.enrolment_id for p in roster(conn, dossier_id, active_only=True)]
            sessions = slots(conn, dossier_id)
            steps = async_steps(conn, dossier_id)
        now = self.registers.clock()
        for n, session in enumerate(sessions):
            if session.starts_at > now:
                continue  # presences are taken once a session has begun
            marks = dict.fromkeys(people, "present")
            if n and people:
                marks[people[-1]] = "absent_excuse"
            self.registers.record_session(
                dossier_id, session.id, SessionMarks(marks=marks), actor_id=None
            )
        for step in steps:
            done = {e: i % 5 != 4 for i, e in enumerate(people)}
            self.registers.record_step(dossier_id, step.id, ActivityMarks(done=done), actor_id=None)

    def _answer(self, dossier_id: int) -> None:
        with reading(self.engine) as conn:
            people = [p.enrolment_id for p in roster(conn, dossier_id, active_only=True)]
        for enrolment, answer in zip(people, ANSWERS, strict=False):
            self.questionnaires.answer(dossier_id, enrolment, answer)
