"""The circuit of a workflow as an SVG picture, drawn to be read at the size it is shown.

The dossier page shows it at its own size (never shrunk to a column), so sizes here are
the sizes read: state names at 15 px, arrow labels at 14 px, in French (the transitions'
labels, « Émettre le contrat », never ``emettre_contrat``). There is no Graphviz on the
servers and the picture must also work as an ``<img>`` (no script), so the layout is
computed here, from the spec alone — the same spec always gives the same bytes:

- top to bottom along the **main path**: from the initial state, each time the next state
  from which the circuit goes on the longest (contract, scenario, training, bilan,
  payment), one row each, in the first column;
- every other state **beside** the state that leads to it, in the next free column of that
  row (« Scénario à réviser » beside « Scénario soumis au pilote »), the two arrows between
  them horizontal, their labels above and below;
- an action that keeps the state (a signature before the last one) is written inside the
  state's box, after « ↻ »;
- an action possible from every open state (« Annuler le dossier ») is drawn once, as a
  note and a dashed arrow into its destination, instead of one arrow per state;
- any other arrow runs in the gap between two rows, with its label on its own line there,
  so that no arrow crosses a box and no two labels share a line.

The current state is filled in blue, written in white and bold, and named in the picture's
accessible name.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from functools import lru_cache
from xml.sax.saxutils import escape as xml_escape

from states.spec import TransitionSpec, WorkflowSpec

STATE_FONT = 15
ARC_FONT = 14
"""The smallest text of the picture: the page test checks it is read at 14 px or more."""
_CHAR = 0.56
"""Average advance of a character per px of font size, for Arial / Liberation Sans (what an
``<img>`` falls back to: it cannot load the page's Marianne); errs on the wide side."""
_WRAP = 22
"""Characters per line of a state's name and of a side arrow's label."""
_STATE_LINE = 19.0
_ARC_LINE = 18.0
_MARGIN = 24.0
_TOP = 84.0
"""Room above the first row for the title and the start mark."""
_SLOT = 24.0
"""Height of one label line in the gap between two rows."""
_INK = "#161616"
_LINE = "#3a3a3a"
_BLUE = "#000091"
_PALE = "#f5f5fe"


def _n(value: float) -> str:
    """Coordinates with one decimal at most, so the output is stable and compact."""
    text = f"{round(value, 1):.1f}"
    return text[:-2] if text.endswith(".0") else text


def _esc(text: str) -> str:
    return xml_escape(text, {'"': "&quot;"})


def _wrap(text: str, width: int = _WRAP) -> list[str]:
    return textwrap.wrap(text, width, break_long_words=False) or [text]


def _width(line: str, size: float) -> float:
    return len(line) * size * _CHAR


Arc = tuple[str, str, TransitionSpec]


def in_place(transition: TransitionSpec) -> bool:
    """An action taken in many states without leaving them (an amendment to the contract):
    one line under the title, not the same loop written in every box."""
    return transition.reflexive and len(transition.sources) >= 3


def in_place_note(spec: WorkflowSpec, transition: TransitionSpec) -> list[str]:
    """« ↻ Établir un avenant au contrat : sans changer d'état, dans 10 états (de … à …) »,
    on lines about as wide as the circuit below them."""
    order = [s.id for s in spec.states]
    sources = sorted(transition.sources, key=order.index)
    first, last = spec.state(sources[0]).label, spec.state(sources[-1]).label
    text = (
        f"↻ {transition.label} : sans changer d'état, dans {len(sources)} états "
        f"(de « {first} » à « {last} »)"
    )
    return _wrap(text, 60)


def _notes_above(spec: WorkflowSpec) -> list[list[str]]:
    return [in_place_note(spec, t) for t in spec.transitions if in_place(t)]


def _top(spec: WorkflowSpec) -> float:
    """Room above the first row: the title, the in-place actions, the start mark."""
    lines = sum(len(note) for note in _notes_above(spec))
    return _TOP + lines * _ARC_LINE + (6 * len(_notes_above(spec)))


def everywhere(spec: WorkflowSpec, transition: TransitionSpec) -> bool:
    """A way out of every open state (cancelling): one note, not an arrow from each."""
    open_states = {s.id for s in spec.states if not s.terminal}
    return len(open_states) > 2 and open_states <= set(transition.sources)


@dataclass
class _Grid:
    """Where each state stands (row, column), found from the spec's arcs."""

    row: dict[str, int]
    column: dict[str, int]
    rows: int

    def at(self, row: int, column: int) -> str | None:
        for state, r in self.row.items():
            if r == row and self.column[state] == column:
                return state
        return None


def _grid(spec: WorkflowSpec, arcs: list[Arc], notes: list[TransitionSpec]) -> _Grid:
    following: dict[str, list[str]] = {s.id: [] for s in spec.states}
    for source, dest, _t in arcs:
        if dest != source and dest not in following[source]:
            following[source].append(dest)
    # Arrows that go back (to a state still being explored: a revision, a complement) are
    # set aside; the others form the circuit's forward flow, without cycles.
    onward: dict[str, list[str]] = {s.id: [] for s in spec.states}
    found: list[str] = []
    on_path: set[str] = set()

    def explore(state: str) -> None:
        found.append(state)
        on_path.add(state)
        for dest in following[state]:
            if dest in on_path:
                continue
            onward[state].append(dest)
            if dest not in found:
                explore(dest)
        on_path.discard(state)

    explore(spec.initial)
    height: dict[str, int] = {}

    def reach(state: str) -> int:
        if state not in height:
            height[state] = 1 + max((reach(d) for d in onward[state]), default=-1)
        return height[state]

    main = [spec.initial]
    while onward[main[-1]]:
        choices = onward[main[-1]]
        main.append(max(choices, key=lambda d: (reach(d), -choices.index(d))))
    row = {state: n for n, state in enumerate(main)}
    column = dict.fromkeys(main, 0)
    grid = _Grid(row, column, len(main))

    def place(state: str, at_row: int) -> None:
        """Beside ``at_row``'s state, else beside the next row's (an arrow one gap long),
        else further right."""
        rows = [at_row, at_row + 1] if at_row + 1 < grid.rows else [at_row]
        column = 1
        while True:
            for candidate in rows:
                if grid.at(candidate, column) is None:
                    grid.row[state], grid.column[state] = candidate, column
                    return
            column += 1

    for state in found:
        if state in row:
            continue
        anchor = next(s for s, d, _t in arcs if d == state and s in row and s != state)
        place(state, row[anchor])
    for transition in notes:
        if transition.dest not in row:
            place(transition.dest, grid.rows - 1)
    for unreached in spec.states:
        if unreached.id not in row:
            grid.row[unreached.id], grid.column[unreached.id] = grid.rows, 0
            grid.rows += 1
    return grid


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


@dataclass
class _Label:
    lines: list[str]
    x: float
    y: float
    """Baseline of the first line."""
    anchor: str = "start"


@dataclass
class _Drawn:
    source: str
    dest: str
    transition: TransitionSpec
    points: list[tuple[float, float]]
    label: _Label | None
    dashed: bool = False
    extra_class: str = ""


@dataclass
class _Gap:
    """The space between row ``n`` and row ``n + 1``: one line per label it holds."""

    slots: int = 0
    top: float = 0.0

    def take(self) -> int:
        self.slots += 1
        return self.slots - 1

    def baseline(self, slot: int) -> float:
        return self.top + 8 + slot * _SLOT + ARC_FONT

    def lane(self, slot: int) -> float:
        """The y of an arrow's horizontal run on ``slot``: just under its label."""
        return self.baseline(slot) + 6


@dataclass
class _Sheet:
    boxes: dict[str, _Box] = field(default_factory=dict)
    loops: dict[str, list[TransitionSpec]] = field(default_factory=dict)
    drawn: list[_Drawn] = field(default_factory=list)


def _rounded(points: list[tuple[float, float]], radius: float = 6) -> str:
    """An orthogonal polyline, corners rounded (quadratic curves)."""
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


def _length(a: tuple[float, float], b: tuple[float, float]) -> float:
    return abs(a[0] - b[0]) + abs(a[1] - b[1])


def _towards(
    origin: tuple[float, float], target: tuple[float, float], distance: float
) -> tuple[float, float]:
    span = _length(origin, target) or 1.0
    return (
        origin[0] + (target[0] - origin[0]) * distance / span,
        origin[1] + (target[1] - origin[1]) * distance / span,
    )


def _layout(spec: WorkflowSpec) -> tuple[_Sheet, float, float]:
    notes = [t for t in spec.transitions if everywhere(spec, t)]
    arcs: list[Arc] = list(
        dict.fromkeys(
            (s, d, t) for s, d, t in spec.edges() if not everywhere(spec, t) and not in_place(t)
        )
    )
    grid = _grid(spec, arcs, notes)
    sheet = _Sheet()
    for source, dest, transition in arcs:
        if source == dest:
            sheet.loops.setdefault(source, []).append(transition)

    # Kinds of arrows, by where their ends stand.
    beside: list[Arc] = []
    spine: list[Arc] = []
    routed: list[Arc] = []
    for arc in arcs:
        source, dest, _t = arc
        if source == dest:
            continue
        same_row = grid.row[source] == grid.row[dest]
        if same_row and abs(grid.column[source] - grid.column[dest]) == 1:
            beside.append(arc)
        elif grid.column[source] == grid.column[dest] and grid.row[dest] == grid.row[source] + 1:
            spine.append(arc)
        else:
            routed.append(arc)

    # Widths: columns fit their states' names, gaps between columns fit the labels of the
    # arrows that cross them.
    columns = max(grid.column.values()) + 1
    width = [150.0] * columns
    for state in spec.states:
        lines = _wrap(state.label) + [
            f"↻ {line}" for t in sheet.loops.get(state.id, []) for line in _wrap(t.label)
        ]
        longest = max(_width(line, STATE_FONT) for line in lines)
        width[grid.column[state.id]] = max(width[grid.column[state.id]], longest + 28)
    between = [48.0] * columns
    for source, dest, transition in beside:
        left = min(grid.column[source], grid.column[dest])
        longest = max(_width(line, ARC_FONT) for line in _wrap(transition.label))
        between[left] = max(between[left], longest + 24)
    xs = [_MARGIN + 12]
    for c in range(1, columns):
        xs.append(xs[c - 1] + width[c - 1] + between[c - 1])

    # Heights: each row as tall as its tallest box and the side labels above and below it.
    box_h = {}
    for state in spec.states:
        name_lines = len(_wrap(state.label))
        loop_lines = sum(len(_wrap(t.label)) for t in sheet.loops.get(state.id, []))
        box_h[state.id] = 16 + name_lines * _STATE_LINE + loop_lines * _ARC_LINE
    half = [0.0] * grid.rows
    for state in spec.states:
        r = grid.row[state.id]
        half[r] = max(half[r], box_h[state.id] / 2 + 10)
    for source, _dest, transition in beside:
        needed = 7 + 6 + len(_wrap(transition.label)) * _ARC_LINE + 4
        r = grid.row[source]
        half[r] = max(half[r], needed)

    # Label lines in the gaps between rows: one per arrow that runs there. In a gap, an
    # arrow coming down from the row above takes the top lines and one going up from the
    # row below the bottom lines, so that their vertical runs cross no other label.
    gaps = [_Gap() for _ in range(grid.rows)]
    wanted: list[tuple[int, int, object]] = []
    """(gap, order in the gap, what the line is for)."""
    for arc in routed:
        rs, rd = grid.row[arc[0]], grid.row[arc[1]]
        if rd > rs:
            wanted.append((rd - 1, 0, arc))
            if rd > rs + 1:
                wanted.append((rs, 0, ("détour", arc)))
        elif rd < rs:
            wanted.append((rd, 2, arc))
            if rd < rs - 1:
                wanted.append((rs - 1, 2, ("détour", arc)))
        else:
            wanted.append((rs, 0, arc))
    for arc in spine:
        wanted.append((grid.row[arc[0]], 1, arc))
    for transition in notes:
        wanted.append((grid.row[transition.dest] - 1, 1, transition))
        wanted.append((grid.row[transition.dest] - 1, 1, ("suite", transition)))
    slot_of: dict[object, tuple[int, int]] = {}
    """What each line is for → (gap, line)."""
    for gap, _order, what in sorted(wanted, key=lambda w: (w[0], w[1])):
        slot_of[what] = (gap, gaps[gap].take())

    y = _top(spec)
    centre = [0.0] * grid.rows
    for r in range(grid.rows):
        centre[r] = y + half[r]
        y += 2 * half[r]
        gaps[r].top = y
        y += max(28.0, 16 + gaps[r].slots * _SLOT) if r < grid.rows - 1 or gaps[r].slots else 0
    bottom = y

    for state in spec.states:
        c, r, h = grid.column[state.id], grid.row[state.id], box_h[state.id]
        sheet.boxes[state.id] = _Box(xs[c], centre[r] - h / 2, width[c], h)
    boxes = sheet.boxes
    right_edge = max(b.right for b in boxes.values())

    for source, dest, transition in spine:
        a, b = boxes[source], boxes[dest]
        x = a.x + 22
        gap, slot = slot_of[(source, dest, transition)]
        label = _Label(_wrap(transition.label, 60), x + 10, gaps[gap].baseline(slot))
        sheet.drawn.append(_Drawn(source, dest, transition, [(x, a.bottom), (x, b.y)], label))

    for source, dest, transition in beside:
        a, b = boxes[source], boxes[dest]
        lines = _wrap(transition.label)
        if grid.column[dest] > grid.column[source]:
            y_arc = a.cy - 7
            points = [(a.right, y_arc), (b.x, y_arc)]
            first = y_arc - 6 - (len(lines) - 1) * _ARC_LINE
        else:
            y_arc = a.cy + 7
            points = [(a.x, y_arc), (b.right, y_arc)]
            first = y_arc + 6 + ARC_FONT
        middle = (min(a.right, b.right) + max(a.x, b.x)) / 2
        label = _Label(lines, middle, first, "middle")
        sheet.drawn.append(_Drawn(source, dest, transition, points, label))

    corridor = right_edge + 28
    for n, arc in enumerate(routed):
        source, dest, transition = arc
        a, b = boxes[source], boxes[dest]
        rs, rd = grid.row[source], grid.row[dest]
        gap, slot = slot_of[arc]
        lane = gaps[gap].lane(slot)
        start_x = a.right - 18
        # Down into a box right of its middle, up into one left of it: two arrows between
        # the same two rows never share a run.
        end_x = b.cx - 14 if rd < rs else b.cx + 14
        if rd > rs:
            points = [(start_x, a.bottom)]
            if ("détour", arc) in slot_of:
                first = gaps[rs].lane(slot_of[("détour", arc)][1])
                points += [(start_x, first), (corridor + n * 14, first)]
                points += [(corridor + n * 14, lane)]
            else:
                points += [(start_x, lane)]
            points += [(end_x, lane), (end_x, b.y)]
        elif rd < rs:
            points = [(start_x, a.y)]
            if ("détour", arc) in slot_of:
                first = gaps[rs - 1].lane(slot_of[("détour", arc)][1])
                points += [(start_x, first), (corridor + n * 14, first)]
                points += [(corridor + n * 14, lane)]
            else:
                points += [(start_x, lane)]
            points += [(end_x, lane), (end_x, b.bottom)]
        else:
            points = [(start_x, a.bottom), (start_x, lane), (end_x, lane), (end_x, b.bottom)]
        run_left = min(points[-3][0], points[-2][0])
        label = _Label([transition.label], run_left + 8, gaps[gap].baseline(slot))
        sheet.drawn.append(_Drawn(source, dest, transition, points, label))

    for transition in notes:
        gap, slot = slot_of[transition]
        b = boxes[transition.dest]
        x = b.x + 18
        label = _Label(
            [transition.label, "(depuis tout état non terminal)"],
            x + 10,
            gaps[gap].baseline(slot),
        )
        sheet.drawn.append(
            _Drawn(
                " ".join(transition.sources),
                transition.dest,
                transition,
                [(x, gaps[gap].baseline(slot) - ARC_FONT), (x, b.y)],
                label,
                dashed=True,
            )
        )

    extent = [right_edge + 20]
    extent += [_MARGIN + _width(line, ARC_FONT) for note in _notes_above(spec) for line in note]
    for drawn in sheet.drawn:
        extent += [p[0] + 10 for p in drawn.points]
        if drawn.label is not None:
            longest = max(_width(line, ARC_FONT) for line in drawn.label.lines)
            shift = longest / 2 if drawn.label.anchor == "middle" else longest
            extent.append(drawn.label.x + shift)
    return sheet, max(extent) + _MARGIN, bottom + _MARGIN


@lru_cache(maxsize=64)
def size(spec: WorkflowSpec) -> tuple[int, int]:
    """The picture's width and height in px, for the page's ``<img width height>``: the
    same for every current state, since marking it changes no position."""
    _sheet, width, height = _layout(spec)
    title = f"{spec.label} (version {spec.version})"
    width = max(width, _MARGIN + _width(title, 17) + _MARGIN)
    return round(width + 0.5), round(height + 0.5)


def _text(lines: list[str], x: float, y: float, size: float, step: float, **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    spans = "".join(
        f'<tspan x="{_n(x)}" y="{_n(y + i * step)}">{_esc(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return f'<text font-size="{size}"{extra}>{spans}</text>'


def _in_place_parts(spec: WorkflowSpec) -> list[str]:
    parts, y = [], 58.0
    for transition in (t for t in spec.transitions if in_place(t)):
        lines = in_place_note(spec, transition)
        parts.append(
            f'<g class="transition boucle partout" data-declencheur="{_esc(transition.trigger)}" '
            f'data-de="{_esc(" ".join(transition.sources))}" data-vers="=">'
            + _text(lines, _MARGIN, y, ARC_FONT, _ARC_LINE, fill=_INK)
            + "</g>"
        )
        y += len(lines) * _ARC_LINE + 6
    return parts


def svg(spec: WorkflowSpec, current: str | None = None) -> str:
    """A standalone, accessible SVG of the workflow, ``current`` state highlighted."""
    if current is not None and current not in {s.id for s in spec.states}:
        raise ValueError(f"unknown state {current!r} in workflow {spec.name}")
    sheet, _width_drawn, _height_drawn = _layout(spec)
    boxes = sheet.boxes
    title = f"{spec.label} (version {spec.version})"
    width, height = size(spec)

    arc_parts = []
    for drawn in sheet.drawn:
        dash = ' stroke-dasharray="6 4"' if drawn.dashed else ""
        parts = [
            f'<g class="transition{" partout" if drawn.dashed else ""}" '
            f'data-declencheur="{_esc(drawn.transition.trigger)}" '
            f'data-de="{_esc(drawn.source)}" data-vers="{_esc(drawn.dest)}">',
            f'<path class="arc" d="{_rounded(drawn.points)}" fill="none" stroke="{_LINE}" '
            f'stroke-width="1.4"{dash} marker-end="url(#fleche)"/>',
        ]
        if drawn.label is not None:
            label = drawn.label
            parts.append(
                _text(
                    label.lines,
                    label.x,
                    label.y,
                    ARC_FONT,
                    _ARC_LINE,
                    text_anchor=label.anchor,
                    fill=_INK,
                    stroke="#ffffff",
                    stroke_width="4",
                    paint_order="stroke",
                    stroke_linejoin="round",
                )
            )
        parts.append("</g>")
        arc_parts.append("".join(parts))

    node_parts = []
    for state in spec.states:
        box = boxes[state.id]
        here = state.id == current
        fill, ink = (_BLUE, "#ffffff") if here else (_PALE, _INK)
        shapes = [
            f'<rect x="{_n(box.x)}" y="{_n(box.y)}" width="{_n(box.w)}" height="{_n(box.h)}" '
            f'rx="8" fill="{fill}" stroke="{_BLUE}" stroke-width="{2.5 if here else 1.5}"/>'
        ]
        if state.terminal:
            inner = "#ffffff" if here else _BLUE
            shapes.append(
                f'<rect x="{_n(box.x + 4)}" y="{_n(box.y + 4)}" width="{_n(box.w - 8)}" '
                f'height="{_n(box.h - 8)}" rx="5" fill="none" stroke="{inner}" '
                'stroke-width="1"/>'
            )
        lines = _wrap(state.label)
        weight = {"font_weight": "bold"} if here else {}
        shapes.append(
            _text(
                lines,
                box.cx,
                box.y + 8 + STATE_FONT,
                STATE_FONT,
                _STATE_LINE,
                text_anchor="middle",
                fill=ink,
                **weight,
            )
        )
        y = box.y + 8 + STATE_FONT + len(lines) * _STATE_LINE - 2
        for transition in sheet.loops.get(state.id, []):
            loop_lines = _wrap(transition.label)
            shapes.append(
                f'<g class="transition boucle" data-declencheur="{_esc(transition.trigger)}" '
                f'data-de="{_esc(state.id)}" data-vers="{_esc(state.id)}">'
                + _text(
                    [f"↻ {line}" if i == 0 else line for i, line in enumerate(loop_lines)],
                    box.cx,
                    y,
                    ARC_FONT,
                    _ARC_LINE,
                    text_anchor="middle",
                    fill=ink,
                )
                + "</g>"
            )
            y += len(loop_lines) * _ARC_LINE
        attrs = ' aria-current="true"' if here else ""
        node_parts.append(
            f'<g class="etat{" terminal" if state.terminal else ""}{" courant" if here else ""}"'
            f' data-etat="{_esc(state.id)}"{attrs}>' + "".join(shapes) + "</g>"
        )

    start = boxes[spec.initial]
    spine_x = start.x + 22
    name = f"Diagramme du workflow « {spec.label} », version {spec.version}"
    if current is not None:
        name += f", état courant : {spec.state(current).label}"
    lines = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(width)} {_n(height)}" '
        f'width="{_n(width)}" height="{_n(height)}" role="img" aria-label="{_esc(name)}" '
        f'font-family="Marianne, Arial, sans-serif">',
        f"<title>{_esc(title)}</title>",
        "<defs>"
        '<marker id="fleche" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        f'markerHeight="8" orient="auto-start-reverse"><polygon points="0,0 10,5 0,10" '
        f'fill="{_LINE}"/></marker></defs>',
        f'<rect x="0" y="0" width="{_n(width)}" height="{_n(height)}" fill="#ffffff"/>',
        f'<text x="{_n(_MARGIN)}" y="30" font-size="17" font-weight="bold" fill="{_INK}">'
        f"{_esc(title)}</text>",
        *_in_place_parts(spec),
        f'<g class="debut"><circle cx="{_n(spine_x)}" cy="{_n(start.y - 28)}" r="6" '
        f'fill="{_INK}"/><line x1="{_n(spine_x)}" y1="{_n(start.y - 22)}" '
        f'x2="{_n(spine_x)}" y2="{_n(start.y)}" stroke="{_LINE}" stroke-width="1.4" '
        'marker-end="url(#fleche)"/></g>',
        *arc_parts,
        *node_parts,
        "</svg>",
    ]
    return "\n".join(lines) + "\n"
