"""Docker mode through the real hub and its proxy: workspace containers on a real engine.

The hub runs on this host with DockerSpawner (`bench/harness/docker_workspaces.py`); the images are
built from a locally made base (`images/build-local.sh`, run by `.ci/run`). The students act
through the browser login and the REST API with their own tokens: ada (DP: JupyterLab and
Superset), linus (FSD: JupyterLab and code-server), grace (no enrollment).
"""

import json
import re
import threading
import time
import uuid

import httpx
import pytest

from bench.harness.docker_workspaces import (
    CODE_SERVER_IMAGE,
    IMAGES,
    docker_platform,
    require_docker,
    server_path,
    spawn,
    stop,
    wait_gone,
    wait_ready,
)
from tests.conftest import require
from tests.e2e.portal_browser import PHONE, check_page, chromium, log_in  # noqa: F401

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def engine():
    return require_docker(require, kinds=("jupyterlab",))


@pytest.fixture(scope="module")
def superset_image(engine):
    require_docker(require, kinds=("superset",))


@pytest.fixture(scope="module")
def hub(engine, tmp_path_factory):
    with docker_platform(tmp_path_factory.mktemp("docker-hub"), engine) as running:
        yield running


@pytest.fixture(scope="module")
def platform(hub):
    return hub[0]


@pytest.fixture(scope="module")
def run(hub):
    return hub[1]


@pytest.fixture(scope="module")
def tokens(platform):
    return {name: platform.new_token(name)[0] for name in ("ada", "linus", "grace")}


