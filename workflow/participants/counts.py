"""The trainee counts of the bilan and of the barèmes, computed from attendance.

Seed 000 caps the accompaniment at one vacation « par stagiaire ayant effectivement
participé » and seed 004 pays the tutorat « en fonction du nombre de candidats tutorés ».
Who « effectively participated » is the académie's rule (``participation_rule`` in its
settings, one of ``PARTICIPATION_RULES``), applied to what was recorded: the sessions
marked (présent) and the asynchronous steps done. A tuteur's « candidats tutorés » are the
stagiaires who effectively participated and did at least one asynchronous step of theirs.

The formateur may still set a figure apart from the computed one, with a justification:
each correction is a new row (``count_correction``), the latest in force, none silent.
When nothing has been recorded (a dossier followed the old way, with counts typed in the
bilan), ``from_attendance`` is false and the bilan's typed figures remain the source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, select

from workflow.engine.rows import DossierRow
from workflow.language.vocabulary import PARTICIPATION_RULES
from workflow.participants.roster import Marks, async_steps, marks_of, roster
from workflow.store.academie_settings import academie_settings
from workflow.store.tables import correction_table as C
from workflow.store.tables import person_table as P

EFFECTIVE = "effectifs"
FOLLOWED = "suivis"


def followed_figure(tutor_id: int) -> str:
    return f"{FOLLOWED}:{tutor_id}"


@dataclass(frozen=True, slots=True)
class Correction:
    value: int
    computed: int | None
    justification: str
    by: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Figure:
    """One count: what attendance gives, and what is in force (the latest correction)."""

    name: str
    label: str
    computed: int | None
    correction: Correction | None = None

    @property
    def value(self) -> int | None:
        return self.correction.value if self.correction is not None else self.computed


@dataclass(frozen=True, slots=True)
class TraineeCounts:
    rule: str
    rule_label: str
    from_attendance: bool
    enrolled: int
    units: int
    """Sessions with attendance recorded plus asynchronous steps with any mark."""
    effective: Figure
    followed: dict[int, Figure] = field(default_factory=dict)
    """Per tuteur (person id) of an asynchronous step, their candidats tutorés."""
    corrections: tuple[tuple[str, Correction], ...] = ()
    """Every correction ever made, oldest first (the record of late changes)."""

    @property
    def basis(self) -> tuple[str, ...]:
        """How the effective count was reached, in French, for the barème's steps."""
        return basis(self.effective, self.rule_label, "stagiaires ayant effectivement participé")


def basis(figure: Figure, rule_label: str, what: str) -> tuple[str, ...]:
    """Short lines (they show in a table): the count and where it comes from, then the
    académie's rule, or the correction's author and justification."""
    if figure.correction is not None:
        c = figure.correction
        computed = c.computed if c.computed is not None else "non calculé"
        return (
            f"{what} : {c.value}, corrigé par {c.by} (d'après les présences : {computed})",
            f"justification de la correction : {c.justification}",
        )
    return (
        f"{what} : {figure.computed}, d'après les présences",
        f"règle de l'académie : {rule_label}",
    )


def participated(rule: str, attended: int, units: int) -> bool:
    """Whether ``attended`` of ``units`` recorded units meet the académie's rule."""
    if units == 0 or attended == 0:
        return False
    if rule == "toutes":
        return attended >= units
    if rule == "moitie":
        return 2 * attended >= units
    return attended >= 1


def _attended(marks: Marks, enrolment_id: int) -> int:
    present = sum(
        1 for (_, e), status in marks.sessions.items() if e == enrolment_id and status == "present"
    )
    done = sum(1 for (_, e), ok in marks.steps.items() if e == enrolment_id and ok)
    return present + done


def _units(marks: Marks) -> int:
    return len({s for s, _ in marks.sessions}) + len({s for s, _ in marks.steps})


def corrections_of(conn: Connection, dossier_id: int) -> list[tuple[str, Correction]]:
    rows = conn.execute(
        select(C.c.figure, C.c.value, C.c.computed, C.c.justification, P.c.full_name, C.c.at)
        .join(P, P.c.id == C.c.by_id)
        .where(C.c.dossier_id == dossier_id)
        .order_by(C.c.at, C.c.id)
    ).all()
    return [
        (
            str(r.figure),
            Correction(int(r.value), r.computed, str(r.justification), r.full_name, r.at),
        )
        for r in rows
    ]


def effective_people(conn: Connection, dossier: DossierRow, rule: str | None = None) -> set[int]:
    """The enrolment ids (active) that effectively participated under the rule."""
    rule = rule or academie_settings(conn, dossier.academie_id).participation_rule
    marks = marks_of(conn, dossier.id)
    units = _units(marks)
    return {
        p.enrolment_id
        for p in roster(conn, dossier.id, active_only=True)
        if participated(rule, _attended(marks, p.enrolment_id), units)
    }


def trainee_counts(conn: Connection, dossier: DossierRow) -> TraineeCounts:
    rule = academie_settings(conn, dossier.academie_id).participation_rule
    rule_label = PARTICIPATION_RULES[rule]
    people = roster(conn, dossier.id, active_only=True)
    active = {p.enrolment_id for p in people}
    marks = marks_of(conn, dossier.id)
    marks = Marks(
        {k: v for k, v in marks.sessions.items() if k[1] in active},
        {k: v for k, v in marks.steps.items() if k[1] in active},
    )
    units = _units(marks)
    recorded = marks.any
    effective = {e for e in active if participated(rule, _attended(marks, e), units)}
    history = corrections_of(conn, dossier.id)
    latest = dict(history)
    followed: dict[int, Figure] = {}
    tutored: dict[int, set[int]] = {}
    for step in async_steps(conn, dossier.id):
        if step.tutor_id is not None:
            tutored.setdefault(step.tutor_id, set()).add(step.id)
    for tutor, steps in tutored.items():
        recorded_here = any(s in steps for s, _ in marks.steps)
        computed = (
            len(
                {
                    e
                    for (s, e), done in marks.steps.items()
                    if done and s in steps and e in effective
                }
            )
            if recorded_here
            else None
        )
        name = followed_figure(tutor)
        followed[tutor] = Figure(name, "candidats tutorés", computed, latest.get(name))
    return TraineeCounts(
        rule=rule,
        rule_label=rule_label,
        from_attendance=recorded,
        enrolled=len(active),
        units=units,
        effective=Figure(
            EFFECTIVE,
            "stagiaires ayant effectivement participé",
            len(effective) if recorded else None,
            latest.get(EFFECTIVE),
        ),
        followed=followed,
        corrections=tuple(history),
    )
