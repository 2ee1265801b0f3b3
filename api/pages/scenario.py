"""The scenario editor (grille de scénarisation): general fields, sequences and their steps.

It works without JavaScript: « Ajouter une séquence » and « Ajouter une étape » submit the
form and show it again with one more blank block; blank blocks are dropped on save. The
save replaces the scenario as a whole through ``DossierEditor.save_scenario`` (roles and
the dossier's state are checked there); what is still missing to submit it is what the
service's guard says, shown on the dossier page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from babel.numbers import format_decimal
from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.deps import RowId, Wired
from api.pages.errors import PageRoute
from api.pages.flash import Flash, set_flash
from api.pages.rendering import render
from api.pages.viewer import Seen, Viewer
from api.problems import french_errors
from api.wiring import Container
from workflow.dossiers.access import Edit, may_edit, readable
from workflow.dossiers.inputs import ScenarioInput
from workflow.engine.errors import InvalidInput, NotPermitted
from workflow.engine.roles import members
from workflow.language.vocabulary import MODALITIES
from workflow.reads.queries import reading
from workflow.reads.records import ScenarioRecord, scenario_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)

GENERAL = {
    "objectives": "Objectifs opérationnels",
    "competences": "Compétences visées",
    "prerequisites": "Prérequis",
    "public": "Public",
    "accompaniment_plan": "Accompagnement prévu",
    "validation_criteria": "Critères de validation",
    "penser_a": "Penser à",
}
HOURS = {"hours_presentiel": "Heures en présentiel", "hours_distance": "Heures à distance"}
STEP_FIELDS = ("period", "content", "modality", "duration", "led_by", "tutor", "material")
_STEP_KEY = re.compile(r"^seq-([0-9]{1,4})-step-([0-9]{1,4})-content$")
_LOC_FIELD = {"duration_minutes": "duration", "tutor_id": "tutor"}


@dataclass
class ScenarioForm:
    values: dict[str, str] = field(default_factory=dict)
    layout: list[tuple[int, list[int]]] = field(default_factory=list)
    """Each sequence's index and its steps' indices, as the form names them."""
    errors: list[tuple[str, str]] = field(default_factory=list)

    def error(self, field_id: str) -> str | None:
        return next((m for f, m in self.errors if f == field_id), None)

    @property
    def summary(self) -> list[tuple[str, str]]:
        """The errors for the summary at the top: each names the field it is about."""
        return [(f, f"{_label(f, self.layout)} : {m}" if f else m) for f, m in self.errors]


_STEP_LABELS = {
    "period": "Période",
    "content": "Contenu et objectifs pédagogiques",
    "modality": "Modalité",
    "duration": "Durée en minutes",
    "led_by": "Animée par",
    "tutor": "Accompagnement (tuteur)",
    "material": "Matériel, ressource, support",
}


def _label(field_id: str, layout: list[tuple[int, list[int]]]) -> str:
    """The label the form shows for ``field_id`` (sequences and steps by their position)."""
    if field_id in GENERAL or field_id in HOURS:
        return {**GENERAL, **HOURS}[field_id]
    positions = {i: (n, steps) for n, (i, steps) in enumerate(layout, start=1)}
    if (m := re.match(r"^seq-(\d+)-title$", field_id)) is not None:
        return f"Titre de la séquence {positions.get(int(m.group(1)), (0, []))[0]}"
    if (m := re.match(r"^seq-(\d+)-step-(\d+)-(\w+)$", field_id)) is not None:
        n, steps = positions.get(int(m.group(1)), (0, []))
        step = int(m.group(2))
        position = steps.index(step) + 1 if step in steps else step + 1
        return f"{_STEP_LABELS.get(m.group(3), m.group(3))} (séquence {n}, étape {position})"
    return field_id


def _number(value: Any) -> str:
    return "" if value is None else format_decimal(value, "0.##", locale="fr_FR")


def _from_record(scenario: ScenarioRecord) -> ScenarioForm:
    values = {k: getattr(scenario, k) for k in GENERAL}
    values.update({k: _number(getattr(scenario, k)) for k in HOURS})
    layout = []
    for i, sequence in enumerate(scenario.sequences):
        values[f"seq-{i}-title"] = sequence.title
        values[f"seq-{i}-amont"] = sequence.a_faire_en_amont
        for j, step in enumerate(sequence.steps):
            prefix = f"seq-{i}-step-{j}-"
            values.update(
                {
                    prefix + "period": step.period,
                    prefix + "content": step.content,
                    prefix + "modality": step.modality or "",
                    prefix + "duration": ""
                    if step.duration_minutes is None
                    else str(step.duration_minutes),
                    prefix + "led_by": step.led_by,
                    prefix + "tutor": "" if step.tutor_id is None else str(step.tutor_id),
                    prefix + "material": step.material,
                }
            )
        layout.append((i, list(range(len(sequence.steps))) or [0]))
    return ScenarioForm(values, layout or [(0, [0])])


def _layout(values: dict[str, str]) -> list[tuple[int, list[int]]]:
    sequences: dict[int, list[int]] = {}
    for key in values:
        if (m := re.match(r"^seq-([0-9]{1,4})-title$", key)) is not None:
            sequences.setdefault(int(m.group(1)), [])
        if (m := _STEP_KEY.match(key)) is not None:
            sequences.setdefault(int(m.group(1)), []).append(int(m.group(2)))
    return [(i, sorted(steps) or [0]) for i, steps in sorted(sequences.items())] or [(0, [0])]


def _blank_step(values: dict[str, str], prefix: str) -> bool:
    return not any(
        values.get(prefix + name, "").strip()
        for name in ("period", "content", "modality", "duration", "material")
    )


def _parse(
    values: dict[str, str], layout: list[tuple[int, list[int]]]
) -> tuple[dict[str, Any], list[tuple[int, list[int]]]]:
    """Form strings → the shape of ``ScenarioInput``, and the form indices of what was kept
    (to put an error on ``sequences.1.steps.0.…`` back on the field the person typed in)."""
    data: dict[str, Any] = {k: values.get(k, "") for k in GENERAL}
    data.update({k: values.get(k, "").strip().replace(",", ".") or None for k in HOURS})
    sequences, kept = [], []
    for i, step_indices in layout:
        steps, kept_steps = [], []
        for j in step_indices:
            prefix = f"seq-{i}-step-{j}-"
            if _blank_step(values, prefix):
                continue
            steps.append(
                {
                    "period": values.get(prefix + "period", ""),
                    "content": values.get(prefix + "content", ""),
                    "modality": values.get(prefix + "modality") or None,
                    "duration_minutes": values.get(prefix + "duration", "").strip() or None,
                    "led_by": values.get(prefix + "led_by") or "formateur",
                    "tutor_id": values.get(prefix + "tutor") or None,
                    "material": values.get(prefix + "material", ""),
                }
            )
            kept_steps.append(j)
        title = values.get(f"seq-{i}-title", "").strip()
        if not title and not steps:
            continue
        sequences.append(
            {"title": title, "a_faire_en_amont": values.get(f"seq-{i}-amont", ""), "steps": steps}
        )
        kept.append((i, kept_steps))
    data["sequences"] = sequences
    return data, kept


def _field_id(loc: str, kept: list[tuple[int, list[int]]]) -> str:
    parts = loc.split(".")
    if parts[0] in GENERAL or parts[0] in HOURS:
        return parts[0]
    if parts[0] == "sequences" and len(parts) >= 3 and parts[1].isdigit():
        i, steps = kept[int(parts[1])]
        if parts[2] == "title":
            return f"seq-{i}-title"
        if parts[2] == "steps" and len(parts) == 5 and parts[3].isdigit():
            name = _LOC_FIELD.get(parts[4], parts[4])
            return f"seq-{i}-step-{steps[int(parts[3])]}-{name}"
    return ""


def _context(container: Container, viewer: Viewer, dossier_id: int) -> dict[str, Any]:
    now = container.service.clock()
    with reading(container.engine) as conn:
        dossier, held = readable(conn, dossier_id, viewer.person_id, now)
        if dossier.workflow_name != "dossier_formation":
            raise InvalidInput("Ce dossier n'a pas de scénario.")
        tutors = members(conn, dossier.ref, ["tuteur", "formateur"])
        return {
            "dossier": dossier,
            "scenario": scenario_of(conn, dossier_id),
            "editable": may_edit(dossier, held, Edit.SCENARIO),
            "tutors": sorted({(str(m.person_id), m.full_name) for m in tutors}, key=lambda t: t[1]),
        }


def _page(
    request: Request,
    container: Container,
    viewer: Viewer,
    dossier_id: int,
    form: ScenarioForm | None,
    status_code: int = 200,
) -> Response:
    context = _context(container, viewer, dossier_id)
    form = form or _from_record(context["scenario"])
    return render(
        request,
        "pages/scenario.html",
        {
            **context,
            "page_title": f"Scénario — {context['dossier'].reference}",
            "form": form,
            "general": GENERAL,
            "hours": HOURS,
            "modalities": list(MODALITIES.items()),
        },
        status_code=status_code,
    )


@router.get("/dossiers/{dossier_id}/scenario")
async def scenario_page(
    request: Request, dossier_id: RowId, viewer: Seen, wired: Wired
) -> Response:
    return await run_in_threadpool(_page, request, wired, viewer, dossier_id, None)


@router.post("/dossiers/{dossier_id}/scenario")
async def save_scenario(
    request: Request, dossier_id: RowId, viewer: Seen, wired: Wired
) -> Response:
    submitted = await request.form()
    values = {k: v for k, v in submitted.items() if isinstance(v, str) and k != "csrf_token"}
    layout = _layout(values)
    add = values.pop("ajouter", "")
    if add:
        # Show the form again with one more blank sequence or step; nothing is saved.
        if add == "sequence":
            layout.append((max(i for i, _ in layout) + 1, [0]))
        elif add.isascii() and add.isdigit() and len(add) <= 6:
            layout = [(i, [*s, max(s) + 1] if i == int(add) else s) for i, s in layout]
        form = ScenarioForm(values, layout)
        return await run_in_threadpool(_page, request, wired, viewer, dossier_id, form)
    data, kept = _parse(values, layout)
    try:
        scenario = ScenarioInput.model_validate(data)
    except ValidationError as error:
        errors = [(_field_id(e.field, kept), e.message) for e in french_errors(error.errors())]
        form = ScenarioForm(values, layout, errors)
        return await run_in_threadpool(_page, request, wired, viewer, dossier_id, form, 422)
    try:
        await run_in_threadpool(
            wired.editor.save_scenario, dossier_id, scenario, actor_id=viewer.person_id
        )
    except (InvalidInput, NotPermitted) as error:
        form = ScenarioForm(values, layout, [("", error.message)])
        return await run_in_threadpool(_page, request, wired, viewer, dossier_id, form, 409)
    response = RedirectResponse(f"/dossiers/{dossier_id}/scenario", status_code=303)
    set_flash(request, response, Flash("success", "Scénario enregistré"))
    return response
