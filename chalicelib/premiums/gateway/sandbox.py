"""The sandbox gateway: a local stand-in for a hosted payment page that behaves like a real one.

`make run` serves its page; this module holds the logic as pure pieces the
local stack calls:
- `SandboxGateway.create_session` stores a session and returns `<page_base_url>/<ref>`;
- GET on that URL: `SandboxGateway.page(ref)` -> bilingual HTML (no JavaScript),
  a form that POSTs `result=approved|declined|timeout` back to the same URL;
- POST: `SandboxGateway.complete(ref, form)` records the outcome and returns where
  to redirect the browser and the signed callback to POST to the app (none on
  timeout: the app must then learn the outcome by `query`, as with a real gateway
  whose notification got lost).

A timeout means the money moved but nobody told the app (the case reconciliation
exists for), so `query` answers captured afterwards unless `timeout_outcome` says
otherwise.
"""

from __future__ import annotations

import json
import os
import secrets as random_secrets
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from html import escape
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from chalicelib.kernel.money import CURRENCY, ensure_fils, format_amount
from chalicelib.premiums.gateway import (
    CallbackAck,
    CallbackRejected,
    GatewayRefundStatus,
    GatewayResult,
    GatewayStatus,
    RefundResult,
    Session,
)
from chalicelib.premiums.gateway.signing import SIGNATURE_HEADER, sign, verify

GATEWAY_NAME = "sandbox"
RESULTS = ("approved", "declined", "timeout")

# Served with the page: no script may run, nothing is cached, nobody may frame it.
PAGE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True)
class SandboxSession:
    """One payment as the sandbox gateway keeps it."""

    gateway_ref: str
    payment_id: str
    amount_fils: int
    currency: str
    return_url: str
    callback_url: str
    lang: str
    created_at: int
    # approved | declined | timeout once the person chose; None while on the page.
    result: str | None = None
    status: str = GatewayStatus.PENDING.value
    transaction_id: str | None = None
    refunded_fils: int = 0


@dataclass(frozen=True)
class SignedCallback:
    """An HTTP POST the sandbox sends to the app's callback URL."""

    url: str
    body: bytes
    headers: Mapping[str, str]


@dataclass(frozen=True)
class PageOutcome:
    """What the page server does after the form POST: call back (maybe), then redirect."""

    redirect_url: str
    callback: SignedCallback | None


class SandboxStore(Protocol):
    """Where sandbox sessions live between the page server and the app."""

    def get(self, gateway_ref: str) -> SandboxSession | None: ...

    def find(self, payment_id: str) -> SandboxSession | None: ...

    def put(self, session: SandboxSession) -> None: ...


class InMemorySandboxStore:
    """Sessions in a dict, for tests and a single-process local stack."""

    def __init__(self) -> None:
        self.sessions: dict[str, SandboxSession] = {}

    def get(self, gateway_ref: str) -> SandboxSession | None:
        return self.sessions.get(gateway_ref)

    def find(self, payment_id: str) -> SandboxSession | None:
        return next((s for s in self.sessions.values() if s.payment_id == payment_id), None)

    def put(self, session: SandboxSession) -> None:
        self.sessions[session.gateway_ref] = session


