"""Two versions of a student's notebook compared cell by cell, for the trainer.

Cells are matched on their type and source (difflib), so a cell moved with others stays
"unchanged"; among cells that no longer match, a cell similar enough to one in the other
version is "changed" (its source shown as a line diff), the rest "removed" or "added". Outputs
are compared too: text outputs as a line diff, images and HTML only as "changed" (they are
never shown here). Nothing here is HTML: the page escapes every line, it is the student's.
Big notebooks are cut (cells, lines, characters) so a diff stays quick.
"""

import hashlib
import json
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from lms_api.portal.notebook_html import NotANotebook

MAX_CELLS = 500
MAX_LINES = 2_000
MAX_CHARS = 100_000
SIMILAR = 0.5  # two cells this alike (difflib ratio) are one cell changed, not two
COMPARED = 2_000  # characters of each source compared for that
LOOK_AHEAD = 20  # new cells searched for one like an old cell


@dataclass(frozen=True)
class Line:
    """One line of a line diff: " " the same, "-" only in the old, "+" only in the new."""

    mark: str
    text: str


@dataclass
class CellDiff:
    """One cell's fate between the two versions."""

    kind: str  # "unchanged" | "changed" | "added" | "removed"
    cell_type: str
    old_index: int | None  # 1-based position in each version
    new_index: int | None
    source: list[Line] = field(default_factory=list)
    outputs: list[Line] = field(default_factory=list)  # the text outputs, when they differ
    rich_changed: list[str] = field(default_factory=list)  # mime types of changed rich outputs
    cut: bool = False  # the cell was too big to compare whole


@dataclass
class NotebookDiff:
    cells: list[CellDiff]
    cells_cut: bool  # a version had more than MAX_CELLS cells

    def count(self, kind: str) -> int:
        return sum(1 for cell in self.cells if cell.kind == kind)


@dataclass(frozen=True)
class _Cell:
    index: int
    cell_type: str
    source: str
    text_out: str  # stream, error and text/plain outputs, as text
    rich_out: tuple[tuple[str, str], ...]  # (mime type, digest) of every other output
    cut: bool

    @property
    def key(self) -> tuple[str, str]:
        return self.cell_type, self.source


def _text(value: Any) -> str:
    text = "".join(value) if isinstance(value, list) else value
    return text if isinstance(text, str) else json.dumps(text)


def _outputs(outputs: list[Any]) -> tuple[str, tuple[tuple[str, str], ...]]:
    texts: list[str] = []
    rich: list[tuple[str, str]] = []
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            texts.append(_text(output.get("text", "")))
        elif kind == "error":
            texts.append(f"{output.get('ename', '')}: {output.get('evalue', '')}")
        for mime, value in (output.get("data") or {}).items():
            if mime == "text/plain":
                texts.append(_text(value))
            else:
                digest = hashlib.sha256(_text(value).encode("utf-8", "replace")).hexdigest()
                rich.append((mime, digest))
    return "\n".join(texts), tuple(rich)


def _cut(text: str) -> tuple[str, bool]:
    lines = text.splitlines()
    if len(text) <= MAX_CHARS and len(lines) <= MAX_LINES:
        return text, False
    return "\n".join(lines[:MAX_LINES])[:MAX_CHARS], True


def _cells(raw: bytes) -> tuple[list[_Cell], bool]:
    import nbformat  # here, not at start: it imports jsonschema's format checkers (~1 s)

    try:
        notebook = nbformat.reads(raw.decode("utf-8"), as_version=4)
    except (ValueError, KeyError, AttributeError, TypeError, nbformat.ValidationError) as exc:
        raise NotANotebook(str(exc)) from exc
    cells = []
    for index, cell in enumerate(notebook.cells[:MAX_CELLS], start=1):
        source, source_cut = _cut(_text(cell.get("source", "")))
        text_out, rich_out = _outputs(cell.get("outputs", []) if cell.cell_type == "code" else [])
        text_out, out_cut = _cut(text_out)
        cells.append(
            _Cell(index, str(cell.cell_type), source, text_out, rich_out, source_cut or out_cut)
        )
    return cells, len(notebook.cells) > MAX_CELLS