def xsrf(page: httpx.Response) -> str:
    """The hub page's XSRF token (its forms post it as `_xsrf`)."""
    found = re.search(r'xsrf_token: "([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


def server_xsrf(browser: httpx.Client, prefix: str) -> str:
    """The XSRF cookie a single-user server set for its own path."""
    return next(c.value for c in browser.cookies.jar if c.name == "_xsrf" and c.path == prefix)


def in_container(container, code: str) -> dict:
    """Run Python in a workspace container as its own user; its JSON output."""
    exit_code, output = container.exec_run(["python3", "-c", code], user="1000:100")
    assert exit_code == 0, output.decode()
    return json.loads(output.decode().strip().splitlines()[-1])


def test_the_spawn_page_offers_the_kinds_of_each_students_track(platform):
    ada = platform.browser("ada").get("/hub/spawn")
    assert ada.status_code == 200
    offered = set(re.findall(r'name="kind" value="([^"]+)"', ada.text))
    assert offered == {"jupyterlab", "superset"}
    assert "Apache Superset: dashboards over your track" in ada.text

    linus = platform.browser("linus").get("/hub/spawn")
    assert set(re.findall(r'name="kind" value="([^"]+)"', linus.text)) == {
        "jupyterlab",
        "code-server",
    }
    assert "VS Code in the browser" in linus.text

    grace = platform.browser("grace").get("/hub/spawn")
    assert grace.status_code == 403 and "not enrolled" in grace.text


def test_the_spawn_form_at_phone_width(platform, chromium):  # noqa: F811
    context, page = log_in(chromium, platform, "ada", viewport=PHONE)
    page.goto(f"{platform.url}/hub/spawn")
    assert page.locator("input[name=kind]").count() == 2
    check_page(page, "phone-docker-spawn-ada")
    context.close()


def test_ada_launches_jupyterlab_from_the_browser_in_a_locked_down_container(platform, run):
    browser = platform.browser("ada")
    form = browser.get("/hub/spawn")
    launched = browser.post("/hub/spawn", data={"kind": "jupyterlab", "_xsrf": xsrf(form)})
    assert launched.status_code == 200, launched.text[:500]
    wait_ready(platform, "ada")
    lab = browser.get("/user/ada/lab")
    assert lab.status_code == 200 and str(lab.url).endswith("/user/ada/lab")

    container = run.container("ada", "jupyterlab")
    assert container.attrs["Config"]["Image"] == IMAGES["jupyterlab"]
    assert container.labels["org.apranova.track"] == "DP"
    host = container.attrs["HostConfig"]
    assert container.attrs["Config"]["User"] == "1000:100"
    assert host["Memory"] == 2 * 1024**3
    assert host["CpuQuota"] / host["CpuPeriod"] == 1.0
    assert host["CapDrop"] == ["ALL"] and "no-new-privileges" in host["SecurityOpt"]
    assert host["PidsLimit"] > 0 and not host["Privileged"]
    # Only the student's named home volume: no host folder, no Docker socket, no port.
    mounts = container.attrs["Mounts"]
    assert [(m["Type"], m["Name"], m["Destination"]) for m in mounts] == [
        ("volume", run.volume("ada"), "/home/jovyan")
    ]
    published = container.attrs["NetworkSettings"]["Ports"] or {}
    assert not host["PortBindings"] and all(v is None for v in published.values()), published
    assert list(container.attrs["NetworkSettings"]["Networks"]) == [run.network]

    seen = in_container(
        container,
        "import json, os, duckdb; from lms_api.client import LmsClient; "
        "c = LmsClient(); db = duckdb.connect(os.environ['APRANOVA_DATASETS'] + "
        "'/datasets.duckdb', read_only=True); "
        "print(json.dumps({'uid': os.getuid(), 'home': os.path.expanduser('~'), "
        "'orders': db.execute('select count(*) from orders').fetchone()[0], "
        "'lms': os.environ['APRANOVA_LMS_API_URL'], 'track': os.environ['APRANOVA_TRACK'], "
        "'me': c.me().model_dump(mode='json'), "
        "'writable_docker_sock': os.path.exists('/var/run/docker.sock'), "
        "'welcome': os.path.isfile(os.path.expanduser('~/Welcome.ipynb'))}))",
    )
    assert seen["uid"] == 1000 and seen["home"] == "/home/jovyan"
    assert seen["welcome"], "the first start puts the welcome notebook in the home"
    assert seen["orders"] == 3000 and seen["track"] == "DP"
    # The notebook client answers from inside the container, with the server's own token, at
    # the workspace network's gateway (lms-api listens there and on loopback, nowhere else).
    assert seen["me"]["username"] == "ada" and seen["me"]["role"] == "student"
    assert [e["track_code"] for e in seen["me"]["enrollments"]] == ["DP"], seen["me"]
    assert seen["lms"] == f"http://{run.gateway}:{platform.ports['lms_api_port']}" + (
        "/services/lms-api/api/v1"
    )
    assert seen["writable_docker_sock"] is False


def test_a_file_in_home_survives_stop_start_and_another_image(platform, run, tokens):
    browser = platform.browser("ada")
    if not (platform.api("GET", "/users/ada").json()["servers"].get("") or {}).get("ready"):
        assert spawn(platform, tokens["ada"], "ada").status_code in (201, 202)
        wait_ready(platform, "ada")
    first = run.container("ada", "jupyterlab").id
    note = f"written before the stop {uuid.uuid4()}"
    assert browser.get("/user/ada/lab").status_code == 200  # logs in to the server
    saved = browser.put(
        "/user/ada/api/contents/notes.txt",
        json={"type": "file", "format": "text", "content": note},
        headers={"X-XSRFToken": server_xsrf(browser, "/user/ada/")},
    )
    assert saved.status_code in (200, 201), saved.text

    stop(platform, "ada")
    assert run.containers("ada") == []  # the container is removed; the volume stays
    assert run.client.volumes.get(run.volume("ada"))

    assert spawn(platform, tokens["ada"], "ada").status_code in (201, 202)
    wait_ready(platform, "ada")
    assert run.container("ada", "jupyterlab").id != first
    assert browser.get("/user/ada/lab").status_code == 200  # a new server: a new login
    read = browser.get("/user/ada/api/contents/notes.txt")
    assert read.status_code == 200 and read.json()["content"] == note
    stop(platform, "ada")


def test_disallowed_workspaces_are_refused_and_start_nothing(platform, run, tokens):
    ada = spawn(platform, tokens["ada"], "ada", kind="code-server")
    assert ada.status_code == 403
    assert "code-server" in ada.json()["message"] and "jupyterlab" in ada.json()["message"]
    image = spawn(platform, tokens["ada"], "ada", image="alpine:latest")
    assert image.status_code == 400 and "image" in image.json()["message"]
    grace = spawn(platform, tokens["grace"], "grace")
    assert grace.status_code == 403 and "not enrolled" in grace.json()["message"]
    # A student cannot start a workspace for someone else.
    other = spawn(platform, tokens["linus"], "ada")
    assert other.status_code in (403, 404)
    assert run.containers("ada") == [] and run.containers("grace") == []


def test_spawn_progress_is_reported_while_the_container_starts(platform, tokens):
    events: list[dict] = []

    def follow() -> None:
        url = f"{platform.hub_api}/users/linus/server/progress"
        headers = {"Authorization": f"token {tokens['linus']}"}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not events:
            with httpx.stream("GET", url, headers=headers, timeout=90) as stream:
                if stream.status_code != 200:
                    time.sleep(0.05)
                    continue
                for line in stream.iter_lines():
                    if line.startswith("data:"):
                        events.append(json.loads(line[5:]))

    follower = threading.Thread(target=follow)
    follower.start()
    assert spawn(platform, tokens["linus"], "linus", kind="jupyterlab").status_code in (201, 202)
    follower.join(90)
    messages = [e.get("message", "") for e in events]
    assert "Checking your enrollment" in messages, messages
    assert any(
        m.startswith("Starting JupyterLab for track FSD (1 CPU, 2G memory)") for m in messages
    )
    assert events[-1].get("ready") is True, events
    stop(platform, "linus")


def test_named_servers_run_side_by_side_up_to_the_limit(platform, run, tokens):
    assert spawn(platform, tokens["linus"], "linus").status_code in (201, 202)
    assert spawn(platform, tokens["linus"], "linus", "notebooks").status_code in (201, 202)
    wait_ready(platform, "linus")
    wait_ready(platform, "linus", "notebooks")
    assert len(run.containers("linus")) == 2
    third = spawn(platform, tokens["linus"], "linus", "third")
    assert third.status_code == 400, third.text
    assert "the limit is 2" in third.json()["message"]
    assert len(run.containers("linus")) == 2
    stop(platform, "linus", "notebooks")
    stop(platform, "linus")


def test_students_cannot_reach_each_others_servers(platform, run, tokens):
    for name in ("ada", "linus"):
        assert spawn(platform, tokens[name], name).status_code in (201, 202)
    for name in ("ada", "linus"):
        wait_ready(platform, name)
    ada, linus = run.container("ada", "jupyterlab"), run.container("linus", "jupyterlab")
    ada_ip = ada.attrs["NetworkSettings"]["Networks"][run.network]["IPAddress"]
    linus.reload()

    # The network: nothing gets from linus's container to ada's (traffic between workspaces
    # is blocked), while the hub, on the host, reaches both.
    probe = in_container(
        linus,
        "import json, socket\n"
        "s = socket.socket(); s.settimeout(3)\n"
        f"try:\n    s.connect(('{ada_ip}', 8888)); r = 'connected'\n"
        "except OSError as e:\n    r = type(e).__name__\n"
        "print(json.dumps({'result': r}))",
    )
    assert probe["result"] != "connected"
    assert httpx.get(f"http://{ada_ip}:8888/user/ada/api", timeout=5).status_code == 200

    # The proxy: linus's login and linus's own workspace token do not open ada's server.
    browser = platform.browser("linus")
    assert browser.get("/user/ada/api/contents").status_code in (403, 404)
    linus_token = next(
        e.split("=", 1)[1]
        for e in linus.attrs["Config"]["Env"]
        if e.startswith("JUPYTERHUB_API_TOKEN=")
    )
    with_token = httpx.get(
        f"{platform.url}/user/ada/api/contents",
        headers={"Authorization": f"token {linus_token}"},
        timeout=30,
    )
    assert with_token.status_code == 403
    for name in ("ada", "linus"):
        stop(platform, name)


def test_code_server_is_selected_and_configured_for_fsd(platform, run, tokens):
    """The hub must pick code-server, with its image, for FSD only, and say clearly why it
    cannot start when that image is missing (an image name no image has: the tests do not
    build the real one)."""
    refused = spawn(platform, tokens["linus"], "linus", "vscode", kind="code-server")
    assert refused.status_code == 503
    message = refused.json()["message"]
    assert "code-server workspace is not installed" in message and CODE_SERVER_IMAGE in message
    progress = platform.api("GET", f"{server_path('linus', 'vscode')}/progress")
    assert "not installed" in progress.text
    assert run.containers("linus") == []
    wait_gone(platform, "linus", "vscode")


def test_the_hub_restarts_without_stopping_workspaces(platform, run, tokens):
    assert spawn(platform, tokens["ada"], "ada").status_code in (201, 202)
    wait_ready(platform, "ada")
    before = run.container("ada", "jupyterlab").id
    platform.restart_hub()
    assert run.container("ada", "jupyterlab").id == before
    server = wait_ready(platform, "ada")
    assert server["ready"]
    browser = platform.browser("ada")
    assert browser.get("/user/ada/lab").status_code == 200  # the restarted proxy routes to it
    assert browser.get("/user/ada/api/status").status_code == 200
    stop(platform, "ada")


def test_the_idle_culler_stops_an_idle_workspace(engine, tmp_path_factory):
    """Its own hub, with a 20 s idle timeout checked every 5 s (the school default is 1 h)."""
    settings = {"APRANOVA_CULL_IDLE_SECONDS": "20", "APRANOVA_CULL_EVERY_SECONDS": "5"}
    state = tmp_path_factory.mktemp("culler-hub")
    with docker_platform(state, engine, label="c", extra_env=settings) as (platform, run):
        token, _ = platform.new_token("ada")
        assert spawn(platform, token, "ada").status_code in (201, 202)
        wait_ready(platform, "ada")
        assert run.containers("ada")
        wait_gone(platform, "ada", timeout=90)
        assert run.containers("ada") == []
        assert "Culling server" in platform.log_path.read_text()


def get_until_ok(browser: httpx.Client, path: str, timeout: float = 180) -> httpx.Response:
    """Superset boots for a while after its container is up; the proxy waits for it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            page = browser.get(path)
            if page.status_code == 200 or time.monotonic() > deadline:
                return page
        except httpx.TimeoutException:
            if time.monotonic() > deadline:
                raise
        time.sleep(1)


def test_superset_beside_jupyterlab_for_its_owner_only(platform, run, tokens, superset_image):
    assert spawn(platform, tokens["ada"], "ada").status_code in (201, 202)
    assert spawn(platform, tokens["ada"], "ada", "superset").status_code in (201, 202)
    wait_ready(platform, "ada")
    wait_ready(platform, "ada", "superset")
    superset = run.container("ada", "superset")
    assert superset.attrs["Config"]["Image"] == IMAGES["superset"]
    assert superset.attrs["Config"]["User"] == "1000:100"
    assert superset.attrs["HostConfig"]["Memory"] == 2 * 1024**3

    # One home for both: a file JupyterLab writes is in Superset's container too.
    note = f"shared {uuid.uuid4()}"
    lab = run.container("ada", "jupyterlab")
    in_container(
        lab, f"import json, pathlib; pathlib.Path('shared.txt').write_text({note!r}); print('{{}}')"
    )
    seen = in_container(
        superset, "import json, pathlib; print(json.dumps(pathlib.Path('shared.txt').read_text()))"
    )
    assert seen == note

    # Through the hub's proxy: the hub login, then Superset with no second login.
    browser = platform.browser("ada")
    welcome = get_until_ok(browser, "/user/ada/superset/")
    assert welcome.status_code == 200, welcome.text[:500]
    assert "/user/ada/superset/superset/welcome" in str(welcome.url)
    assert "/user/ada/superset/static/" in welcome.text  # assets under the hub prefix
    base = "/user/ada/superset/api/v1"
    me = browser.get(f"{base}/me/")
    assert me.status_code == 200 and me.json()["result"]["username"] == "ada"
    databases = browser.get(f"{base}/database/").json()["result"]
    course = next(d for d in databases if d["database_name"] == "Course datasets")
    csrf = browser.get(f"{base}/security/csrf_token/").json()["result"]
    query = browser.post(
        f"{base}/sqllab/execute/",
        json={"database_id": course["id"], "sql": "SELECT count(*) AS n FROM orders"},
        headers={"X-CSRFToken": csrf, "Referer": f"{platform.url}/user/ada/superset/"},
    )
    assert query.status_code == 200, query.text[:500]
    assert query.json()["data"] == [{"n": 3000}]
    # The course database is read-only.
    write = browser.post(
        f"{base}/sqllab/execute/",
        json={"database_id": course["id"], "sql": "DELETE FROM orders"},
        headers={"X-CSRFToken": csrf, "Referer": f"{platform.url}/user/ada/superset/"},
    )
    assert write.status_code != 200 or "error" in write.text.lower()

    # Nobody else: linus is logged in to the hub but it is not his server; no login at all
    # is sent to the hub's login page.
    linus = platform.browser("linus").get("/user/ada/superset/")
    assert linus.status_code == 403
    anonymous = httpx.get(f"{platform.url}/user/ada/superset/api/v1/me/", timeout=30)
    assert anonymous.status_code in (302, 401, 403)
    stop(platform, "ada", "superset")
    stop(platform, "ada")
