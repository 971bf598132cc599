"""Hub-issued token validation: every non-public route knows who calls, and in what role.

JupyterHub is the identity provider. A token is checked by asking the hub who owns it
(`GET /user` with that token); the owner's admin flag and groups are then read with this
service's own token, because a notebook server's token may not carry them. Results are
cached for `auth_cache_seconds` so a busy API does not hammer the hub.

A token must also carry the scope to use this service (`access:services!service=lms-api`,
or unfiltered `access:services`): a token its owner made for something narrower (e.g. only
`read:users:activity`) is refused with 403, even though the hub says who owns it.
"""

import hashlib
import time
from typing import Annotated

import httpx
from fastapi import Depends, Request
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from lms_api.database import SessionDep, select_rows
from lms_api.errors import (
    AccountDeactivated,
    Forbidden,
    InsufficientScope,
    NotAuthenticated,
    Unavailable,
)
from lms_api.people.models import Person
from lms_api.people.service import get_or_create_person
from lms_api.principal import (
    ADMIN_ROLES,
    SERVICE_NAME,
    STAFF_ROLES,
    HubUnavailable,
    Principal,
    Role,
    grants_access,
    role_from_hub,
)
from lms_api.tls import client_tls


class HubTokenValidator:
    """Resolves a hub token to a Principal, with a short in-memory cache."""

    MAX_CACHE_ENTRIES = 10_000

    def __init__(
        self, hub_api_url: str, service_token: str, cache_seconds: float, timeout: float = 5.0
    ) -> None:
        self.hub_api_url = hub_api_url.rstrip("/")
        self.service_token = service_token
        self.cache_seconds = cache_seconds
        self._client = httpx.AsyncClient(timeout=timeout, verify=client_tls())
        self._cache: dict[str, tuple[float, Principal]] = {}

    async def aclose(self) -> None:
        await self._client.aclose()

    @property
    def client(self) -> httpx.AsyncClient:
        """The HTTP client to the hub, shared with other questions to the hub (pooled)."""
        return self._client

    async def principal_for(self, token: str) -> Principal | None:
        key = hashlib.sha256(token.encode()).hexdigest()
        cached = self._cache.get(key)
        now = time.monotonic()
        if cached and cached[0] > now:
            return cached[1]
        principal = await self._ask_hub(token)
        if principal is not None and self.cache_seconds > 0:
            if len(self._cache) >= self.MAX_CACHE_ENTRIES:
                self._cache.clear()
            self._cache[key] = (now + self.cache_seconds, principal)
        return principal

    async def _get(self, path: str, token: str) -> httpx.Response:
        try:
            return await self._client.get(
                f"{self.hub_api_url}{path}", headers={"Authorization": f"token {token}"}
            )
        except httpx.HTTPError as exc:
            raise HubUnavailable(str(exc)) from exc

    async def _ask_hub(self, token: str) -> Principal | None:
        whoami = await self._get("/user", token)
        if whoami.status_code in (401, 403):
            return None
        if whoami.status_code != 200:
            raise HubUnavailable(f"hub answered {whoami.status_code} to a token check")
        model = whoami.json()
        may_access = grants_access(model.get("scopes") or [])
        if model.get("kind") == "service":
            return Principal(
                name=model["name"], kind="service", role=Role.SERVICE, may_access=may_access
            )
        name = model["name"]
        details = await self._get(f"/users/{name}", self.service_token)
        if details.status_code != 200:
            raise HubUnavailable(
                f"hub answered {details.status_code} when reading the roles of {name!r}; "
                "is APRANOVA_LMS_API_TOKEN the lms-api service token?"
            )
        user = details.json()
        groups = tuple(user.get("groups") or ())
        return Principal(
            name=name,
            kind="user",
            role=role_from_hub(bool(user.get("admin")), groups),
            groups=groups,
            may_access=may_access,
        )


