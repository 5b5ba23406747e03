"""KNET-style gateway: trandata encryption, redirect, posted results, inquiry and refund."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.premiums.gateway import (
    CallbackRejected,
    GatewayError,
    GatewayRefundStatus,
    GatewayStatus,
    PaymentGatewayPort,
)
from chalicelib.premiums.gateway.knet import (
    TEST_PAYMENT_URL,
    TEST_TRANPIPE_URL,
    HttpRequest,
    HttpResponse,
    KnetGateway,
    KnetSettings,
    build_inquiry_request,
    build_refund_request,
    decrypt_trandata,
    encrypt_trandata,
    parse_xml_fields,
)

KEY = "ABCDEFGHIJKLMNOP"
SETTINGS = KnetSettings(
    tranportal_id="123401",
    password="pa<ss>word",
    resource_key=KEY,
    receipt_url="https://app.example.com/v1/payments/receipt",
)
RESPONSE_URL = "https://app.example.com/v1/payments/callback"
ERROR_URL = "https://app.example.com/v1/payments/return"

# KNET manual K-064 v1.4, section 5: the plain text of a captured result.
CAPTURED_PLAIN = (
    "paymentid=8962225231041180&result=CAPTURED&auth=999554&avr=N&ref=411857974849"
    "&tranid=9929892231041180&postdate=0427&trackid=632186&udf1=&udf2=&udf3=&udf4=&udf5="
    "&amt=20.550&authResponseCode=00"
)


@dataclass
class FakeTransport:
    """Answers every request with the next canned response and keeps what was sent."""

    answers: list[HttpResponse]
    sent: list[HttpRequest] = field(default_factory=list)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self.sent.append(request)
        return self.answers.pop(0)


def knet_answering(*bodies: str, status: int = 200) -> tuple[KnetGateway, FakeTransport]:
    transport = FakeTransport([HttpResponse(status, b.encode()) for b in bodies])
    return KnetGateway(SETTINGS, transport), transport


def posted(plain: str, key: str = KEY) -> bytes:
    return urlencode({"trandata": encrypt_trandata(plain, key)}).encode()


def test_knet_is_a_payment_gateway():
    gateway: PaymentGatewayPort = KnetGateway(SETTINGS)
    assert gateway.name == "knet"


def test_trandata_is_aes_128_cbc_with_the_resource_key_as_key_and_iv_in_hex():
    # Known answer from `openssl enc -aes-128-cbc -K <key hex> -iv <key hex>` (PKCS#5 padding).
    expected = "8AD939A69AF82F56E5693F13DB86554A3A35C197565C5650647C2D025440C74E"
    assert encrypt_trandata("id=1&password=p&amt=50.000", KEY) == expected
    assert decrypt_trandata(expected.lower(), KEY) == "id=1&password=p&amt=50.000"


@given(st.text(max_size=300))
def test_any_text_round_trips_through_trandata(plain):
    assert decrypt_trandata(encrypt_trandata(plain, KEY), KEY) == plain


@pytest.mark.parametrize(
    "trandata",
    ["zz", "", "ABCD", encrypt_trandata("result=CAPTURED", "PONMLKJIHGFEDCBA")],
    ids=["not hex", "empty", "half a block", "other key"],
)
def test_trandata_that_does_not_decrypt_under_our_key_is_an_invalid_callback(trandata):
    with pytest.raises(CallbackRejected):
        decrypt_trandata(trandata, KEY)


def test_the_redirect_carries_encrypted_payment_data_and_the_clear_fields_knet_needs():
    session = KnetGateway(SETTINGS).create_session("PAY01", 50_000, "KWD", ERROR_URL, RESPONSE_URL, "ar")
    assert session.gateway_ref == "PAY01"
    assert session.payment_url.startswith(TEST_PAYMENT_URL + "&")
    query = {k: v[0] for k, v in parse_qs(urlsplit(session.payment_url).query).items()}
    assert query["param"] == "paymentInit"
    assert (query["tranportalId"], query["responseURL"], query["errorURL"]) == (
        "123401",
        RESPONSE_URL,
        ERROR_URL,
    )
    assert SETTINGS.password not in session.payment_url
    plain = decrypt_trandata(query["trandata"], KEY)
    assert plain == (
        "id=123401&password=pa<ss>word&action=1&langid=AR&currencycode=414&amt=50.000"
        f"&responseURL={RESPONSE_URL}&errorURL={ERROR_URL}&trackid=PAY01"
        "&udf1=PAY01&udf2=&udf3=&udf4=&udf5="
    )


def test_english_pages_ask_for_langid_en():
    session = KnetGateway(SETTINGS).create_session("PAY01", 5, "KWD", ERROR_URL, RESPONSE_URL, "en")
    trandata = parse_qs(urlsplit(session.payment_url).query)["trandata"][0]
    assert "&langid=EN&" in decrypt_trandata(trandata, KEY)
    assert "&amt=0.005&" in decrypt_trandata(trandata, KEY)


@pytest.mark.parametrize(
    ("payment_id", "amount", "currency", "callback_url"),
    [
        ("pay-01", 50_000, "KWD", RESPONSE_URL),
        ("p" * 41, 50_000, "KWD", RESPONSE_URL),
        ("PAY01", 50.0, "KWD", RESPONSE_URL),
        ("PAY01", 0, "KWD", RESPONSE_URL),
        ("PAY01", 50_000, "USD", RESPONSE_URL),
        ("PAY01", 50_000, "KWD", RESPONSE_URL + "?x=1"),
    ],
    ids=["dash in track id", "track id too long", "float amount", "zero", "not KWD", "query string"],
)
def test_a_request_knet_would_refuse_or_misread_is_refused_before_sending(
    payment_id, amount, currency, callback_url
):
    with pytest.raises((ValueError, TypeError)):
        KnetGateway(SETTINGS).create_session(payment_id, amount, currency, ERROR_URL, callback_url, "en")


def test_settings_need_a_16_character_resource_key_and_never_print_secrets():
    with pytest.raises(ValueError):
        KnetSettings("1", "p", "short", "https://x")
    assert "pa<ss>word" not in repr(SETTINGS) and KEY not in repr(SETTINGS)


def test_a_captured_result_posted_back_is_read_but_left_unconfirmed():
    result = KnetGateway(SETTINGS).parse_callback(posted(CAPTURED_PLAIN), {})
    assert result.status is GatewayStatus.CAPTURED
    assert (result.payment_id, result.gateway_ref, result.transaction_id) == (
        "632186",
        "8962225231041180",
        "9929892231041180",
    )
    assert (result.reference, result.auth_code, result.amount_fils) == ("411857974849", "999554", 20_550)
    assert result.raw_result == "CAPTURED"
    assert result.confirmed is False


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("NOT+CAPTURED", GatewayStatus.DECLINED),
        ("CANCELED", GatewayStatus.DECLINED),
        ("DENIED+BY+RISK", GatewayStatus.DECLINED),
        ("HOST+TIMEOUT", GatewayStatus.PENDING),
        ("SOMETHING+NEW", GatewayStatus.PENDING),
    ],
)
def test_other_posted_results_map_to_declined_or_pending(word, status):
    plain = CAPTURED_PLAIN.replace("result=CAPTURED", f"result={word}")
    assert KnetGateway(SETTINGS).parse_callback(posted(plain), {}).status is status


def test_an_error_knet_posts_in_clear_is_a_declined_result_with_its_code():
    body = urlencode(
        {
            "Error": "IPAY0100048",
            "ErrorText": "Cancelled",
            "paymentid": "89622",
            "trackid": "PAY01",
            "amt": "50.000",
        }
    ).encode()
    result = KnetGateway(SETTINGS).parse_callback(body, {})
    assert (result.status, result.error_code, result.payment_id) == (
        GatewayStatus.DECLINED,
        "IPAY0100048",
        "PAY01",
    )
    assert result.raw_result == "Cancelled"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"hello=world",
        posted(CAPTURED_PLAIN, key="PONMLKJIHGFEDCBA"),
        posted("nothing=useful"),
        posted(CAPTURED_PLAIN + "&result=NOT+CAPTURED"),
        posted(CAPTURED_PLAIN.replace("amt=20.550", "amt=lots")),
        "trandata=é".encode(),
    ],
    ids=["empty", "no trandata", "other key", "no result", "result twice", "bad amount", "not ascii"],
)
def test_a_post_that_is_not_a_knet_result_for_our_terminal_is_rejected(body):
    with pytest.raises(CallbackRejected):
        KnetGateway(SETTINGS).parse_callback(body, {})


def test_the_notification_is_answered_with_one_redirect_line_to_the_receipt_page():
    gateway = KnetGateway(SETTINGS)
    ack = gateway.callback_ack(gateway.parse_callback(posted(CAPTURED_PLAIN), {}))
    assert (ack.status, ack.content_type) == (200, "text/plain")
    assert ack.body == "REDIRECT=https://app.example.com/v1/payments/receipt?payment_id=632186"
    assert gateway.callback_ack(None).body == "REDIRECT=https://app.example.com/v1/payments/receipt"


def test_an_inquiry_is_action_8_by_track_id_with_the_original_amount_as_escaped_xml():
    request = build_inquiry_request(SETTINGS, track_id="PAY01", amount_fils=50_000)
    assert (request.method, request.url) == ("POST", TEST_TRANPIPE_URL)
    assert request.headers == {"Content-Type": "application/xml"}
    assert request.body == (
        b"<id>123401</id><password>pa&lt;ss&gt;word</password><action>8</action>"
        b"<amt>50.000</amt><transid>PAY01</transid><trackid>PAY01</trackid><udf5>TrackID</udf5>"
    )
    assert parse_xml_fields(request.body.decode())["password"] == "pa<ss>word"


def test_a_refund_is_action_2_by_track_id():
    request = build_refund_request(SETTINGS, track_id="PAY01", amount_fils=30_000)
    fields = parse_xml_fields(request.body.decode())
    assert (fields["action"], fields["amt"], fields["transid"], fields["udf5"]) == (
        "2",
        "30.000",
        "PAY01",
        "TrackID",
    )


@pytest.mark.parametrize("word", ["SUCCESS", "CAPTURED"])
def test_an_inquiry_answer_of_success_or_captured_confirms_the_capture(word):
    gateway, transport = knet_answering(
        f"<result>{word}</result><auth>999554</auth><ref>411857974849</ref><postdate>0427</postdate>"
        "<tranid>9929892231041180</tranid><trackid>PAY01</trackid><payid>8962225231041180</payid>"
        "<udf5>TrackID</udf5><amt>50.000</amt>"
    )
    result = gateway.query("PAY01", None, 50_000)
    assert (result.status, result.confirmed) == (GatewayStatus.CAPTURED, True)
    assert (result.payment_id, result.gateway_ref, result.amount_fils) == (
        "PAY01",
        "8962225231041180",
        50_000,
    )
    assert b"<action>8</action>" in transport.sent[0].body


def test_an_inquiry_answer_wrapped_in_a_root_element_reads_the_same():
    gateway, _ = knet_answering(
        '<?xml version="1.0"?><response><result>NOT CAPTURED</result><trackid>PAY01</trackid></response>'
    )
    result = gateway.query("PAY01", None, 50_000)
    assert (result.status, result.confirmed) == (GatewayStatus.DECLINED, True)


@pytest.mark.parametrize(
    "answer",
    [
        "<error_code_tag>IPAY0100263</error_code_tag><error_service_tag>null</error_service_tag>"
        "<error_text>Transaction details not available</error_text>",
        "<result>!ERROR!-IPAY0100263-Transaction details not available.</result>",
    ],
)
def test_an_inquiry_about_a_payment_knet_never_saw_is_not_found(answer):
    gateway, _ = knet_answering(answer)
    result = gateway.query("PAY01", None, 50_000)
    assert (result.status, result.error_code) == (GatewayStatus.NOT_FOUND, "IPAY0100263")


@pytest.mark.parametrize(
    "answer",
    [
        "<result>!ERROR!-IPAY0100015-Invalid tranportal password</result>",
        "",
        "<result>MYSTERY</result><trackid>PAY01</trackid>",
        "<result>CAPTURED</result><trackid>PAY02</trackid>",
    ],
    ids=["credentials", "empty", "unknown word", "another track id"],
)
def test_an_inquiry_that_cannot_settle_the_payment_raises_so_it_stays_pending(answer):
    gateway, _ = knet_answering(answer)
    with pytest.raises(GatewayError):
        gateway.query("PAY01", None, 50_000)


def test_an_http_error_from_knet_is_a_gateway_error():
    gateway, _ = knet_answering("Service Unavailable", status=503)
    with pytest.raises(GatewayError):
        gateway.query("PAY01", None, 50_000)


def test_a_refund_answered_captured_is_refunded():
    gateway, transport = knet_answering(
        "<result>CAPTURED</result><payid>100201719515482162</payid><trackid>PAY01</trackid>"
        "<udf1></udf1><udf5></udf5><ref></ref><auth></auth><postdate></postdate><tranid>777</tranid><amt></amt>"
    )
    result = gateway.refund("PAY01", "8962225231041180", 50_000)
    assert (result.status, result.refund_ref, result.amount_fils) == (GatewayRefundStatus.REFUNDED, "777", 50_000)
    assert result.gateway_ref == "8962225231041180"
    assert b"<action>2</action>" in transport.sent[0].body


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        ("<result>NOT CAPTURED</result>", "NOT CAPTURED"),
        (
            "<result>!ERROR!-IPAY0100137-Transaction denied due to credit amount greater than"
            " auth amount</result>",
            "IPAY0100137",
        ),
    ],
)
def test_any_other_refund_answer_is_a_failed_refund_with_its_reason(answer, code):
    gateway, _ = knet_answering(answer)
    result = gateway.refund("PAY01", "896", 50_000)
    assert (result.status, result.error_code) == (GatewayRefundStatus.FAILED, code)


def test_a_refund_that_cannot_be_sent_raises_because_its_outcome_is_unknown():
    def unreachable(request: HttpRequest) -> HttpResponse:
        raise GatewayError("KNET unreachable: timed out")

    with pytest.raises(GatewayError):
        KnetGateway(SETTINGS, unreachable).refund("PAY01", "896", 50_000)


def test_a_knet_result_belongs_to_the_session_whose_reference_is_its_track_id():
    gateway, _ = knet_answering(
        "<result>CAPTURED</result><tranid>9929892231041180</tranid><trackid>PAY01</trackid>"
        "<payid>8962225231041180</payid><udf5>TrackID</udf5><amt>50.000</amt>"
    )
    session = KnetGateway(SETTINGS).create_session("PAY01", 50_000, "KWD", ERROR_URL, RESPONSE_URL, "en")
    result = gateway.query("PAY01", session.gateway_ref, 50_000)
    # KNET's own payment id comes back as gateway_ref; the session's reference (what the payment
    # stores) is the track id, so a settled result is matched on that.
    assert result.gateway_ref != session.gateway_ref
    assert gateway.session_ref(result) == session.gateway_ref == "PAY01"
