"""Use cases that edit a dossier without changing its state: team, scenario, bilan, files.

Like ``WorkflowService.fire``, each public method is one transaction and owns its commit.
Referential problems (an unknown person, a role that does not exist) come back as
``InvalidInput`` with a French message, never as a database error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, insert, select, update

from states import get_spec
from states.roles import ACADEMIE_ROLES, CIVILITES, DOSSIER_ROLES, ROLES
from workflow.dossiers import delegations
from workflow.dossiers.access import Edit, may_create_in, pilotes_in, require_edit
from workflow.dossiers.delegations import DelegationRequest
from workflow.dossiers.events import CALENDAR_FIELDS, SessionChanged, SessionSubscriber
from workflow.dossiers.files import StagedFile, place, unplace
from workflow.dossiers.inputs import (
    AttendanceInput,
    BilanInput,
    DocumentInput,
    DossierInput,
    OuvertureInput,
    PlanningInput,
    ScenarioInput,
    SessionInput,
)
from workflow.dossiers.proposal import proposal_author
from workflow.dossiers.tutors import misplaced_tutors, step_tutors
from workflow.engine.errors import InvalidInput, NotPermitted, PersonNotFound, StaleVersion
from workflow.engine.rows import DossierRow, load, next_reference
from workflow.engine.tasks import refresh_due_dates
from workflow.language.french import format_datetime
from workflow.store.folding import fold
from workflow.store.tables import (
    academie_table,
    assignment_table,
    bilan_hours_table,
    bilan_table,
    document_table,
    dossier_table,
    ouverture_table,
    person_table,
    scenario_table,
    sequence_table,
    session_table,
    step_table,
)
from workflow.store.types import utcnow

EditHook = Callable[[Connection, int, "int | None"], None]
"""Told (connection, dossier id, actor id) after an edit of a dossier's team or planning,
inside the edit's transaction: the documents capability makes an avenant from it when the
contract's terms changed (wired in ``api``; dossiers never import documents)."""
PARTICIPANT_ROLE = "stagiaire"
"""Held through an enrolment only (``workflow.participants.enrolment``), never assigned here."""


