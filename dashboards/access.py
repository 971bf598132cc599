"""Who is looking: the hub user the gateway vouched for, and what they may see.

The app listens on loopback only, behind `hub.gateway`. The gateway logs the browser in with
the hub, drops any `X-Apranova-*` header the browser sent, and adds the user, their role and
a per-start secret that it handed to this process in `APRANOVA_GATEWAY_SECRET`. A request
without that secret did not come through the gateway and is refused, so neither a browser nor
a local process that dials the port directly can claim to be someone else.
"""

import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass

import streamlit as st

from lms_api.principal import ADMIN_ROLES, ROLE_HEADER, STAFF_ROLES, USER_HEADER
from lms_api.principal import GATEWAY_SECRET_ENV as SECRET_ENV
from lms_api.principal import GATEWAY_SECRET_HEADER as SECRET_HEADER


@dataclass(frozen=True)
class Viewer:
    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        """Admins see every student and the revenue page."""
        return self.role in ADMIN_ROLES

    @property
    def trainer_scope(self) -> str | None:
        """A trainer sees only the students assigned to them; admins are not limited."""
        return None if self.is_admin else self.name


class AccessDenied(Exception):
    """The request may not see the dashboards; the message says why, for the page."""


def request_headers() -> Mapping[str, str]:
    """Headers of the request that opened this session (Streamlit keeps the first one)."""
    return st.context.headers


def viewer() -> Viewer:
    """The verified viewer, or AccessDenied with a message for the page."""
    expected = os.environ.get(SECRET_ENV, "")
    headers = request_headers()
    presented = headers.get(SECRET_HEADER) or ""
    if not expected or not hmac.compare_digest(presented.encode(), expected.encode()):
        raise AccessDenied(
            "Open the dashboards through the hub: /services/dashboards/ "
            "(this request did not come through the hub's login)."
        )
    name, role = headers.get(USER_HEADER), headers.get(ROLE_HEADER)
    if not name or not role:
        raise AccessDenied("The hub did not say who you are; sign in again through the hub.")
    if role not in STAFF_ROLES:
        raise AccessDenied(f"{name}: the dashboards are for trainers and admins (403).")
    return Viewer(name=name, role=role)
