#!/usr/bin/env python3
"""Build `apranova-client`, the notebook client's own wheel, from this repository's sources.

    .venv/bin/python images/build-client-wheel.py images/jupyterlab/wheels
    python3 images/build-client-wheel.py --reuse /tmp/wheels /tmp/client   # in a Dockerfile

The workspace images need `lms_api.client` and `lms_api.hand_in` (`apranova-hand-in`), and the
API's own response models they return, not the server: the wheel holds only the modules of
`MODULES`, and depends only on httpx and pydantic (with the ranges of pyproject.toml). A module
of the list that imports one outside it fails the build here, not in a student's notebook.

The list is copied into a temporary source tree and built by pip (PEP 517, setuptools fetched
into an isolated build environment). `--reuse DIR` copies a wheel from DIR instead, when it
was built from exactly these sources (an offline image build, where pip cannot get setuptools).
Stdlib only.
"""

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from importlib.util import find_spec
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAME = "apranova-client"
MODULES = (
    "lms_api/__init__.py",
    "lms_api/client.py",
    "lms_api/hand_in.py",
    "lms_api/pages.py",
    "lms_api/principal.py",
    "lms_api/types.py",
    "lms_api/class_sessions/__init__.py",
    "lms_api/class_sessions/enums.py",
    "lms_api/class_sessions/schemas.py",
    "lms_api/curriculum/__init__.py",
    "lms_api/curriculum/enums.py",
    "lms_api/curriculum/schemas.py",
    "lms_api/enrollments/__init__.py",
    "lms_api/enrollments/enums.py",
    "lms_api/enrollments/schemas.py",
    "lms_api/payments/__init__.py",
    "lms_api/payments/enums.py",
    "lms_api/payments/schemas.py",
    "lms_api/people/__init__.py",
    "lms_api/people/schemas.py",
    "lms_api/progress/__init__.py",
    "lms_api/progress/schemas.py",
    "lms_api/quizzes/__init__.py",
    "lms_api/quizzes/content.py",
    "lms_api/quizzes/enums.py",
    "lms_api/quizzes/schemas.py",
    "lms_api/submissions/__init__.py",
    "lms_api/submissions/enums.py",
    "lms_api/submissions/schemas.py",
)
DEPENDENCIES = ("httpx", "pydantic")
SCRIPTS = {"apranova-hand-in": "lms_api.hand_in:main"}
# Zip timestamps (1980-01-01): the same sources give the same bytes, so Docker's cache holds.
SOURCE_DATE_EPOCH = "315532800"


class BuildError(Exception):
    pass


def metadata() -> dict[str, object]:
    """Version and dependency ranges: the main distribution's, one definition for both."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = []
    for name in DEPENDENCIES:
        found = [d for d in project["dependencies"] if re.match(rf"{name}\s*([<>=!~;\[]|$)", d)]
        if len(found) != 1:
            raise BuildError(f"pyproject.toml: expected one requirement for {name}, got {found}")
        requirements.append(found[0])
    return {
        "version": project["version"],
        "requires-python": project["requires-python"],
        "dependencies": requirements,
    }


def _load_time_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Imports that run when the module loads (not those inside functions: lazy on purpose)."""
    found, pending = [], list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            pending.extend(ast.iter_child_nodes(node))
    return found


def _module_file(dotted: str) -> str | None:
    path = dotted.replace(".", "/")
    for candidate in (f"{path}.py", f"{path}/__init__.py"):
        if (ROOT / candidate).is_file():
            return candidate
    return None


def needed_files(module: str) -> set[str]:
    """The repository files importing `module` (a path in MODULES) loads: modules, packages."""
    tree = ast.parse((ROOT / module).read_text(), module)
    names: set[str] = set()
    for node in _load_time_imports(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    files = set()
    for name in names:
        if name.split(".")[0] != "lms_api":
            continue
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):  # every parent package runs its __init__
            found = _module_file(".".join(parts[:depth]))
            if found:
                files.add(found)
    return files


def check_closed() -> None:
    missing = {
        f"{module} imports {needed}"
        for module in MODULES
        for needed in needed_files(module)
        if needed not in MODULES
    }
    if missing:
        raise BuildError("not in MODULES: " + "; ".join(sorted(missing)))


def pyproject(meta: dict[str, object]) -> str:
    packages = sorted({str(Path(m).parent).replace("/", ".") for m in MODULES})
    scripts = "\n".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in SCRIPTS.items())
    return f"""[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "{NAME}"
version = "{meta["version"]}"
description = "The ApraNova LMS notebook client: LmsClient, apranova-hand-in, the API's models"
requires-python = "{meta["requires-python"]}"
dependencies = {json.dumps(meta["dependencies"])}

[project.scripts]
{scripts}

[tool.setuptools]
packages = {json.dumps(packages)}
"""


def stage(dest: Path) -> None:
    """A source tree of the client alone: the listed modules and a pyproject.toml."""
    check_closed()
    for module in MODULES:
        (dest / module).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / module, dest / module)
    (dest / "pyproject.toml").write_text(pyproject(metadata()))


def is_current(wheel: Path) -> bool:
    """Whether `wheel` holds exactly today's MODULES and dependencies."""
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if not n.split("/")[0].endswith(".dist-info")]
        if sorted(names) != sorted(MODULES):
            return False
        if any(archive.read(m) != (ROOT / m).read_bytes() for m in MODULES):
            return False
        meta_name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        text = archive.read(meta_name).decode()
    required = re.findall(r"^Requires-Dist: (.+)$", text, flags=re.MULTILINE)
    wanted = metadata()
    return sorted(map(_normal, required)) == sorted(map(_normal, wanted["dependencies"])) and (
        f"\nVersion: {wanted['version']}\n" in text
    )


def _normal(requirement: str) -> tuple[str, list[str]]:
    """("httpx", ["<1", ">=0.27"]) for "httpx>=0.27,<1" and for "httpx<1,>=0.27" alike."""
    name, specifiers = re.fullmatch(r"\s*([\w.-]+)\s*(.*)", requirement).groups()
    return name.lower(), sorted(s.strip() for s in specifiers.split(",") if s.strip())


def wheels_in(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"{NAME.replace('-', '_')}-*.whl"))


def build(out: Path, reuse: Path | None = None) -> Path:
    """The wheel in `out`: copied from `reuse` when one there is current, else built."""
    out.mkdir(parents=True, exist_ok=True)
    for wheel in wheels_in(reuse) if reuse else ():
        if is_current(wheel):
            if wheel.parent.resolve() != out.resolve():
                shutil.copy2(wheel, out / wheel.name)
            return out / wheel.name
    if find_spec("pip") is None:
        raise BuildError("no pip here to build it with: run this script on the host first")
    for old in wheels_in(out):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "src"
        stage(source)
        env = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}
        command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"]
        subprocess.run([*command, "--wheel-dir", str(out), str(source)], check=True, env=env)
    (wheel,) = wheels_in(out)
    return wheel


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, help="the folder to put the wheel in")
    parser.add_argument("--reuse", type=Path, help="a folder that may hold a current wheel")
    args = parser.parse_args(argv)
    try:
        print(build(args.out, args.reuse))
    except BuildError as exc:
        print(f"{NAME}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
