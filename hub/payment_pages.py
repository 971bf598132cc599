"""Hub pages that let a student pay for a track: `/hub/enroll` and `/hub/payments/return`.

The hub holds no payment logic. It asks lms_api, with a short-lived token of the signed-in
user (so lms_api applies its own rules to that user), to open a Stripe Checkout Session, and
sends the browser there. Stripe's webhook, not the return page, is what enrolls the student;
the return page only waits until lms_api says the payment went through.
"""

import uuid
from functools import cache

from jupyterhub import orm
from jupyterhub.handlers import BaseHandler
from tornado import web

from hub.lms_client import HubLmsClient, LmsRefused, LmsUnavailable
from hub.services import LMS_API_ACCESS

CURRENCY_SIGNS = {"eur": "€", "usd": "$", "gbp": "£"}
# The user's token for one call to lms_api lives this long at most, and is deleted after.
CALL_TOKEN_SECONDS = 120
LMS_DOWN = "The course service is not answering; try again."


@cache
def lms_client() -> HubLmsClient:
    """One client per hub process, made from the hub's settings at the first payment page.
    It caches nothing: these pages show what a payment just changed."""
    from hub.settings import get_settings

    settings = get_settings()
    return HubLmsClient(
        settings.lms_api_base,
        settings.hub_service_token.get_secret_value(),
        cache_seconds=0,
        timeout=20.0,
    )


def format_price(cents: int, currency: str) -> str:
    """1500.00 EUR as "€1,500.00"; a currency without a sign as "1,500.00 CHF"."""
    amount = f"{cents / 100:,.2f}"
    sign = CURRENCY_SIGNS.get(currency.lower())
    return f"{sign}{amount}" if sign else f"{amount} {currency.upper()}"


class PaymentPage(BaseHandler):
    """Shared parts: calls to lms_api made with the user's own short-lived token."""

    async def as_user(self, method: str, path: str, **kwargs) -> dict:
        token = self.current_user.new_api_token(
            note="ApraNova payment page", expires_in=CALL_TOKEN_SECONDS, scopes=[LMS_API_ACCESS]
        )
        try:
            return await lms_client().as_user(method, path, token, **kwargs)
        finally:
            orm_token = orm.APIToken.find(self.db, token)
            if orm_token is not None:
                self.db.delete(orm_token)
                self.db.commit()

    async def page(self, template: str, status: int = 200, **values) -> None:
        self.set_status(status)
        self.finish(await self.render_template(template, format_price=format_price, **values))


class EnrollHandler(PaymentPage):
    """`/hub/enroll`: the tracks a student can pay for, and a Pay button for each."""

    async def show(self, status: int = 200, **values) -> None:
        try:
            rule = await lms_client().workspace_rule(self.current_user.name)
        except LmsUnavailable as exc:
            raise web.HTTPError(503, LMS_DOWN) from exc
        await self.page(
            "enroll.html",
            status,
            rule=rule,
            request_key=uuid.uuid4().hex,  # one per page view: a double click pays once
            **values,
        )

    @web.authenticated
    async def get(self) -> None:
        await self.show()

    @web.authenticated
    async def post(self) -> None:
        track = self.get_body_argument("track", "").strip()
        key = self.get_body_argument("request_key", "").strip() or uuid.uuid4().hex
        if not track:
            await self.show(400, error="Choose a track to pay for.")
            return
        try:
            started = await self.as_user(
                "POST",
                "/payments/checkout",
                json={"track": track},
                headers={"Idempotency-Key": f"hub-{key}"},
            )
        except LmsRefused as exc:
            await self.show(exc.status, error=exc.message)
            return
        except LmsUnavailable:
            await self.show(503, error=LMS_DOWN)
            return
        self.log.info(
            "%s: checkout %s for %s", self.current_user.name, started["payment"]["id"], track
        )
        self.redirect(started["checkout_url"], status=303)


class PaymentReturnHandler(PaymentPage):
    """`/hub/payments/return`: where Stripe Checkout sends the student back."""

    @web.authenticated
    async def get(self) -> None:
        payment_id = self.get_query_argument("payment", "")
        if not payment_id.isdigit():
            raise web.HTTPError(400, "This link has no payment number.")
        try:
            payment = await self.as_user("GET", f"/payments/{int(payment_id)}")
        except LmsRefused as exc:
            raise web.HTTPError(exc.status, exc.message) from exc
        except LmsUnavailable as exc:
            raise web.HTTPError(503, LMS_DOWN) from exc
        await self.page(
            "payment-return.html",
            payment=payment,
            cancelled=bool(self.get_query_argument("cancelled", "")),
        )


def payment_handlers() -> list[tuple[str, type[BaseHandler]]]:
    return [("/enroll", EnrollHandler), ("/payments/return", PaymentReturnHandler)]
