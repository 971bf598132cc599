"""Who calls, and in what role: the identity types every domain shares.

No imports of the database, `auth` or `people`, so anything may import this module without
an import circle (`auth` resolves a token to a `Principal`; `people` and `access` use the roles).
"""

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    STUDENT = "student"
    TRAINER = "trainer"
    ADMIN = "admin"
    SUPERADMIN = "superadmin"
    SERVICE = "service"


STAFF_ROLES = frozenset({Role.TRAINER, Role.ADMIN, Role.SUPERADMIN})
ADMIN_ROLES = frozenset({Role.ADMIN, Role.SUPERADMIN})
# The roles a person account may have (a service is not a person).
PERSON_ROLES = (Role.STUDENT, Role.TRAINER, Role.ADMIN, Role.SUPERADMIN)

# The hub's groups that carry a role (superadmin is the hub's own admin flag).
TRAINERS_GROUP = "trainers"
ADMINS_GROUP = "admins"
GROUP_OF_ROLE = {Role.TRAINER: TRAINERS_GROUP, Role.ADMIN: ADMINS_GROUP}

# What the hub's gateway (hub.gateway) tells the dashboards and Dagster about the viewer, and
# the per-start secret that proves a request came through it.
USER_HEADER = "X-Apranova-User"
ROLE_HEADER = "X-Apranova-Role"
GATEWAY_SECRET_HEADER = "X-Apranova-Gateway"
GATEWAY_SECRET_ENV = "APRANOVA_GATEWAY_SECRET"


SERVICE_NAME = "lms-api"
ACCESS_SCOPES = frozenset({"access:services", f"access:services!service={SERVICE_NAME}"})


def grants_access(scopes: list[str] | tuple[str, ...]) -> bool:
    """Whether a token's scopes (as the hub lists them on `GET /user`) allow this service."""
    return any(scope in ACCESS_SCOPES for scope in scopes)


@dataclass(frozen=True)
class Principal:
    name: str
    kind: str  # "user" or "service"
    role: Role
    groups: tuple[str, ...] = ()
    may_access: bool = True  # the token carries access:services(!service=lms-api)


def role_from_hub(admin: bool, groups: list[str] | tuple[str, ...]) -> Role:
    """Hub admin = superadmin, group `admins` = admin, group `trainers` = trainer."""
    if admin:
        return Role.SUPERADMIN
    if ADMINS_GROUP in groups:
        return Role.ADMIN
    if TRAINERS_GROUP in groups:
        return Role.TRAINER
    return Role.STUDENT


class HubUnavailable(Exception):
    pass
