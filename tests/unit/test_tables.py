"""Column names written on table cells, for the cards a table becomes on a phone."""

from __future__ import annotations

from api.pages.tables import label_cells


def test_each_cell_gets_its_column_name_escaped() -> None:
    rows = "<tr><td>a</td><td class='x'>b</td></tr><tr><td>c</td><td>d</td></tr>"
    out = label_cells(rows, ["Nom", "État <&>"])
    assert out == (
        '<tr><td data-label="Nom">a</td><td class=\'x\' data-label="État &lt;&amp;&gt;">b</td>'
        '</tr><tr><td data-label="Nom">c</td><td data-label="État &lt;&amp;&gt;">d</td></tr>'
    )


def test_row_headers_colspans_nested_tables_and_own_labels() -> None:
    rows = (
        '<tr><th scope="row">1</th><td colspan="2">large</td><td>fin</td></tr>'
        '<tr><th scope="row">2</th><td><table><tr><td>dedans</td></tr></table></td>'
        '<td data-label="Mien">x</td><td>y</td></tr>'
    )
    out = label_cells(rows, ["N°", "A", "B", "C"])
    assert '<td colspan="2" data-label="A">large</td><td data-label="C">fin</td>' in out
    assert "<td>dedans</td>" in out  # a table inside a cell is left alone
    assert '<td data-label="A"><table>' in out
    assert '<td data-label="Mien">x</td><td data-label="C">y</td>' in out
    assert '<th scope="row">1</th>' in out  # header cells need no label


def test_more_cells_than_headers_are_left_unlabelled() -> None:
    assert label_cells("<tr><td>a</td><td>b</td></tr>", ["Seul"]) == (
        '<tr><td data-label="Seul">a</td><td>b</td></tr>'
    )