class DossierEditor:
    def __init__(
        self,
        engine: Engine,
        data_dir: Path,
        clock: Callable[[], datetime] = utcnow,
        after_change: Iterable[EditHook] = (),
        session_subscribers: Iterable[SessionSubscriber] = (),
    ) -> None:
        self.engine = engine
        self.data_dir = data_dir
        self.clock = clock
        self.after_change: list[EditHook] = list(after_change)
        self.session_subscribers = list(session_subscribers)
        """Told of every session added or changed, in its transaction (convocations)."""

    def _changed(self, conn: Connection, dossier_id: int, actor_id: int | None) -> None:
        for hook in self.after_change:
            hook(conn, dossier_id, actor_id)

    def _session_changed(self, conn: Connection, event: SessionChanged) -> None:
        for subscriber in self.session_subscribers:
            subscriber(conn, event)

    def _open(
        self,
        conn: Connection,
        dossier_id: int,
        actor_id: int | None,
        part: Edit,
        expected_version: int | None = None,
    ) -> DossierRow:
        """The dossier to edit: checked against the actor's roles when one is given, and
        against the version the editor last read when they say which.

        ``actor_id=None`` is the administrator's path (CLI, demo loader): no role check.
        """
        if actor_id is None:
            dossier = load(conn, dossier_id, for_update=True)
            if expected_version is not None and dossier.version != expected_version:
                raise StaleVersion(expected_version, dossier.version)
            return dossier
        return require_edit(
            conn, dossier_id, actor_id, part, self.clock(), expected_version=expected_version
        )

    # People and académies -------------------------------------------------------------

    def create_academie(self, slug: str, name: str, code: str, reply_to: str | None = None) -> int:
        with self.engine.begin() as conn:
            if conn.execute(
                select(academie_table.c.id).where(
                    (academie_table.c.slug == slug) | (academie_table.c.code == code)
                )
            ).first():
                raise InvalidInput(f"Une académie utilise déjà l'identifiant {slug} ou {code}.")
            result = conn.execute(
                insert(academie_table).values(
                    slug=slug, name=name, code=code, reply_to=reply_to, created_at=self.clock()
                )
            )
            return _pk(result.inserted_primary_key)

    def create_person(self, email: str, full_name: str, civilite: str | None = None) -> int:
        """``civilite``: ``madame``, ``monsieur`` or None (labels then stay as they are)."""
        email = email.strip().lower()
        if "@" not in email or len(email) > 320:
            raise InvalidInput(f"Adresse électronique invalide : {email}", field="email")
        if civilite is not None and civilite not in CIVILITES:
            raise InvalidInput(
                f"Civilité inconnue : « {civilite} » (madame, monsieur, ou rien).", "civilite"
            )
        with self.engine.begin() as conn:
            if conn.execute(select(person_table.c.id).where(person_table.c.email == email)).first():
                raise InvalidInput(f"Une personne existe déjà avec l'adresse {email}.", "email")
            result = conn.execute(
                insert(person_table).values(
                    email=email,
                    full_name=full_name.strip(),
                    civilite=civilite,
                    created_at=self.clock(),
                )
            )
            return _pk(result.inserted_primary_key)

    def remove_new_person(self, person_id: int) -> None:
        """Undo ``create_person`` when the rest of an account's creation failed (all or
        nothing): the person and the académie roles just given, nothing else refers to them."""
        with self.engine.begin() as conn:
            conn.execute(delete(assignment_table).where(assignment_table.c.person_id == person_id))
            conn.execute(delete(person_table).where(person_table.c.id == person_id))

    # Dossiers ------------------------------------------------------------------------

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
            dossier_id = _pk(result.inserted_primary_key)
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

    def unassign(
        self, person_id: int, role: str, dossier_id: int, *, actor_id: int | None = None
    ) -> None:
        with self.engine.begin() as conn:
            _not_a_participant(role, self._open(conn, dossier_id, actor_id, Edit.TEAM))
            removed = conn.execute(
                delete(assignment_table).where(
                    assignment_table.c.person_id == person_id,
                    assignment_table.c.role == role,
                    assignment_table.c.dossier_id == dossier_id,
                )
            ).rowcount
            if not removed:
                raise InvalidInput("Cette personne ne tient pas ce rôle sur ce dossier.", "role")
            self._changed(conn, dossier_id, actor_id)

    def assign(
        self,
        person_id: int,
        role: str,
        *,
        dossier_id: int | None = None,
        academie_id: int | None = None,
        actor_id: int | None = None,
    ) -> None:
        if role not in ROLES:
            raise InvalidInput(f"Rôle inconnu : {role}", field="role")
        if role in ACADEMIE_ROLES and academie_id is None:
            raise InvalidInput(f"Le rôle {ROLES[role]} se tient sur une académie.", "role")
        if role in DOSSIER_ROLES and dossier_id is None:
            raise InvalidInput(f"Le rôle {ROLES[role]} se tient sur un dossier.", "role")
        with self.engine.begin() as conn:
            _require_person(conn, person_id)
            if dossier_id is not None:
                _not_a_participant(role, self._open(conn, dossier_id, actor_id, Edit.TEAM))
            elif actor_id is not None:
                raise NotPermitted("attribuer un rôle d'académie", ["administrateur (CLI)"])
            existing = conn.execute(
                select(assignment_table.c.id).where(
                    assignment_table.c.person_id == person_id,
                    assignment_table.c.role == role,
                    assignment_table.c.dossier_id.is_(None)
                    if dossier_id is None
                    else assignment_table.c.dossier_id == dossier_id,
                    assignment_table.c.academie_id.is_(None)
                    if academie_id is None
                    else assignment_table.c.academie_id == academie_id,
                )
            ).first()
            if existing is None:
                conn.execute(
                    insert(assignment_table).values(
                        person_id=person_id,
                        role=role,
                        dossier_id=dossier_id,
                        academie_id=None if dossier_id is not None else academie_id,
                        created_at=self.clock(),
                    )
                )
                if dossier_id is not None:
                    self._changed(conn, dossier_id, actor_id)

    def delegate(
        self,
        delegator_id: int,
        substitute_id: int,
        starts_at: datetime,
        ends_at: datetime,
        *,
        role: str = "pilote",
        dossier_id: int | None = None,
        academie_id: int | None = None,
        actor_id: int | None = None,
    ) -> int:
        """A suppléant for a titulaire in one role, for a period (``delegations.delegate``:
        every role, on one dossier, on all of the titulaire's, or on an académie)."""
        request = DelegationRequest(
            delegator_id, substitute_id, role, starts_at, ends_at, dossier_id, academie_id
        )
        with self.engine.begin() as conn:
            return delegations.delegate(conn, request, actor_id=actor_id, now=self.clock())

    def revoke_delegation(
        self, delegation_id: int, *, actor_id: int | None = None
    ) -> delegations.DelegationRow:
        """End a suppléance now; revoked, it is kept (and shown) with who revoked it."""
        with self.engine.begin() as conn:
            return delegations.revoke(conn, delegation_id, actor_id=actor_id, now=self.clock())

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
                        _require_person(conn, step.tutor_id)
            if wrong := misplaced_tutors(conn, dossier.ref, step_tutors(data)):
                raise InvalidInput(" ; ".join(wrong) + ".", "tutor_id")
            fields = data.model_dump(exclude={"sequences"})
            scenario_id = _upsert(conn, scenario_table, dossier_id, {"updated_at": now, **fields})
            old = select(sequence_table.c.id).where(sequence_table.c.scenario_id == scenario_id)
            conn.execute(delete(step_table).where(step_table.c.sequence_id.in_(old)))
            conn.execute(delete(sequence_table).where(sequence_table.c.scenario_id == scenario_id))
            for position, sequence in enumerate(data.sequences, start=1):
                sequence_id = _pk(
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
                _require_person(conn, line.person_id)
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
            _upsert(conn, bilan_table, dossier_id, {"updated_at": now, **fields})
            conn.execute(
                delete(bilan_hours_table).where(bilan_hours_table.c.dossier_id == dossier_id)
            )
            if data.hours:
                conn.execute(
                    insert(bilan_hours_table),
                    [{"dossier_id": dossier_id, **line.model_dump()} for line in data.hours],
                )

    def add_session(
        self, dossier_id: int, data: SessionInput, *, actor_id: int | None = None
    ) -> int:
        now = self.clock()
        with self.engine.begin() as conn:
            self._open(conn, dossier_id, actor_id, Edit.SESSIONS)
            _held_once_started(data, now)
            if data.formateur_id is not None:
                _require_person(conn, data.formateur_id)
            result = conn.execute(
                insert(session_table).values(
                    dossier_id=dossier_id, created_at=now, **data.model_dump()
                )
            )
            session_id = _pk(result.inserted_primary_key)
            refresh_due_dates(conn, dossier_id, now)
            self._session_changed(
                conn, SessionChanged(dossier_id, session_id, True, True, now, actor_id)
            )
            return session_id

    def add_document(
        self,
        dossier_id: int,
        data: DocumentInput,
        content: bytes | StagedFile,
        uploaded_by: int | None,
        *,
        actor_id: int | None = None,
    ) -> int:
        """The metadata row, and the bytes moved to their content address in the same
        transaction (``workflow.dossiers.files``): a refusal or a failed commit leaves no
        file that no row points to, and never a row pointing at nothing.

        ``content`` is the staged upload the edge streamed to disk (or bytes, staged here).
        It is consumed either way: stored, or deleted.
        """
        staged = (
            StagedFile.of_bytes(self.data_dir, content) if isinstance(content, bytes) else content
        )
        placed: str | None = None
        try:
            with self.engine.begin() as conn:
                self._open(conn, dossier_id, actor_id, Edit.DOCUMENTS)
                size, digest = staged.size, staged.sha256
                key, created = place(self.data_dir, staged)
                placed = key if created else None
                result = conn.execute(
                    insert(document_table).values(
                        dossier_id=dossier_id,
                        kind=data.kind,
                        filename=data.filename,
                        content_type=data.content_type,
                        size_bytes=size,
                        sha256=digest,
                        storage_key=key,
                        uploaded_by_id=uploaded_by,
                        uploaded_at=self.clock(),
                    )
                )
                return _pk(result.inserted_primary_key)
        except BaseException:
            if placed is not None:
                with self.engine.connect() as conn:
                    unplace(conn, self.data_dir, placed)
            raise
        finally:
            staged.discard()

    def save_ouverture(
        self, dossier_id: int, data: OuvertureInput, *, actor_id: int | None = None
    ) -> None:
        with self.engine.begin() as conn:
            dossier = self._open(conn, dossier_id, actor_id, Edit.DEMANDE)
            if dossier.workflow_name != "ouverture_parcours":
                raise InvalidInput("Ce dossier n'est pas une demande d'ouverture de parcours.")
            _upsert(conn, ouverture_table, dossier_id, data.model_dump())

    def update_session(
        self, dossier_id: int, session_id: int, data: SessionInput, *, actor_id: int | None = None
    ) -> bool:
        """Replace what is known of one session: planned at first, then held, with its
        actual headcount. False when the session is not one of this dossier's, so that the
        edge reports it as not found and a session of another dossier reveals nothing."""
        now = self.clock()
        with self.engine.begin() as conn:
            self._open(conn, dossier_id, actor_id, Edit.SESSIONS)
            _held_once_started(data, now)
            if data.formateur_id is not None:
                _require_person(conn, data.formateur_id)
            values = data.model_dump()
            where = (session_table.c.id == session_id, session_table.c.dossier_id == dossier_id)
            current = conn.execute(
                select(*(session_table.c[name] for name in values)).where(*where)
            ).first()
            if current is None:
                return False
            before = current._asdict()
            if before != values:
                # A calendar keeps the event with the highest SEQUENCE: count real changes.
                conn.execute(
                    update(session_table)
                    .where(*where)
                    .values(**values, revision=session_table.c.revision + 1)
                )
                self._session_changed(
                    conn,
                    SessionChanged(
                        dossier_id,
                        session_id,
                        created=False,
                        calendar_changed=any(before[f] != values[f] for f in CALENDAR_FIELDS),
                        at=self.clock(),
                        actor_id=actor_id,
                        previous_starts_at=before["starts_at"],
                        previous_modality=before["modality"],
                    ),
                )
                refresh_due_dates(conn, dossier_id, now)
            return True

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
            _upsert(conn, bilan_table, dossier_id, {"updated_at": self.clock(), **values})


def _not_a_participant(role: str, dossier: DossierRow) -> None:
    """One source of truth: on a training dossier, the ``stagiaire`` role comes and goes
    with an enrolment (``workflow.participants.enrolment``), never by itself."""
    if role == PARTICIPANT_ROLE and dossier.workflow_name == "dossier_formation":
        raise InvalidInput(
            "Un stagiaire s'inscrit (ou se désinscrit) depuis la page « Stagiaires » du "
            "dossier, pas depuis l'équipe.",
            "role",
        )


def _held_once_started(data: SessionInput, now: datetime) -> None:
    """A session is « tenue » only once it has begun: hours recorded for a future session
    would go to payment for work not yet done."""
    if data.held and data.starts_at > now:
        raise InvalidInput(
            "Une session ne peut être marquée tenue qu'une fois commencée : celle-ci "
            f"commence le {format_datetime(data.starts_at)}.",
            field="held",
        )


def _upsert(conn: Connection, table: Table, dossier_id: int, values: dict[str, Any]) -> int:
    """Insert or update the one row of ``table`` that belongs to the dossier; its id."""
    existing = conn.execute(select(table.c.id).where(table.c.dossier_id == dossier_id)).scalar()
    if existing is None:
        return _pk(
            conn.execute(insert(table).values(dossier_id=dossier_id, **values)).inserted_primary_key
        )
    conn.execute(update(table).where(table.c.id == existing).values(**values))
    return int(existing)


def _require_person(conn: Connection, person_id: int) -> None:
    if (
        conn.execute(select(person_table.c.id).where(person_table.c.id == person_id)).first()
        is None
    ):
        raise PersonNotFound(person_id)


def _pk(key: object) -> int:
    assert key is not None
    return int(key[0])  # type: ignore[index]
