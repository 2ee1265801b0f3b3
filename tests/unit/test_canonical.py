"""The canonical text of an official document reads back into the blocks it was written
from, whatever people typed in the names and titles it contains (signed as seen: the page
and the PDF lay out the stored text itself)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from workflow.documents.canonical import (
    Block,
    bullets,
    paragraph,
    parse,
    section,
    serialise,
    sha256,
    subsection,
    table,
    title,
)

typed = st.text(min_size=1, max_size=40).filter(lambda t: " ".join(t.split()) != "")
blocks = st.lists(
    st.one_of(
        typed.map(title),
        typed.map(section),
        typed.map(subsection),
        typed.map(paragraph),
        st.lists(typed, min_size=1, max_size=4).map(lambda items: bullets(*items)),
        st.tuples(st.integers(1, 4), st.integers(0, 3)).flatmap(
            lambda shape: st.lists(
                st.tuples(*[typed] * shape[0]), min_size=shape[1] + 1, max_size=shape[1] + 1
            ).map(lambda rows: table(rows[0], rows[1:]))
        ),
    ),
    min_size=1,
    max_size=8,
)


def test_a_document_reads_back_block_by_block() -> None:
    written = [
        title("Convention de formation"),
        paragraph("Objet : la présente convention…"),
        section("Plan de formation ENT"),
        table(("Date", "Durée"), [("2 mars 2027 à 14:00", "2 h")]),
        bullets("Formatrice 1 (f@example.org)", "Formateur 2"),
    ]
    text = serialise(written)
    assert text.startswith("# Convention de formation\n\n")
    assert "| Date | Durée |\n| 2 mars 2027 à 14:00 | 2 h |" in text
    assert parse(text) == written
    assert sha256(text) == sha256(serialise(parse(text)))


def test_typed_markup_cannot_forge_a_heading_or_a_cell() -> None:
    text = serialise([paragraph("# Avenant"), bullets("Nom | avec barre", "ligne\n## coupée")])
    [kept, items] = parse(text)
    assert kept == Block("paragraphe", ("# Avenant",))
    assert items.lines == ("Nom / avec barre", "ligne ## coupée")


@given(blocks)
def test_serialising_is_stable_through_a_reading(written: list[Block]) -> None:
    text = serialise(written)
    assert serialise(parse(text)) == text
    assert len(parse(text)) == len(written)
