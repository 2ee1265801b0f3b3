"""The circuit of a workflow as an SVG picture, drawn to be read at the size it is shown.

The dossier page shows it at its own size (never shrunk to a column), so sizes here are
the sizes read: state names at 15 px, arrow labels at 14 px, in French (the transitions'
labels, « Émettre le contrat », never ``emettre_contrat``). There is no Graphviz on the
servers and the picture must also work as an ``<img>`` (no script): where each box and
arrow stands is computed from the spec alone (``workflow.reads.diagram_layout``, which says
how), and drawn here — the same spec always gives the same bytes.

The current state is filled in blue, written in white and bold, and named in the picture's
accessible name.
"""

from __future__ import annotations

from xml.sax.saxutils import escape as xml_escape

from states.spec import WorkflowSpec
from workflow.reads.diagram_layout import (
    ARC_FONT,
    ARC_LINE,
    MARGIN,
    STATE_FONT,
    STATE_LINE,
    everywhere,
    in_place,
    in_place_note,
    layout,
    size,
    wrap,
)

# Callers import the sizes and the layout's answers from here, beside ``svg``.
__all__ = ["ARC_FONT", "STATE_FONT", "everywhere", "size", "svg"]

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
            + _text(lines, MARGIN, y, ARC_FONT, ARC_LINE, fill=_INK)
            + "</g>"
        )
        y += len(lines) * ARC_LINE + 6
    return parts


def svg(spec: WorkflowSpec, current: str | None = None) -> str:
    """A standalone, accessible SVG of the workflow, ``current`` state highlighted."""
    if current is not None and current not in {s.id for s in spec.states}:
        raise ValueError(f"unknown state {current!r} in workflow {spec.name}")
    sheet, _width_drawn, _height_drawn = layout(spec)
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
                    ARC_LINE,
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
        lines = wrap(state.label)
        weight = {"font_weight": "bold"} if here else {}
        shapes.append(
            _text(
                lines,
                box.cx,
                box.y + 8 + STATE_FONT,
                STATE_FONT,
                STATE_LINE,
                text_anchor="middle",
                fill=ink,
                **weight,
            )
        )
        y = box.y + 8 + STATE_FONT + len(lines) * STATE_LINE - 2
        for transition in sheet.loops.get(state.id, []):
            loop_lines = wrap(transition.label)
            shapes.append(
                f'<g class="transition boucle" data-declencheur="{_esc(transition.trigger)}" '
                f'data-de="{_esc(state.id)}" data-vers="{_esc(state.id)}">'
                + _text(
                    [f"↻ {line}" if i == 0 else line for i, line in enumerate(loop_lines)],
                    box.cx,
                    y,
                    ARC_FONT,
                    ARC_LINE,
                    text_anchor="middle",
                    fill=ink,
                )
                + "</g>"
            )
            y += len(loop_lines) * ARC_LINE
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
        f'<text x="{_n(MARGIN)}" y="30" font-size="17" font-weight="bold" fill="{_INK}">'
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
