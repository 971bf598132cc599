"""Write the reference tables of the docs from the code: `python -m docs.generate` (or
`python docs/generate.py`) rewrites every block between `<!-- generated: NAME -->` and
`<!-- end generated: NAME -->` in README.md and docs/*.md; `--check` changes nothing and
exits 1 naming each stale file, as CI's test does (tests/test_docs.py).

Tables: `routes` (the LMS API's OpenAPI), `settings` (the settings classes' fields),
`marts` (the Dagster mart assets). Output is sorted and carries no time or machine path, so
the same code always gives the same files.
"""

import argparse
import importlib
import re
import sys
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TABLES = ("routes", "settings", "marts")
BLOCK = re.compile(
    r"(?P<start><!-- generated: (?P<name>[a-z_]+) -->\n)"
    r"(?P<body>.*?)"
    r"(?P<end><!-- end generated: (?P=name) -->)",
    re.DOTALL,
)
COMMAND = "python -m docs.generate"


def documents(root: Path = REPO) -> list[Path]:
    """The files that may hold generated blocks."""
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def renderer(name: str) -> Callable[[], str]:
    """`docs.<name>.render`, imported only when needed (they load FastAPI and Dagster)."""
    if name not in TABLES:
        raise SystemExit(f"unknown generated table {name!r}; known: {', '.join(TABLES)}")
    return importlib.import_module(f"docs.{name}").render


def filled(text: str, rendered: dict[str, str]) -> str:
    """`text` with every generated block's body replaced by its table (rendered once)."""
    starts = text.count("<!-- generated: ")
    if starts != len(BLOCK.findall(text)):
        raise SystemExit("a `<!-- generated: NAME -->` marker has no matching end marker")

    def replace(match: re.Match) -> str:
        name = match["name"]
        if name not in rendered:
            rendered[name] = renderer(name)()
        return f"{match['start']}{rendered[name]}{match['end']}"

    return BLOCK.sub(replace, text)


def stale(root: Path = REPO) -> list[Path]:
    """Files whose generated blocks differ from what the code gives now (nothing written)."""
    rendered: dict[str, str] = {}
    found = []
    for path in documents(root):
        text = path.read_text()
        if filled(text, rendered) != text:
            found.append(path)
    return found


def write(root: Path = REPO) -> list[Path]:
    """Rewrite the generated blocks; the files that changed."""
    rendered: dict[str, str] = {}
    changed = []
    for path in documents(root):
        text = path.read_text()
        new = filled(text, rendered)
        if new != text:
            path.write_text(new)
            changed.append(path)
    return changed


def main(argv: list[str] | None = None, root: Path = REPO) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    if args.check:
        found = stale(root)
        for path in found:
            print(f"stale: {path.relative_to(root)} (run `{COMMAND}`)", file=sys.stderr)
        return 1 if found else 0
    for path in write(root):
        print(f"wrote {path.relative_to(root)}")
    return 0


def _run_as_script() -> None:
    """`python docs/generate.py` puts docs/ first on sys.path, where its modules (settings,
    routes...) would shadow packages; use the repository root instead, as `-m` does."""
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(here)]
    sys.path.insert(0, str(REPO))


if __name__ == "__main__":
    if not __package__:
        _run_as_script()
    sys.exit(main())
