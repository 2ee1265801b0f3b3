"""Diagrams of a workflow spec: Mermaid (Markdown, the web), Graphviz DOT, and plain SVG
(``workflow.reads.diagram_svg``, the picture the dossier page shows).

Generated from the spec itself, so a diagram can never disagree with what the engine does.
Arrows carry the transitions' French labels (« Émettre le contrat »), which people read;
the identifiers stay in the states' ids and the SVG's data attributes.
"""

from __future__ import annotations

from states.spec import WorkflowSpec
from workflow.reads.diagram_svg import svg

__all__ = ["dot", "mermaid", "svg"]


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _arcs(spec: WorkflowSpec) -> list[tuple[str, str, str]]:
    """Distinct (source, destination, label) arcs, in spec order."""
    return list(dict.fromkeys((s, d, t.label) for s, d, t in spec.edges()))


def mermaid(spec: WorkflowSpec, current: str | None = None) -> str:
    lines = ["stateDiagram-v2", f"    %% {spec.label} — {spec.name} v{spec.version}"]
    for state in spec.states:
        lines.append(f'    state "{_quote(state.label)}" as {state.id}')
    lines.append(f"    [*] --> {spec.initial}")
    for source, dest, label in _arcs(spec):
        lines.append(f"    {source} --> {dest}: {label.replace(':', ' -')}")
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
        "    rankdir=TB;",
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
    for source, dest, label in _arcs(spec):
        lines.append(f'    {source} -> {dest} [label="{_quote(label)}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"
