"""The SVG diagram: complete, in French, top to bottom, readable at its size (14 px text and
more, no two labels on each other, no arrow through a box), escaped and accessible."""

from __future__ import annotations

import dataclasses
import itertools
import re
import xml.etree.ElementTree as ET

import pytest

from states import SPECS
from states.spec import StateSpec, TransitionSpec, WorkflowSpec
from workflow.reads.diagram_svg import ARC_FONT, STATE_FONT, everywhere, svg

NS = "{http://www.w3.org/2000/svg}"
ALL_SPECS = list(SPECS.values())
IDS = [f"{s.name}-v{s.version}" for s in ALL_SPECS]
CHAR = 0.56  # the drawing's own estimate of a character's advance per px of font size


def _nodes(root: ET.Element) -> dict[str, ET.Element]:
    return {g.get("data-etat", ""): g for g in root.iter(f"{NS}g") if "etat" in g.get("class", "")}


def _text(element: ET.Element) -> str:
    """A <text>'s lines joined by a space (state names and labels wrap on tspans)."""
    return " ".join(t.text or "" for t in element.iter(f"{NS}tspan"))


def _groups(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{NS}g") if "transition" in g.get("class", "").split()]


def _box(rect: ET.Element) -> tuple[float, float, float, float]:
    x, y = float(rect.get("x", 0)), float(rect.get("y", 0))
    return x, y, x + float(rect.get("width", 0)), y + float(rect.get("height", 0))


def _points(path: ET.Element) -> list[tuple[float, float]]:
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path.get("d", ""))]
    return list(zip(numbers[::2], numbers[1::2], strict=True))