class FileSandboxStore:
    """Sessions as JSON files in a folder, so a page server and the app can share them."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def _path(self, gateway_ref: str) -> Path:
        if not gateway_ref.replace("_", "").isalnum():
            raise KeyError(gateway_ref)
        return self.folder / f"{gateway_ref}.json"

    def get(self, gateway_ref: str) -> SandboxSession | None:
        try:
            path = self._path(gateway_ref)
            return SandboxSession(**json.loads(path.read_text(encoding="utf-8")))
        except (KeyError, FileNotFoundError):
            return None

    def find(self, payment_id: str) -> SandboxSession | None:
        for path in sorted(self.folder.glob("*.json")):
            session = self.get(path.stem)
            if session is not None and session.payment_id == payment_id:
                return session
        return None

    def put(self, session: SandboxSession) -> None:
        # Write then rename: a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(asdict(session), out, ensure_ascii=False)
        Path(tmp).replace(self._path(session.gateway_ref))


def render_payment_page(session: SandboxSession, action_url: str) -> str:
    """The sandbox's hosted page: amount and three outcomes, in Arabic and English, no script."""
    en_amount = escape(format_amount(session.amount_fils, "en"))
    ar_amount = escape(format_amount(session.amount_fils, "ar"))
    payment = escape(session.payment_id)
    if session.result is None:
        action = escape(action_url, quote=True)
        body = f"""<form method="post" action="{action}">
<p><button type="submit" name="result" value="approved">Approve / موافقة</button></p>
<p><button type="submit" name="result" value="declined">Decline / رفض</button></p>
<p><button type="submit" name="result" value="timeout">
Time out (no callback) / انتهاء المهلة (بلا إشعار)</button></p>
</form>"""
    else:
        result = escape(session.result)
        body = f"""<p lang="en">This payment is already complete: {result}.</p>
<p lang="ar" dir="rtl">اكتملت عملية الدفع هذه: {result}.</p>"""
    english = f"""<section lang="en" dir="ltr">
<h1>Sandbox payment</h1>
<p>A test page standing in for the payment gateway. No card and no real money.</p>
<p>Amount: <strong>{en_amount}</strong><br>Payment: <code>{payment}</code></p>
</section>"""
    arabic = f"""<section lang="ar" dir="rtl">
<h1>دفع تجريبي</h1>
<p>صفحة اختبار بديلة عن بوابة الدفع. لا بطاقة ولا أموال حقيقية.</p>
<p>المبلغ: <strong dir="ltr">{ar_amount}</strong><br>رقم الدفعة: <code>{payment}</code></p>
</section>"""
    first, second = (arabic, english) if session.lang == "ar" else (english, arabic)
    lang, direction = ("ar", "rtl") if session.lang == "ar" else ("en", "ltr")
    return f"""<!doctype html>
<html lang="{lang}" dir="{direction}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sandbox payment · دفع تجريبي</title>
<style>body{{font-family:sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}}
button{{font-size:1.1rem;padding:.6rem 1rem;width:100%}}</style>
</head>
<body>
{first}
{second}
{body}
</body>
</html>
"""


def callback_body(session: SandboxSession) -> bytes:
    """The JSON the sandbox posts to the app about a finished session."""
    payload = {
        "gateway": GATEWAY_NAME,
        "payment_id": session.payment_id,
        "gateway_ref": session.gateway_ref,
        "status": session.status,
        "result": session.result,
        "amount_fils": session.amount_fils,
        "currency": session.currency,
        "transaction_id": session.transaction_id,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")


def build_callback(
    session: SandboxSession, secrets: bytes | Iterable[bytes], timestamp: int
) -> SignedCallback:
    """The signed callback for a finished session, as a real gateway would send it."""
    body = callback_body(session)
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(body, secrets, timestamp),
    }
    return SignedCallback(session.callback_url, body, headers)


