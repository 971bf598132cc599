"""Track-aware spawners: a student may launch only what their enrollments allow.

The rule lives in lms_api (`GET /api/v1/workspaces/allowed`); the spawn form and the start
of every spawn (form or REST) both ask it, so the REST API cannot bypass the form.
"""

import asyncio
import os
import sys
import time
from pathlib import Path

import docker
import httpx
from dockerspawner import DockerSpawner
from jupyterhub.spawner import LocalProcessSpawner, set_user_setuid
from jupyterhub.utils import maybe_future
from tornado import web
from traitlets import Bool, Dict, Float, Integer, List, Unicode, default
from traitlets.config import LoggingConfigurable

from hub import start_queue
from hub.fragments import render_fragment
from hub.lms_client import HubLmsClient, LmsUnavailable, WorkspaceRule
from hub.local_accounts import (
    SHELL,
    AccountProblem,
    SystemAccount,
    ensure_account_async,
    unreachable_parent,
)
from hub.payment_pages import format_price
from hub.settings import DEFAULT_RESOURCES, WorkspaceResources, resources_for
from lms_api.tls import client_tls

JUPYTERLAB_IMAGE_DIR = Path(__file__).resolve().parent.parent / "images" / "jupyterlab"
LAB_SETTINGS_DIR = JUPYTERLAB_IMAGE_DIR / "lab-settings"
FIRST_START = JUPYTERLAB_IMAGE_DIR / "first_start.py"  # welcome notebook, then singleuser
WELCOME_NOTEBOOK = JUPYTERLAB_IMAGE_DIR / "welcome" / "Welcome.ipynb"
KIND_DESCRIPTIONS = {
    "jupyterlab": "JupyterLab: notebooks, Python and DuckDB for data work.",
    "code-server": "VS Code in the browser, for full-stack projects.",
    "superset": "Apache Superset: dashboards over your track's datasets.",
}


class NoWorkspaceTrack(web.HTTPError):
    """403 for a user with no workspace: says how to enroll and, if Stripe is set up, what
    each track costs and where to pay (HTML on the hub's error page, text in the REST API)."""

    def __init__(
        self,
        rule: WorkspaceRule,
        enroll_help: str,
        enroll_url: str,
        catalog_url: str = "/services/lms-api/portal/catalog",
    ) -> None:
        offers = rule.offers if rule.payments_enabled else []
        priced = "; ".join(
            f"{o['track_code']} {o['track_name']}: {format_price(o['price_cents'], o['currency'])}"
            for o in offers
        )
        message = "You are not enrolled in a track with a workspace."
        if offers:
            message += f" Enroll and pay online at {enroll_url} ({priced})."
        message += f" {enroll_help}"
        super().__init__(403, message)
        self.jupyterhub_message = message
        self.jupyterhub_html_message = render_fragment(
            "fragment-no-workspace.html",
            offers=offers,
            format_price=format_price,
            enroll_url=enroll_url,
            enroll_help=enroll_help,
            catalog_url=catalog_url,
        )


class AccountDeactivated(web.HTTPError):
    """403 for a person an admin deactivated in the LMS: no workspace, and why."""

    def __init__(self) -> None:
        message = (
            "Your account is deactivated, so you cannot start a workspace; running ones "
            "are stopped. Please contact the school office if you think this is a mistake."
        )
        super().__init__(403, message)
        self.jupyterhub_message = message
        self.jupyterhub_html_message = render_fragment("fragment-message.html", message=message)