def bearer_token(request: Request) -> str | None:
    """Accept `Authorization: Bearer X` and JupyterHub's own `Authorization: token X`."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() in ("bearer", "token") and value.strip():
        return value.strip()
    return None


async def current_principal(request: Request) -> Principal:
    token = bearer_token(request)
    if token is None:
        raise NotAuthenticated("Authentication required: send 'Authorization: Bearer <hub token>'.")
    validator: HubTokenValidator = request.app.state.token_validator
    try:
        principal = await validator.principal_for(token)
    except HubUnavailable as exc:
        raise Unavailable(f"Cannot check the token with JupyterHub right now: {exc}") from exc
    if principal is None:
        raise NotAuthenticated("The token is invalid, expired or revoked.")
    if not principal.may_access:
        raise InsufficientScope(
            f"This token may not use the LMS API: it lacks the JupyterHub scope "
            f"'access:services!service={SERVICE_NAME}'. Make a token at /hub/token without "
            "narrowing its scopes, or request that scope."
        )
    return principal


# The caller's `is_active`, as a Core statement built once: no ORM entity, so the session
# hands it straight to the connection (no ORM compile state, no ORM result set-up), and no
# statement is built per request. Every request of a user runs it (bench/README.md, issue 23).
_PEOPLE = Person.__table__
IS_ACTIVE = select(_PEOPLE.c.is_active).where(_PEOPLE.c.username == bindparam("username"))


async def ensure_active(
    session: AsyncSession, principal: Principal, known: bool | None = None
) -> Principal:
    """A user's profile is made on their first authenticated call; a deactivated one is refused.

    One indexed look-up per request (a write only the very first time); services pass as is.
    `known`: the caller's `is_active` as a route's own first query read it, in this request's
    transaction (None: not read, or no profile yet), so the look-up is not made twice. Never
    cached: a deactivation applies from the very next request.
    """
    if principal.kind != "user":
        return principal
    active = known
    if active is None:
        rows = await select_rows(session, IS_ACTIVE, {"username": principal.name})
        active = rows[0][0] if rows else None
    if active is None:
        active = (await get_or_create_person(session, principal.name)).is_active
    if not active:
        raise AccountDeactivated(
            f"account deactivated: {principal.name!r} may not use the LMS until an admin "
            "re-activates it."
        )
    return principal


async def active_principal(
    principal: Annotated[Principal, Depends(current_principal)], session: SessionDep
) -> Principal:
    """The caller, refused with 403 when their profile is deactivated."""
    return await ensure_active(session, principal)


async def current_user(principal: Annotated[Principal, Depends(active_principal)]) -> Principal:
    if principal.kind != "user":
        raise Forbidden("This route is for users; a service token was sent.")
    return principal


async def trusted_service(
    request: Request, principal: Annotated[Principal, Depends(active_principal)]
) -> Principal:
    trusted = request.app.state.settings.trusted_services
    if (principal.kind == "service" and principal.name in trusted) or (
        principal.role in ADMIN_ROLES
    ):
        return principal
    raise Forbidden("Only the hub (or an admin) may ask this.")


def optional_principal_dependency():
    """For public routes that show more to a signed-in caller (e.g. the catalog)."""

    async def optional_principal(request: Request, session: SessionDep) -> Principal | None:
        if bearer_token(request) is None:
            return None
        return await ensure_active(session, await current_principal(request))

    return optional_principal


async def staff_user(user: Annotated[Principal, Depends(current_user)]) -> Principal:
    if user.role not in STAFF_ROLES:
        raise Forbidden("Only trainers and admins may do this.")
    return user


async def admin_user(user: Annotated[Principal, Depends(current_user)]) -> Principal:
    if user.role not in ADMIN_ROLES:
        raise Forbidden("Only admins may do this.")
    return user


CurrentPrincipal = Annotated[Principal, Depends(active_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal_dependency())]
StaffUser = Annotated[Principal, Depends(staff_user)]
AdminUser = Annotated[Principal, Depends(admin_user)]
CurrentUser = Annotated[Principal, Depends(current_user)]
TrustedService = Annotated[Principal, Depends(trusted_service)]
