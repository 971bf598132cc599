"""`apranova-client`: the notebook client as a wheel of its own, without the server.

The workspace images install this wheel instead of copying lms_api/ (images/build-local.sh
builds it with images/build-client-wheel.py). With httpx and pydantic alone it must import
and parse the API's answers into the server's own models: the same source files, not copies.
"""

import importlib.util
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO_ROOT / "images/build-client-wheel.py"
SERVER_ONLY = ("fastapi", "starlette", "sqlalchemy", "alembic", "nbformat", "yaml", "stripe")

# Run by a Python that has the client: which server-only packages `import` pulled in.
IMPORT_PROBE = f"""
import json, sys
import lms_api.client, lms_api.hand_in
top = {{name.split(".")[0] for name in sys.modules}}
print(json.dumps(sorted(top & {set(SERVER_ONLY)!r})))
"""

# Run in the fresh venv: the client against a fake API, through httpx's MockTransport.
MOCK_CALLS = (
    IMPORT_PROBE
    + """
import httpx
from lms_api.client import LmsClient
from lms_api.curriculum.schemas import TrackPage
from lms_api.people.schemas import MeOut
from lms_api.principal import Role

ME = {"username": "ada", "role": "student", "trainer": "coach", "enrollments": [
    {"track_code": "DP", "track_name": "Data Professional", "status": "active",
     "source": "grant", "workspace_kinds": ["jupyterlab"]}]}
TRACK = {"code": "DP", "name": "Data Professional", "description": "", "duration_weeks": 12,
         "price_cents": 0, "currency": "eur", "workspace_kinds": ["jupyterlab"],
         "is_active": True}
ANSWERS = {"/api/v1/me": ME,
           "/api/v1/tracks": {"count": 1, "next": None, "previous": None, "results": [TRACK]}}

def answer(request):
    assert request.headers["Authorization"] == "Bearer t0ken"
    return httpx.Response(200, json=ANSWERS[request.url.path])

http = httpx.Client(transport=httpx.MockTransport(answer))
client = LmsClient(base_url="http://lms.test/api/v1", token="t0ken", http=http)
me, tracks = client.me(), client.tracks()
assert type(me) is MeOut and me.role is Role.STUDENT and me.enrollments[0].track_code == "DP"
assert type(tracks) is TrackPage and tracks.results[0].code == "DP"
print(json.dumps([lms_api.client.__file__, type(me).__module__ + "." + type(me).__name__]))
"""
)


def load_build_script():
    spec = importlib.util.spec_from_file_location("build_client_wheel", BUILD_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(*command, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=600, **kwargs)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("client-wheel")
    built = run(sys.executable, str(BUILD_SCRIPT), str(out))
    assert built.returncode == 0, built.stderr
    (path,) = out.glob("apranova_client-*.whl")
    return path


def test_importing_the_client_loads_no_server_package():
    probe = run(sys.executable, "-c", IMPORT_PROBE, cwd=REPO_ROOT)
    assert probe.returncode == 0, probe.stderr
    assert json.loads(probe.stdout) == []


def test_the_wheel_holds_the_client_modules_as_the_server_has_them(wheel):
    script = load_build_script()
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        code = [n for n in names if not n.split("/")[0].endswith(".dist-info")]
        assert sorted(code) == sorted(script.MODULES)
        for name in code:  # one definition: the server's own files, byte for byte
            assert archive.read(name) == (REPO_ROOT / name).read_bytes(), name
        meta = archive.read(next(n for n in names if n.endswith("/METADATA"))).decode()
        scripts = archive.read(next(n for n in names if n.endswith("/entry_points.txt")))
    required = re.findall(r"^Requires-Dist: ([\w.-]+)", meta, flags=re.MULTILINE)
    assert sorted(required) == ["httpx", "pydantic"]
    assert "apranova-hand-in = lms_api.hand_in:main" in scripts.decode()
    assert script.is_current(wheel)


@pytest.mark.slow
def test_the_wheel_alone_in_a_fresh_venv_parses_answers_into_the_servers_models(wheel, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    made = run(sys.executable, "-m", "venv", str(tmp_path / "venv"), env=env)
    assert made.returncode == 0, made.stderr
    bin_dir = tmp_path / "venv" / "bin"
    installed = run(str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel), env=env)
    assert installed.returncode == 0, installed.stderr

    # cwd: not the repository, so only the installed wheel can answer `import lms_api`
    calls = run(str(bin_dir / "python"), "-c", MOCK_CALLS, cwd=tmp_path, env=env)
    assert calls.returncode == 0, calls.stderr
    loaded, (client_file, model) = map(json.loads, calls.stdout.splitlines())
    assert loaded == []
    assert Path(client_file).is_relative_to(tmp_path / "venv")
    assert model == "lms_api.people.schemas.MeOut"

    usage = run(str(bin_dir / "apranova-hand-in"), "--help", cwd=tmp_path, env=env)
    assert usage.returncode == 0 and "Hand in a notebook" in usage.stdout


def test_a_module_the_list_misses_fails_the_build():
    script = load_build_script()
    script.MODULES = tuple(m for m in script.MODULES if m != "lms_api/pages.py")
    with pytest.raises(script.BuildError, match=r"curriculum/schemas.py imports lms_api/pages.py"):
        script.check_closed()
