"""Column names on table cells, so that a table can become cards on a small screen.

A stacked table (``ff-cartes`` in ``api/static/formaflow.css``) shows each cell on its own
line, preceded by its column's header: CSS reads it from the cell's ``data-label``. The
page templates write plain ``<td>`` cells; ``label_cells`` adds the label of each cell's
column to the rows the ``ui.table`` macro wraps, so no template (and no new table) can
forget one. It reads our own, autoescaped markup — where ``>`` inside an attribute is
always ``&gt;`` — so a tag ends at the first ``>``; cells of a table nested in a cell are
left alone, and ``colspan`` moves the column count on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from markupsafe import Markup, escape

_TAG = re.compile(r"<(/?)(table|tr|td|th)\b([^>]*)>", re.IGNORECASE)
_SPAN = re.compile(r"""\bcolspan\s*=\s*["']?(\d+)""", re.IGNORECASE)


def label_cells(body: str, headers: Sequence[str]) -> Markup:
    """``body`` (table rows) with ``data-label="<header>"`` on every ``<td>`` that has none."""
    parts: list[str] = []
    position = 0
    nested = 0
    column = 0
    for tag in _TAG.finditer(body):
        closing, name, attributes = tag.group(1), tag.group(2).lower(), tag.group(3)
        if name == "table":
            nested += -1 if closing else 1
            continue
        if nested or closing:
            continue
        if name == "tr":
            column = 0
            continue
        if name == "td" and "data-label" not in attributes and column < len(headers):
            parts.append(body[position : tag.end() - 1])
            parts.append(f' data-label="{escape(headers[column])}">')
            position = tag.end()
        span = _SPAN.search(attributes)
        column += int(span.group(1)) if span else 1
    parts.append(body[position:])
    return Markup("".join(parts))  # noqa: S704 - our escaped markup, with escaped labels added
