"""The canonical text of an official document: what is shown, hashed and signed.

A document is a list of blocks (title, heading, paragraph, bullet list, table) written as
plain UTF-8 text with a few line markers (``# ``, ``## ``, ``### ``, ``- ``, ``| … |``).
That text is the one thing that is stored, hashed (SHA-256) and signed; the contract page
and the PDF parse the *stored* text back into blocks to lay it out, so what a signatory
reads is the text behind the hash, word for word, never a second rendering of the data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

BlockKind = Literal["titre", "section", "sous_section", "paragraphe", "liste", "tableau"]


@dataclass(frozen=True, slots=True)
class Block:
    kind: BlockKind
    lines: tuple[str, ...] = ()
    """One line for titles and paragraphs, one per item for lists."""
    rows: tuple[tuple[str, ...], ...] = ()
    """Tables: the header row first."""


def title(text: str) -> Block:
    return Block("titre", (text,))


def section(text: str) -> Block:
    return Block("section", (text,))


def subsection(text: str) -> Block:
    return Block("sous_section", (text,))


def paragraph(text: str) -> Block:
    return Block("paragraphe", (text,))


def bullets(*items: str) -> Block:
    return Block("liste", tuple(items))


def table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> Block:
    return Block("tableau", rows=(header, *rows))


_PREFIX = {"titre": "# ", "section": "## ", "sous_section": "### "}


def _clean(value: str) -> str:
    """One line, no marker confusion: newlines and cell separators typed by people become
    spaces, so a title cannot open a section nor a name split a table cell."""
    return " ".join(value.replace("|", "/").split())


def serialise(blocks: list[Block]) -> str:
    parts: list[str] = []
    for block in blocks:
        if block.kind in _PREFIX:
            parts.append(_PREFIX[block.kind] + _clean(block.lines[0]))
        elif block.kind == "paragraphe":
            text = _clean(block.lines[0])
            # A paragraph starting like a marker would be read back as that marker.
            if text.startswith(("#", "- ", "|")):
                text = "\u00a0" + text
            parts.append(text)
        elif block.kind == "liste":
            parts.append("\n".join("- " + _clean(item) for item in block.lines))
        else:
            parts.append(
                "\n".join("| " + " | ".join(_clean(c) for c in row) + " |" for row in block.rows)
            )
    return "\n\n".join(parts) + "\n"


def parse(text: str) -> list[Block]:
    """Blocks back from a stored text (the inverse of ``serialise``)."""
    blocks: list[Block] = []
    for chunk in text.strip("\n").split("\n\n"):
        lines = chunk.split("\n")
        first = lines[0]
        if first.startswith("### "):
            blocks.append(subsection(first[4:]))
        elif first.startswith("## "):
            blocks.append(section(first[3:]))
        elif first.startswith("# "):
            blocks.append(title(first[2:]))
        elif first.startswith("- "):
            blocks.append(Block("liste", tuple(line[2:] for line in lines)))
        elif first.startswith("| "):
            rows = tuple(tuple(c.strip() for c in line[2:-2].split(" | ")) for line in lines)
            blocks.append(Block("tableau", rows=rows))
        else:
            blocks.append(paragraph(chunk.removeprefix("\u00a0")))
    return blocks


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
