"""Stops the workspaces lms-api no longer allows (deactivation, revocation, refund); with
`--warm-up-minutes`, also runs the class sessions' warm-up (`hub.session_warmup`).

The hub owns the servers and lms-api owns the rule, and lms-api never calls the hub. So this
small hub service (run by the hub as `apranova-hub`, with that service's token) compares,
every `--every` seconds, the servers that run with what lms-api allows now (one call for all
running users: `POST /workspaces/allowed/check`) and stops, through the hub REST API, every
server whose kind is no longer allowed. Level-triggered, not event-driven: a missed round,
a restart of either side or an enrollment changed straight in the database are all caught by
the next round. A student whose workspace was stopped sees why when they start it again: the
spawner refuses with the reason (account deactivated, or not enrolled and how to enroll).

When lms-api does not answer, nothing is stopped (a round is skipped, never guessed).

    python -m hub.workspace_guard --lms-api-url http://127.0.0.1:8010/services/lms-api/api/v1
"""

import argparse
import asyncio
import contextlib
import logging
import os
import signal
from typing import Any

import httpx

from hub.hub_api import all_users, server_path
from hub.lms_client import HubLmsClient, LmsUnavailable
from hub.session_warmup import SessionWarmup

log = logging.getLogger("apranova.workspace_guard")


class WorkspaceGuard:
    def __init__(self, hub_api_url: str, hub_token: str, lms: HubLmsClient) -> None:
        self.hub_api_url = hub_api_url.rstrip("/")
        self.headers = {"Authorization": f"token {hub_token}"}
        self.lms = lms

    async def running_servers(self, client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
        """username -> {server name: server model}, for users with a server that is up."""
        running: dict[str, dict[str, Any]] = {}
        async for user in all_users(client, self.hub_api_url, self.headers, state="active"):
            servers = {
                name: model
                for name, model in (user.get("servers") or {}).items()
                if model.get("ready") and not model.get("pending")
            }
            if servers:
                running[user["name"]] = servers
        return running

    @staticmethod
    def not_allowed(servers: dict[str, dict[str, Any]], allowed: list[str]) -> list[str]:
        """The servers to stop: all when nothing is allowed, else those of a kind that is not.

        A server's kind is what the spawner resolved and kept in its options."""
        if not allowed:
            return sorted(servers)
        return sorted(
            name
            for name, model in servers.items()
            if (model.get("user_options") or {}).get("kind") not in (None, *allowed)
        )

    async def stop(self, client: httpx.AsyncClient, username: str, server: str) -> None:
        path = server_path(username, server)
        response = await client.delete(f"{self.hub_api_url}{path}", headers=self.headers)
        if response.status_code in (202, 204):
            log.warning(
                "stopped workspace %r of %s: lms-api no longer allows it",
                server or "default",
                username,
            )
        elif response.status_code != 404:  # already gone
            log.error(
                "could not stop %s/%s: %s %s",
                username,
                server,
                response.status_code,
                response.text[:200],
            )

    async def round(self, client: httpx.AsyncClient) -> int:
        """One comparison; returns how many servers it stopped."""
        running = await self.running_servers(client)
        if not running:
            return 0
        try:
            allowed = await self.lms.allowed_kinds(sorted(running))
        except LmsUnavailable as exc:
            log.error("lms-api did not answer, no workspace stopped this round: %s", exc)
            return 0
        stopped = 0
        for username, servers in running.items():
            for server in self.not_allowed(servers, allowed.get(username, [])):
                await self.stop(client, username, server)
                stopped += 1
        return stopped

    async def run(self, every: float, stopping: asyncio.Event) -> None:
        async with httpx.AsyncClient(timeout=30) as client:
            while not stopping.is_set():
                try:
                    await self.round(client)
                except httpx.HTTPError as exc:
                    log.error("hub API error, retrying next round: %s", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), timeout=every)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="workspace-guard", description=__doc__)
    parser.add_argument("--lms-api-url", required=True, help="lms-api's /api/v1 base URL")
    parser.add_argument("--every", type=float, default=15.0, help="seconds between rounds")
    parser.add_argument(
        "--warm-up-minutes",
        type=int,
        default=0,
        help="start class sessions' workspaces this long before (0: no session warm-up)",
    )
    parser.add_argument(
        "--warm-up-every", type=float, default=30.0, help="seconds between warm-up rounds"
    )
    parser.add_argument(
        "--cull-idle-seconds", type=int, default=0, help="the idle culler's timeout (0: none)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s %(name)s] %(message)s")
    token = os.environ["JUPYTERHUB_API_TOKEN"]
    lms = HubLmsClient(args.lms_api_url, token, cache_seconds=0)
    guard = WorkspaceGuard(os.environ["JUPYTERHUB_API_URL"], token, lms)

    async def run() -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stopping.set)
        log.info("checking running workspaces against lms-api every %gs", args.every)
        jobs = [guard.run(args.every, stopping)]
        if args.warm_up_minutes > 0:
            warmup = SessionWarmup(
                os.environ["JUPYTERHUB_API_URL"],
                token,
                lms,
                args.warm_up_minutes,
                args.cull_idle_seconds,
            )
            jobs.append(warmup.run(args.warm_up_every, stopping))
        await asyncio.gather(*jobs)

    asyncio.run(run())


if __name__ == "__main__":
    main()