class TrackAwareMixin(LoggingConfigurable):
    """Asks lms_api which workspace kinds the user may start and enforces it."""

    lms_api_url = Unicode(
        "http://127.0.0.1:8010/services/lms-api/api/v1",
        help="Base URL of the LMS API as the hub reaches it (not through the proxy).",
    ).tag(config=True)

    lms_api_token = Unicode(
        help="The hub's own service token, trusted by lms_api for the workspace rule."
    ).tag(config=True)

    allowed_cache_seconds = Float(
        10.0, help="How long the answer of lms_api about one user is reused."
    ).tag(config=True)

    launchable_kinds = List(
        Unicode(),
        ["jupyterlab"],
        help="Workspace kinds this spawner can run at all (intersected with the user's).",
    ).tag(config=True)

    kind_descriptions = Dict(
        KIND_DESCRIPTIONS, help="Short description of each kind shown on the spawn page."
    ).tag(config=True)

    enroll_help = Unicode(
        "Ask your trainer or the school office to enroll you in a track; "
        "your workspace opens as soon as the enrollment is active.",
        help="What a user without an enrollment is told to do.",
    ).tag(config=True)

    servers_per_user = Integer(
        2,
        help="Workspaces (the default server and named ones) one user may run at once. "
        "JupyterHub's own named_server_limit_per_user does not count the default server.",
    ).tag(config=True)

    starts_at_once = Integer(
        4,
        min=1,
        help="Workspaces that start at the same time (the hub's, all users together); later "
        "starts wait in line, first come first served, their place shown on the spawn page.",
    ).tag(config=True)

    _clients: dict[tuple[str, str], HubLmsClient] = {}

    @property
    def lms(self) -> HubLmsClient:
        key = (self.lms_api_url, self.lms_api_token)
        if key not in TrackAwareMixin._clients:
            TrackAwareMixin._clients[key] = HubLmsClient(
                self.lms_api_url, self.lms_api_token, self.allowed_cache_seconds
            )
        return TrackAwareMixin._clients[key]

    async def workspace_rule(self) -> WorkspaceRule:
        try:
            return await self.lms.workspace_rule(self.user.name)
        except LmsUnavailable as exc:
            self.log.error("lms-api unavailable for %s: %s", self.user.name, exc)
            raise web.HTTPError(
                503,
                "The course service is not answering right now, so your workspace cannot "
                "be checked. Please try again in a minute.",
            ) from exc

    async def kinds_or_refuse(self) -> list[str]:
        return (await self._rule_and_kinds())[1]

    async def _rule_and_kinds(self) -> tuple[WorkspaceRule, list[str]]:
        rule = await self.workspace_rule()
        if not rule.account_active:
            raise AccountDeactivated()
        kinds = [kind for kind in rule.kinds if kind in self.launchable_kinds]
        if not kinds:
            raise NoWorkspaceTrack(rule, self.enroll_help, f"{self.hub.base_url}enroll")
        return rule, kinds

    async def get_options_form(self) -> str:
        kinds = await self.kinds_or_refuse()
        if len(kinds) == 1 or self.name in kinds:
            return ""  # nothing to choose: the one kind, or the kind the server is named after
        return render_fragment(
            "fragment-spawn-options.html",
            kinds=kinds,
            selected=kinds[0],
            descriptions=self.kind_descriptions,
        )

    def options_from_form(self, formdata):
        return {"kind": (formdata.get("kind") or [""])[0]}

    async def resolve_kind(self) -> str:
        """The kind asked for (form or REST `{"kind": ...}`), checked against the rule.

        A named server called like a kind (`/users/ada/servers/superset`) is that kind (asking
        it for another is refused); anything else without a kind asked is the first kind the
        user may launch. Sets `workspace_kind` and `workspace_track` (the track that gives the
        kind).
        """
        options = self.user_options or {}
        unknown = sorted(set(options) - {"kind"})
        if unknown:
            self._forget_options()
            raise web.HTTPError(400, f"Unknown workspace option(s): {', '.join(unknown)}.")
        running = [
            name or "default"
            for name, other in self.user.spawners.items()
            if other is not self and other.active
        ]
        if len(running) >= self.servers_per_user:
            raise web.HTTPError(
                400,
                f"You already run {len(running)} workspaces ({', '.join(sorted(running))}), "
                f"the limit is {self.servers_per_user}: stop one before starting another.",
            )
        # A start asks afresh: a deactivation or refund a moment ago must not be missed.
        self.lms.forget(self.user.name)
        rule, kinds = await self._rule_and_kinds()
        named_kind = self.name if self.name in self.launchable_kinds else ""
        wanted = options.get("kind") or named_kind or kinds[0]
        if named_kind and wanted != named_kind:
            self._forget_options()
            raise web.HTTPError(
                400,
                f"The workspace named {self.name!r} is a {self.name} workspace; start "
                f"{wanted} as another server (or the default one).",
            )
        if wanted not in kinds:
            self._forget_options()
            raise web.HTTPError(
                403,
                f"Workspace {wanted!r} is not available to you; you may launch: "
                f"{', '.join(kinds)}.",
            )
        self.workspace_kind = wanted
        self.workspace_track = rule.track_for(wanted)
        # Kept in the server's options (the REST model shows them), so the workspace guard
        # knows which kind runs and stops it when the kind is no longer allowed.
        self.user_options = {**options, "kind": wanted}
        if self.orm_spawner is not None:
            self.orm_spawner.user_options = self.user_options
            self.user.db.commit()
        return wanted

    workspace_kind = ""
    workspace_track = ""
    _checked_kind = ""
    _turn_of = None  # the spawn (JupyterHub's future) whose turn in the line came last

    @property
    def _queue_key(self) -> str:
        return f"{self.user.name}/{self.name}"

    async def run_pre_spawn_hook(self):
        """Before JupyterHub's start timeout runs: refuse what the rule refuses, then wait
        for this start's turn in the hub's start line (`hub.start_queue`)."""
        await maybe_future(super().run_pre_spawn_hook())
        queue = start_queue.START_QUEUE
        queue.limit = self.starts_at_once
        key = self._queue_key
        entry = start_queue.Entry(
            self.user.name, self.name, "", hold_seconds=self.start_timeout + self.http_timeout + 60
        )
        # The place is taken when the start is asked for, before the LMS answers.
        queue.hold_place(key, entry)
        try:
            self._checked_kind = entry.kind = await self.resolve_kind()
        except BaseException:
            queue.leave(key)
            raise
        await queue.wait_for_turn(key, entry)
        finished = getattr(self, "_spawn_future", None)  # the whole spawn, proxy route included
        self._turn_of = finished
        if finished is None:
            return  # not started by a handler: the slot is given back at its deadline
        finished.add_done_callback(
            lambda f: queue.done(key, succeeded=not f.cancelled() and f.exception() is None)
        )

    async def checked_kind(self) -> str:
        """The kind the pre-spawn hook checked for this start, else checked now."""
        kind, self._checked_kind = self._checked_kind, ""
        return kind or await self.resolve_kind()

    async def progress(self):
        """The student's place in the start line while waiting, then the start's own steps."""
        queue = start_queue.START_QUEUE
        spawn = getattr(self, "_spawn_future", None)
        shown = ""
        # Until this spawn's turn came (the page may ask before the spawn joined the line).
        while spawn is not None and not spawn.done() and self._turn_of is not spawn:
            place = queue.place(self._queue_key)
            if place is not None:
                message = start_queue.waiting_message(place, queue.estimated_wait_seconds(place))
                if message != shown:
                    yield {"progress": 1, "message": message}
                    shown = message
            await asyncio.sleep(0.25)
        async for event in self.start_progress():
            yield event

    async def start_progress(self):
        async for event in super().progress():
            yield event

    def _forget_options(self) -> None:
        """JupyterHub reuses the last options of a server when a spawn names none: refused
        options must not stick to the next start."""
        self.user_options = {}
        if self.orm_spawner is not None:
            self.orm_spawner.user_options = {}
            self.user.db.commit()

    def get_env(self):
        env = super().get_env()
        env["APRANOVA_WORKSPACE_KIND"] = self.workspace_kind
        env["APRANOVA_TRACK"] = self.workspace_track
        return env


