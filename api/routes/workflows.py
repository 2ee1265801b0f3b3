"""Workflow definitions, read-only: what states and actions exist, who may do what, and
the diagram (Mermaid text or SVG picture) with a dossier's current state highlighted."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel

from api.deps import Caller
from api.problems import ApiProblem, problem_responses
from states import SPECS
from states.roles import DERIVED_RECIPIENTS, role_label
from states.spec import WorkflowSpec
from workflow.engine.errors import InvalidInput
from workflow.reads.diagram import mermaid, svg

router = APIRouter(prefix="/api/v1/workflows", tags=["workflows"])

ERRORS = problem_responses(400, 401, 403, 404, 422)

WorkflowName = Annotated[str, Path(max_length=64, description="ex. dossier_formation")]
Version = Annotated[
    int | None, Query(ge=1, le=2**31 - 1, description="Version (par défaut : la plus récente)")
]


class WorkflowSummary(BaseModel):
    name: str
    version: int
    label: str
    state_count: int
    transition_count: int


class PhaseOut(BaseModel):
    id: str
    label: str


class RoleOut(BaseModel):
    id: str
    label: str


class StateOut(BaseModel):
    id: str
    label: str
    phase: str
    phase_label: str
    terminal: bool


class TransitionSpecOut(BaseModel):
    trigger: str
    label: str
    sources: list[str]
    dest: str
    roles: list[RoleOut]
    guards: list[str]
    comment_required: bool
    irreversible: bool
    system_may_fire: bool


class DeadlineOut(BaseModel):
    id: str
    label: str
    states: list[str]
    anchor: str
    offset_days: int
    action: str
    recipients: list[RoleOut]
    trigger: str | None


class TaskSpecOut(BaseModel):
    phase: str
    code: str
    role: RoleOut
    label: str
    due_after_days: int | None


class WorkflowOut(BaseModel):
    name: str
    version: int
    label: str
    initial: str
    phases: list[PhaseOut]
    states: list[StateOut]
    transitions: list[TransitionSpecOut]
    deadlines: list[DeadlineOut]
    tasks: list[TaskSpecOut]


class DiagramFormat(StrEnum):
    MERMAID = "mermaid"
    SVG = "svg"


MEDIA_TYPES = {
    DiagramFormat.MERMAID: "text/plain; charset=utf-8",
    DiagramFormat.SVG: "image/svg+xml",
}


def _spec(name: str, version: int | None) -> WorkflowSpec:
    """The spec asked for, or a French 404 naming what exists."""
    versions = sorted(v for n, v in SPECS if n == name)
    if not versions:
        known = ", ".join(sorted({n for n, _ in SPECS}))
        raise ApiProblem(
            404, "introuvable", f"Aucun workflow ne s'appelle « {name} » (connus : {known})."
        )
    chosen = versions[-1] if version is None else version
    if chosen not in versions:
        listed = ", ".join(str(v) for v in versions)
        raise ApiProblem(
            404,
            "introuvable",
            f"Le workflow « {name} » n'a pas de version {chosen} (versions : {listed}).",
        )
    return SPECS[(name, chosen)]


def _role(role: str) -> RoleOut:
    return RoleOut(id=role, label=DERIVED_RECIPIENTS.get(role) or role_label(role))


def _spec_out(spec: WorkflowSpec) -> WorkflowOut:
    return WorkflowOut(
        name=spec.name,
        version=spec.version,
        label=spec.label,
        initial=spec.initial,
        phases=[PhaseOut(id=p.id, label=p.label) for p in spec.phases],
        states=[
            StateOut(
                id=s.id,
                label=s.label,
                phase=s.phase,
                phase_label=spec.phase(s.phase).label,
                terminal=s.terminal,
            )
            for s in spec.states
        ],
        transitions=[
            TransitionSpecOut(
                trigger=t.trigger,
                label=t.label,
                sources=list(t.sources),
                dest=t.dest,
                roles=[_role(r) for r in t.roles],
                guards=list(t.guards),
                comment_required=t.comment_required,
                irreversible=t.irreversible,
                system_may_fire=t.system_may_fire,
            )
            for t in spec.transitions
        ],
        deadlines=[
            DeadlineOut(
                id=d.id,
                label=d.label,
                states=list(d.states),
                anchor=d.anchor.value,
                offset_days=d.offset_days,
                action=d.action.value,
                recipients=[_role(r) for r in d.recipients],
                trigger=d.trigger,
            )
            for d in spec.deadlines
        ],
        tasks=[
            TaskSpecOut(
                phase=t.phase,
                code=t.code,
                role=_role(t.role),
                label=t.label,
                due_after_days=t.due_after_days,
            )
            for t in spec.tasks
        ],
    )


@lru_cache(maxsize=512)
def _diagram(spec: WorkflowSpec, fmt: DiagramFormat, current: str | None) -> str:
    """Specs are frozen and the drawing is deterministic, so each one is drawn once."""
    return svg(spec, current) if fmt is DiagramFormat.SVG else mermaid(spec, current)


@router.get(
    "",
    response_model=list[WorkflowSummary],
    responses=ERRORS,
    summary="Lister les workflows (toutes versions)",
)
def list_workflows(caller: Caller) -> Any:
    return [
        WorkflowSummary(
            name=spec.name,
            version=spec.version,
            label=spec.label,
            state_count=len(spec.states),
            transition_count=len(spec.transitions),
        )
        for spec in sorted(SPECS.values(), key=lambda s: s.key)
    ]


@router.get(
    "/{name}",
    response_model=WorkflowOut,
    responses=ERRORS,
    summary="Lire la définition d'un workflow (états, actions, rôles, échéances)",
)
def get_workflow(name: WorkflowName, caller: Caller, version: Version = None) -> Any:
    return _spec_out(_spec(name, version))


@router.get(
    "/{name}/diagram",
    response_class=Response,
    responses={
        200: {
            "description": "Le diagramme : texte Mermaid ou image SVG.",
            "content": {
                "text/plain": {"schema": {"type": "string"}},
                "image/svg+xml": {"schema": {"type": "string"}},
            },
        },
        **ERRORS,
    },
    summary="Diagramme du workflow (Mermaid ou SVG), état courant en surbrillance",
)
def diagram(
    name: WorkflowName,
    caller: Caller,
    fmt: Annotated[DiagramFormat, Query(alias="format")] = DiagramFormat.MERMAID,
    etat: Annotated[
        str | None, Query(max_length=64, description="État à mettre en surbrillance")
    ] = None,
    version: Version = None,
) -> Response:
    spec = _spec(name, version)
    if etat is not None and etat not in {s.id for s in spec.states}:
        listed = ", ".join(s.id for s in spec.states)
        raise InvalidInput(
            f"État inconnu dans le workflow « {spec.name} » : « {etat} » (états : {listed}).",
            field="etat",
        )
    return Response(
        _diagram(spec, fmt, etat),
        media_type=MEDIA_TYPES[fmt],
        headers={"Cache-Control": "private, max-age=300"},
    )
