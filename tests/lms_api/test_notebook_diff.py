"""The notebook diff on its own (no app): which cells count as unchanged, changed, added or
removed, and that a big output is cut rather than compared whole."""

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from lms_api.portal.notebook_diff import MAX_LINES, diff_notebooks


def raw(*cells) -> bytes:
    return nbformat.writes(new_notebook(cells=list(cells))).encode()


def kinds(diff) -> list[tuple[str, str]]:
    return [(cell.kind, cell.cell_type) for cell in diff.cells]


def test_a_line_added_to_a_short_cell_is_a_change_not_a_new_cell():
    old = raw(new_markdown_cell("# Sales by region\n<img src=x onerror=alert(1)>"))
    new = raw(new_markdown_cell("# Sales by region"))
    diff = diff_notebooks(old, new)
    assert kinds(diff) == [("changed", "markdown")]
    assert [(line.mark, line.text) for line in diff.cells[0].source] == [
        (" ", "# Sales by region"),
        ("-", "<img src=x onerror=alert(1)>"),
    ]


def test_cells_keep_their_place_and_unlike_cells_are_removed_and_added():
    old = raw(
        new_markdown_cell("# Title"),
        new_code_cell("x = load()\nx.groupby('region').sum()"),
        new_code_cell("print('bye')"),
    )
    new = raw(
        new_markdown_cell("# Title"),
        new_code_cell("x = load()\nx.groupby('month').sum()"),
        new_markdown_cell("A note on the chart"),
    )
    diff = diff_notebooks(old, new)
    assert kinds(diff) == [
        ("unchanged", "markdown"),
        ("changed", "code"),
        ("removed", "code"),
        ("added", "markdown"),
    ]
    assert (diff.count("changed"), diff.count("added"), diff.count("removed")) == (1, 1, 1)


def test_text_outputs_are_diffed_and_rich_outputs_only_named():
    def cell(text: str, html: str):
        return new_code_cell(
            "report()",
            outputs=[
                new_output("stream", name="stdout", text=text),
                new_output("display_data", data={"text/html": html, "text/plain": "r"}),
            ],
        )

    diff = diff_notebooks(
        raw(cell("total 10\n", "<b>10</b>")), raw(cell("total 12\n", "<b>12</b>"))
    )
    [changed] = diff.cells
    assert changed.kind == "changed"
    assert ("-", "total 10") in [(line.mark, line.text) for line in changed.outputs]
    assert ("+", "total 12") in [(line.mark, line.text) for line in changed.outputs]
    assert changed.rich_changed == ["text/html"]


def test_a_huge_cell_is_cut_and_said_so():
    long_source = "\n".join(f"row_{n} = {n}" for n in range(MAX_LINES * 2))
    diff = diff_notebooks(raw(new_code_cell("a = 1")), raw(new_code_cell(long_source)))
    assert any(cell.cut for cell in diff.cells)
    assert sum(len(cell.source) for cell in diff.cells) <= MAX_LINES + 1