class LocalTrackSpawner(TrackAwareMixin, LocalProcessSpawner):
    """Local mode: JupyterLab as a local process per student, no Docker engine needed.

    As root (the default way to serve students), each student's workspace runs as their own
    system account with a private home (hub/local_accounts.py), so a notebook can read
    neither the platform's state nor another student's files or process environment. A hub
    that is not root cannot do that and refuses local workspaces, unless
    `allow_unisolated` says this is a development machine with no real students.
    """

    home_dir_template = Unicode(
        "/home/apranova/{username}",
        help="The student's home; {username} is the hub username. Every folder above it "
        "must be traversable by other users (o+x) for the student's account to reach it.",
    ).tag(config=True)

    isolate_users = Bool(
        help="Run each workspace as the student's own system account (needs root). "
        "Default: on when the hub runs as root."
    ).tag(config=True)

    allow_unisolated = Bool(
        False,
        help="Without isolation, start workspaces anyway as the hub's own user: a notebook "
        "can then read the platform's secrets and databases. For a developer's machine only.",
    ).tag(config=True)

    system_user_prefix = Unicode(
        "apranova-", help="Prefix of the students' system account names."
    ).tag(config=True)

    @default("isolate_users")
    def _default_isolate(self) -> bool:
        return os.geteuid() == 0

    @default("default_url")
    def _default_default_url(self) -> str:
        return "/lab"

    @default("cmd")
    def _default_cmd(self) -> list[str]:
        # The hub's own environment has jupyterhub and JupyterLab installed; the first start
        # puts the welcome notebook in the home, as the jupyterlab image does.
        return [sys.executable, str(FIRST_START)]

    lab_settings_dir = Unicode(
        str(LAB_SETTINGS_DIR),
        help="JupyterLab's app settings folder (overrides.json: no 'Jupyter news' prompt, no "
        "update check), the same file the jupyterlab image installs.",
    ).tag(config=True)

    @default("args")
    def _default_args(self) -> list[str]:
        args = [f"--LabApp.app_settings_dir={self.lab_settings_dir}"]
        return args + (["--allow-root"] if os.geteuid() == 0 and not self.isolate_users else [])

    @property
    def home_dir(self) -> Path:
        return Path(self.home_dir_template.format(username=self.user.name))

    account: SystemAccount | None = None

    async def start(self):
        await self.checked_kind()
        if self.isolate_users:
            self.account = await self._own_account()
        elif not self.allow_unisolated:
            self.log.error(
                "refusing %s's local workspace: the hub does not run as root, so it cannot "
                "give the workspace an account of its own (set allow_unisolated for a "
                "development machine only)",
                self.user.name,
            )
            raise web.HTTPError(
                503,
                "Workspaces are switched off on this server: it cannot keep them apart from "
                "the platform's data. Please tell the school's admins.",
            )
        else:
            self.log.warning(
                "UNISOLATED workspace for %s: it runs as the hub's own user and can read "
                "the platform's secrets (development only)",
                self.user.name,
            )
            self.home_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        return await super().start()

    async def _own_account(self) -> SystemAccount:
        self._check_reachable()
        try:
            return await ensure_account_async(
                self.user.name, self.home_dir, self.system_user_prefix
            )
        except AccountProblem as exc:
            self.log.error("no system account for %s: %s", self.user.name, exc)
            raise web.HTTPError(
                500, "Your workspace account could not be prepared; an admin has been told."
            ) from exc

    def _check_reachable(self) -> None:
        """The student's account must reach its home and run the workspace's Python."""
        for what, path, fix in (
            ("student homes", self.home_dir, "choose APRANOVA_WORKSPACE_HOME_ROOT"),
            (
                "the workspace's virtualenv",
                Path(self.cmd[0]).absolute(),
                "keep the project in a folder everyone may traverse",
            ),
            (
                "the workspace's Python",
                Path(self.cmd[0]).resolve(),
                "make the virtualenv from an interpreter everyone may run, e.g. "
                "`make install PYTHON=/usr/bin/python3`",
            ),
        ):
            blocked = unreachable_parent(path)
            if blocked is not None:
                self.log.error(
                    "%s (%s) cannot be reached by the students' accounts: %s is not "
                    "traversable by others; %s",
                    what,
                    path,
                    blocked,
                    fix,
                )
                raise web.HTTPError(500, "This workspace is misconfigured; an admin has been told.")

    def make_preexec_fn(self, name):
        if self.account is not None:
            return set_user_setuid(self.account.name)  # setgid, setgroups, setuid, chdir home
        home = self.home_dir

        def preexec():
            os.chdir(home)

        return preexec

    def user_env(self, env):
        env["APRANOVA_WELCOME_NOTEBOOK"] = str(WELCOME_NOTEBOOK)
        account = self.account
        env["USER"] = account.name if account else self.user.name
        env["HOME"] = str(self.home_dir)
        env["SHELL"] = SHELL
        return env

    def move_certs(self, paths):
        return paths  # internal TLS is not used


