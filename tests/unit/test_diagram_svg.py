"""The SVG diagram: well-formed, complete, escaped, accessible, inside its own frame."""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET

import pytest

from states import SPECS
from states.spec import WorkflowSpec
from workflow.reads.diagram import svg

NS = "{http://www.w3.org/2000/svg}"
ALL_SPECS = list(SPECS.values())
IDS = [f"{s.name}-v{s.version}" for s in ALL_SPECS]


def _nodes(root: ET.Element) -> dict[str, ET.Element]:
    return {g.get("data-etat", ""): g for g in root.iter(f"{NS}g") if "etat" in g.get("class", "")}


@pytest.mark.parametrize("spec", ALL_SPECS, ids=IDS)
def test_one_node_per_state_and_one_path_per_arc(spec: WorkflowSpec) -> None:
    root = ET.fromstring(svg(spec))
    nodes = _nodes(root)
    assert list(nodes) == [s.id for s in spec.states]
    for state in spec.states:
        rects = nodes[state.id].findall(f"{NS}rect")
        assert len(rects) == (2 if state.terminal else 1)
        text = nodes[state.id].find(f"{NS}text")
        assert text is not None and text.text == state.label
    arcs = {(s, d, t.trigger) for s, d, t in spec.edges()}
    paths = list(root.iter(f"{NS}path"))
    assert len(paths) == len(arcs)
    drawn = set()
    for group in root.iter(f"{NS}g"):
        path = group.find(f"{NS}path")
        if path is not None:
            drawn.add((path.get("data-de"), path.get("data-vers"), group.get("data-declencheur")))
            label = group.find(f"{NS}text")
            assert label is not None and label.text == group.get("data-declencheur")
    assert drawn == arcs


@pytest.mark.parametrize("spec", ALL_SPECS, ids=IDS)
def test_standalone_accessible_and_deterministic(spec: WorkflowSpec) -> None:
    text = svg(spec, current=spec.initial)
    assert text == svg(spec, current=spec.initial)
    root = ET.fromstring(text)
    assert root.tag == f"{NS}svg" and root.get("role") == "img"
    assert spec.label in (root.get("aria-label") or "")
    assert "état courant : " + spec.state(spec.initial).label in (root.get("aria-label") or "")
    first = next(iter(root))
    assert first.tag == f"{NS}title" and first.text == f"{spec.label} (version {spec.version})"
    assert re.fullmatch(r"0 0 [\d.]+ [\d.]+", root.get("viewBox") or "")


@pytest.mark.parametrize("spec", ALL_SPECS, ids=IDS)
def test_current_state_is_highlighted_and_only_it(spec: WorkflowSpec) -> None:
    current = spec.terminal_states[0]
    nodes = _nodes(ET.fromstring(svg(spec, current=current)))
    for state_id, node in nodes.items():
        rect, text = node.find(f"{NS}rect"), node.find(f"{NS}text")
        assert rect is not None and text is not None
        here = state_id == current
        assert (rect.get("fill") == "#000091") is here
        assert (text.get("fill") == "#ffffff") is here
        assert (node.get("aria-current") == "true") is here
    plain = _nodes(ET.fromstring(svg(spec)))
    fills = [n.find(f"{NS}rect") for n in plain.values()]
    assert all(r is not None and r.get("fill") != "#000091" for r in fills)


def test_unknown_current_state_is_refused() -> None:
    with pytest.raises(ValueError, match="nulle_part"):
        svg(ALL_SPECS[0], current="nulle_part")


@pytest.mark.parametrize("spec", ALL_SPECS, ids=IDS)
def test_everything_is_drawn_inside_the_view_box(spec: WorkflowSpec) -> None:
    root = ET.fromstring(svg(spec))
    _, _, width, height = (float(v) for v in (root.get("viewBox") or "").split())
    points: list[tuple[float, float]] = []
    for rect in root.iter(f"{NS}rect"):
        x, y = float(rect.get("x", 0)), float(rect.get("y", 0))
        points += [(x, y), (x + float(rect.get("width", 0)), y + float(rect.get("height", 0)))]
    for text in root.iter(f"{NS}text"):
        points.append((float(text.get("x", 0)), float(text.get("y", 0))))
    for path in root.iter(f"{NS}path"):
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path.get("d", ""))]
        points += list(zip(numbers[::2], numbers[1::2], strict=True))
    assert points
    for x, y in points:
        assert 0 <= x <= width and 0 <= y <= height, (x, y)


def test_columns_follow_the_distance_from_the_initial_state() -> None:
    spec = SPECS[("dossier_formation", 1)]
    nodes = _nodes(ET.fromstring(svg(spec)))

    def left(state: str) -> float:
        rect = nodes[state].find(f"{NS}rect")
        assert rect is not None
        return float(rect.get("x", 0))

    path = ["brouillon", "contrat_a_signer", "contrat_signe", "scenario_soumis", "scenario_valide"]
    assert [left(s) for s in path] == sorted({left(s) for s in path})
    assert left("annule") == left("contrat_a_signer")  # one step from brouillon, like it
    assert left("scenario_a_reviser") == left("scenario_valide")


def test_labels_are_escaped() -> None:
    base = SPECS[("ouverture_parcours", 1)]
    spec = dataclasses.replace(
        base,
        label="Demande <&> « spéciale »",
        states=tuple(dataclasses.replace(s, label=f'{s.label} <&> "x"') for s in base.states),
    )
    text = svg(spec, current=spec.initial)
    assert "<&>" not in text and "&lt;&amp;&gt;" in text
    root = ET.fromstring(text)
    title = root.find(f"{NS}title")
    assert title is not None and title.text == "Demande <&> « spéciale » (version 1)"
    assert "Demande <&> « spéciale »" in (root.get("aria-label") or "")
    for state in spec.states:
        node = _nodes(root)[state.id].find(f"{NS}text")
        assert node is not None and node.text == state.label
