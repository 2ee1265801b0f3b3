"""Spec versions in use, and moving running dossiers from one version to another.

A dossier keeps the version of the spec it started with (``states/`` may hold several).
Removing a version that dossiers still use would leave them unreadable, so the edges refuse
to start (``check_versions``) and say which version and how many dossiers. ``migrate`` is
the way out — the instance migration that Camunda and Flowable offer: every running dossier
of one version moves to another, each state to the same-named state or to the one given by
the mapping, one history row per dossier (« migré de la version 1 à 2 »), all in one
transaction; any state without a destination refuses the whole move, naming it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, bindparam, func, select, update

from states import SPECS
from states.spec import WorkflowSpec
from workflow.engine.errors import WorkflowError
from workflow.engine.history import RECORD, chained
from workflow.engine.service import SYSTEM_ROLE
from workflow.language.labels import MIGRATION_TRIGGER
from workflow.store.database import is_postgresql
from workflow.store.tables import dossier_table as D
from workflow.store.types import utcnow


@dataclass(frozen=True, slots=True)
class VersionUse:
    workflow: str
    version: int
    dossiers: int


def versions_in_use(conn: Connection) -> list[VersionUse]:
    rows = conn.execute(
        select(D.c.workflow_name, D.c.workflow_version, func.count())
        .group_by(D.c.workflow_name, D.c.workflow_version)
        .order_by(D.c.workflow_name, D.c.workflow_version)
    ).all()
    return [VersionUse(str(name), int(version), int(count)) for name, version, count in rows]


def _defined(workflow: str) -> list[int]:
    return sorted(version for name, version in SPECS if name == workflow)


class UndefinedVersionInUse(WorkflowError):
    """Dossiers run on a spec version that ``states/`` no longer defines."""

    code = "version-de-workflow-absente"

    def __init__(self, missing: list[VersionUse]) -> None:
        parts = []
        for use in missing:
            others = ", ".join(str(v) for v in _defined(use.workflow)) or "aucune"
            parts.append(
                f"la version {use.version} du workflow « {use.workflow} » n'est plus définie "
                f"(versions définies : {others}), mais {use.dossiers} dossier(s) l'utilisent"
            )
        first = missing[0]
        super().__init__(
            "Démarrage refusé : "
            + " ; ".join(parts)
            + ". Rétablissez cette version dans states/, ou déplacez ses dossiers vers une "
            f"autre version avant de la retirer : formaflow workflow migrate {first.workflow} "
            f"--from {first.version} --to <version> [--map ancien=nouveau …]."
        )
        self.missing = missing


def check_versions(conn: Connection) -> None:
    """Refuse, in French, when dossiers use a spec version that is not defined."""
    missing = [use for use in versions_in_use(conn) if (use.workflow, use.version) not in SPECS]
    if missing:
        raise UndefinedVersionInUse(missing)


# --- Migrating ---------------------------------------------------------------------------------


class MigrationRefused(WorkflowError):
    code = "migration-refusee"


@dataclass(frozen=True, slots=True)
class Move:
    dossier_id: int
    reference: str
    version: int
    from_state: str
    to_state: str
    head: str | None


@dataclass(frozen=True, slots=True)
class MigrationPlan:
    workflow: str
    from_version: int
    to_version: int
    moves: tuple[Move, ...]
    finished_left: int
    """Finished dossiers of the old version, left on it (unless asked to move them too)."""

    @property
    def comment(self) -> str:
        return f"migré de la version {self.from_version} à {self.to_version}"


def _state_names(spec: WorkflowSpec) -> str:
    return ", ".join(s.id for s in spec.states)


def _describe(spec: WorkflowSpec | None, state: str) -> str:
    if spec is not None:
        try:
            return f"« {spec.state(state).label} » ({state})"
        except KeyError:
            pass
    return f"« {state} »"


def _check_mapping(
    mapping: Mapping[str, str],
    source: WorkflowSpec | None,
    target: WorkflowSpec,
) -> None:
    problems = []
    targets = {s.id for s in target.states}
    for old, new in mapping.items():
        if source is not None and old not in {s.id for s in source.states}:
            problems.append(
                f"--map {old}={new} : « {old} » n'est pas un état de la version "
                f"{source.version} (états : {_state_names(source)})"
            )
        if new not in targets:
            problems.append(
                f"--map {old}={new} : « {new} » n'est pas un état de la version "
                f"{target.version} (états : {_state_names(target)})"
            )
    if problems:
        raise MigrationRefused("Migration refusée : " + " ; ".join(problems) + ".")


def plan_migration(
    conn: Connection,
    workflow: str,
    from_version: int,
    to_version: int,
    mapping: Mapping[str, str] | None = None,
    *,
    finished: bool = False,
    lock: bool = False,
) -> MigrationPlan:
    """What ``migrate`` would do, or a ``MigrationRefused`` naming everything in the way.

    A dossier is running unless its state is terminal — in the old version when that is
    still defined, otherwise in the new one (after mapping). ``finished`` moves finished
    dossiers too, so that an old version can then be removed.
    """
    mapping = dict(mapping or {})
    target = SPECS.get((workflow, to_version))
    if target is None:
        defined = ", ".join(str(v) for v in _defined(workflow)) or "aucune"
        raise MigrationRefused(
            f"Migration refusée : la version {to_version} du workflow « {workflow} » n'est pas "
            f"définie dans states/ (versions définies : {defined})."
        )
    if from_version == to_version:
        raise MigrationRefused(
            f"Migration refusée : les dossiers sont déjà en version {to_version}."
        )
    source = SPECS.get((workflow, from_version))
    _check_mapping(mapping, source, target)
    query = (
        select(D.c.id, D.c.reference, D.c.version, D.c.state, D.c.history_head)
        .where(D.c.workflow_name == workflow, D.c.workflow_version == from_version)
        .order_by(D.c.id)
    )
    if lock and is_postgresql(conn):
        query = query.with_for_update()
    targets = {s.id for s in target.states}
    terminal_before = set(source.terminal_states) if source is not None else None
    moves: list[Move] = []
    unmapped: Counter[str] = Counter()
    left = 0
    for row in conn.execute(query):
        new = mapping.get(row.state, row.state if row.state in targets else None)
        done = (
            row.state in terminal_before
            if terminal_before is not None
            else new is not None and new in target.terminal_states
        )
        if done and not finished:
            left += 1
            continue
        if new is None:
            unmapped[str(row.state)] += 1
            continue
        moves.append(
            Move(int(row.id), row.reference, int(row.version), row.state, new, row.history_head)
        )
    if unmapped:
        listed = " ; ".join(
            f"{_describe(source, state)} — {count} dossier(s)" for state, count in unmapped.items()
        )
        raise MigrationRefused(
            f"Migration refusée, rien n'a été déplacé : ces états n'existent pas dans la "
            f"version {to_version} et n'ont pas de correspondance : {listed}. Indiquez-la avec "
            f"--map ancien=nouveau (états de la version {to_version} : {_state_names(target)})."
        )
    return MigrationPlan(workflow, from_version, to_version, tuple(moves), left)


_MOVE = (
    update(D)
    .where(D.c.id == bindparam("b_id"), D.c.version == bindparam("b_version"))
    .values(
        workflow_version=bindparam("b_to"),
        state=bindparam("b_state"),
        version=bindparam("b_new_version"),
        updated_at=bindparam("b_now"),
        history_head=bindparam("b_head"),
    )
)


def migrate(
    engine: Engine,
    workflow: str,
    from_version: int,
    to_version: int,
    mapping: Mapping[str, str] | None = None,
    *,
    finished: bool = False,
    dry_run: bool = False,
    clock: Callable[[], datetime] = utcnow,
) -> MigrationPlan:
    """Move the dossiers of ``plan_migration`` in one transaction: all of them or none."""
    with engine.begin() as conn:
        plan = plan_migration(
            conn, workflow, from_version, to_version, mapping, finished=finished, lock=True
        )
        if dry_run:
            return plan
        now = clock()
        for move in plan.moves:
            line = chained(
                {
                    "dossier_id": move.dossier_id,
                    "version": move.version + 1,
                    "trigger": MIGRATION_TRIGGER,
                    "from_state": move.from_state,
                    "to_state": move.to_state,
                    "actor_id": None,
                    "on_behalf_of_id": None,
                    "role": SYSTEM_ROLE,
                    "comment": plan.comment,
                    "payload": {"de_version": from_version, "a_version": to_version},
                    "at": now,
                },
                move.head,
            )
            changed = conn.execute(
                _MOVE,
                {
                    "b_id": move.dossier_id,
                    "b_version": move.version,
                    "b_to": to_version,
                    "b_state": move.to_state,
                    "b_new_version": move.version + 1,
                    "b_now": now,
                    "b_head": line["row_hash"],
                },
            ).rowcount
            if changed != 1:
                raise MigrationRefused(
                    f"Migration annulée, rien n'a été déplacé : le dossier {move.reference} a "
                    "été modifié pendant la migration. Relancez-la."
                )
            if move.to_state != move.from_state:
                conn.execute(
                    update(D).where(D.c.id == move.dossier_id).values(state_entered_at=now)
                )
            conn.execute(RECORD, line)
        return plan
