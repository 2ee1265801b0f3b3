"""Diagrams of a workflow spec: Mermaid (Markdown, the web), Graphviz DOT, and plain SVG.

Generated from the spec itself, so a diagram can never disagree with what the engine does.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from xml.sax.saxutils import escape as xml_escape

from states.spec import WorkflowSpec


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _arcs(spec: WorkflowSpec) -> list[tuple[str, str, str]]:
    """Distinct (source, destination, trigger) arcs, in spec order."""
    return list(dict.fromkeys((s, d, t.trigger) for s, d, t in spec.edges()))


def mermaid(spec: WorkflowSpec, current: str | None = None) -> str:
    lines = ["stateDiagram-v2", f"    %% {spec.label} — {spec.name} v{spec.version}"]
    for state in spec.states:
        lines.append(f'    state "{_quote(state.label)}" as {state.id}')
    lines.append(f"    [*] --> {spec.initial}")
    for source, dest, trigger in _arcs(spec):
        lines.append(f"    {source} --> {dest}: {trigger}")
    for state in spec.states:
        if state.terminal:
            lines.append(f"    {state.id} --> [*]")
    if current is not None:
        lines.append("    classDef current fill:#000091,color:#fff")
        lines.append(f"    class {current} current")
    return "\n".join(lines) + "\n"


def dot(spec: WorkflowSpec, current: str | None = None) -> str:
    lines = [
        f'digraph "{_quote(spec.name)}" {{',
        f'    label="{_quote(spec.label)} (v{spec.version})";',
        "    rankdir=LR;",
        '    node [shape=box, style=rounded, fontname="Marianne,Arial"];',
        "    __start [shape=point];",
        f"    __start -> {spec.initial};",
    ]
    for state in spec.states:
        attrs = [f'label="{_quote(state.label)}"']
        if state.terminal:
            attrs.append("peripheries=2")
        if state.id == current:
            attrs += ['style="rounded,filled"', 'fillcolor="#000091"', 'fontcolor="white"']
        lines.append(f"    {state.id} [{', '.join(attrs)}];")
    for source, dest, trigger in _arcs(spec):
        lines.append(f'    {source} -> {dest} [label="{_quote(trigger)}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


# SVG ----------------------------------------------------------------------------------
#
# There is no Graphviz on the servers, and a diagram that needs a JavaScript library to
# render cannot be an <img> in an email or a printed page. So the SVG is laid out here, in
# a deliberately simple way: columns by distance from the initial state, rows within a
# column in the order a breadth-first search meets the states, backward arcs in lanes of
# their own under every row. Every coordinate is computed from the spec alone, so the
# same spec always yields the same bytes (safe to cache, to snapshot, to diff).

_FONT = 13
_SMALL = 11
_CHAR = 7.2
"""Average advance of a character at ``_FONT`` px in a sans-serif face (no font metrics
here: an estimate that errs on the wide side keeps labels inside their boxes)."""
_SMALL_CHAR = 6.2
_NODE_H = 40.0
_ROW_GAP = 64.0
_COL_GAP = 150.0
_LEFT = 70.0
_TOP = 96.0
_PAD = 24.0
_INK = "#161616"
_LINE = "#3a3a3a"
_BLUE = "#000091"
_PALE = "#f5f5fe"


@dataclass(frozen=True, slots=True)
class _Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h


Point = tuple[float, float]


def _n(value: float) -> str:
    """Coordinates with one decimal at most, so the output is stable and compact."""
    text = f"{round(value, 1):.1f}"
    return text[:-2] if text.endswith(".0") else text


def _esc(text: str) -> str:
    return xml_escape(text, {'"': "&quot;"})


@dataclass(frozen=True, slots=True)
class _Placement:
    boxes: dict[str, _Box]
    column: dict[str, int]
    lowest: frozenset[str]
    """States with nothing below them in their column: arcs may leave them downwards."""
    floor: float
    """The bottom edge of the lowest row: backward arcs run in lanes under it."""


def _place(spec: WorkflowSpec, arcs: list[tuple[str, str, str]]) -> _Placement:
    """Columns by breadth-first distance from the initial state; within a column, rows in
    the order the search found the states, which keeps the usual path on the top row.
    A state the search does not reach (the spec tests forbid it, but a draft may have one)
    goes in a last column of its own."""
    following: dict[str, list[str]] = {s.id: [] for s in spec.states}
    for source, dest, _trigger in arcs:
        if dest != source and dest not in following[source]:
            following[source].append(dest)
    depth = {spec.initial: 0}
    found = [spec.initial]
    queue = deque(found)
    while queue:
        reached = queue.popleft()
        for dest in following[reached]:
            if dest not in depth:
                depth[dest] = depth[reached] + 1
                found.append(dest)
                queue.append(dest)
    last = max(depth.values()) + 1
    for state in spec.states:
        if state.id not in depth:
            depth[state.id] = last
            found.append(state.id)
    columns: dict[int, list[str]] = {}
    for state_id in found:
        columns.setdefault(depth[state_id], []).append(state_id)
    boxes: dict[str, _Box] = {}
    x = _LEFT
    for column in sorted(columns):
        ids = columns[column]
        width = max(120.0, max(len(spec.state(i).label) for i in ids) * _CHAR + 32)
        for row, state_id in enumerate(ids):
            boxes[state_id] = _Box(x, _TOP + row * (_NODE_H + _ROW_GAP), width, _NODE_H)
        x += width + _COL_GAP
    return _Placement(
        boxes=boxes,
        column=depth,
        lowest=frozenset(ids[-1] for ids in columns.values()),
        floor=max(box.bottom for box in boxes.values()),
    )


@dataclass(frozen=True, slots=True)
class _Route:
    d: str
    label_at: Point
    extent: tuple[Point, ...]
    """Every point the drawing may reach (a Bézier curve stays inside its control points)."""


def _bezier(p0: Point, p1: Point, p2: Point, p3: Point, lift: float) -> _Route:
    # The label goes at t = 1/2 of the curve, lifted off the line.
    mx = (p0[0] + 3 * p1[0] + 3 * p2[0] + p3[0]) / 8
    my = (p0[1] + 3 * p1[1] + 3 * p2[1] + p3[1]) / 8
    d = "M{},{} C{},{} {},{} {},{}".format(*(_n(v) for p in (p0, p1, p2, p3) for v in p))
    return _Route(d, (mx, my + lift), (p0, p1, p2, p3))


def _rounded(points: list[Point], radius: float = 8) -> str:
    """An orthogonal polyline with its corners rounded (quadratic curves)."""
    parts = [f"M{_n(points[0][0])},{_n(points[0][1])}"]
    for before, corner, after in zip(points, points[1:], points[2:], strict=False):
        r = min(radius, _length(before, corner) / 2, _length(corner, after) / 2)
        a = _towards(corner, before, r)
        b = _towards(corner, after, r)
        parts.append(
            f"L{_n(a[0])},{_n(a[1])} Q{_n(corner[0])},{_n(corner[1])} {_n(b[0])},{_n(b[1])}"
        )
    parts.append(f"L{_n(points[-1][0])},{_n(points[-1][1])}")
    return " ".join(parts)


def _length(a: Point, b: Point) -> float:
    return abs(a[0] - b[0]) + abs(a[1] - b[1])  # segments are horizontal or vertical


def _towards(origin: Point, target: Point, distance: float) -> Point:
    span = _length(origin, target) or 1.0
    return (
        origin[0] + (target[0] - origin[0]) * distance / span,
        origin[1] + (target[1] - origin[1]) * distance / span,
    )


def _loop(box: _Box, nth: int) -> _Route:
    left, right, top = box.cx - 14 + nth * 34, box.cx + 14 + nth * 34, box.y
    return _bezier((left, top), (left - 16, top - 44), (right + 16, top - 44), (right, top), -8)


def _forward(source: _Box, dest: _Box, nth: int) -> _Route:
    shift = nth * 12
    p0 = (source.right, source.cy + shift)
    p3 = (dest.x, dest.cy + shift)
    reach = max(40.0, (p3[0] - p0[0]) / 2)
    return _bezier(p0, (p0[0] + reach, p0[1]), (p3[0] - reach, p3[1]), p3, -5)


def _beside(source: _Box, dest: _Box, nth: int) -> _Route:
    """Between two states of one column: a bulge into the gap on their right."""
    bulge = max(source.right, dest.right) + 60 + nth * 24
    p0, p3 = (source.right, source.cy), (dest.right, dest.cy)
    return _bezier(p0, (bulge, p0[1]), (bulge, p3[1]), p3, -5)


def _backward(
    source: _Box, dest: _Box, lane: float, leave_below: bool, enter_below: bool, trigger: str
) -> _Route:
    """Back to an earlier column, through a lane of its own under every row.

    A state with another below it is left (or entered) by its side rather than its bottom,
    so that the arc never runs through a box.
    """
    if leave_below:
        points = [(source.cx, source.bottom), (source.cx, lane)]
    else:
        side = source.right + 16
        points = [(source.right, source.cy), (side, source.cy), (side, lane)]
    if enter_below:
        points += [(dest.cx, lane), (dest.cx, dest.bottom)]
    else:
        side = dest.x - 16
        points += [(side, lane), (side, dest.cy), (dest.x, dest.cy)]
    start = points[1][0] if leave_below else points[2][0]
    end = points[-2][0]
    half = len(trigger) * _SMALL_CHAR / 2
    # Near the state it leaves, so one can tell which state offers it; centred if short.
    x = start - 12 - half if start - end > 2 * half + 40 else (start + end) / 2
    return _Route(_rounded(points), (x, lane + 4), tuple(points))


def svg(spec: WorkflowSpec, current: str | None = None) -> str:
    """A standalone, accessible SVG of the workflow, ``current`` state highlighted."""
    if current is not None and current not in {s.id for s in spec.states}:
        raise ValueError(f"unknown state {current!r} in workflow {spec.name}")
    arcs = _arcs(spec)
    place = _place(spec, arcs)
    boxes = place.boxes
    xs = [b.right for b in boxes.values()]
    ys = [b.bottom for b in boxes.values()]
    title = f"{spec.label} (version {spec.version})"
    xs.append(_LEFT + len(title) * 9.5)  # the heading is 16 px bold

    # Shorter backward jumps take the upper lanes, so lanes nest instead of crossing.
    backward = sorted(
        (i for i, (s, d, _t) in enumerate(arcs) if place.column[d] < place.column[s]),
        key=lambda i: (place.column[arcs[i][0]] - place.column[arcs[i][1]], i),
    )
    lanes = {i: place.floor + 30 + rank * 16 for rank, i in enumerate(backward)}

    arc_parts: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    for i, (source, dest, trigger) in enumerate(arcs):
        nth = seen.get((source, dest), 0)
        seen[(source, dest)] = nth + 1
        gap = place.column[dest] - place.column[source]
        if source == dest:
            route = _loop(boxes[source], nth)
        elif gap > 0:
            route = _forward(boxes[source], boxes[dest], nth)
        elif gap == 0:
            route = _beside(boxes[source], boxes[dest], nth)
        else:
            route = _backward(
                boxes[source],
                boxes[dest],
                lanes[i],
                source in place.lowest,
                dest in place.lowest,
                trigger,
            )
        lx, ly = route.label_at
        half = len(trigger) * _SMALL_CHAR / 2
        xs += [p[0] for p in route.extent] + [lx + half]
        ys += [p[1] for p in route.extent] + [ly + 4]
        arc_parts.append(
            f'<g class="transition" data-declencheur="{_esc(trigger)}">'
            f'<path class="arc" d="{route.d}" fill="none" stroke="{_LINE}" stroke-width="1.2" '
            f'marker-end="url(#fleche)" data-de="{_esc(source)}" data-vers="{_esc(dest)}"/>'
            f'<text x="{_n(lx)}" y="{_n(ly)}" font-size="{_SMALL}" '
            f'text-anchor="middle" fill="{_LINE}" stroke="#ffffff" stroke-width="3" '
            f'paint-order="stroke">{_esc(trigger)}</text></g>'
        )

    node_parts: list[str] = []
    for state in spec.states:
        box = boxes[state.id]
        here = state.id == current
        fill, ink = (_BLUE, "#ffffff") if here else (_PALE, _INK)
        attrs = ' aria-current="true"' if here else ""
        shapes = [
            f'<rect x="{_n(box.x)}" y="{_n(box.y)}" width="{_n(box.w)}" height="{_n(box.h)}" '
            f'rx="10" fill="{fill}" stroke="{_BLUE}" stroke-width="1.5"/>'
        ]
        if state.terminal:
            inner_stroke = "#ffffff" if here else _BLUE
            shapes.append(
                f'<rect x="{_n(box.x + 4)}" y="{_n(box.y + 4)}" width="{_n(box.w - 8)}" '
                f'height="{_n(box.h - 8)}" rx="7" fill="none" stroke="{inner_stroke}" '
                f'stroke-width="1"/>'
            )
        node_parts.append(
            f'<g class="etat{" terminal" if state.terminal else ""}{" courant" if here else ""}"'
            f' data-etat="{_esc(state.id)}"{attrs}>'
            + "".join(shapes)
            + f'<text x="{_n(box.cx)}" y="{_n(box.cy + _FONT * 0.35)}" font-size="{_FONT}" '
            f'text-anchor="middle" fill="{ink}">{_esc(state.label)}</text></g>'
        )

    start = boxes[spec.initial]
    width = max(xs) + _PAD
    height = max(ys) + _PAD
    label = f"Diagramme du workflow « {spec.label} », version {spec.version}"
    if current is not None:
        label += f", état courant : {spec.state(current).label}"
    lines = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(width)} {_n(height)}" '
        f'width="{_n(width)}" height="{_n(height)}" role="img" aria-label="{_esc(label)}" '
        f'font-family="Marianne, Arial, sans-serif">',
        f"<title>{_esc(title)}</title>",
        "<defs>"
        '<marker id="fleche" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        f'markerHeight="8" orient="auto"><polygon points="0,0 10,5 0,10" fill="{_LINE}"/>'
        "</marker></defs>",
        f'<rect x="0" y="0" width="{_n(width)}" height="{_n(height)}" fill="#ffffff"/>',
        f'<text x="{_n(_LEFT)}" y="32" font-size="16" font-weight="bold" fill="{_INK}">'
        f"{_esc(title)}</text>",
        f'<g class="debut"><circle cx="{_n(start.x - 40)}" cy="{_n(start.cy)}" r="6" '
        f'fill="{_INK}"/><line x1="{_n(start.x - 34)}" y1="{_n(start.cy)}" '
        f'x2="{_n(start.x)}" y2="{_n(start.cy)}" stroke="{_LINE}" stroke-width="1.2" '
        'marker-end="url(#fleche)"/></g>',
        *arc_parts,
        *node_parts,
        "</svg>",
    ]
    return "\n".join(lines) + "\n"
