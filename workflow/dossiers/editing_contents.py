"""Editing what a dossier's people write: the scenario, the ouverture request, the bilan
and its headcounts. Each is saved as a whole, as its page edits it."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import delete, insert, select

from workflow.dossiers.access import Edit
from workflow.dossiers.editing_base import EditorBase, primary_key, require_person, upsert
from workflow.dossiers.inputs import AttendanceInput, BilanInput, OuvertureInput, ScenarioInput
from workflow.dossiers.proposal import proposal_author
from workflow.dossiers.tutors import misplaced_tutors, step_tutors
from workflow.engine.errors import InvalidInput
from workflow.store.tables import (
    bilan_hours_table,
    bilan_table,
    ouverture_table,
    scenario_table,
    sequence_table,
    step_table,
)


class ContentEdits(EditorBase):
    def save_scenario(
        self, dossier_id: int, data: ScenarioInput, *, actor_id: int | None = None
    ) -> None:
        """Replace the scenario as a whole: the grid is edited and saved as one document."""
        now = self.clock()
        with self.engine.begin() as conn:
            dossier = self._open(conn, dossier_id, actor_id, Edit.SCENARIO)
            for sequence in data.sequences:
                for step in sequence.steps:
                    if step.tutor_id is not None:
                        require_person(conn, step.tutor_id)
            if wrong := misplaced_tutors(conn, dossier.ref, step_tutors(data)):
                raise InvalidInput(" ; ".join(wrong) + ".", "tutor_id")
            fields = data.model_dump(exclude={"sequences"})
            scenario_id = upsert(conn, scenario_table, dossier_id, {"updated_at": now, **fields})
            old = select(sequence_table.c.id).where(sequence_table.c.scenario_id == scenario_id)
            conn.execute(delete(step_table).where(step_table.c.sequence_id.in_(old)))
            conn.execute(delete(sequence_table).where(sequence_table.c.scenario_id == scenario_id))
            for position, sequence in enumerate(data.sequences, start=1):
                sequence_id = primary_key(
                    conn.execute(
                        insert(sequence_table).values(
                            scenario_id=scenario_id,
                            position=position,
                            title=sequence.title,
                            a_faire_en_amont=sequence.a_faire_en_amont,
                        )
                    ).inserted_primary_key
                )
                if sequence.steps:
                    conn.execute(
                        insert(step_table),
                        [
                            {"sequence_id": sequence_id, "position": n, **step.model_dump()}
                            for n, step in enumerate(sequence.steps, start=1)
                        ],
                    )

    def save_bilan(self, dossier_id: int, data: BilanInput, *, actor_id: int | None = None) -> None:
        now = self.clock()
        with self.engine.begin() as conn:
            dossier = self._open(conn, dossier_id, actor_id, Edit.BILAN)
            for line in data.hours:
                require_person(conn, line.person_id)
            fields = data.model_dump(exclude={"hours"})
            before = conn.execute(
                select(
                    bilan_hours_table.c.person_id,
                    bilan_hours_table.c.hours,
                    bilan_hours_table.c.trainees_followed,
                ).where(bilan_hours_table.c.dossier_id == dossier_id)
            ).all()
            author = proposal_author(
                conn,
                dossier,
                actor_id,
                [(int(r[0]), Decimal(r[1]), r[2]) for r in before],
                [(h.person_id, h.hours, h.trainees_followed) for h in data.hours],
                now,
            )
            if author is not None:
                fields["hours_entered_by_id"], fields["hours_entered_for_id"] = author
            upsert(conn, bilan_table, dossier_id, {"updated_at": now, **fields})
            conn.execute(
                delete(bilan_hours_table).where(bilan_hours_table.c.dossier_id == dossier_id)
            )
            if data.hours:
                conn.execute(
                    insert(bilan_hours_table),
                    [{"dossier_id": dossier_id, **line.model_dump()} for line in data.hours],
                )

    def save_ouverture(
        self, dossier_id: int, data: OuvertureInput, *, actor_id: int | None = None
    ) -> None:
        with self.engine.begin() as conn:
            dossier = self._open(conn, dossier_id, actor_id, Edit.DEMANDE)
            if dossier.workflow_name != "ouverture_parcours":
                raise InvalidInput("Ce dossier n'est pas une demande d'ouverture de parcours.")
            upsert(conn, ouverture_table, dossier_id, data.model_dump())

    def set_attendance(
        self, dossier_id: int, data: AttendanceInput, *, actor_id: int | None = None
    ) -> None:
        """Record the headcounts counted on the émargement lists without touching the rest
        of the bilan (the formateur often has them before writing the qualitative part)."""
        with self.engine.begin() as conn:
            self._open(conn, dossier_id, actor_id, Edit.BILAN)
            values = data.model_dump(exclude_unset=True)
            if "participants_enrolled" in values:
                enrolled = data.participants_enrolled
            else:
                enrolled = conn.execute(
                    select(bilan_table.c.participants_enrolled).where(
                        bilan_table.c.dossier_id == dossier_id
                    )
                ).scalar()
            if enrolled is not None and data.participants_effective > enrolled:
                raise InvalidInput(
                    f"Plus de participants présents ({data.participants_effective}) que "
                    f"d'inscrits ({enrolled}).",
                    field="participants_effective",
                )
            upsert(conn, bilan_table, dossier_id, {"updated_at": self.clock(), **values})