def _along(path: ET.Element) -> list[tuple[float, float]]:
    """Points every 2 px along the path's (orthogonal, barely rounded) runs."""
    corners = _points(path)
    found = []
    for (x0, y0), (x1, y1) in itertools.pairwise(corners):
        steps = max(1, int(max(abs(x1 - x0), abs(y1 - y0)) // 2))
        found += [(x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps) for i in range(steps)]
    return found + corners[-1:]


def _label_boxes(root: ET.Element) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Every arrow label line, with the rectangle it covers (estimated as the drawing does)."""
    found = []
    for group in _groups(root):
        if "boucle" in group.get("class", ""):
            continue
        text = group.find(f"{NS}text")
        if text is None:
            continue
        anchor = text.get("text-anchor", "start")
        for span in text.iter(f"{NS}tspan"):
            x, y = float(span.get("x", 0)), float(span.get("y", 0))
            width = len(span.text or "") * ARC_FONT * CHAR
            left = x - width / 2 if anchor == "middle" else x
            found.append((span.text or "", (left, y - ARC_FONT + 2, left + width, y + 3)))
    return found


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("spec", ALL_SPECS, ids=IDS)
def test_every_state_and_every_transition_in_french(spec: WorkflowSpec) -> None:
    root = ET.fromstring(svg(spec))
    nodes = _nodes(root)
    assert list(nodes) == [s.id for s in spec.states]
    for state in spec.states:
        rects = nodes[state.id].findall(f"{NS}rect")
        assert len(rects) == (2 if state.terminal else 1)
        text = nodes[state.id].find(f"{NS}text")
        assert text is not None and _text(text) == state.label
    drawn = set()
    for group in _groups(root):
        transition = spec.transition(group.get("data-declencheur", ""))
        for source in (group.get("data-de") or "").split():
            # « = »: an action taken in each of these states without leaving it.
            dest = source if group.get("data-vers") == "=" else group.get("data-vers")
            drawn.add((source, dest, transition.trigger))
        text = group.find(f".//{NS}text")
        assert text is not None
        # The French label, never the identifier.
        assert transition.label in _text(text).replace("↻ ", "")
        assert transition.trigger not in _text(text)
    assert drawn == {(s, d, t.trigger) for s, d, t in spec.edges()}


def test_cancelling_is_one_note_not_an_arrow_from_every_state() -> None:
    spec = SPECS[("dossier_formation", 1)]
    cancel = spec.transition("annuler")
    assert everywhere(spec, cancel)
    groups = [
        g for g in _groups(ET.fromstring(svg(spec))) if g.get("data-declencheur") == "annuler"
    ]
    assert len(groups) == 1
    assert "depuis tout état non terminal" in _text(groups[0])
    assert len(groups[0].findall(f"{NS}path")) == 1


@pytest.mark.parametrize("spec", ALL_SPECS, ids=IDS)
def test_text_is_14_px_or_more(spec: WorkflowSpec) -> None:
    sizes = {float(t.get("font-size", 0)) for t in ET.fromstring(svg(spec)).iter(f"{NS}text")}
    assert min(sizes) >= 14 and ARC_FONT >= 14 and STATE_FONT >= ARC_FONT


def test_top_to_bottom_along_the_main_path() -> None:
    spec = SPECS[("dossier_formation", 1)]
    nodes = _nodes(ET.fromstring(svg(spec)))

    def where(state: str) -> tuple[float, float, float, float]:
        rect = nodes[state].find(f"{NS}rect")
        assert rect is not None
        return _box(rect)

    path = [
        "brouillon",
        "contrat_a_signer",
        "contrat_signe",
        "scenario_soumis",
        "scenario_valide",
        "en_cours",
        "realisee",
        "bilan_soumis",
        "bilan_valide",
        "paiement_accorde",
        "mis_en_paiement",
    ]
    tops = [where(s)[1] for s in path]
    assert tops == sorted(tops) and len(set(tops)) == len(tops)
    assert len({where(s)[0] for s in path}) == 1  # one column
    # A detour stands beside the state it leaves from, on the same row.
    for side, main in [
        ("scenario_a_reviser", "scenario_soumis"),
        ("bilan_a_completer", "bilan_soumis"),
    ]:
        assert where(side)[0] > where(main)[2]
        assert abs((where(side)[1] + where(side)[3]) - (where(main)[1] + where(main)[3])) < 1


@pytest.mark.parametrize("spec", ALL_SPECS, ids=IDS)
def test_no_arrow_through_a_box_and_no_label_on_another(spec: WorkflowSpec) -> None:
    root = ET.fromstring(svg(spec))
    boxes = {}
    for state_id, node in _nodes(root).items():
        rect = node.find(f"{NS}rect")
        assert rect is not None
        boxes[state_id] = _box(rect)
    for group in _groups(root):
        path = group.find(f"{NS}path")
        if path is None:
            continue
        points = _along(path)
        ends = {group.get("data-vers"), *(group.get("data-de") or "").split()}
        for state_id, (x0, y0, x1, y1) in boxes.items():
            if state_id in ends:
                continue
            for x, y in points:
                assert not (x0 < x < x1 and y0 < y < y1), (group.get("data-declencheur"), state_id)
    labels = _label_boxes(root)
    for n, (text, area) in enumerate(labels):
        for other, other_area in labels[n + 1 :]:
            assert not _overlap(area, other_area), (text, other)
        for state_id, box in boxes.items():
            assert not _overlap(area, box), (text, state_id)


def _synthetic() -> WorkflowSpec:
    """A circuit with arrows of every kind: back up one row, across several rows, to a
    state two columns away, a loop, a way out of every open state, and an action taken in
    several states without leaving them."""
    states = tuple(
        StateSpec(i, label, "p", terminal=i in {"fin", "abandon", "rejet"})
        for i, label in [
            ("a", "Premier état"),
            ("b", "Deuxième état au nom assez long pour deux lignes"),
            ("c", "Troisième"),
            ("d", "Quatrième"),
            ("fin", "Terminé"),
            ("x", "À reprendre"),
            ("rejet", "Rejeté"),
            ("abandon", "Abandonné"),
        ]
    )

    def t(
        trigger: str,
        sources: tuple[str, ...],
        dest: str,
        condition: str | None = None,
        reflexive: bool = False,
    ) -> TransitionSpec:
        label = f"Action {trigger.capitalize()}"
        return TransitionSpec(
            trigger,
            label,
            sources,
            dest,
            ("pilote",),
            dest_condition=condition,
            reflexive=reflexive,
        )

    transitions = (
        t("avancer", ("a",), "b"),
        t("signer", ("b",), "c", condition="cond"),
        t("continuer", ("c",), "d"),
        t("finir", ("d",), "fin"),
        t("reprendre", ("b",), "x"),
        t("renvoyer", ("x",), "b"),
        t("rouvrir", ("d",), "x"),
        t("rejeter", ("c",), "rejet"),
        t("sauter", ("a",), "d"),
        t("abandonner", ("a", "b", "c", "d", "x"), "abandon"),
        t("amender", ("b", "c", "d"), "b", reflexive=True),
    )
    return WorkflowSpec("essai", 1, "Circuit d'essai", "a", (), states, transitions)


def test_every_kind_of_arrow_is_routed_clear_of_boxes_and_labels() -> None:
    spec = _synthetic()
    test_every_state_and_every_transition_in_french(spec)
    test_no_arrow_through_a_box_and_no_label_on_another(spec)
    test_everything_is_drawn_inside_the_view_box(spec)


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
    assert root.get("width") and root.get("height")  # shown at its own size


@pytest.mark.parametrize("spec", ALL_SPECS, ids=IDS)
def test_current_state_is_marked_and_only_it(spec: WorkflowSpec) -> None:
    current = spec.terminal_states[0]
    nodes = _nodes(ET.fromstring(svg(spec, current=current)))
    for state_id, node in nodes.items():
        rect, text = node.find(f"{NS}rect"), node.find(f"{NS}text")
        assert rect is not None and text is not None
        here = state_id == current
        assert (rect.get("fill") == "#000091") is here
        assert (text.get("fill") == "#ffffff") is here
        assert (text.get("font-weight") == "bold") is here
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
        x0, y0, x1, y1 = _box(rect)
        points += [(x0, y0), (x1, y1)]
    for span in root.iter(f"{NS}tspan"):
        points.append((float(span.get("x", 0)), float(span.get("y", 0))))
    for path in root.iter(f"{NS}path"):
        points += _points(path)
    for _text_line, (x0, y0, x1, y1) in _label_boxes(root):
        points += [(x0, y0), (x1, y1)]
    assert points
    for x, y in points:
        assert 0 <= x <= width and 0 <= y <= height, (x, y)


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
        assert node is not None and _text(node) == state.label