def with_query(url: str, **params: str) -> str:
    """`url` with `params` added to its query string."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


class SandboxGateway:
    """The PaymentGatewayPort of the local stack: sessions in a store, callbacks HMAC-signed."""

    name = GATEWAY_NAME

    def __init__(
        self,
        secret: bytes | Iterable[bytes],
        page_base_url: str,
        *,
        store: SandboxStore | None = None,
        clock: Callable[[], float] = time.time,
        new_id: Callable[[str], str] = lambda prefix: f"{prefix}_{random_secrets.token_hex(10)}",
        timeout_outcome: GatewayStatus = GatewayStatus.CAPTURED,
        tolerance_seconds: int = 300,
    ) -> None:
        # The first secret signs; all verify, so a rotation needs no downtime.
        self.secrets = [secret] if isinstance(secret, bytes) else list(secret)
        if not self.secrets or not all(self.secrets):
            raise ValueError("the sandbox gateway needs a non-empty signing secret")
        self.page_base_url = page_base_url.rstrip("/")
        self.store: SandboxStore = store if store is not None else InMemorySandboxStore()
        self.clock = clock
        self.new_id = new_id
        self.timeout_outcome = timeout_outcome
        self.tolerance_seconds = tolerance_seconds

    def create_session(
        self,
        payment_id: str,
        amount_fils: int,
        currency: str,
        return_url: str,
        callback_url: str,
        lang: str,
    ) -> Session:
        """Store a new session and return the sandbox page's URL for it."""
        if ensure_fils(amount_fils) <= 0:
            raise ValueError("a payment is for a positive amount")
        if currency != CURRENCY:
            raise ValueError(f"the sandbox takes {CURRENCY} only")
        session = SandboxSession(
            gateway_ref=self.new_id("sbx"),
            payment_id=payment_id,
            amount_fils=amount_fils,
            currency=currency,
            return_url=return_url,
            callback_url=callback_url,
            lang="ar" if lang == "ar" else "en",
            created_at=int(self.clock()),
        )
        self.store.put(session)
        return Session(session.gateway_ref, self.page_url(session.gateway_ref))

    def page_url(self, gateway_ref: str) -> str:
        """Where a session's page is served (GET) and its form posts (POST)."""
        return f"{self.page_base_url}/{gateway_ref}"

    def page(self, gateway_ref: str) -> str:
        """The HTML of a session's page; KeyError if there is no such session."""
        return render_payment_page(self._session(gateway_ref), self.page_url(gateway_ref))

    def complete(self, gateway_ref: str, form: Mapping[str, str]) -> PageOutcome:
        """Record the outcome the person chose on the page; ValueError for a bad form."""
        session = self._session(gateway_ref)
        redirect = with_query(session.return_url, payment_id=session.payment_id)
        if session.result is not None:
            # A second submit (back button, double click) changes nothing, like a real page.
            return PageOutcome(redirect, None)
        result = form.get("result")
        if result not in RESULTS:
            raise ValueError("result must be approved, declined or timeout")
        status = {
            "approved": GatewayStatus.CAPTURED,
            "declined": GatewayStatus.DECLINED,
            "timeout": self.timeout_outcome,
        }[result]
        session = replace(
            session,
            result=result,
            status=status.value,
            transaction_id=self.new_id("sbt") if status is GatewayStatus.CAPTURED else None,
        )
        self.store.put(session)
        if result == "timeout":
            return PageOutcome(redirect, None)
        return PageOutcome(redirect, self.callback_for(gateway_ref))

    def callback_for(self, gateway_ref: str) -> SignedCallback:
        """A freshly signed callback for a finished session (also to replay one in tests)."""
        return build_callback(self._session(gateway_ref), self.secrets[0], int(self.clock()))

    def query(self, payment_id: str, gateway_ref: str | None, amount_fils: int) -> GatewayResult:
        """What happened to a payment, from the store."""
        session = self.store.get(gateway_ref) if gateway_ref else self.store.find(payment_id)
        if session is None or session.payment_id != payment_id:
            return GatewayResult(GatewayStatus.NOT_FOUND, payment_id, gateway_ref, confirmed=True)
        return self._result(session)

    def refund(self, payment_id: str, gateway_ref: str, amount_fils: int) -> RefundResult:
        """Refund part or all of a captured session, never more than was captured."""
        session = self.store.get(gateway_ref)
        if session is None or session.payment_id != payment_id:
            return RefundResult(GatewayRefundStatus.FAILED, gateway_ref, amount_fils, error_code="not_found")
        if session.status != GatewayStatus.CAPTURED:
            return RefundResult(GatewayRefundStatus.FAILED, gateway_ref, amount_fils, error_code="not_captured")
        if ensure_fils(amount_fils) <= 0 or session.refunded_fils + amount_fils > session.amount_fils:
            return RefundResult(GatewayRefundStatus.FAILED, gateway_ref, amount_fils, error_code="exceeds_captured")
        self.store.put(replace(session, refunded_fils=session.refunded_fils + amount_fils))
        return RefundResult(
            GatewayRefundStatus.REFUNDED,
            gateway_ref,
            amount_fils,
            refund_ref=self.new_id("sbr"),
            raw_result="refunded",
        )

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> GatewayResult:
        """Verify a callback's signature and read it; CallbackRejected if forged or stale."""
        header = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER.lower()), None)
        verify(
            body,
            header,
            self.secrets,
            now=self.clock(),
            tolerance_seconds=self.tolerance_seconds,
        )
        try:
            data = json.loads(body)
            if data["gateway"] != GATEWAY_NAME:
                raise CallbackRejected("callback from another gateway")
            status = GatewayStatus(data["status"])
            amount = ensure_fils(data["amount_fils"])
            payment_id, gateway_ref = str(data["payment_id"]), str(data["gateway_ref"])
        except (ValueError, KeyError, TypeError) as exc:
            raise CallbackRejected("callback body malformed") from exc
        return GatewayResult(
            status=status,
            payment_id=payment_id,
            gateway_ref=gateway_ref,
            transaction_id=data.get("transaction_id"),
            amount_fils=amount,
            raw_result=str(data.get("result") or ""),
            confirmed=True,
        )

    def callback_ack(self, result: GatewayResult | None) -> CallbackAck:
        """The sandbox only needs a 2xx."""
        return CallbackAck(200, "application/json", '{"received":true}')

    def session_ref(self, result: GatewayResult) -> str | None:
        """The sandbox's sessions keep one reference from start to callback."""
        return result.gateway_ref

    def _session(self, gateway_ref: str) -> SandboxSession:
        session = self.store.get(gateway_ref)
        if session is None:
            raise KeyError(gateway_ref)
        return session

    def _result(self, session: SandboxSession) -> GatewayResult:
        return GatewayResult(
            status=GatewayStatus(session.status),
            payment_id=session.payment_id,
            gateway_ref=session.gateway_ref,
            transaction_id=session.transaction_id,
            amount_fils=session.amount_fils,
            raw_result=session.result or "",
            confirmed=True,
        )
