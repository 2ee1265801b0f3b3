"""Where each state and arrow of a workflow's picture stands: the layout, from the spec alone.

There is no Graphviz on the servers and the picture must also work as an ``<img>`` (no
script), so positions are computed here, in px at the sizes read (``diagram_svg`` draws
them) — the same spec always gives the same layout:

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
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from functools import lru_cache

from states.spec import TransitionSpec, WorkflowSpec

STATE_FONT = 15
ARC_FONT = 14
"""The smallest text of the picture: the page test checks it is read at 14 px or more."""
_CHAR = 0.56
"""Average advance of a character per px of font size, for Arial / Liberation Sans (what an
``<img>`` falls back to: it cannot load the page's Marianne); errs on the wide side."""
_WRAP = 22
"""Characters per line of a state's name and of a side arrow's label."""
STATE_LINE = 19.0
ARC_LINE = 18.0
MARGIN = 24.0
_TOP = 84.0
"""Room above the first row for the title and the start mark."""
_SLOT = 24.0
"""Height of one label line in the gap between two rows."""


def wrap(text: str, width: int = _WRAP) -> list[str]:
    return textwrap.wrap(text, width, break_long_words=False) or [text]


def text_width(line: str, size: float) -> float:
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
    return wrap(text, 60)


def _notes_above(spec: WorkflowSpec) -> list[list[str]]:
    return [in_place_note(spec, t) for t in spec.transitions if in_place(t)]


def _top(spec: WorkflowSpec) -> float:
    """Room above the first row: the title, the in-place actions, the start mark."""
    lines = sum(len(note) for note in _notes_above(spec))
    return _TOP + lines * ARC_LINE + (6 * len(_notes_above(spec)))


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
class Box:
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
class Label:
    lines: list[str]
    x: float
    y: float
    """Baseline of the first line."""
    anchor: str = "start"


@dataclass
class Drawn:
    source: str
    dest: str
    transition: TransitionSpec
    points: list[tuple[float, float]]
    label: Label | None
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
class Sheet:
    boxes: dict[str, Box] = field(default_factory=dict)
    loops: dict[str, list[TransitionSpec]] = field(default_factory=dict)
    drawn: list[Drawn] = field(default_factory=list)


def layout(spec: WorkflowSpec) -> tuple[Sheet, float, float]:
    """Every box, every arrow's points and label, and the width and height they cover."""
    notes = [t for t in spec.transitions if everywhere(spec, t)]
    arcs: list[Arc] = list(
        dict.fromkeys(
            (s, d, t) for s, d, t in spec.edges() if not everywhere(spec, t) and not in_place(t)
        )
    )
    grid = _grid(spec, arcs, notes)
    sheet = Sheet()
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
        lines = wrap(state.label) + [
            f"↻ {line}" for t in sheet.loops.get(state.id, []) for line in wrap(t.label)
        ]
        longest = max(text_width(line, STATE_FONT) for line in lines)
        width[grid.column[state.id]] = max(width[grid.column[state.id]], longest + 28)
    between = [48.0] * columns
    for source, dest, transition in beside:
        left = min(grid.column[source], grid.column[dest])
        longest = max(text_width(line, ARC_FONT) for line in wrap(transition.label))
        between[left] = max(between[left], longest + 24)
    xs = [MARGIN + 12]
    for c in range(1, columns):
        xs.append(xs[c - 1] + width[c - 1] + between[c - 1])

    # Heights: each row as tall as its tallest box and the side labels above and below it.
    box_h = {}
    for state in spec.states:
        name_lines = len(wrap(state.label))
        loop_lines = sum(len(wrap(t.label)) for t in sheet.loops.get(state.id, []))
        box_h[state.id] = 16 + name_lines * STATE_LINE + loop_lines * ARC_LINE
    half = [0.0] * grid.rows
    for state in spec.states:
        r = grid.row[state.id]
        half[r] = max(half[r], box_h[state.id] / 2 + 10)
    for source, _dest, transition in beside:
        needed = 7 + 6 + len(wrap(transition.label)) * ARC_LINE + 4
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
        sheet.boxes[state.id] = Box(xs[c], centre[r] - h / 2, width[c], h)
    boxes = sheet.boxes
    right_edge = max(b.right for b in boxes.values())

    for source, dest, transition in spine:
        a, b = boxes[source], boxes[dest]
        x = a.x + 22
        gap, slot = slot_of[(source, dest, transition)]
        label = Label(wrap(transition.label, 60), x + 10, gaps[gap].baseline(slot))
        sheet.drawn.append(Drawn(source, dest, transition, [(x, a.bottom), (x, b.y)], label))

    for source, dest, transition in beside:
        a, b = boxes[source], boxes[dest]
        lines = wrap(transition.label)
        if grid.column[dest] > grid.column[source]:
            y_arc = a.cy - 7
            points = [(a.right, y_arc), (b.x, y_arc)]
            first = y_arc - 6 - (len(lines) - 1) * ARC_LINE
        else:
            y_arc = a.cy + 7
            points = [(a.x, y_arc), (b.right, y_arc)]
            first = y_arc + 6 + ARC_FONT
        middle = (min(a.right, b.right) + max(a.x, b.x)) / 2
        label = Label(lines, middle, first, "middle")
        sheet.drawn.append(Drawn(source, dest, transition, points, label))

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
        label = Label([transition.label], run_left + 8, gaps[gap].baseline(slot))
        sheet.drawn.append(Drawn(source, dest, transition, points, label))

    for transition in notes:
        gap, slot = slot_of[transition]
        b = boxes[transition.dest]
        x = b.x + 18
        label = Label(
            [transition.label, "(depuis tout état non terminal)"],
            x + 10,
            gaps[gap].baseline(slot),
        )
        sheet.drawn.append(
            Drawn(
                " ".join(transition.sources),
                transition.dest,
                transition,
                [(x, gaps[gap].baseline(slot) - ARC_FONT), (x, b.y)],
                label,
                dashed=True,
            )
        )

    extent = [right_edge + 20]
    extent += [MARGIN + text_width(line, ARC_FONT) for note in _notes_above(spec) for line in note]
    for drawn in sheet.drawn:
        extent += [p[0] + 10 for p in drawn.points]
        if drawn.label is not None:
            longest = max(text_width(line, ARC_FONT) for line in drawn.label.lines)
            shift = longest / 2 if drawn.label.anchor == "middle" else longest
            extent.append(drawn.label.x + shift)
    return sheet, max(extent) + MARGIN, bottom + MARGIN


@lru_cache(maxsize=64)
def size(spec: WorkflowSpec) -> tuple[int, int]:
    """The picture's width and height in px, for the page's ``<img width height>``: the
    same for every current state, since marking it changes no position."""
    _sheet, width, height = layout(spec)
    title = f"{spec.label} (version {spec.version})"
    width = max(width, MARGIN + text_width(title, 17) + MARGIN)
    return round(width + 0.5), round(height + 0.5)
