"""A KNET-style hosted payment page (RAW integration), with the HTTP transport injected.

Shaped after KNET's Merchant Integration Manual K-064 v1.4 (2023) and its RAW
PHP sample kit:
- Payment: the browser is redirected to `PaymentHTTP.htm?param=paymentInit` with
  `trandata` = hex(AES-128-CBC(plain, key=IV=terminal resource key, PKCS#5/7
  padding)) of `id=..&password=..&action=1&langid=EN|AR&currencycode=414&amt=50.000
  &responseURL=..&errorURL=..&trackid=..&udf1..udf5`, plus `tranportalId`,
  `responseURL`, `errorURL` in clear.
- Result: KNET POSTs (form-encoded) `trandata` to the responseURL, or plain
  `Error`/`ErrorText`/`paymentid`/`trackid` when it failed early; the decrypted
  fields are paymentid, result (CAPTURED, NOT CAPTURED, CANCELED, HOST TIMEOUT...),
  auth, ref, tranid, postdate, trackid, udf1..5, amt. The merchant must answer
  with the single line `REDIRECT=<receipt URL>`.
- Inquiry (action 8) and refund (action 2): XML fragments POSTed server to server
  to `tranPipe.htm?param=tranInit`, identifying the original by track id
  (`udf5=TrackID`); answers are flat XML fragments (result SUCCESS/CAPTURED...).
CBC without a MAC is not authenticated, so a posted result is never trusted on
its own: `parse_callback` returns `confirmed=False` and the service must `query`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from html import unescape
from urllib.parse import parse_qsl, urlencode
from xml.sax.saxutils import escape as xml_escape

from chalicelib.kernel.money import CURRENCY, ensure_fils, kwd_decimal, parse_kwd
from chalicelib.premiums.gateway import (
    CallbackAck,
    CallbackRejected,
    GatewayError,
    GatewayRefundStatus,
    GatewayResult,
    GatewayStatus,
    RefundResult,
    Session,
)

GATEWAY_NAME = "knet"

TEST_PAYMENT_URL = "https://www.kpaytest.com.kw/kpg/PaymentHTTP.htm?param=paymentInit"
TEST_TRANPIPE_URL = "https://www.kpaytest.com.kw/kpg/tranPipe.htm?param=tranInit"
PRODUCTION_PAYMENT_URL = "https://www.kpay.com.kw/kpg/PaymentHTTP.htm?param=paymentInit"
PRODUCTION_TRANPIPE_URL = "https://www.kpay.com.kw/kpg/tranPipe.htm?param=tranInit"

ACTION_PURCHASE = "1"
ACTION_REFUND = "2"
ACTION_INQUIRY = "8"
CURRENCY_CODES = {"KWD": "414"}

# KNET: track ids alphanumeric, at most 40 characters.
_TRACK_ID = re.compile(r"[A-Za-z0-9]{1,40}")
_IPAY_CODE = re.compile(r"IPAY\d{7}")
# Leaf elements of a flat XML fragment; the answer is never nested deeper.
_XML_LEAF = re.compile(r"<([A-Za-z_][\w.-]*)\s*>([^<]*)</\1\s*>")

# Results of a payment (callback) or of an inquiry, by what they mean for us.
_CAPTURED = frozenset({"CAPTURED", "SUCCESS"})
_DECLINED = frozenset(
    {"NOT CAPTURED", "CANCELED", "CANCELLED", "DENIED BY RISK", "FAILURE", "SUSPECTED", "VOIDED"}
)
# The bank did not answer KNET in time: not final, reconciliation asks again.
_PENDING = frozenset({"HOST TIMEOUT"})
# Inquiry errors meaning "no such transaction" (manual section 10), as opposed to
# errors about the request or KNET itself, after which the outcome stays unknown.
NOT_FOUND_CODES = frozenset(
    {
        "IPAY0100263",  # Transaction details not available
        "IPAY0100054",  # Payment details not available
        "IPAY0200072",  # Payment log details not available
        "IPAY0100233",  # Invalid original transaction id
        "IPAY0100116",  # Transaction denied due to invalid original transaction ID
    }
)


@dataclass(frozen=True)
class KnetSettings:
    """A KNET terminal: credentials from the acquiring bank and the URLs to use."""

    tranportal_id: str
    password: str = field(repr=False)
    # 16 characters: the AES-128 key and IV of trandata.
    resource_key: str = field(repr=False)
    # Where KNET sends the browser once our notification endpoint answered.
    receipt_url: str
    payment_url: str = TEST_PAYMENT_URL
    tranpipe_url: str = TEST_TRANPIPE_URL
    timeout_seconds: float = 20.0

    def __post_init__(self) -> None:
        if len(self.resource_key.encode("utf-8")) != 16:
            raise ValueError("the KNET terminal resource key has 16 characters")
        for name in ("tranportal_id", "password", "resource_key"):
            if "&" in getattr(self, name) or "=" in getattr(self, name):
                raise ValueError(f"{name} cannot hold & or =, which would break trandata")


@dataclass(frozen=True)
class HttpRequest:
    """One server-to-server HTTP request."""

    method: str
    url: str
    body: bytes
    headers: Mapping[str, str]
    timeout: float


@dataclass(frozen=True)
class HttpResponse:
    """Its answer."""

    status: int
    body: bytes


Transport = Callable[[HttpRequest], HttpResponse]


def encrypt_trandata(plain: str, resource_key: str) -> str:
    """KNET's trandata: AES-128-CBC under the resource key (also the IV), PKCS#5, upper hex."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = _key_bytes(resource_key)
    padder = padding.PKCS7(128).padder()
    data = padder.update(plain.encode("utf-8")) + padder.finalize()
    # Key as IV is KNET's design, not ours: the same plaintext gives the same
    # ciphertext, which is why results are confirmed by inquiry.
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key)).encryptor()
    return (encryptor.update(data) + encryptor.finalize()).hex().upper()


