"""Payment gateways: one interface (session, query, refund, callback) and its result values.

Implementations: `sandbox.SandboxGateway` (served by the local stack) and
`knet.KnetGateway` (a KNET-style hosted payment page). Use cases depend on the
`ports.PaymentGatewayPort` protocol only; one wiring module picks the implementation.

Trust: a callback is a claim, not a fact, unless `GatewayResult.confirmed` is
true (it came over an authenticated channel: an HMAC-signed sandbox callback or
a server-to-server query). KNET's posted result is only AES-encrypted, not
authenticated, so its callbacks come back unconfirmed and the service must call
`query` before it captures anything.
"""

from __future__ import annotations

from chalicelib.premiums.ports import (
    CallbackAck,
    GatewayRefundStatus,
    GatewayResult,
    GatewayStatus,
    PaymentGatewayPort,
    RefundResult,
    Session,
)

# The gateway's values and protocol are the use cases' port (premiums/ports.py); named here too
# because every gateway speaks them.
__all__ = [
    "CallbackAck",
    "CallbackRejected",
    "GatewayError",
    "GatewayRefundStatus",
    "GatewayResult",
    "GatewayStatus",
    "PaymentGatewayPort",
    "RefundResult",
    "Session",
]


class GatewayError(Exception):
    """The gateway could not be asked or gave no usable answer; the outcome is unknown."""


class CallbackRejected(Exception):
    """A callback that is forged, garbled, stale or for another gateway: reject and log it.

    (The HTTP answer the person's side gets is payment_rules.InvalidCallback.)"""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