class ContainerWorkspaceMixin(TrackAwareMixin):
    """What Docker containers and Kubernetes pods share: one image per workspace kind, CPU and
    memory limits from the student's track and kind, the track's datasets."""

    workspace_images = Dict(
        {"jupyterlab": "apranova/workspace-jupyterlab:latest"},
        help="Image to run for each workspace kind.",
    ).tag(config=True)

    workspace_resources = Dict(
        {k: v.model_dump() for k, v in DEFAULT_RESOURCES.items()},
        help="CPU and memory limits, {'cpu': 1.0, 'memory': '2G'}, by 'TRACK/kind', 'TRACK', "
        "'kind' or 'default': the first key that matches the workspace wins.",
    ).tag(config=True)

    datasets_root = Unicode(
        "/opt/apranova/datasets",
        help="Where the images keep the course datasets, one folder per track code.",
    ).tag(config=True)

    @default("launchable_kinds")
    def _default_launchable(self) -> list[str]:
        return list(self.workspace_images)

    def workspace_limits(self, kind: str) -> WorkspaceResources:
        """The limits of this start (after `checked_kind`, which sets the track)."""
        return resources_for(
            {k: WorkspaceResources(**v) for k, v in self.workspace_resources.items()},
            self.workspace_track,
            kind,
        )

    def get_env(self):
        env = super().get_env()
        if self.workspace_track:
            env["APRANOVA_DATASETS"] = f"{self.datasets_root}/{self.workspace_track}"
        return env