def decrypt_trandata(trandata: str, resource_key: str) -> str:
    """The plain text of a trandata hex string; CallbackRejected if it does not decrypt."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = _key_bytes(resource_key)
    try:
        data = bytes.fromhex(trandata.strip())
    except ValueError as exc:
        raise CallbackRejected("trandata is not hex") from exc
    if not data or len(data) % 16:
        raise CallbackRejected("trandata is not whole AES blocks")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key)).decryptor()
    padded = decryptor.update(data) + decryptor.finalize()
    try:
        unpadder = padding.PKCS7(128).unpadder()
        return (unpadder.update(padded) + unpadder.finalize()).decode("utf-8")
    except ValueError as exc:  # bad padding or not UTF-8: wrong key or tampered
        raise CallbackRejected("trandata does not decrypt under this terminal's key") from exc


def payment_fields(
    settings: KnetSettings,
    *,
    track_id: str,
    amount_fils: int,
    lang: str,
    response_url: str,
    error_url: str,
) -> list[tuple[str, str]]:
    """The fields of a payment initialisation, in KNET's order."""
    _check_track_id(track_id)
    if ensure_fils(amount_fils) <= 0:
        raise ValueError("a payment is for a positive amount")
    for url in (response_url, error_url):
        # KNET appends its own data to these; a query string or & would corrupt trandata.
        if not url.startswith(("https://", "http://")) or "?" in url or "&" in url:
            raise ValueError(f"KNET response and error URLs take no query string: {url}")
    return [
        ("id", settings.tranportal_id),
        ("password", settings.password),
        ("action", ACTION_PURCHASE),
        ("langid", "AR" if lang == "ar" else "EN"),
        ("currencycode", CURRENCY_CODES[CURRENCY]),
        ("amt", kwd_decimal(amount_fils)),
        ("responseURL", response_url),
        ("errorURL", error_url),
        ("trackid", track_id),
        # udf1 carries our payment id for KNET's portal searches; no personal data goes here.
        ("udf1", track_id),
        ("udf2", ""),
        ("udf3", ""),
        ("udf4", ""),
        ("udf5", ""),
    ]


def plain_trandata(fields: list[tuple[str, str]]) -> str:
    """Fields joined as KNET's plain text: `k=v&k=v`, values as they are."""
    return "&".join(f"{k}={v}" for k, v in fields)


def build_payment_url(
    settings: KnetSettings,
    *,
    track_id: str,
    amount_fils: int,
    lang: str,
    response_url: str,
    error_url: str,
) -> str:
    """The hosted-page URL to redirect the person to, with encrypted trandata."""
    fields = payment_fields(
        settings,
        track_id=track_id,
        amount_fils=amount_fils,
        lang=lang,
        response_url=response_url,
        error_url=error_url,
    )
    clear = urlencode(
        {
            "trandata": encrypt_trandata(plain_trandata(fields), settings.resource_key),
            "tranportalId": settings.tranportal_id,
            "responseURL": response_url,
            "errorURL": error_url,
        }
    )
    return f"{settings.payment_url}&{clear}"


