"""The docs stay true to the code and to themselves: the generated tables (routes, settings,
marts) are what `python -m docs.generate` writes today, and every relative link in README.md
and docs/*.md reaches an existing file (and heading)."""

import re
from pathlib import Path

import pytest

from docs import generate
from hub.settings import HubSettings
from lms_api.config import Settings as LmsApiSettings

REPO = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
INLINE_CODE = re.compile(r"`[^`\n]*`")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$", re.MULTILINE)


def prose(text: str) -> str:
    """Markdown without code blocks and inline code, where brackets are not links."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def anchors(path: Path) -> set[str]:
    """GitHub's anchors for a file's headings: lower case, punctuation dropped, spaces to
    hyphens, `-1`, `-2` for repeats."""
    seen: dict[str, int] = {}
    found = set()
    for heading in HEADING.findall(FENCE.sub("", path.read_text())):
        base = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def broken_links(path: Path) -> list[str]:
    broken = []
    for target in LINK.findall(prose(path.read_text())):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target} (no such heading)")
    return broken


def test_the_generated_tables_are_current():
    stale = generate.stale(REPO)
    assert not stale, (
        f"generated tables are stale in {', '.join(str(p.relative_to(REPO)) for p in stale)}: "
        f"run `{generate.COMMAND}` and commit the result"
    )


def test_every_table_has_a_place_in_the_docs():
    text = "".join(path.read_text() for path in generate.documents(REPO))
    for name in generate.TABLES:
        assert f"<!-- generated: {name} -->" in text, f"no block for the {name} table"


@pytest.mark.parametrize("path", generate.documents(REPO), ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_reach_existing_files(path: Path):
    assert not broken_links(path), f"{path.relative_to(REPO)}: {broken_links(path)}"


def test_check_names_the_stale_file_and_write_fixes_it(tmp_path, monkeypatch, capsys):
    (tmp_path / "docs").mkdir()
    page = tmp_path / "docs" / "page.md"
    page.write_text("# Page\n\n<!-- generated: routes -->\nold\n<!-- end generated: routes -->\n")
    (tmp_path / "README.md").write_text("# Front\n")
    monkeypatch.setattr(generate, "renderer", lambda name: lambda: f"| {name} |\n")

    assert generate.main(["--check"], root=tmp_path) == 1
    assert "docs/page.md" in capsys.readouterr().err
    assert generate.main([], root=tmp_path) == 0
    assert "| routes |\n<!-- end generated: routes -->" in page.read_text()
    assert generate.main(["--check"], root=tmp_path) == 0


@pytest.mark.parametrize("settings", [HubSettings, LmsApiSettings], ids=lambda cls: cls.__module__)
def test_every_setting_has_a_description(settings):
    """The settings table's meaning column comes from these: a new setting needs one."""
    missing = [
        name
        for name, field in settings.model_fields.items()
        if not (field.description or "").strip()
    ]
    assert not missing, f"{settings.__module__}.{settings.__name__}: no description for {missing}"