class DockerTrackSpawner(ContainerWorkspaceMixin, DockerSpawner):
    """Docker mode: one container per student and workspace, home on the student's volume.

    Every container runs as the image's non-root user with no capabilities, CPU and memory
    limits from the student's track and kind, no Docker socket and no host path: only named
    volumes are mounted. It is removed when the server stops; the home volume stays.
    """

    workspace_user = Unicode(
        "1000:100", help="uid:gid the workspace runs as (never root; the images' jovyan)."
    ).tag(config=True)

    @default("remove")
    def _default_remove(self) -> bool:
        return True

    @default("pull_policy")
    def _default_pull_policy(self) -> str:
        # Workspace images are built for the platform; never fetch an image of the same name.
        return "never"

    @default("extra_host_config")
    def _default_host_config(self) -> dict:
        return {
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges"],
            "pids_limit": 2048,
            "init": True,
        }

    def _events_reset(self) -> None:
        self._events: list[dict] = []

    def _emit(self, percent: int, message: str) -> None:
        self.log.info("%s: %s", self._log_name, message)
        self._events.append({"progress": percent, "message": message})

    async def start_progress(self):
        """What the spawn page shows while the container starts."""
        sent = 0
        while True:
            events = getattr(self, "_events", [])
            while sent < len(events):
                yield events[sent]
                sent += 1
            await asyncio.sleep(0.25)

    def _check_mounts(self) -> None:
        """Only named volumes: no host folder and never the Docker socket."""
        binds = [*self.volumes, *(self.extra_host_config.get("binds") or [])]
        bad = [str(b) for b in binds if str(b).startswith(("/", ".", "~")) or "docker" in str(b)]
        if bad:
            self.log.error("refusing host paths in a workspace: %s", bad)
            raise web.HTTPError(500, "This workspace is misconfigured; an admin has been told.")

    async def start(self):
        self._events_reset()
        self._emit(5, "Checking your enrollment")
        kind = await self.checked_kind()
        image = self.workspace_images[kind]
        try:
            await self.docker("inspect_image", image)
        except docker.errors.NotFound as exc:
            self.log.error("workspace image %s (%s) is not on this Docker host", image, kind)
            raise web.HTTPError(
                503,
                f"The {kind} workspace is not installed on this server (image {image}). "
                "Please tell the school's admins.",
            ) from exc
        self.image = image
        limits = self.workspace_limits(kind)
        self.cpu_limit, self.mem_limit = limits.cpu, limits.memory
        self.extra_create_kwargs = {
            **self.extra_create_kwargs,
            "user": self.workspace_user,
            "labels": {
                "org.apranova.user": self.user.name,
                "org.apranova.kind": kind,
                "org.apranova.track": self.workspace_track,
            },
        }
        self._check_mounts()
        self._emit(
            20,
            f"Starting {self.kind_descriptions.get(kind, kind).split(':')[0]} for track "
            f"{self.workspace_track or '-'} ({limits.cpu:g} CPU, {limits.memory} memory); "
            "your files are kept in your home volume",
        )
        ip, port = await super().start()
        self._emit(60, "Container started; waiting for your workspace to answer")
        await self._wait_until_answering(ip, port)
        return ip, port

    answer_poll_seconds = Float(
        0.1,
        help="How often start() knocks on a new workspace until it answers: the hub's own "
        "check backs off to seconds between tries, which would add to every start.",
    ).tag(config=True)

    async def _wait_until_answering(self, ip: str, port: int) -> None:
        """Return once the server answers HTTP at all; fail with its last output if the
        container exits first."""
        url = f"http://{ip}:{port}{self.server.base_url if self.server else '/'}"
        deadline = time.monotonic() + self.start_timeout
        checked_exit = time.monotonic()
        async with httpx.AsyncClient(timeout=2, verify=client_tls()) as client:
            while time.monotonic() < deadline:
                try:
                    await client.get(url)
                    return
                except httpx.HTTPError:
                    pass
                if time.monotonic() - checked_exit > 1:
                    checked_exit = time.monotonic()
                    status = await self.poll()
                    if status is not None:
                        raise web.HTTPError(
                            500, f"Your workspace stopped while starting ({status})."
                        )
                await asyncio.sleep(self.answer_poll_seconds)

    async def poll(self):
        """As DockerSpawner's, with the last lines the workspace printed when it exited, so a
        failed start says why."""
        status = await super().poll()
        if status not in (None, 0) and self.container_id:
            try:
                tail = await self.docker("logs", self.container_id, tail=5)
            except docker.errors.APIError:
                tail = b""
            text = tail.decode(errors="replace").strip() if tail else ""
            if text:
                status = f"{status}; last output: {text[-600:]}"
        return status
