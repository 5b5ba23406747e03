"""Payment gateways: one interface (session, query, refund, callback) and its result values.

Implementations: `sandbox.SandboxGateway` (served by the local stack) and
`knet.KnetGateway` (a KNET-style hosted payment page). Services depend on the
`PaymentGateway` protocol only; one wiring module picks the implementation.

Trust: a callback is a claim, not a fact, unless `GatewayResult.confirmed` is
true (it came over an authenticated channel: an HMAC-signed sandbox callback or
a server-to-server query). KNET's posted result is only AES-encrypted, not
authenticated, so its callbacks come back unconfirmed and the service must call
`query` before it captures anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class GatewayStatus(StrEnum):
    """What the gateway says happened to a payment."""

    CAPTURED = "captured"
    DECLINED = "declined"
    # No final answer yet (person still on the page, bank timeout): ask again later.
    PENDING = "pending"
    # The gateway has no such payment: it was never started on the hosted page.
    NOT_FOUND = "not_found"


class RefundStatus(StrEnum):
    """What the gateway says happened to a refund."""

    REFUNDED = "refunded"
    FAILED = "failed"


@dataclass(frozen=True)
class Session:
    """A started payment: the gateway's reference and the page to send the person to."""

    gateway_ref: str
    payment_url: str


@dataclass(frozen=True)
class GatewayResult:
    """The gateway's answer about one payment, from a callback or a query."""

    status: GatewayStatus
    # Our payment id (KNET's track id), echoed back by the gateway.
    payment_id: str | None
    # The gateway's own id for the payment (KNET payment id, sandbox ref).
    gateway_ref: str | None
    transaction_id: str | None = None
    reference: str | None = None
    auth_code: str | None = None
    amount_fils: int | None = None
    # The gateway's own word for the result (CAPTURED, NOT CAPTURED, approved...).
    raw_result: str = ""
    error_code: str | None = None
    confirmed: bool = False


@dataclass(frozen=True)
class RefundResult:
    """The gateway's answer to a refund request."""

    status: RefundStatus
    gateway_ref: str
    amount_fils: int
    refund_ref: str | None = None
    raw_result: str = ""
    error_code: str | None = None


@dataclass(frozen=True)
class CallbackAck:
    """What the callback endpoint must answer so the gateway knows it was heard."""

    status: int
    content_type: str
    body: str


class GatewayError(Exception):
    """The gateway could not be asked or gave no usable answer; the outcome is unknown."""


class InvalidCallback(Exception):
    """A callback that is forged, garbled, stale or for another gateway: reject and log it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PaymentGateway(Protocol):
    """A hosted-page payment gateway as the payment services use it."""

    name: str

    def create_session(
        self,
        payment_id: str,
        amount_fils: int,
        currency: str,
        return_url: str,
        callback_url: str,
        lang: str,
    ) -> Session:
        """Start a payment and return where to send the person."""
        ...

    def query(self, payment_id: str, gateway_ref: str | None, amount_fils: int) -> GatewayResult:
        """Ask the gateway, server to server, what happened to a payment."""
        ...

    def refund(self, payment_id: str, gateway_ref: str, amount_fils: int) -> RefundResult:
        """Give back `amount_fils` of a captured payment."""
        ...

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> GatewayResult:
        """Read a callback the gateway posted, or raise InvalidCallback."""
        ...

    def callback_ack(self, result: GatewayResult | None) -> CallbackAck:
        """The answer the callback endpoint returns to the gateway."""
        ...

    def session_ref(self, result: GatewayResult) -> str | None:
        """The reference `create_session` returned for the session `result` is about.

        A result is settled against a payment only when this is the payment's stored reference:
        a correctly signed result about another session must never capture this payment.
        """
        ...
