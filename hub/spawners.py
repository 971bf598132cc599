"""Track-aware spawners: a student may launch only what their enrollments allow.

The rule lives in lms_api (`GET /api/v1/workspaces/allowed`); the spawn form and the start
of every spawn (form or REST) both ask it, so the REST API cannot bypass the form.
"""

import html
import os
import sys

from dockerspawner import DockerSpawner
from jupyterhub.spawner import SimpleLocalProcessSpawner
from tornado import web
from traitlets import Dict, Float, List, Unicode, default
from traitlets.config import LoggingConfigurable

from hub.lms_client import LmsClient, LmsUnavailable, WorkspaceRule
from hub.payment_pages import format_price

KIND_DESCRIPTIONS = {
    "jupyterlab": "JupyterLab: notebooks, Python and DuckDB for data work.",
    "code-server": "VS Code in the browser, for full-stack projects.",
    "superset": "Apache Superset: dashboards over your track's datasets.",
}


class NotEnrolled(web.HTTPError):
    """403 for a user with no workspace: says how to enroll and, if Stripe is set up, what
    each track costs and where to pay (HTML on the hub's error page, text in the REST API)."""

    def __init__(self, rule: WorkspaceRule, enroll_help: str, enroll_url: str) -> None:
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
        items = "".join(
            f"<li><strong>{html.escape(o['track_name'])}</strong> ({html.escape(o['track_code'])})"
            f": {html.escape(format_price(o['price_cents'], o['currency']))}</li>"
            for o in offers
        )
        pay = (
            f'<p>You can enroll and pay online:</p><ul class="apranova-offers">{items}</ul>'
            f'<p><a class="btn btn-primary" id="enroll-online" href="{html.escape(enroll_url)}">'
            "Enroll and pay</a></p>"
            if offers
            else ""
        )
        self.jupyterhub_message = message
        self.jupyterhub_html_message = (
            "<p>You are not enrolled in a track with a workspace.</p>"
            f"{pay}<p>{html.escape(enroll_help)}</p>"
        )


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

    _clients: dict[tuple[str, str], LmsClient] = {}

    @property
    def lms(self) -> LmsClient:
        key = (self.lms_api_url, self.lms_api_token)
        if key not in TrackAwareMixin._clients:
            TrackAwareMixin._clients[key] = LmsClient(
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
        rule = await self.workspace_rule()
        kinds = [kind for kind in rule.kinds if kind in self.launchable_kinds]
        if not kinds:
            raise NotEnrolled(rule, self.enroll_help, f"{self.hub.base_url}enroll")
        return kinds

    async def get_options_form(self) -> str:
        kinds = await self.kinds_or_refuse()
        if len(kinds) == 1:
            return ""  # nothing to choose: launch directly
        options = "\n".join(
            f'<div class="radio"><label><input type="radio" name="kind" value="{k}"'
            f"{' checked' if i == 0 else ''}> <strong>{html.escape(k)}</strong> — "
            f"{html.escape(self.kind_descriptions.get(k, ''))}</label></div>"
            for i, k in enumerate(kinds)
        )
        return f"<p>Choose the workspace to launch:</p>{options}"

    def options_from_form(self, formdata):
        return {"kind": (formdata.get("kind") or [""])[0]}

    async def resolve_kind(self) -> str:
        """The kind asked for (form or REST `{"kind": ...}`), checked against the rule."""
        kinds = await self.kinds_or_refuse()
        wanted = (self.user_options or {}).get("kind") or kinds[0]
        if wanted not in kinds:
            raise web.HTTPError(
                403,
                f"Workspace {wanted!r} is not available to you; you may launch: "
                f"{', '.join(kinds)}.",
            )
        return wanted


class LocalTrackSpawner(TrackAwareMixin, SimpleLocalProcessSpawner):
    """Local mode: JupyterLab as a local process per student, no Docker engine needed."""

    @default("default_url")
    def _default_default_url(self) -> str:
        return "/lab"

    @default("cmd")
    def _default_cmd(self) -> list[str]:
        # The hub's own environment has jupyterhub and JupyterLab installed.
        return [sys.executable, "-m", "jupyterhub.singleuser"]

    @default("args")
    def _default_args(self) -> list[str]:
        return ["--allow-root"] if os.geteuid() == 0 else []

    async def start(self):
        self.workspace_kind = await self.resolve_kind()
        os.makedirs(self.home_dir, mode=0o700, exist_ok=True)
        return await super().start()


class DockerTrackSpawner(TrackAwareMixin, DockerSpawner):
    """Docker mode: one container per student and kind, home on a named volume."""

    workspace_images = Dict(
        {"jupyterlab": "apranova/workspace-jupyterlab:latest"},
        help="Image to run for each workspace kind.",
    ).tag(config=True)

    @default("launchable_kinds")
    def _default_launchable(self) -> list[str]:
        return list(self.workspace_images)

    async def start(self):
        kind = await self.resolve_kind()
        self.image = self.workspace_images[kind]
        return await super().start()
