"""A fake Stripe API on 127.0.0.1, so tests drive the real stripe SDK over HTTP.

    client = stripe.StripeClient(fake.api_key, base_addresses={"api": fake.url},
                                 http_client=stripe.HTTPXClient(), max_network_retries=0)
    session = await client.v1.checkout.sessions.create_async({...})
    events = fake.complete_checkout(session.id)      # what the payer and Stripe would do
    fake.deliver(events[0], app_webhook_url)         # signed like a real webhook

It answers the few v1 endpoints the payments code uses (customers, checkout sessions, payment
intents, refunds) with the JSON shapes and error bodies of api.stripe.com, form-encoded
requests included, so the SDK's own encoding, parsing and error mapping run for real. State
is in memory; every request is recorded with its parsed params for assertions. A hosted
checkout page (`/pay/{id}`) stands in for checkout.stripe.com in browser-like tests.

Webhook signing is written here with hmac (not the SDK), so a test of signature checking
does not check the SDK against itself.

Use it through the `fake_stripe` fixture: `from tests.fakes.stripe import fake_stripe`.
"""

import copy
import hashlib
import hmac
import html
import json
import re
import secrets
import string
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from tests.fakes.loopback import LoopbackServer

API_VERSION = "2025-01-27.acacia"  # stamped on events; any fixed string would do
SESSION_LIFETIME = 24 * 60 * 60  # Stripe's default (and longest) checkout session lifetime
SESSION_SHORTEST = 30 * 60  # the earliest `expires_at` Stripe accepts
ALPHANUMERIC = string.ascii_letters + string.digits
ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx"}
ZERO_DECIMAL |= {"vnd", "vuv", "xaf", "xof", "xpf"}
EXPANDABLE = {"customer", "payment_intent", "latest_charge", "charge"}


def random_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(ALPHANUMERIC) for _ in range(length))


def now() -> int:
    return int(time.time())


# ----- webhook signing -----------------------------------------------------------------------


def payload_of(event: dict[str, Any]) -> bytes:
    """The webhook body for `event`: compact JSON, the exact bytes that get signed."""
    return json.dumps(event, separators=(",", ":")).encode()


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A Stripe-Signature header value: "t=<ts>,v1=<hex HMAC-SHA256 of '<ts>.' + payload>"."""
    ts = now() if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={ts},v1={digest}"


# ----- requests and errors -------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # without the query string
    headers: dict[str, str]  # lower-case names
    params: dict[str, Any]  # nested, from the form body / query; values stay wire strings
    body: str = ""  # the raw body, for the odd assertion on the encoding itself


class FakeStripeError(ValueError):
    """A Stripe API error: raised by handlers (and helpers), answered as Stripe's error body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error: dict[str, Any] = {"type": type, "message": message}
        if code is not None:
            self.error["code"] = code
        if param is not None:
            self.error["param"] = param

    @property
    def body(self) -> dict[str, Any]:
        return {"error": dict(self.error)}


def missing(param: str) -> FakeStripeError:
    return FakeStripeError(
        400, f"Missing required param: {param}.", code="parameter_missing", param=param
    )


def no_such(kind: str, object_id: str, *, param: str = "id", status: int = 404) -> FakeStripeError:
    return FakeStripeError(
        status, f"No such {kind}: '{object_id}'", code="resource_missing", param=param
    )


