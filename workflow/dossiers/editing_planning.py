"""Opening a dossier and editing its planning (dates, hours, participants, établissement).

A planning change is a new version of the dossier, like a transition, and tells the edit
hooks (the contract's terms may have changed: an avenant).
"""

from __future__ import annotations

from sqlalchemy import insert, select, update

from states import get_spec
from workflow.dossiers.access import Edit, may_create_in, pilotes_in
from workflow.dossiers.editing_base import EditorBase, primary_key
from workflow.dossiers.inputs import DossierInput, PlanningInput
from workflow.engine.errors import InvalidInput, NotPermitted, StaleVersion
from workflow.engine.rows import next_reference
from workflow.store.folding import fold
from workflow.store.tables import academie_table, assignment_table, dossier_table


class PlanningEdits(EditorBase):
    def create_dossier(self, data: DossierInput, *, actor_id: int | None = None) -> int:
        """A new dossier in its initial state. Only the académie's pilotes and gestionnaires
        may open one (``may_create_in``); a creator who is a pilote there becomes its pilote
        (the prescripteur opens the dossiers they will steer), a gestionnaire does not."""
        spec = get_spec(data.workflow)
        now = self.clock()
        with self.engine.begin() as conn:
            if (
                conn.execute(
                    select(academie_table.c.id).where(academie_table.c.id == data.academie_id)
                ).first()
                is None
            ):
                raise InvalidInput("Académie inconnue.", field="academie_id")
            if actor_id is not None and not may_create_in(conn, data.academie_id, actor_id):
                raise NotPermitted(
                    "créer un dossier dans cette académie", ["Pilote", "Gestionnaire EAFC"]
                )
            reference = next_reference(conn, data.academie_id, now.year)
            result = conn.execute(
                insert(dossier_table).values(
                    reference=reference,
                    title=data.title,
                    academie_id=data.academie_id,
                    workflow_name=spec.name,
                    workflow_version=spec.version,
                    dispositif=data.dispositif,
                    state=spec.initial,
                    version=1,
                    planned_hours_presentiel=data.planned_hours_presentiel,
                    planned_hours_distance=data.planned_hours_distance,
                    planned_participants=data.planned_participants,
                    planned_start=data.planned_start,
                    planned_end=data.planned_end,
                    etablissement=data.etablissement,
                    state_entered_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )
            dossier_id = primary_key(result.inserted_primary_key)
            if actor_id is not None and pilotes_in(conn, data.academie_id, actor_id):
                conn.execute(
                    insert(assignment_table).values(
                        person_id=actor_id, role="pilote", dossier_id=dossier_id, created_at=now
                    )
                )
            return dossier_id

    def update_planning(
        self,
        dossier_id: int,
        data: PlanningInput,
        *,
        actor_id: int | None = None,
        expected_version: int | None = None,
    ) -> None:
        """Planning fields, editable while the dossier is a draft (the contract uses them).

        A change counts as a new version of the dossier, like a transition: two people
        editing the same planning from stale forms cannot overwrite each other silently,
        and an action confirmed on the old figures is refused as stale.
        """
        with self.engine.begin() as conn:
            dossier = self._open(conn, dossier_id, actor_id, Edit.PLANNING, expected_version)
            values = data.model_dump(exclude_unset=True)
            if "title" in values:
                values["search_text"] = fold(values["title"])
            if values:
                changed = conn.execute(
                    update(dossier_table)
                    .where(
                        dossier_table.c.id == dossier_id,
                        dossier_table.c.version == dossier.version,
                    )
                    .values(updated_at=self.clock(), version=dossier.version + 1, **values)
                ).rowcount
                if not changed:
                    raise StaleVersion(expected_version or dossier.version, dossier.version + 1)
                self._changed(conn, dossier_id, actor_id)
