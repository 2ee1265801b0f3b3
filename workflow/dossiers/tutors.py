"""Who may accompany a scenario step: a tuteur or a formateur of the dossier (seed 004).

Checked when the scenario is saved — the scenario page only offers them, an API client
could send anyone — and again by the ``scenario_complet`` guard, since a role can be
taken away after the scenario was written. A stagiaire is never a step's tutor.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from workflow.dossiers.inputs import ScenarioInput
from workflow.engine.roles import DossierRef, members
from workflow.store.tables import person_table

TUTOR_ROLES = ("tuteur", "formateur")


def tutors_of(conn: Connection, dossier: DossierRef) -> set[int]:
    return {m.person_id for m in members(conn, dossier, TUTOR_ROLES)}


def step_tutors(scenario: ScenarioInput) -> list[tuple[str, int | None]]:
    """Each step of a scenario about to be saved, named as people read it, with its tutor."""
    return [
        (f"séquence {i}, étape {j}", step.tutor_id)
        for i, sequence in enumerate(scenario.sequences, start=1)
        for j, step in enumerate(sequence.steps, start=1)
    ]


def misplaced_tutors(
    conn: Connection, dossier: DossierRef, steps: Iterable[tuple[str, int | None]]
) -> list[str]:
    """For each ``(where, tutor_id)`` whose tutor holds neither role here, what is wrong."""
    allowed = tutors_of(conn, dossier)
    wrong = [(where, tutor) for where, tutor in steps if tutor is not None and tutor not in allowed]
    if not wrong:
        return []
    names = {
        int(row.id): str(row.full_name)
        for row in conn.execute(
            select(person_table.c.id, person_table.c.full_name).where(
                person_table.c.id.in_({tutor for _, tutor in wrong})
            )
        )
    }
    return [
        f"{where} : {names.get(tutor, f'la personne n° {tutor}')} n'est ni tuteur ni formateur "
        "sur ce dossier (l'accompagnement revient à un tuteur ou un formateur du dossier)"
        for where, tutor in wrong
    ]