def line_diff(old: str, new: str) -> list[Line]:
    """Every line of both texts, marked as kept, removed or added."""
    a, b = old.splitlines(), new.splitlines()
    lines: list[Line] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            lines += [Line(" ", text) for text in a[i1:i2]]
            continue
        lines += [Line("-", text) for text in a[i1:i2]]
        lines += [Line("+", text) for text in b[j1:j2]]
    return lines


def _rich_changed(old: _Cell, new: _Cell) -> list[str]:
    """The mime types of the rich outputs (images, HTML, ...) that differ."""
    if old.rich_out == new.rich_out:
        return []
    changed = {mime for mime, _ in set(old.rich_out) ^ set(new.rich_out)}
    return sorted(changed or {mime for mime, _ in new.rich_out})  # the same, reordered


def _compare(old: _Cell, new: _Cell) -> CellDiff:
    same_source = old.key == new.key
    same_text = old.text_out == new.text_out
    rich_changed = _rich_changed(old, new)
    kind = "unchanged" if same_source and same_text and not rich_changed else "changed"
    return CellDiff(
        kind=kind,
        cell_type=new.cell_type,
        old_index=old.index,
        new_index=new.index,
        source=[] if same_source else line_diff(old.source, new.source),
        outputs=[] if same_text else line_diff(old.text_out, new.text_out),
        rich_changed=rich_changed,
        cut=old.cut or new.cut,
    )


def _only(cell: _Cell, kind: str) -> CellDiff:
    mark = "+" if kind == "added" else "-"
    return CellDiff(
        kind=kind,
        cell_type=cell.cell_type,
        old_index=cell.index if kind == "removed" else None,
        new_index=cell.index if kind == "added" else None,
        source=[Line(mark, text) for text in cell.source.splitlines()],
        outputs=[Line(mark, text) for text in cell.text_out.splitlines()],
        rich_changed=sorted({mime for mime, _ in cell.rich_out}),
        cut=cell.cut,
    )


def _alike(old: Any, new: Any) -> bool:
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    return (
        matcher.real_quick_ratio() >= SIMILAR
        and matcher.quick_ratio() >= SIMILAR
        and matcher.ratio() >= SIMILAR
    )


def _similar(old: _Cell, new: _Cell) -> bool:
    """Same type, and alike by characters or by whole lines (a line added to a short cell
    changes half its characters but keeps its lines)."""
    if old.cell_type != new.cell_type:
        return False
    old_source, new_source = old.source[:COMPARED], new.source[:COMPARED]
    return _alike(old_source, new_source) or _alike(
        old_source.splitlines(), new_source.splitlines()
    )


def _pair_up(old: list[_Cell], new: list[_Cell]) -> list[CellDiff]:
    """Cells that stopped matching: each old cell with the next similar new one, in order."""
    found: list[CellDiff] = []
    j = 0
    for cell in old:
        window = range(j, min(len(new), j + LOOK_AHEAD))
        match = next((k for k in window if _similar(cell, new[k])), None)
        if match is None:
            found.append(_only(cell, "removed"))
            continue
        found += [_only(added, "added") for added in new[j:match]]
        found.append(_compare(cell, new[match]))
        j = match + 1
    found += [_only(added, "added") for added in new[j:]]
    return found


def diff_notebooks(old_raw: bytes, new_raw: bytes) -> NotebookDiff:
    """The cell-by-cell difference from the notebook `old_raw` to `new_raw`."""
    old, old_cut = _cells(old_raw)
    new, new_cut = _cells(new_raw)
    matcher = SequenceMatcher(None, [c.key for c in old], [c.key for c in new], autojunk=False)
    cells: list[CellDiff] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            cells += [_compare(a, b) for a, b in zip(old[i1:i2], new[j1:j2], strict=True)]
        else:
            cells += _pair_up(old[i1:i2], new[j1:j2])
    return NotebookDiff(cells=cells, cells_cut=old_cut or new_cut)
