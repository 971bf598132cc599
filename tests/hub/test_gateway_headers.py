"""The gateway forwards the hub-verified user and drops anything a browser claims."""

from unittest.mock import Mock

from tornado.httputil import HTTPHeaders, HTTPServerRequest
from tornado.web import Application

from hub.gateway import ProxyHandler, role_of


def handler_for(headers: dict[str, str]) -> ProxyHandler:
    request = HTTPServerRequest(
        method="GET",
        uri="/services/dashboards/",
        headers=HTTPHeaders({"Host": "127.0.0.1:8000", **headers}),
        connection=Mock(),
    )
    return ProxyHandler(
        Application(),
        request,
        upstream="http://127.0.0.1:9",
        allowed_groups={"trainers"},
        secret="s3cret",
    )


def test_forged_identity_headers_are_replaced():
    handler = handler_for(
        {
            "X-Apranova-User": "admin",
            "X-Apranova-Role": "superadmin",
            "X-Apranova-Gateway": "guessed",
            "Accept": "text/html",
        }
    )
    forwarded = handler.upstream_headers({"name": "tess", "groups": ["trainers"]})
    assert forwarded.get_list("X-Apranova-User") == ["tess"]
    assert forwarded.get_list("X-Apranova-Role") == ["trainer"]
    # The app's proof that the gateway, not the browser, set them.
    assert forwarded.get_list("X-Apranova-Gateway") == ["s3cret"]
    assert forwarded["Accept"] == "text/html"
    assert forwarded["Host"] == "127.0.0.1:8000"


def test_roles_follow_the_hub_model():
    assert role_of({"name": "a", "admin": True, "groups": []}) == "superadmin"
    assert role_of({"name": "b", "groups": ["admins", "trainers"]}) == "admin"
    assert role_of({"name": "c", "groups": ["trainers"]}) == "trainer"
    assert role_of({"name": "d", "groups": []}) == "student"