def result_from_fields(fields: Mapping[str, str]) -> GatewayResult:
    """A GatewayResult from KNET's result fields (decrypted trandata or a plain error post)."""
    raw = fields.get("result", "").strip().upper()
    error = fields.get("Error") or fields.get("error") or None
    if raw in _CAPTURED and not error:
        status = GatewayStatus.CAPTURED
    elif raw in _DECLINED or (error and not raw):
        status = GatewayStatus.DECLINED
    else:
        # HOST TIMEOUT or a word we do not know: not proof either way, so ask again later.
        status = GatewayStatus.PENDING
    amount = fields.get("amt", "").strip()
    try:
        amount_fils = parse_kwd(amount) if amount else None
    except ValueError as exc:
        raise CallbackRejected("amount is not a KWD amount") from exc
    return GatewayResult(
        status=status,
        payment_id=fields.get("trackid") or None,
        gateway_ref=fields.get("paymentid") or fields.get("payid") or None,
        transaction_id=fields.get("tranid") or None,
        reference=fields.get("ref") or None,
        auth_code=fields.get("auth") or None,
        amount_fils=amount_fils,
        raw_result=raw or (fields.get("ErrorText") or ""),
        error_code=error,
        confirmed=False,
    )


def parse_callback_body(body: bytes, resource_key: str) -> GatewayResult:
    """Read what KNET posted to the response URL; CallbackRejected if it is not KNET's."""
    try:
        posted = _unique_fields(body.decode("ascii"))
    except UnicodeDecodeError as exc:
        raise CallbackRejected("callback body is not form data") from exc
    if posted.get("trandata"):
        fields = _unique_fields(decrypt_trandata(posted["trandata"], resource_key))
        if "result" not in fields or "trackid" not in fields:
            raise CallbackRejected("decrypted trandata lacks result or trackid")
        return result_from_fields(fields)
    if posted.get("Error") or posted.get("ErrorText"):
        # KNET failed before it could encrypt a result: plain fields, declined.
        return result_from_fields(posted)
    raise CallbackRejected("callback has neither trandata nor an error")


def build_tranpipe_request(
    settings: KnetSettings, *, action: str, track_id: str, amount_fils: int
) -> HttpRequest:
    """An inquiry (8) or refund (2) of the transaction with this track id."""
    _check_track_id(track_id)
    if ensure_fils(amount_fils) <= 0:
        raise ValueError("amount must be positive")
    fields = (
        ("id", settings.tranportal_id),
        ("password", settings.password),
        ("action", action),
        ("amt", kwd_decimal(amount_fils)),
        ("transid", track_id),
        ("trackid", track_id),
        # The identifier in transid is the original's track id.
        ("udf5", "TrackID"),
    )
    body = "".join(f"<{k}>{xml_escape(v)}</{k}>" for k, v in fields)
    return HttpRequest(
        method="POST",
        url=settings.tranpipe_url,
        body=body.encode("utf-8"),
        headers={"Content-Type": "application/xml"},
        timeout=settings.timeout_seconds,
    )


def build_inquiry_request(settings: KnetSettings, *, track_id: str, amount_fils: int) -> HttpRequest:
    """The inquiry (action 8) for the payment with this track id and original amount."""
    return build_tranpipe_request(settings, action=ACTION_INQUIRY, track_id=track_id, amount_fils=amount_fils)


def build_refund_request(settings: KnetSettings, *, track_id: str, amount_fils: int) -> HttpRequest:
    """The refund (action 2) of `amount_fils` of the payment with this track id."""
    return build_tranpipe_request(settings, action=ACTION_REFUND, track_id=track_id, amount_fils=amount_fils)


def parse_xml_fields(text: str) -> dict[str, str]:
    """The leaf elements of a flat XML fragment, unescaped; later duplicates are ignored."""
    fields: dict[str, str] = {}
    for name, value in _XML_LEAF.findall(text):
        fields.setdefault(name, unescape(value).strip())
    return fields


def parse_inquiry_response(text: str, *, track_id: str) -> GatewayResult:
    """The state of a payment from an inquiry answer; GatewayError when KNET could not say."""
    fields = parse_xml_fields(text)
    error = _error_code(fields)
    if error in NOT_FOUND_CODES:
        return GatewayResult(
            GatewayStatus.NOT_FOUND, track_id, None, error_code=error, raw_result=error, confirmed=True
        )
    raw = fields.get("result", "").upper()
    if error or not raw:
        raise GatewayError(f"KNET inquiry failed: {error or 'empty answer'}")
    echoed = fields.get("trackid")
    if echoed and echoed != track_id:
        # An answer about another transaction must never settle this one.
        raise GatewayError("KNET inquiry answered for another track id")
    if raw not in _CAPTURED | _DECLINED | _PENDING:
        raise GatewayError(f"KNET inquiry result not understood: {raw}")
    return replace(result_from_fields({**fields, "trackid": track_id}), confirmed=True)


def parse_refund_response(text: str, *, gateway_ref: str, amount_fils: int) -> RefundResult:
    """The outcome of a refund answer: refunded only on CAPTURED, as the manual says."""
    fields = parse_xml_fields(text)
    error = _error_code(fields)
    raw = fields.get("result", "").upper()
    if raw == "CAPTURED" and not error:
        return RefundResult(
            GatewayRefundStatus.REFUNDED,
            gateway_ref,
            amount_fils,
            refund_ref=fields.get("tranid") or fields.get("payid") or None,
            raw_result=raw,
        )
    return RefundResult(
        GatewayRefundStatus.FAILED, gateway_ref, amount_fils, raw_result=raw, error_code=error or raw or None
    )