def parse_params(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding back to a nested dict: `a[b][0][c]=v` -> {"a": {"b": [{"c": v}]}}."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        name, bracket, rest = key.partition("[")
        parts = [name, *re.findall(r"\[([^\]]*)\]", bracket + rest)]
        node = root
        for index, part in enumerate(parts):
            if part == "":  # `expand[]=x`: the next free index
                part = str(len(node))
            if index == len(parts) - 1:
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = node[part] = {}
                node = child
    return _listify(root)


def _listify(node: Any, key: str | None = None) -> Any:
    """Dicts keyed "0", "1", ... become lists, except metadata, whose keys are the user's."""
    if not isinstance(node, dict):
        return node
    converted = {name: _listify(value, name) for name, value in node.items()}
    if key != "metadata" and converted and all(name.isdigit() for name in converted):
        return [converted[name] for name in sorted(converted, key=int)]
    return converted


def as_int(value: Any, param: str, *, minimum: int | None = None) -> int:
    """A form value as an int, refused the way Stripe refuses it."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise FakeStripeError(400, f"Invalid integer: {value}", param=param) from None
    if minimum is not None and number < minimum:
        raise FakeStripeError(
            400, f"This value must be greater than or equal to {minimum}.", param=param
        )
    return number


def as_dict(value: Any, param: str) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise FakeStripeError(400, f"Invalid object: {param}", param=param)
    return value


def as_list(value: Any, param: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise FakeStripeError(400, f"Invalid array: {param}", param=param)
    return value


def money(amount: int, currency: str) -> str:
    if currency.lower() in ZERO_DECIMAL:
        return f"{amount} {currency.upper()}"
    return f"{amount / 100:.2f} {currency.upper()}"


def mask(key: str) -> str:
    """An API key as Stripe echoes it in errors: the end kept, the middle starred out."""
    if len(key) <= 12:
        return key
    return key[:8] + "*" * (len(key) - 12) + key[-4:]


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, body: Any, **headers: str) -> Response:
    return Response(status, json.dumps(body, indent=2).encode(), headers=dict(headers))


def page(status: int, title: str, body_html: str) -> Response:
    text = (
        "<!doctype html>\n<html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head>\n<body>\n{body_html}\n</body></html>\n"
    )
    return Response(status, text.encode(), content_type="text/html; charset=utf-8")


Handler = Callable[[dict[str, Any], str | None], tuple[int, dict[str, Any]]]


# ----- the server ----------------------------------------------------------------------------


class FakeStripe:
    """The server and its state; `url` is the base address to give the SDK."""

    def __init__(self) -> None:
        self.api_key = "sk_test_fake"
        self.webhook_secret = "whsec_test_fake"
        self.webhook_url: str | None = None  # where the hosted page delivers its events
        self.requests: list[RecordedRequest] = []
        self.customers: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []  # every event made, delivered or not
        self.deliveries: list[tuple[dict[str, Any], int]] = []  # by the hosted page; 0 = no answer
        self._payment_intent_data: dict[str, dict[str, Any]] = {}  # session id -> its param
        self._idempotent: dict[str, tuple[tuple[str, str, str], Response]] = {}
        self._faults: deque[FakeStripeError] = deque()
        self._lock = threading.RLock()
        self._server = LoopbackServer(self._handle, "fake Stripe")
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("POST", re.compile(r"/v1/customers"), self._create_customer),
            ("GET", re.compile(r"/v1/customers/([^/]+)"), self._getter("customer")),
            ("POST", re.compile(r"/v1/checkout/sessions"), self._create_session),
            ("GET", re.compile(r"/v1/checkout/sessions/([^/]+)"), self._getter("session")),
            ("POST", re.compile(r"/v1/checkout/sessions/([^/]+)/expire"), self._expire_session),
            ("POST", re.compile(r"/v1/payment_intents"), self._create_intent),
            ("GET", re.compile(r"/v1/payment_intents/([^/]+)"), self._getter("intent")),
            ("GET", re.compile(r"/v1/charges/([^/]+)"), self._getter("charge")),
            ("POST", re.compile(r"/v1/refunds"), self._create_refund),
            ("GET", re.compile(r"/v1/refunds/([^/]+)"), self._getter("refund")),
        ]

    # ----- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> "FakeStripe":
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    # ----- for assertions and fault injection ------------------------------------------------

    def calls(self, method: str, path_prefix: str) -> list[RecordedRequest]:
        """The recorded requests with this method whose path starts with `path_prefix`."""
        with self._lock:
            return [
                request
                for request in self.requests
                if request.method == method.upper() and request.path.startswith(path_prefix)
            ]

    def fail_next(
        self,
        status: int = 500,
        times: int = 1,
        message: str = "An unknown error occurred (injected by the fake).",
        *,
        error_type: str = "api_error",
        code: str | None = None,
    ) -> None:
        """Answer the next `times` /v1 requests with this error (before auth and idempotency).

        A failed request stores no idempotent result, so a retry with the same key runs anew.
        """
        with self._lock:
            for _ in range(times):
                self._faults.append(FakeStripeError(status, message, type=error_type, code=code))

    # ----- what the payer and Stripe do (events are returned, not delivered) -----------------

    def event(self, type: str, obj: dict[str, Any]) -> dict[str, Any]:
        """An event of `type` around a snapshot of `obj` as it is now."""
        with self._lock:
            event = {
                "id": random_id("evt_"),
                "object": "event",
                "api_version": API_VERSION,
                "created": now(),
                "type": type,
                "livemode": False,
                "pending_webhooks": 1,
                "request": {"id": None, "idempotency_key": None},
                "data": {"object": copy.deepcopy(obj)},
            }
            self.events.append(event)
            return copy.deepcopy(event)

    def complete_checkout(self, session_id: str) -> list[dict[str, Any]]:
        """The payer pays: a succeeded intent and charge; the session complete and paid.

        Returns [checkout.session.completed, payment_intent.succeeded]. Raises
        FakeStripeError (a ValueError) for an unknown session or one that is not open.
        """
        with self._lock:
            session = self._find("session", session_id)
            if session["status"] != "open":
                raise FakeStripeError(
                    400, f"Checkout session {session_id} is {session['status']}, not open."
                )
            data = self._payment_intent_data.get(session_id, {})
            intent = self._new_intent(
                amount=session["amount_total"],
                currency=session["currency"],
                customer=session["customer"],
                metadata=dict(as_dict(data.get("metadata"), "payment_intent_data[metadata]")),
                description=data.get("description"),
            )
            self._succeed(intent)
            customer = self.customers.get(session["customer"] or "", {})
            session.update(
                status="complete",
                payment_status="paid",
                payment_intent=intent["id"],
                url=None,  # as Stripe does once a session is no longer open
                customer_details={
                    "email": customer.get("email") or session.get("customer_email"),
                    "name": customer.get("name"),
                },
            )
            return [
                self.event("checkout.session.completed", session),
                self.event("payment_intent.succeeded", intent),
            ]

    def succeed_intent(self, pi_id: str) -> dict[str, Any]:
        """The intent's payment goes through: a charge; event payment_intent.succeeded."""
        with self._lock:
            intent = self._find("intent", pi_id)
            self._succeed(intent)
            return self.event("payment_intent.succeeded", intent)

    def fail_intent(self, pi_id: str, message: str = "Your card was declined.") -> dict[str, Any]:
        """The card is declined; event payment_intent.payment_failed."""
        with self._lock:
            intent = self._find("intent", pi_id)
            if intent["status"] == "succeeded":
                raise FakeStripeError(400, f"PaymentIntent {pi_id} has already succeeded.")
            intent.update(
                status="requires_payment_method",
                last_payment_error={
                    "code": "card_declined",
                    "decline_code": "generic_decline",
                    "message": message,
                    "type": "card_error",
                },
            )
            return self.event("payment_intent.payment_failed", intent)

    def refund(self, pi_id: str, amount: int | None = None) -> dict[str, Any]:
        """Refund the intent's charge (in full by default); event charge.refunded."""
        with self._lock:
            refund = self._refund(self._find("intent", pi_id), amount)
            return self.event("charge.refunded", self.charges[refund["charge"]])

    def expire_checkout(self, session_id: str) -> dict[str, Any]:
        """The session runs out; event checkout.session.expired."""
        with self._lock:
            session = self._find("session", session_id)
            self._expire(session)
            return self.event("checkout.session.expired", session)

    # ----- webhook delivery ------------------------------------------------------------------

    def webhook_request(
        self,
        event: dict[str, Any],
        *,
        secret: str | None = None,
        timestamp: int | None = None,
        signature: str | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """The body and headers of a webhook for `event`, for in-process clients (TestClient)."""
        payload = payload_of(event)
        header = signature or sign(payload, secret or self.webhook_secret, timestamp)
        return payload, {"Content-Type": "application/json", "Stripe-Signature": header}

    def deliver(
        self,
        event: dict[str, Any],
        url: str | None = None,
        *,
        secret: str | None = None,
        timestamp: int | None = None,
        signature: str | None = None,
    ) -> httpx.Response:
        """POST `event` to `url` (default `webhook_url`), signed as Stripe signs it."""
        target = url or self.webhook_url
        if not target:
            raise ValueError("no url given and webhook_url is not set")
        payload, headers = self.webhook_request(
            event, secret=secret, timestamp=timestamp, signature=signature
        )
        return httpx.post(target, content=payload, headers=headers, timeout=30)

    # ----- serving ---------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        split = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode("utf-8", "replace") if length else ""
        pairs = parse_qsl(split.query, keep_blank_values=True)
        if handler.command == "POST":
            pairs += parse_qsl(raw, keep_blank_values=True)
        recorded = RecordedRequest(
            method=handler.command,
            path=split.path,
            headers={name.lower(): value for name, value in handler.headers.items()},
            params=parse_params(pairs),
            body=raw,
        )
        with self._lock:
            self.requests.append(recorded)
        if recorded.path.startswith("/pay/"):
            response = self._hosted_page(recorded)
        else:
            response = self._api(recorded)
        try:
            handler.send_response(response.status)
            handler.send_header("Content-Type", response.content_type)
            handler.send_header("Content-Length", str(len(response.body)))
            handler.send_header("Request-Id", random_id("req_", 14))
            for name, value in response.headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up: nothing to answer

    def _api(self, request: RecordedRequest) -> Response:
        """One /v1 call, answered whole under the lock (in memory, so quick)."""
        with self._lock:
            if not request.path.startswith("/v1/"):
                return self._unrecognized(request)
            if self._faults:
                fault = self._faults.popleft()
                return json_response(fault.status, fault.body)
            given = request.headers.get("authorization", "")
            if not given.startswith("Bearer "):
                return self._unauthorized(
                    "You did not provide an API key. You need to provide your API key in the "
                    "Authorization header, using Bearer auth "
                    "(e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
                )
            key = given.removeprefix("Bearer ").strip()
            if key != self.api_key:
                return self._unauthorized(f"Invalid API Key provided: {mask(key)}")

            idempotency_key = request.headers.get("idempotency-key")
            if request.method != "POST":
                idempotency_key = None
            fingerprint = (
                request.method,
                request.path,
                json.dumps(request.params, sort_keys=True),
            )
            if idempotency_key is not None and idempotency_key in self._idempotent:
                return self._replay(idempotency_key, fingerprint)

            response = self._route(request)
            if idempotency_key is not None:
                response.headers["Idempotency-Key"] = idempotency_key
                if 200 <= response.status < 300:  # failed validation stores nothing
                    self._idempotent[idempotency_key] = (fingerprint, response)
            return response

    def _route(self, request: RecordedRequest) -> Response:
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if match and method == request.method:
                try:
                    status, body = handler(
                        request.params, match.group(1) if match.groups() else None
                    )
                    return json_response(status, self._expand(body, request.params))
                except FakeStripeError as error:
                    return json_response(error.status, error.body)
        return self._unrecognized(request)

    def _replay(self, key: str, fingerprint: tuple[str, str, str]) -> Response:
        first, response = self._idempotent[key]
        if first[:2] != fingerprint[:2]:
            message = (
                "Keys for idempotent requests can only be used for the same endpoint they were "
                f"first used for ('{first[0]} {first[1]}'). Try using a key other than '{key}' "
                "if you meant to execute a different request."
            )
        elif first != fingerprint:
            message = (
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request."
            )
        else:
            headers = {**response.headers, "Idempotent-Replayed": "true"}
            return Response(response.status, response.body, response.content_type, headers)
        error = FakeStripeError(400, message, type="idempotency_error")
        return json_response(400, error.body)

    def _unauthorized(self, message: str) -> Response:
        error = FakeStripeError(401, message)
        return json_response(401, error.body, **{"WWW-Authenticate": 'Bearer realm="Stripe"'})

    @staticmethod
    def _unrecognized(request: RecordedRequest) -> Response:
        error = FakeStripeError(
            404,
            f"Unrecognized request URL ({request.method}: {request.path}). "
            "This fake answers only the endpoints the payments code uses.",
            code="resource_missing",
        )
        return json_response(404, error.body)

    # ----- objects ---------------------------------------------------------------------------

    def _store(self, kind: str) -> tuple[str, dict[str, dict[str, Any]]]:
        return {
            "customer": ("customer", self.customers),
            "session": ("checkout.session", self.sessions),
            "intent": ("payment_intent", self.intents),
            "charge": ("charge", self.charges),
            "refund": ("refund", self.refunds),
        }[kind]

    def _find(
        self, kind: str, object_id: str, *, param: str = "id", status: int = 404
    ) -> dict[str, Any]:
        name, store = self._store(kind)
        if object_id not in store:
            raise no_such(name, object_id, param=param, status=status)
        return store[object_id]

    def _getter(self, kind: str) -> Handler:
        def get(params: dict[str, Any], object_id: str | None) -> tuple[int, dict[str, Any]]:
            return 200, self._find(kind, object_id or "")

        return get

    def _expand(self, obj: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        """A copy of `obj` with the ids named in `expand` replaced by their objects."""
        obj = copy.deepcopy(obj)
        for name in as_list(params.get("expand"), "expand"):
            if name not in EXPANDABLE or name not in obj:
                raise FakeStripeError(
                    400, f"This property cannot be expanded ({name}).", param="expand"
                )
            value = obj[name]
            if isinstance(value, str):
                for store in (self.customers, self.intents, self.charges):
                    if value in store:
                        obj[name] = copy.deepcopy(store[value])
        return obj

    def _customer_param(self, params: dict[str, Any]) -> str | None:
        customer = params.get("customer") or None
        if customer is not None:
            self._find("customer", customer, param="customer", status=400)
        return customer

    def _create_customer(self, params: dict[str, Any], _: str | None) -> tuple[int, dict]:
        customer = {
            "id": random_id("cus_", 14),
            "object": "customer",
            "created": now(),
            "description": params.get("description"),
            "email": params.get("email"),
            "livemode": False,
            "metadata": dict(as_dict(params.get("metadata"), "metadata")),
            "name": params.get("name"),
            "phone": params.get("phone"),
        }
        self.customers[customer["id"]] = customer
        return 200, customer

    def _create_session(self, params: dict[str, Any], _: str | None) -> tuple[int, dict]:
        mode = params.get("mode")
        if not mode:
            raise missing("mode")
        if mode not in {"payment", "setup", "subscription"}:
            raise FakeStripeError(400, f"Invalid mode: {mode}", param="mode")
        customer = self._customer_param(params)
        line_items = as_list(params.get("line_items"), "line_items")
        if mode != "setup" and not line_items:
            raise missing("line_items")
        total, currencies = 0, set()
        for index, item in enumerate(line_items):
            where = f"line_items[{index}]"
            item = as_dict(item, where)
            if "price" in item:
                raise no_such("price", item["price"], param=f"{where}[price]", status=400)
            price = as_dict(item.get("price_data"), f"{where}[price_data]")
            if not price:
                raise missing(f"{where}[price_data]")
            for required in ("currency", "unit_amount"):
                if required not in price:
                    raise missing(f"{where}[price_data][{required}]")
            if "quantity" not in item:
                raise missing(f"{where}[quantity]")
            unit = as_int(price["unit_amount"], f"{where}[price_data][unit_amount]", minimum=0)
            quantity = as_int(item["quantity"], f"{where}[quantity]", minimum=1)
            total += unit * quantity
            currencies.add(str(price["currency"]).lower())
        if len(currencies) > 1:
            raise FakeStripeError(
                400, "All line items must use the same currency.", param="line_items"
            )
        currency = currencies.pop() if currencies else (params.get("currency") or None)
        created = now()
        expires_at = created + SESSION_LIFETIME
        if params.get("expires_at"):
            expires_at = as_int(params["expires_at"], "expires_at")
            if expires_at > created + SESSION_LIFETIME:
                raise FakeStripeError(
                    400,
                    "The `expires_at` timestamp must be less than 24 hours from Checkout "
                    "Session creation.",
                    param="expires_at",
                )
            if expires_at < created + SESSION_SHORTEST:
                raise FakeStripeError(
                    400,
                    "The `expires_at` timestamp must be at least 30 minutes from Checkout "
                    "Session creation.",
                    param="expires_at",
                )
        session_id = random_id("cs_test_", 58)
        session = {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": total if mode != "setup" else None,
            "amount_total": total if mode != "setup" else None,
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "created": created,
            "currency": currency,
            "customer": customer,
            "customer_details": None,
            "customer_email": params.get("customer_email"),
            "expires_at": expires_at,
            "livemode": False,
            "metadata": dict(as_dict(params.get("metadata"), "metadata")),
            "mode": mode,
            "payment_intent": None,
            "payment_status": "unpaid",
            "status": "open",
            "success_url": params.get("success_url"),
            "ui_mode": "hosted",
            "url": f"{self.url}/pay/{session_id}",
        }
        self.sessions[session_id] = session
        self._payment_intent_data[session_id] = copy.deepcopy(
            as_dict(params.get("payment_intent_data"), "payment_intent_data")
        )
        return 200, session

    def _expire_session(self, params: dict[str, Any], session_id: str | None) -> tuple[int, dict]:
        session = self._find("session", session_id or "")
        self._expire(session)
        return 200, session

    def _expire(self, session: dict[str, Any]) -> None:
        if session["status"] != "open":
            raise FakeStripeError(
                400,
                f'Only Checkout Sessions with a status in ["open"] can be expired. This '
                f'Checkout Session has a status of "{session["status"]}".',
            )
        session.update(status="expired", url=None)

    def _create_intent(self, params: dict[str, Any], _: str | None) -> tuple[int, dict]:
        for required in ("amount", "currency"):
            if not params.get(required):
                raise missing(required)
        intent = self._new_intent(
            amount=as_int(params["amount"], "amount", minimum=1),
            currency=str(params["currency"]).lower(),
            customer=self._customer_param(params),
            metadata=dict(as_dict(params.get("metadata"), "metadata")),
            description=params.get("description"),
        )
        return 200, intent

    def _new_intent(
        self,
        *,
        amount: int,
        currency: str,
        customer: str | None,
        metadata: dict[str, Any],
        description: str | None,
    ) -> dict[str, Any]:
        intent_id = random_id("pi_")
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_received": 0,
            "client_secret": f"{intent_id}_secret_{random_id('', 25)}",
            "created": now(),
            "currency": currency,
            "customer": customer,
            "description": description,
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": metadata,
            "payment_method_types": ["card"],
            "status": "requires_payment_method",
        }
        self.intents[intent_id] = intent
        return intent

    def _succeed(self, intent: dict[str, Any]) -> None:
        if intent["status"] == "succeeded":
            raise FakeStripeError(400, f"PaymentIntent {intent['id']} has already succeeded.")
        charge = {
            "id": random_id("ch_"),
            "object": "charge",
            "amount": intent["amount"],
            "amount_captured": intent["amount"],
            "amount_refunded": 0,
            "captured": True,
            "created": now(),
            "currency": intent["currency"],
            "customer": intent["customer"],
            "description": intent["description"],
            "failure_code": None,
            "failure_message": None,
            "livemode": False,
            "metadata": copy.deepcopy(intent["metadata"]),
            "paid": True,
            "payment_intent": intent["id"],
            "refunded": False,
            "status": "succeeded",
        }
        self.charges[charge["id"]] = charge
        intent.update(
            status="succeeded",
            amount_received=intent["amount"],
            latest_charge=charge["id"],
            last_payment_error=None,
        )

    def _create_refund(self, params: dict[str, Any], _: str | None) -> tuple[int, dict]:
        if params.get("payment_intent"):
            intent = self._find(
                "intent", params["payment_intent"], param="payment_intent", status=400
            )
        elif params.get("charge"):
            charge = self._find("charge", params["charge"], param="charge", status=400)
            intent = self.intents[charge["payment_intent"]]
        else:
            raise FakeStripeError(
                400,
                "One of the following params should be provided for this request: "
                "payment_intent or charge.",
            )
        amount = None
        if params.get("amount"):
            amount = as_int(params["amount"], "amount", minimum=1)
        refund = self._refund(
            intent,
            amount,
            reason=params.get("reason") or None,
            metadata=dict(as_dict(params.get("metadata"), "metadata")),
        )
        return 200, refund

    def _refund(
        self,
        intent: dict[str, Any],
        amount: int | None,
        *,
        reason: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        charge = self.charges.get(intent["latest_charge"] or "")
        if intent["status"] != "succeeded" or charge is None:
            raise FakeStripeError(
                400,
                f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund.",
                param="payment_intent",
            )
        left = charge["amount"] - charge["amount_refunded"]
        if left == 0:
            raise FakeStripeError(
                400,
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = left if amount is None else amount
        if amount > left:
            raise FakeStripeError(
                400,
                f"Refund amount ({money(amount, charge['currency'])}) is greater than "
                f"unrefunded amount on charge ({money(left, charge['currency'])})",
                code="amount_too_large",
                param="amount",
            )
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        refund = {
            "id": random_id("re_"),
            "object": "refund",
            "amount": amount,
            "charge": charge["id"],
            "created": now(),
            "currency": charge["currency"],
            "metadata": metadata or {},
            "payment_intent": intent["id"],
            "reason": reason,
            "status": "succeeded",
        }
        self.refunds[refund["id"]] = refund
        return refund

    # ----- the hosted checkout page ----------------------------------------------------------

    def _hosted_page(self, request: RecordedRequest) -> Response:
        session_id = request.path.removeprefix("/pay/").strip("/")
        with self._lock:
            session = copy.deepcopy(self.sessions.get(session_id))
        if session is None:
            return page(404, "Not found", "<h1>No such checkout session</h1>")
        if session["status"] != "open":
            status = html.escape(session["status"])
            return page(410, "Gone", f"<h1>This checkout session is {status}</h1>")
        if request.method == "GET":
            return self._pay_page(session)
        if request.method != "POST":
            return page(405, "Method not allowed", "<h1>Method not allowed</h1>")
        try:
            events = self.complete_checkout(session_id)
        except FakeStripeError:  # paid by a concurrent request a moment ago
            return page(410, "Gone", "<h1>This checkout session is no longer open</h1>")
        if self.webhook_url:
            for event in events:  # outside the lock: the receiver may call back into the API
                try:
                    status_code = self.deliver(event).status_code
                except httpx.HTTPError:
                    status_code = 0  # no answer; Stripe would retry later, the payer goes on
                with self._lock:
                    self.deliveries.append((event, status_code))
        if not session["success_url"]:
            return page(200, "Paid", "<h1>Payment complete</h1>")
        location = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)
        return Response(303, b"", content_type="text/plain", headers={"Location": location})

    @staticmethod
    def _pay_page(session: dict[str, Any]) -> Response:
        amount, currency = session["amount_total"] or 0, session["currency"] or ""
        action = html.escape(f"/pay/{session['id']}")
        cancel = ""
        if session["cancel_url"]:
            cancel = f'<p><a id="cancel" href="{html.escape(session["cancel_url"])}">Cancel</a></p>'
        return page(
            200,
            "Fake Stripe Checkout",
            f'<h1>Pay <span id="amount" data-amount="{amount}" '
            f'data-currency="{html.escape(currency)}">{html.escape(money(amount, currency))}'
            "</span></h1>\n"
            f'<form method="post" action="{action}"><button type="submit">Pay</button></form>\n'
            f"{cancel}",
        )


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    """A started fake Stripe server for one test, stopped afterwards."""
    fake = FakeStripe().start()
    try:
        yield fake
    finally:
        fake.stop()
