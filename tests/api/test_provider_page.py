"""The providers' /verify page over the API: what a desk sees for a pasted scan or an uploaded picture.

The browser's own view of it is tests/browser/test_provider_page.py; here each answer and each refusal is
checked on the HTML the route returns, including the base64 body API Gateway hands Lambda for an upload.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
from urllib.parse import urlencode

import pytest
import segno
from PIL import Image

from tests.api.cards_support import AHMAD, FATIMA, YOUSEF, create_policy, csv_rows, enrol_family, hr_upload, stored

FORM = "application/x-www-form-urlencoded"
BOUNDARY = "----desk-upload-7f3a"


@pytest.fixture
def family(aws, api, clock):
    create_policy()
    return enrol_family(api, AHMAD, FATIMA, YOUSEF)


def card_png(holder, member_id: str) -> bytes:
    answer = holder.card(member_id, "png")
    assert answer.status == 200, answer.body
    return stored(answer.body["url"])[0]


def qr_text(png: bytes) -> str:
    import zxingcpp

    # QR codes only: zxing now and then also "finds" an EAN-13 inside a dense QR (about 1 card in 60).
    (found,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode)
    return found.text


def multipart(filename: str, data: bytes, content_type: str = "image/png", field: str = "card_image") -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
            f"Content-Type: {content_type}\r\n\r\n").encode() + data + f"\r\n--{BOUNDARY}--\r\n".encode()


class Page:
    def __init__(self, response) -> None:
        self.status = response.status_code
        self.headers = dict(response.headers)
        self.html = response.body.decode("utf-8")
        self.text_only = html.unescape(self.html)

    def attr(self, element_id: str, name: str) -> str | None:
        tag = re.search(rf'<[^>]*\bid="{element_id}"[^>]*>', self.html)
        found = re.search(rf'\b{name}="([^"]*)"', tag.group(0)) if tag else None
        return found.group(1) if found else None

    def text(self, element_id: str) -> str:
        found = re.search(rf'id="{element_id}"[^>]*>(.*?)</dd>', self.html, re.S)
        assert found, element_id
        return html.unescape(re.sub(r"<[^>]+>", "", found.group(1)))

    @property
    def outcome(self) -> str | None:
        return self.attr("verdict-en", "data-outcome")

    @property
    def problem(self) -> str | None:
        return self.attr("problem", "data-problem")


def paste(client, text: str) -> Page:
    return Page(client.http.post("/verify", headers={"Content-Type": FORM}, body=urlencode({"qr": text})))


def upload(client, data: bytes, filename: str = "card.png", content_type: str = "image/png") -> Page:
    return Page(client.http.post("/verify", headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
                                 body=multipart(filename, data, content_type)))


def png_of(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def qr_image(text: str) -> Image.Image:
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=6, border=4)
    return Image.open(io.BytesIO(out.getvalue())).convert("L")


def test_the_page_is_served_with_both_forms_and_the_pages_security_headers(client):
    page = Page(client.http.get("/verify"))

    assert page.status == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert "script-src" not in page.headers["Content-Security-Policy"]  # default-src 'none': no script at all
    assert 'enctype="application/x-www-form-urlencoded"' in page.html and 'enctype="multipart/form-data"' in page.html
    assert "<script" not in page.html and 'dir="rtl"' in page.html


def test_a_scanned_card_shows_genuine_active_both_names_and_the_id_to_ask_for(family, client):
    ahmad = family.members["Ahmad Khalid Al-Mutairi"]

    page = paste(client, qr_text(card_png(family, ahmad)) + "\r\n")  # a scanner's Enter

    assert page.status == 200
    assert page.outcome == "genuine" and page.attr("verdict-en", "data-active") == "true"
    assert "Genuine card · Cover active" in page.html and "بطاقة أصلية · التغطية سارية" in page.html
    assert page.text("name_en-en") == "Ahmad Khalid Al-Mutairi" and page.text("name_ar-en") == "أحمد خالد المطيري"
    assert page.text("member_id-en") == ahmad and page.text("member_id-ar") == ahmad
    assert page.text("plan-en") == "Gold" and page.text("plan-ar") == "ذهبي"
    assert page.text("valid-en") == "2026-01-01 to 2026-12-31"
    assert page.text("id-en") == "Show a valid ID with this card."


def test_a_child_under_sixteen_needs_a_parents_id(family, client):
    yousef = family.members["Yousef Ahmad Al-Mutairi"]  # 16 tomorrow: the tests' clock is 1 March 2026

    page = paste(client, qr_text(card_png(family, yousef)))

    assert page.text("id-en") == "Under 16: show a parent's valid ID with this card."
    assert page.text("id-ar").startswith("دون 16 عامًا")


def test_a_smart_health_card_pasted_or_uploaded_gives_the_same_answer(family, client):
    ahmad = family.members["Ahmad Khalid Al-Mutairi"]
    png = card_png(family, ahmad)
    text = qr_text(png)
    assert text.startswith("shc:/")

    pasted, uploaded = paste(client, text), upload(client, png)

    assert pasted.status == uploaded.status == 200
    assert pasted.outcome == uploaded.outcome == "genuine"
    for key in ("name_en-en", "name_ar-ar", "member_id-en", "plan-ar", "valid-en", "id-en", "status-ar"):
        assert pasted.text(key) == uploaded.text(key), key


def test_an_upload_arriving_base64_as_api_gateway_sends_it_is_decoded(family, app):
    """Deployed, multipart/form-data is a binary media type: the Lambda event's body is base64."""
    ahmad = family.members["Ahmad Khalid Al-Mutairi"]
    body = multipart("card.png", card_png(family, ahmad))
    event = {"resource": "/verify", "path": "/verify", "httpMethod": "POST",
             "headers": {"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
             "multiValueHeaders": {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
             "pathParameters": None, "stageVariables": None,
             "requestContext": {"resourcePath": "/verify", "httpMethod": "POST", "path": "/api/verify",
                                "requestId": "r-1", "identity": {"sourceIp": "203.0.113.9"}},
             "body": base64.b64encode(body).decode("ascii"), "isBase64Encoded": True}

    answer = app(event, None)

    assert "multipart/form-data" in app.api.binary_types  # so `chalice package` declares it to API Gateway
    assert answer["statusCode"] == 200
    assert 'data-outcome="genuine"' in answer["body"] and "Ahmad Khalid Al-Mutairi" in answer["body"]


def test_text_that_is_no_card_is_not_a_card_we_can_read(family, client):
    for text in ("hello", "https://example.com/card", "shc:/1234", "EC1:NOT-BASE45"):
        page = paste(client, text)
        assert (page.status, page.outcome) == (200, "unreadable"), text
        assert "Not a card we can read" in page.html and "ليست بطاقة يمكننا قراءتها" in page.html


def altered(text: str) -> str:
    """The card's text with one character of what it signs changed, still well-formed (either format)."""
    if not text.startswith("shc:/"):
        from tests.api.test_cards_verify import flip_one_byte

        return flip_one_byte(text, 40)
    digits = text[5:]
    header, payload, signature = "".join(chr(int(digits[i:i + 2]) + 45) for i in range(0, len(digits), 2)).split(".")
    at = len(payload) // 2
    payload = payload[:at] + ("A" if payload[at] != "A" else "B") + payload[at + 1:]
    return "shc:/" + "".join(f"{ord(c) - 45:02d}" for c in f"{header}.{payload}.{signature}")


def test_a_changed_card_is_not_genuine(family, client):
    ahmad = family.members["Ahmad Khalid Al-Mutairi"]

    page = paste(client, altered(qr_text(card_png(family, ahmad))))

    assert (page.status, page.outcome) == (200, "not_genuine")
    assert "Not genuine: do not accept this card" in page.html and "Ahmad" not in page.html


def test_a_terminated_members_card_is_genuine_but_not_active(family, client):
    fatima = family.members["Fatima Ali Al-Mutairi"]
    text = qr_text(card_png(family, fatima))

    hr_upload(csv_rows(FATIMA.replace("2026-12-31,", "2026-02-28,terminate")))
    page = paste(client, text)

    assert page.outcome == "genuine" and page.attr("verdict-en", "data-active") == "false"
    assert "Cover NOT active" in page.html and "التغطية غير سارية" in page.html
    assert page.text("status-en") == "Ended by the employer"


def test_empty_or_overlong_text_is_refused_on_the_page(family, client):
    assert (paste(client, "   ").status, paste(client, "   ").problem) == (422, "empty")
    long = paste(client, "shc:/" + "1" * 7100)
    assert (long.status, long.problem) == (422, "too_long")
    assert "longer than any card" in long.html and "أطول من أي رمز بطاقة" in long.html
    too_big_form = Page(client.http.post("/verify", headers={"Content-Type": FORM}, body="qr=" + "%41" * 30_000))
    assert (too_big_form.status, too_big_form.problem) == (422, "too_long")


def test_pictures_that_cannot_be_checked_are_refused_with_the_reason(family, client):
    blank = png_of(Image.new("L", (400, 300), 255))
    one, other = (qr_image(f"https://example.com/{name}") for name in "ab")
    two = Image.new("L", (one.width + other.width, max(one.height, other.height)), 255)
    two.paste(one, (0, 0))
    two.paste(other, (one.width, 0))
    png = png_of(two)
    # 8,000 x 6,000 px of white is 48 MP in a few kilobytes: only the header's size gives it away.
    bomb = png_of(Image.new("1", (8000, 6000), 1))

    cases = {
        "no_qr": upload(client, blank),
        "several_qr": upload(client, png),
        "not_a_picture": upload(client, b"%PDF-1.7\n" + b"x" * 100, "card.pdf", "application/pdf"),
        "broken_picture": upload(client, png[:200]),
        "too_many_pixels": upload(client, bomb),
    }

    for problem, page in cases.items():
        assert (page.status, page.problem) == (422, problem), (problem, page.html[-600:])
        assert page.headers["Cache-Control"] == "no-store"
    assert len(bomb) < 100_000


def test_a_picture_over_five_megabytes_is_refused_before_it_is_opened(family, client, monkeypatch):
    from PIL import Image as PilImage

    opened = []
    monkeypatch.setattr(PilImage, "open", lambda *a, **k: opened.append(1))

    page = upload(client, b"\x89PNG\r\n\x1a\n" + b"\0" * (5 * 1024 * 1024 + 1))

    assert (page.status, page.problem) == (413, "too_big") and opened == []
    assert "5 MB" in page.html and "5 ميغابايت" in page.html


def test_a_form_that_is_not_multipart_as_declared_is_refused_not_failed(family, client):
    for body in (b"no boundary here", b"--other\r\n\r\n", b""):
        page = Page(client.http.post("/verify", headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
                                     body=body))
        assert page.status == 422 and page.problem in ("bad_form", "empty"), body


def test_the_pages_log_lines_say_what_happened_and_nothing_typed(family, client, capsys):
    ahmad = family.members["Ahmad Khalid Al-Mutairi"]
    text = qr_text(card_png(family, ahmad))
    capsys.readouterr()

    paste(client, text)
    paste(client, "some-secret-garbage")

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    page_lines = [line for line in lines if str(line.get("message", "")).startswith("provider_page")]
    assert [(line["outcome"], line["source"]) for line in page_lines] == [("genuine", "text"), ("unreadable", "text")]
    assert not any(text[:40] in json.dumps(line) or "some-secret-garbage" in json.dumps(line) for line in lines)


def test_a_card_printed_with_an_ec1_code_still_checks_as_genuine(family, client, monkeypatch):
    from chalicelib.cards import wiring

    monkeypatch.setattr(wiring, "QR_FORMAT", "ec1")
    wiring.card_deps.cache_clear()
    text = qr_text(card_png(family, family.members["Ahmad Khalid Al-Mutairi"]))
    wiring.card_deps.cache_clear()

    page = paste(client, text)

    assert text.startswith("EC1:") and page.outcome == "genuine"
    assert page.attr("verdict-en", "data-active") == "true" and page.text("name_ar-en") == "أحمد خالد المطيري"
    wiring.card_deps.cache_clear()