def urllib_transport(request: HttpRequest) -> HttpResponse:
    """Send a request with the standard library; GatewayError if it cannot be sent."""
    import urllib.error
    import urllib.request

    if not request.url.startswith("https://"):
        raise GatewayError("KNET is only spoken to over https")
    req = urllib.request.Request(  # noqa: S310 - scheme checked just above
        request.url, data=request.body, headers=dict(request.headers), method=request.method
    )
    try:
        with urllib.request.urlopen(req, timeout=request.timeout) as answer:  # noqa: S310
            return HttpResponse(answer.status, answer.read())
    except urllib.error.HTTPError as exc:
        return HttpResponse(exc.code, exc.read() or b"")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise GatewayError(f"KNET unreachable: {exc}") from exc


class KnetGateway:
    """The PaymentGatewayPort for a KNET terminal, speaking HTTP through an injected transport."""

    name = GATEWAY_NAME

    def __init__(self, settings: KnetSettings, transport: Transport = urllib_transport) -> None:
        self.settings = settings
        self.transport = transport

    def create_session(
        self,
        payment_id: str,
        amount_fils: int,
        currency: str,
        return_url: str,
        callback_url: str,
        lang: str,
    ) -> Session:
        """The redirect to KNET's page; KNET's own payment id only exists after the page."""
        if currency not in CURRENCY_CODES:
            raise ValueError(f"KNET takes {', '.join(CURRENCY_CODES)} only")
        url = build_payment_url(
            self.settings,
            track_id=payment_id,
            amount_fils=amount_fils,
            lang=lang,
            response_url=callback_url,
            error_url=return_url,
        )
        # Until KNET answers, our payment id (its track id) is the only shared reference.
        return Session(gateway_ref=payment_id, payment_url=url)

    def query(self, payment_id: str, gateway_ref: str | None, amount_fils: int) -> GatewayResult:
        """Inquiry by track id: the confirmed state of the payment."""
        request = build_inquiry_request(self.settings, track_id=payment_id, amount_fils=amount_fils)
        return parse_inquiry_response(self._send(request), track_id=payment_id)

    def refund(self, payment_id: str, gateway_ref: str, amount_fils: int) -> RefundResult:
        """Refund by track id; a GatewayError means the outcome is unknown, so ask before retrying."""
        request = build_refund_request(self.settings, track_id=payment_id, amount_fils=amount_fils)
        return parse_refund_response(self._send(request), gateway_ref=gateway_ref, amount_fils=amount_fils)

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> GatewayResult:
        """The posted result, unconfirmed: the service must query before capturing."""
        return parse_callback_body(body, self.settings.resource_key)

    def callback_ack(self, result: GatewayResult | None) -> CallbackAck:
        """KNET reads one line, `REDIRECT=<receipt URL>`, and sends the browser there."""
        url = self.settings.receipt_url
        if result is not None and result.payment_id:
            url = f"{url}{'&' if '?' in url else '?'}{urlencode({'payment_id': result.payment_id})}"
        return CallbackAck(200, "text/plain", f"REDIRECT={url}")

    def session_ref(self, result: GatewayResult) -> str | None:
        """The track id: a session's reference is our payment id, as KNET's own payment id only
        exists after its page (results carry that one as `gateway_ref`)."""
        return result.payment_id

    def _send(self, request: HttpRequest) -> str:
        response = self.transport(request)
        if response.status != 200:
            raise GatewayError(f"KNET answered HTTP {response.status}")
        try:
            return response.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise GatewayError("KNET answer is not UTF-8") from exc


def _key_bytes(resource_key: str) -> bytes:
    key = resource_key.encode("utf-8")
    if len(key) != 16:
        raise ValueError("the KNET terminal resource key has 16 characters")
    return key


def _check_track_id(track_id: str) -> None:
    if not _TRACK_ID.fullmatch(track_id):
        raise ValueError("a KNET track id is 1 to 40 letters and digits")


def _unique_fields(text: str) -> dict[str, str]:
    pairs = parse_qsl(text.strip(), keep_blank_values=True)
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields and fields[name] != value:
            # Two different values for one field is a spliced message, never KNET's.
            raise CallbackRejected(f"field {name} given twice")
        fields[name] = value
    return fields


def _error_code(fields: Mapping[str, str]) -> str | None:
    for name in ("error_code_tag", "Error", "error"):
        if fields.get(name) and fields[name].lower() != "null":
            return fields[name]
    result = fields.get("result", "")
    if result.startswith("!ERROR!"):
        match = _IPAY_CODE.search(result)
        return match.group(0) if match else result
    return None
