"""The evaluation questionnaire (charter 002: « compléter le questionnaire d'évaluation »):
the four criteria of seed 001 on a four-level scale, and a free text.

Anonymous by construction: the answer row has no person, no time, and a random id; the
enrolment only learns that it has answered (so that a link serves once and the reminder
skips it). The aggregate is shown only from ``MIN_ANSWERS_SHOWN`` answers: below that
nothing is given but how many answered, since with one or two a reader could tell who
said what. Free texts are listed in alphabetical order, never in the order they came.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, func, insert, select, update

from workflow.engine.errors import WorkflowError
from workflow.language.vocabulary import (
    MIN_ANSWERS_SHOWN,
    QUESTIONNAIRE_CRITERIA,
    QUESTIONNAIRE_LEVELS,
)
from workflow.participants.inputs import AnswerInput
from workflow.store.tables import answer_table as Q
from workflow.store.tables import dossier_table as D
from workflow.store.tables import enrolment_table as N
from workflow.store.tables import purge_table as PG
from workflow.store.tables import task_table as T
from workflow.store.types import utcnow

OPEN_STATES = frozenset(
    {
        "realisee",
        "bilan_soumis",
        "bilan_a_completer",
        "bilan_valide",
        "paiement_accorde",
        "mis_en_paiement",
        "paiement_refuse",
    }
)
"""Once the training is over; never for a cancelled one."""
QUESTIONNAIRE_TASK = "questionnaire_evaluation"
"""The charter task of the « après » phase that answering completes."""


class AlreadyAnswered(WorkflowError):
    code = "questionnaire-deja-rempli"

    def __init__(self) -> None:
        super().__init__(
            "Ce questionnaire a déjà été rempli avec ce lien : merci, votre réponse est "
            "enregistrée. Un lien ne sert qu'une fois."
        )


class NotOpen(WorkflowError):
    code = "questionnaire-ferme"

    def __init__(self, message: str) -> None:
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Invitation:
    """Who a questionnaire link was written for, as the page needs it (no answer here)."""

    dossier_id: int
    enrolment_id: int
    reference: str
    title: str
    answered: bool


def invitation(conn: Connection, dossier_id: int, enrolment_id: int) -> Invitation:
    """The link's enrolment if it may answer now; else ``NotOpen`` or ``AlreadyAnswered``."""
    row = conn.execute(
        select(D.c.reference, D.c.title, D.c.state, N.c.questionnaire_answered, N.c.withdrawn_at)
        .join(N, N.c.dossier_id == D.c.id)
        .where(D.c.id == dossier_id, N.c.id == enrolment_id)
    ).first()
    if row is None or row.withdrawn_at is not None:
        raise NotOpen(
            "Ce lien ne correspond à aucune inscription en cours : il ne peut pas servir."
        )
    if row.state not in OPEN_STATES:
        raise NotOpen(
            "Le questionnaire de cette formation n'est pas ouvert : il l'est à la fin de la "
            "formation, et jamais pour une formation annulée."
        )
    if row.questionnaire_answered:
        raise AlreadyAnswered()
    return Invitation(dossier_id, enrolment_id, row.reference, row.title, False)


class Questionnaires:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.clock = clock

    def answer(self, dossier_id: int, enrolment_id: int, data: AnswerInput) -> None:
        """Record one answer and that this enrolment answered, in one transaction; a second
        answer by the same link (even a concurrent one) is refused and writes nothing."""
        with self.engine.begin() as conn:
            invitation(conn, dossier_id, enrolment_id)
            marked = conn.execute(
                update(N)
                .where(
                    N.c.id == enrolment_id,
                    N.c.dossier_id == dossier_id,
                    N.c.questionnaire_answered.is_(False),
                )
                .values(questionnaire_answered=True)
            ).rowcount
            if marked != 1:
                raise AlreadyAnswered()
            conn.execute(
                insert(Q).values(
                    id=uuid.uuid4().hex, dossier_id=dossier_id, comment=data.comment, **data.levels
                )
            )
            # The charter's task « Renseigner le questionnaire » is done: the stagiaire sees
            # it ticked on « Mes tâches » (their own tasks are shown to nobody else).
            person = select(N.c.person_id).where(N.c.id == enrolment_id).scalar_subquery()
            conn.execute(
                update(T)
                .where(
                    T.c.dossier_id == dossier_id,
                    T.c.person_id == person,
                    T.c.role == "stagiaire",
                    T.c.code == QUESTIONNAIRE_TASK,
                    T.c.done_at.is_(None),
                )
                .values(done_at=self.clock())
            )


@dataclass(frozen=True, slots=True)
class CriterionResult:
    name: str
    label: str
    covers: str
    counts: tuple[tuple[int, str, int], ...]
    """(level, its label, how many answered it), from 1 to 4."""
    mean: str
    """« 3,2 / 4 »."""


@dataclass(frozen=True, slots=True)
class Aggregate:
    answers: int
    invited: int
    criteria: tuple[CriterionResult, ...] = ()
    comments: tuple[str, ...] = ()

    @property
    def shown(self) -> bool:
        return self.answers >= MIN_ANSWERS_SHOWN

    @property
    def rate(self) -> str:
        """« 75 % »: the share of the stagiaires invited who answered."""
        if not self.invited:
            return "—"
        return f"{round(100 * self.answers / self.invited)} %"

    @property
    def threshold(self) -> int:
        return MIN_ANSWERS_SHOWN


def _invited(conn: Connection, dossier_id: int) -> int:
    active = conn.execute(
        select(func.count())
        .select_from(N)
        .where(N.c.dossier_id == dossier_id, N.c.withdrawn_at.is_(None))
    ).scalar_one()
    if active:
        return int(active)
    purged = conn.execute(select(PG.c.enrolled).where(PG.c.dossier_id == dossier_id)).scalar()
    return int(purged or 0)


def aggregate(conn: Connection, dossier_id: int) -> Aggregate:
    """Counts per level, mean, rate and free texts — only from the threshold up."""
    rows = conn.execute(
        select(Q.c.fiabilite, Q.c.faisabilite, Q.c.accompagnement, Q.c.effets, Q.c.comment)
        .where(Q.c.dossier_id == dossier_id)
        .order_by(Q.c.id)
    ).all()
    invited = max(_invited(conn, dossier_id), len(rows))
    if len(rows) < MIN_ANSWERS_SHOWN:
        return Aggregate(len(rows), invited)
    criteria = []
    for name, (label, covers) in QUESTIONNAIRE_CRITERIA.items():
        values = [int(getattr(r, name)) for r in rows]
        counts = tuple(
            (level, text, sum(1 for v in values if v == level))
            for level, text in QUESTIONNAIRE_LEVELS.items()
        )
        mean = f"{sum(values) / len(values):.1f}".replace(".", ",")
        criteria.append(CriterionResult(name, label, covers, counts, f"{mean} / 4"))
    comments = tuple(
        sorted((r.comment.strip() for r in rows if r.comment.strip()), key=str.casefold)
    )
    return Aggregate(len(rows), invited, tuple(criteria), comments)
