"""Planning a PAF file against the database, line by line, and writing the plan.

Apart from ``workflow.admin.paf`` (the use cases: who may import, the kept files, the dry
run and the all-or-nothing import) because this part knows only lines and rows: what a line
would create or change, in French, and the batched INSERTs and UPDATEs that make it so.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, select, update

from states import get_spec
from states.dispositifs import DISPOSITIFS
from states.roles import role_label
from workflow.admin.paf_lines import COLUMN_BY_KEY, PafLine
from workflow.engine.errors import InvalidInput
from workflow.engine.rows import next_references
from workflow.language.french import format_date, format_hours
from workflow.store.tables import assignment_table as A
from workflow.store.tables import dossier_table as D
from workflow.store.tables import person_table as P
from workflow.store.tables import scenario_table as S

WORKFLOW = "dossier_formation"
TEAM_ROLES = {"pilote": "pilote", "formateurs": "formateur", "concepteurs": "concepteur"}
"""File column → the dossier role it names."""
_CHUNK = 500


class Action(StrEnum):
    CREATE = "creation"
    UPDATE = "mise_a_jour"
    SAME = "inchangee"
    SKIP = "ignoree"
    REFUSE = "refusee"


ACTION_LABELS: dict[Action, str] = {
    Action.CREATE: "Création",
    Action.UPDATE: "Mise à jour",
    Action.SAME: "Inchangée",
    Action.SKIP: "Ignorée",
    Action.REFUSE: "Refusée",
}


@dataclass(frozen=True, slots=True)
class LineReport:
    line: int
    paf_id: str
    title: str
    action: Action
    reference: str | None = None
    dossier_id: int | None = None
    changes: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return ACTION_LABELS[self.action]


@dataclass(frozen=True, slots=True)
class _Person:
    id: int
    email: str
    full_name: str
    active: bool


@dataclass
class _Existing:
    id: int
    reference: str
    workflow_name: str
    state: str
    version: int
    fields: dict[str, Any]
    public: str | None
    team: dict[str, dict[int, str]] = field(default_factory=dict)
    """Role → the people holding it on the dossier (id → name)."""


@dataclass
class Plan:
    report: LineReport
    line: PafLine
    existing: _Existing | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    public: str | None = None
    add: list[tuple[int, str]] = field(default_factory=list)
    remove: list[tuple[int, str]] = field(default_factory=list)


_FIELDS = {
    "title": "title",
    "dispositif": "dispositif",
    "hours_presentiel": "planned_hours_presentiel",
    "hours_distance": "planned_hours_distance",
    "participants": "planned_participants",
    "start": "planned_start",
    "end": "planned_end",
}
"""File column → dossier column."""
_FIELD_LABELS = {
    "title": "intitulé",
    "dispositif": "dispositif",
    "hours_presentiel": "heures en présentiel",
    "hours_distance": "heures à distance",
    "participants": "participants prévus",
    "start": "date de début",
    "end": "date de fin",
}


def _shown(key: str, value: Any) -> str:
    if value is None:
        return "(vide)"
    if key == "dispositif":
        return DISPOSITIFS[value].label if value in DISPOSITIFS else str(value)
    if isinstance(value, Decimal):
        return format_hours(value)
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, str):
        return f"« {value} »"
    return str(value)


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


# Planning ----------------------------------------------------------------------------------


def _people(conn: Connection, lines: list[PafLine]) -> dict[str, _Person]:
    addresses: set[str] = set()
    for line in lines:
        for key in TEAM_ROLES:
            if key == "pilote":
                pilote = line.text("pilote")
                if pilote:
                    addresses.add(pilote)
            else:
                addresses.update(line.emails(key) or ())
    found: dict[str, _Person] = {}
    for chunk in _chunks(sorted(addresses)):
        for row in conn.execute(
            select(P.c.id, P.c.email, P.c.full_name, P.c.active).where(P.c.email.in_(chunk))
        ):
            found[row.email] = _Person(row.id, row.email, row.full_name, bool(row.active))
    return found


def _existing(conn: Connection, academie_id: int, paf_ids: list[str]) -> dict[str, _Existing]:
    found: dict[str, _Existing] = {}
    for chunk in _chunks(paf_ids):
        rows = conn.execute(
            select(D, S.c.public)
            .outerjoin(S, S.c.dossier_id == D.c.id)
            .where(D.c.academie_id == academie_id, D.c.paf_id.in_(chunk))
        )
        for row in rows:
            found[row.paf_id] = _Existing(
                id=row.id,
                reference=row.reference,
                workflow_name=row.workflow_name,
                state=row.state,
                version=row.version,
                fields={key: getattr(row, column) for key, column in _FIELDS.items()},
                public=row.public,
            )
    by_id = {e.id: e for e in found.values()}
    for chunk in _chunks(sorted(by_id)):
        for row in conn.execute(
            select(A.c.dossier_id, A.c.person_id, A.c.role, P.c.full_name)
            .join(P, P.c.id == A.c.person_id)
            .where(A.c.dossier_id.in_(chunk), A.c.role.in_(list(TEAM_ROLES.values())))
        ):
            team = by_id[row.dossier_id].team.setdefault(row.role, {})
            team[row.person_id] = row.full_name
    return found


def plan_lines(conn: Connection, academie_id: int, lines: list[PafLine]) -> list[Plan]:
    people = _people(conn, lines)
    existing = _existing(conn, academie_id, sorted({ln.paf_id for ln in lines if ln.paf_id}))
    first_line: dict[str, int] = {}
    plans = []
    for line in lines:
        reasons = list(line.problems)
        if line.paf_id:
            if line.paf_id in first_line:
                reasons.append(
                    f"Identifiant PAF : « {line.paf_id} » figure déjà ligne "
                    f"{first_line[line.paf_id]} du fichier"
                )
            else:
                first_line[line.paf_id] = line.number
        team = _team(line, people, reasons)
        current = existing.get(line.paf_id) if line.paf_id else None
        if current is None and "pilote" not in line.values:
            reasons.append("Pilote (courriel) : obligatoire pour créer le dossier")
        if current is not None and current.workflow_name != WORKFLOW:
            reasons.append("Identifiant PAF : il désigne une demande d'ouverture de parcours")
        if reasons:
            plans.append(
                Plan(
                    LineReport(
                        line.number,
                        line.paf_id,
                        line.title,
                        Action.REFUSE,
                        current.reference if current else None,
                        current.id if current else None,
                        reasons=tuple(reasons),
                    ),
                    line,
                )
            )
            continue
        plans.append(_creation(line, team) if current is None else _update(line, team, current))
    return plans


def _team(
    line: PafLine, people: dict[str, _Person], reasons: list[str]
) -> dict[str, list[_Person]]:
    """The people each filled team cell names, with a reason for each one unknown."""
    team: dict[str, list[_Person]] = {}
    for key, role in TEAM_ROLES.items():
        addresses = [line.text(key)] if key == "pilote" else line.emails(key)
        if not addresses or addresses == [None]:
            continue
        chosen = []
        label = COLUMN_BY_KEY[key].header
        for address in addresses:
            if address is None:
                continue
            person = people.get(address)
            if person is None:
                reasons.append(
                    f"{label} : aucune personne n'a l'adresse {address} dans formaflow "
                    "(importez d'abord les personnes, ou corrigez l'adresse)"
                )
            elif not person.active:
                reasons.append(
                    f"{label} : le compte de {person.full_name} ({address}) est désactivé"
                )
            else:
                chosen.append(person)
        team[role] = chosen
    return team


def _creation(line: PafLine, team: dict[str, list[_Person]]) -> Plan:
    fields = {key: line.values[key] for key in _FIELDS if key in line.values}
    changes = [
        f"{role_label(role)} : {', '.join(p.full_name for p in members)}"
        for role, members in team.items()
        if members
    ]
    if "dispositif" in fields:
        changes.insert(0, f"Dispositif : {_shown('dispositif', fields['dispositif'])}")
    return Plan(
        LineReport(line.number, line.paf_id, line.title, Action.CREATE, changes=tuple(changes)),
        line,
        fields=fields,
        public=line.text("public"),
        add=[(p.id, role) for role, members in team.items() for p in members],
    )


def _update(line: PafLine, team: dict[str, list[_Person]], current: _Existing) -> Plan:
    changes: list[str] = []
    fields: dict[str, Any] = {}
    for key in _FIELDS:
        if key in line.values and line.values[key] != current.fields[key]:
            fields[key] = line.values[key]
            changes.append(
                f"{_FIELD_LABELS[key]} : {_shown(key, current.fields[key])} → "
                f"{_shown(key, line.values[key])}"
            )
    public = line.text("public")
    if public is not None and public == (current.public or ""):
        public = None
    if public is not None:
        changes.append(f"public : {_shown('public', current.public)} → « {public} »")
    add: list[tuple[int, str]] = []
    remove: list[tuple[int, str]] = []
    for role, members in team.items():
        wanted = {p.id: p for p in members}
        held = current.team.get(role, {})
        for person_id, person in wanted.items():
            if person_id not in held:
                add.append((person_id, role))
                changes.append(f"{role_label(role)} ajouté : {person.full_name}")
        for person_id, name in sorted(held.items(), key=lambda item: item[1]):
            if person_id not in wanted:
                remove.append((person_id, role))
                changes.append(f"{role_label(role)} retiré : {name}")
    base = LineReport(
        line.number,
        line.paf_id,
        line.title or str(current.fields["title"]),
        Action.SAME,
        current.reference,
        current.id,
    )
    if not changes:
        return Plan(base, line, current)
    if current.state != get_spec(WORKFLOW).initial:
        state = get_spec(WORKFLOW).state(current.state).label
        skipped = LineReport(
            base.line,
            base.paf_id,
            base.title,
            Action.SKIP,
            base.reference,
            current.id,
            changes=tuple(changes),
            reasons=(
                f"le dossier {current.reference} est « {state} » : l'import ne modifie que "
                "les dossiers en brouillon (changez-le depuis ses pages, par un avenant au "
                "besoin)",
            ),
        )
        return Plan(skipped, line, current)
    updated = LineReport(
        base.line,
        base.paf_id,
        base.title,
        Action.UPDATE,
        base.reference,
        current.id,
        changes=tuple(changes),
    )
    return Plan(updated, line, current, fields=fields, public=public, add=add, remove=remove)


# Writing -----------------------------------------------------------------------------------


def write_plans(conn: Connection, academie_id: int, plans: list[Plan], now: datetime) -> list[Plan]:
    """Write every creation and update; the plans again, with the new references.

    Creations go in batches (references reserved at once, one multi-row INSERT with
    RETURNING): a plan of a thousand lines is one transaction of a few statements."""
    spec = get_spec(WORKFLOW)
    creations = [p for p in plans if p.report.action is Action.CREATE]
    references = next_references(conn, academie_id, now.year, len(creations))
    rows = [
        {
            "reference": reference,
            "academie_id": academie_id,
            "workflow_name": spec.name,
            "workflow_version": spec.version,
            "state": spec.initial,
            "version": 1,
            "paf_id": plan.line.paf_id,
            "state_entered_at": now,
            "created_at": now,
            "updated_at": now,
            **{column: plan.fields.get(key) for key, column in _FIELDS.items()},
        }
        for plan, reference in zip(creations, references, strict=True)
    ]
    created: dict[str, tuple[int, str]] = {}
    for chunk in _chunks(rows):
        for row in conn.execute(
            insert(D).returning(D.c.id, D.c.paf_id, D.c.reference, sort_by_parameter_order=True),
            list(chunk),
        ):
            created[row.paf_id] = (int(row.id), str(row.reference))
    scenarios: list[dict[str, Any]] = []
    assignments: list[dict[str, Any]] = []
    for plan in creations:
        dossier_id, reference = created[plan.line.paf_id]
        report = plan.report
        plan.report = LineReport(
            report.line,
            report.paf_id,
            report.title,
            report.action,
            reference,
            dossier_id,
            report.changes,
        )
        if plan.public:
            scenarios.append({"dossier_id": dossier_id, "public": plan.public, "updated_at": now})
    for plan in plans:
        if plan.report.action is Action.UPDATE:
            _update_one(conn, plan, now, scenarios)
        assignments += [
            {
                "person_id": person_id,
                "role": role,
                "dossier_id": plan.report.dossier_id,
                "academie_id": None,
                "created_at": now,
            }
            for person_id, role in plan.add
        ]
    for chunk in _chunks(scenarios):
        conn.execute(insert(S), list(chunk))
    for chunk in _chunks(assignments):
        conn.execute(insert(A), list(chunk))
    return plans


def _update_one(
    conn: Connection, plan: Plan, now: datetime, scenarios: list[dict[str, Any]]
) -> None:
    assert plan.existing is not None
    dossier_id = plan.existing.id
    if plan.fields:
        changed = conn.execute(
            update(D)
            .where(D.c.id == dossier_id, D.c.version == plan.existing.version)
            .values(
                version=plan.existing.version + 1,
                updated_at=now,
                **{_FIELDS[k]: v for k, v in plan.fields.items()},
            )
        ).rowcount
        if changed != 1:
            raise InvalidInput(
                f"Le dossier {plan.existing.reference} a été modifié pendant l'import : "
                "rien n'a été importé ; relancez l'essai."
            )
    if plan.public is not None:
        if plan.existing.public is None:
            scenarios.append({"dossier_id": dossier_id, "public": plan.public, "updated_at": now})
        else:
            conn.execute(
                update(S)
                .where(S.c.dossier_id == dossier_id)
                .values(public=plan.public, updated_at=now)
            )
    for person_id, role in plan.remove:
        conn.execute(
            delete(A).where(
                and_(A.c.dossier_id == dossier_id, A.c.person_id == person_id, A.c.role == role)
            )
        )
