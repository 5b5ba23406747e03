"""The providers' /verify page: a desk pastes what a QR scanner typed, or uploads a card picture, and reads the answer.

No JavaScript and no sign-in. The desk either scans the card's QR code into the text box (a USB or
Bluetooth scanner types it, then Enter) or uploads a screenshot or photo of the card, which is decoded
here with zxing-cpp. Either way the text goes through the same `verify_card` as POST /v1/verify, so the
page cannot say "genuine" about anything the API would refuse.

Hostile input is bounded before any work is done on it: the body's size (form and upload apart), the
pasted text's length, the picture's type (by its bytes, not its name) and its pixel count (read from the
header before a single pixel is decoded). Every refusal is a page with a sentence in both languages,
never a stack trace. Nothing a person typed or uploaded is logged: only what kind of answer it got.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from chalicelib.cards.card import ID_NOTE_TEXT, IdNote, id_note_for
from chalicelib.cards.payload import CardKeyUnknown, CardPayloadError, CardSignatureInvalid
from chalicelib.cards.use_cases import MAX_SHC_CHARS, verify_card
from chalicelib.errors import AppError, Text
from chalicelib.kernel.kuwait_time import KUWAIT, kuwait_today
from chalicelib.logs import log_error, log_event
from chalicelib.platform.http import HTML_PAGE_HEADERS, html_document

if TYPE_CHECKING:
    from chalicelib.cards.ports import CardDeps

FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
CUSTOMER_SERVICE_PHONE = "19097"

# The longest text a card's QR can hold (a version-40 QR: 7,089 digits) is what the box takes.
MAX_PASTED_CHARS = MAX_SHC_CHARS
# A form post is that text percent-encoded (EC1's base45 has characters that take 3 bytes each).
MAX_FORM_BYTES = 3 * MAX_PASTED_CHARS + 1024
# A card screenshot is ~100 KB and a phone photo 2-5 MB; API Gateway itself stops at 10 MB.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# 40 MP: above any phone camera's photo (a 48 MP sensor saves 12 MP by default), far below what a
# decompression bomb needs. Checked on the header's size, before any pixel is decoded.
MAX_IMAGE_PIXELS = 40_000_000
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP")
FILE_FIELD = "card_image"
TEXT_FIELD = "qr"

PAGE_HEADERS = HTML_PAGE_HEADERS


class PageProblem(Exception):
    """Input the page refuses before verifying anything: shown on the page with its HTTP status."""

    def __init__(self, kind: str, text: Text, status: int = 422) -> None:
        super().__init__(kind)
        self.kind = kind
        self.text = text
        self.status = status


EMPTY = Text("Scan or paste the card's QR code into the box first, or choose a picture of the card.",
             "امسح رمز QR في البطاقة أو الصقه في الخانة أولًا، أو اختر صورة للبطاقة.")
TOO_LONG = Text("This text is longer than any card's QR code: scan only the card's code.",
                "هذا النص أطول من أي رمز بطاقة: امسح رمز البطاقة وحده.")
BAD_FORM = Text("The form did not arrive complete: reload the page and try again.",
                "لم يصل النموذج كاملًا: أعد تحميل الصفحة وحاول مرة أخرى.")
TOO_BIG = Text("The picture is larger than 5 MB: send a screenshot of the card, or a smaller photo.",
               "حجم الصورة أكبر من 5 ميغابايت: أرسل لقطة شاشة للبطاقة أو صورة أصغر.")
TOO_MANY_PIXELS = Text("The picture is too large (over 40 megapixels): send a screenshot or a smaller photo.",
                       "أبعاد الصورة كبيرة جدًا (أكثر من 40 ميغابكسل): أرسل لقطة شاشة أو صورة أصغر.")
NOT_A_PICTURE = Text("This file is not a PNG, JPEG or WebP picture: send a screenshot or a photo of the card.",
                     "هذا الملف ليس صورة PNG أو JPEG أو WebP: أرسل لقطة شاشة أو صورة للبطاقة.")
BROKEN_PICTURE = Text("The picture could not be opened: it may be damaged or incomplete.",
                      "تعذّر فتح الصورة: ربما تكون تالفة أو ناقصة.")
NO_QR = Text("No QR code was found in the picture: the card's code must be sharp and not cut off.",
             "لم يُعثر على رمز QR في الصورة: يجب أن يكون رمز البطاقة واضحًا وغير مقصوص.")
SEVERAL_QR = Text("The picture shows more than one QR code: send a picture of one card only.",
                  "تظهر في الصورة أكثر من رمز QR: أرسل صورة لبطاقة واحدة فقط.")
FAILED = Text(f"The card could not be checked just now. Try again in a minute, or call {CUSTOMER_SERVICE_PHONE}.",
              f"تعذّر التحقق من البطاقة الآن. حاول مرة أخرى بعد دقيقة، أو اتصل على {CUSTOMER_SERVICE_PHONE}.")


@dataclass(frozen=True)
class Submission:
    """What the desk sent: the QR text (typed by a scanner or pasted) or a picture's bytes."""

    text: str | None = None
    image: bytes | None = None


def read_submission(content_type: str, body: bytes) -> Submission:
    """The form's one input, from an urlencoded or a multipart body; PageProblem when it is not usable."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media == MULTIPART:
        if len(body) > MAX_UPLOAD_BYTES + 64 * 1024:  # the picture plus the form's own few hundred bytes
            raise PageProblem("too_big", TOO_BIG, status=413)
        return _multipart(content_type, body)
    if len(body) > MAX_FORM_BYTES:
        raise PageProblem("too_long", TOO_LONG)
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=8)
    except (UnicodeDecodeError, ValueError) as exc:
        raise PageProblem("bad_form", BAD_FORM) from exc
    return Submission(text=_text(fields.get(TEXT_FIELD, [""])[0]))


def _text(value: str) -> str:
    # Scanners end with Enter (or Tab); pasting from a chat adds spaces. A QR's text has neither.
    value = value.strip()
    if not value:
        raise PageProblem("empty", EMPTY)
    if len(value) > MAX_PASTED_CHARS:
        raise PageProblem("too_long", TOO_LONG)
    return value


def _multipart(content_type: str, body: bytes) -> Submission:
    """The standard library's MIME parser reads the form: it needs only the Content-Type put in front."""
    from email.parser import BytesParser
    from email.policy import HTTP

    if "\r" in content_type or "\n" in content_type:  # only an event, never HTTP, carries these
        raise PageProblem("bad_form", BAD_FORM)
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    try:
        message = BytesParser(policy=HTTP).parsebytes(head + body)
        parts = list(message.iter_parts()) if message.is_multipart() else []
    except Exception as exc:  # the email package's defects are many kinds; all mean the same here
        raise PageProblem("bad_form", BAD_FORM) from exc
    text, image = "", None
    for part in parts[:8]:
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        if name == FILE_FIELD and payload:
            image = payload
        elif name == TEXT_FIELD:
            text = payload.decode("utf-8", "replace")
    if image is not None:
        if len(image) > MAX_UPLOAD_BYTES:
            raise PageProblem("too_big", TOO_BIG, status=413)
        return Submission(image=image)
    if text.strip():
        return Submission(text=_text(text))
    if not parts:
        raise PageProblem("bad_form", BAD_FORM)
    raise PageProblem("empty", EMPTY)


def qr_texts_in_image(data: bytes) -> list[str]:
    """The texts of the QR codes in a PNG, JPEG or WebP picture (zxing-cpp, loaded on first use)."""
    from PIL import Image, UnidentifiedImageError

    try:
        # open() reads the header only: the size is known before anything is decoded.
        with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as picture:
            width, height = picture.size
            if width * height > MAX_IMAGE_PIXELS:
                raise PageProblem("too_many_pixels", TOO_MANY_PIXELS)
            if picture.format == "JPEG":
                # A phone photo decodes at a quarter or an eighth of its size straight from the JPEG
                # (libjpeg's DCT scaling): faster, far less memory, and a card's QR stays readable.
                picture.draft("L", (max(width // 4, 1600), max(height // 4, 1200)))
            gray = picture.convert("L")
    except PageProblem:
        raise
    except Image.DecompressionBombError as exc:  # Pillow's own guard, should the header check ever miss
        raise PageProblem("too_many_pixels", TOO_MANY_PIXELS) from exc
    except UnidentifiedImageError as exc:
        raise PageProblem("not_a_picture", NOT_A_PICTURE) from exc
    except (OSError, ValueError, SyntaxError) as exc:  # truncated or corrupt data
        raise PageProblem("broken_picture", BROKEN_PICTURE) from exc
    import zxingcpp

    qr_only = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    found = zxingcpp.read_barcodes(gray, formats=qr_only)
    if not found:
        # A screenshot of the card shown smaller (half size: modules of 1.5 px) and smoothed by a bilinear
        # or bicubic scaler turns the modules' edges grey: the local-average binarizer then misses the
        # symbol on most cards, one threshold for the whole picture reads every one (README, cards).
        found = zxingcpp.read_barcodes(gray, formats=qr_only, binarizer=zxingcpp.Binarizer.GlobalHistogram)
    # The same code seen twice (a reflection, an overlapping detection) is one code.
    return list(dict.fromkeys(code.text for code in found if code.valid and code.text))


def qr_text_of(submission: Submission) -> str:
    """The one QR text to verify: typed, or the single code found in the picture."""
    if submission.text is not None:
        return submission.text
    texts = qr_texts_in_image(submission.image or b"")
    if not texts:
        raise PageProblem("no_qr", NO_QR)
    if len(texts) > 1:
        raise PageProblem("several_qr", SEVERAL_QR)
    return _text(texts[0])


@dataclass(frozen=True)
class Outcome:
    """The answer the page shows: genuine or not (and why not), and for a genuine card who and the status now."""

    kind: str  # "genuine", "not_genuine", "unreadable"
    result: Mapping[str, Any] | None = None
    id_note: IdNote | None = None


def check(deps: CardDeps, submission: Submission, source: str) -> Outcome:
    """Verify what was sent with `verify_card`; refusals of the code become an answer, not an error."""
    try:
        text = qr_text_of(submission)
    except PageProblem as problem:
        log_event("provider_page_refused", source=source, reason=problem.kind)
        raise
    try:
        result = verify_card(deps, text)
    except (CardSignatureInvalid, CardKeyUnknown):
        log_event("provider_page_checked", source=source, outcome="not_genuine")
        return Outcome("not_genuine")
    except (CardPayloadError, AppError):
        # Malformed, an unknown version, or text that is no card at all (a URL, a barcode's digits).
        log_event("provider_page_checked", source=source, outcome="unreadable")
        return Outcome("unreadable")
    person = deps.people.find(result["card"]["member_id"])
    note = id_note_for(person.date_of_birth, kuwait_today(deps.now())) if person is not None else None
    log_event("provider_page_checked", source=source, outcome="genuine", status=result["status"],
              revoked=result["revoked"])
    return Outcome("genuine", result, note)


def failed(exc: BaseException) -> PageProblem:
    """An unexpected failure (storage unreachable, a bug): logged, and a page that says to try again."""
    log_error("provider_page_failed", error=type(exc).__name__)
    return PageProblem("failed", FAILED, status=500)


# --- rendering -------------------------------------------------------------------------------------

TITLE = Text("Check an insurance card", "التحقق من بطاقة التأمين")
INTRO = Text(
    "Scan the card's QR code into the box below (a USB or Bluetooth scanner types it in), or upload a "
    "screenshot or photo of the card. Nothing is kept.",
    "امسح رمز QR في البطاقة داخل الخانة أدناه (يكتبه الماسح الضوئي المتصل عبر USB أو Bluetooth)، أو "
    "ارفع لقطة شاشة أو صورة للبطاقة. لا نحتفظ بأي شيء.",
)
PASTE_LABEL = Text("QR code text", "نص رمز QR")
PASTE_BUTTON = Text("Check card", "تحقّق من البطاقة")
UPLOAD_LABEL = Text("Or a picture of the card (PNG, JPEG or WebP, up to 5 MB)",
                    "أو صورة للبطاقة (PNG أو JPEG أو WebP، حتى 5 ميغابايت)")
UPLOAD_BUTTON = Text("Check picture", "تحقّق من الصورة")

GENUINE = Text("Genuine card", "بطاقة أصلية")
NOT_GENUINE = Text("Not genuine: do not accept this card", "بطاقة غير أصلية: لا تقبل هذه البطاقة")
NOT_GENUINE_WHY = Text(
    "This code was not issued by us, or it was changed after we issued it.",
    "هذا الرمز لم يصدر عنّا، أو تم تعديله بعد إصداره.",
)
UNREADABLE = Text("Not a card we can read", "ليست بطاقة يمكننا قراءتها")
UNREADABLE_WHY = Text(
    "The code is not one of our cards' codes, or it was not read completely. Scan it again; if it still "
    f"fails, ask for the card in the app or call {CUSTOMER_SERVICE_PHONE}.",
    "هذا الرمز ليس من رموز بطاقاتنا، أو لم تتم قراءته كاملًا. امسحه مرة أخرى؛ وإذا تكرر ذلك فاطلب البطاقة "
    f"من التطبيق أو اتصل على {CUSTOMER_SERVICE_PHONE}.",
)
ACTIVE = Text("Cover active", "التغطية سارية")
NOT_ACTIVE = Text("Cover NOT active", "التغطية غير سارية")
REVOKED = Text("This card was withdrawn: the cover ended early.", "سُحبت هذه البطاقة: انتهت التغطية قبل موعدها.")
STATUS_TEXT: dict[str, Text] = {
    "active": Text("Active", "سارية"),
    "upcoming": Text("Not started yet", "لم تبدأ بعد"),
    "expired": Text("Expired", "منتهية"),
    "terminated": Text("Ended by the employer", "أنهاها صاحب العمل"),
    "cancelled": Text("Cancelled (premium refunded)", "ملغاة (استُرد القسط)"),
    "unknown": Text("Not on our records", "غير موجودة في سجلاتنا"),
}
CHANGED = Text("The details on this card changed since it was issued: ask the person for the card in the app now.",
               "تغيّرت بيانات هذه البطاقة بعد إصدارها: اطلب من الشخص البطاقة الحالية من التطبيق.")
ID_RULE_UNKNOWN = Text("Ask for a valid ID; under 16, a parent's valid ID.",
                       "اطلب بطاقة شخصية سارية؛ ولمن هم دون 16 عامًا بطاقة أحد الوالدين.")
LABELS: dict[str, Text] = {
    "status": Text("Status", "الحالة"),
    "name_en": Text("Name (English)", "الاسم (بالإنجليزية)"),
    "name_ar": Text("Name (Arabic)", "الاسم (بالعربية)"),
    "member_id": Text("Member ID", "رقم العضوية"),
    "plan": Text("Plan", "الخطة"),
    "valid": Text("Valid", "الصلاحية"),
    "id": Text("ID to ask for", "الهوية المطلوبة"),
    "checked": Text("Checked", "وقت التحقق"),
}
FROM_TO = Text("{start} to {end}", "من {start} إلى {end}")

_CSS = """
main{max-width:44rem}
h1{font-size:1.375rem;line-height:1.3;margin:.25rem 0 1rem;color:#0b3d63}
h1 span{display:block}
h1 .ar{font-size:inherit}
h2{font-size:1.25rem;line-height:1.3;margin:0 0 .5rem}
p{margin:0 0 .75rem}
label{display:block;font-weight:600;margin:0 0 .25rem}
input[type=text],input[type=file]{display:block;width:100%;min-height:2.75rem;padding:.5rem .75rem;
font:inherit;border:1px solid #6b7785;border-radius:.5rem;background:#fff;color:inherit}
input[type=text]{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:1rem}
button{margin:.75rem 0 .25rem}
.msg{border:2px solid #b3261e;color:#b3261e;font-weight:600;border-radius:.5rem;padding:.5rem .75rem;margin:0 0 1rem;
background:#fff}
.verdict{border-width:3px}
.ok{border-color:#1e7b34}
.ok h2{color:#1e7b34}
.bad{border-color:#b3261e}
.bad h2{color:#b3261e}
dl{display:grid;grid-template-columns:minmax(7rem,max-content) 1fr;gap:.25rem 1rem;margin:0}
dt{font-weight:600;color:#4a5561}
dd{margin:0;overflow-wrap:anywhere}
.whole{white-space:nowrap}
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _bilingual(text: Text) -> str:
    return (f'<span class="ar" lang="ar" dir="rtl">{_e(text.ar)}</span>'
            f'<span class="en" lang="en" dir="ltr">{_e(text.en)}</span>')


def _with_phone_link(escaped: str) -> str:
    """Escaped text with the customer-service number tappable, and kept whole inside Arabic text."""
    link = f'<a href="tel:{CUSTOMER_SERVICE_PHONE}" dir="ltr">{CUSTOMER_SERVICE_PHONE}</a>'
    return escaped.replace(CUSTOMER_SERVICE_PHONE, link)


def _ltr(value: object) -> str:
    """A value that reads left to right (an id, a date, a Latin name) inside either language's text."""
    return f'<bdi dir="ltr" class="whole">{_e(value)}</bdi>'


def _when(checked_at: str) -> str:
    return datetime.fromisoformat(checked_at).astimezone(KUWAIT).strftime("%Y-%m-%d %H:%M")


def _verdict(lang: str, outcome: Outcome) -> str:
    """One language's answer: a headline, and for a genuine card the details a desk checks against the ID."""
    direction = "rtl" if lang == "ar" else "ltr"
    if outcome.kind != "genuine" or outcome.result is None:
        headline, why = (NOT_GENUINE, NOT_GENUINE_WHY) if outcome.kind == "not_genuine" else (UNREADABLE,
                                                                                              UNREADABLE_WHY)
        return (f'<section class="verdict bad {lang}" lang="{lang}" dir="{direction}" role="status" '
                f'id="verdict-{lang}" data-outcome="{outcome.kind}">'
                f"<h2>{_e(headline.in_(lang))}</h2><p>{_with_phone_link(_e(why.in_(lang)))}</p></section>")
    result, card = outcome.result, outcome.result["card"]
    active = result["status"] == "active" and not result["revoked"]
    cover = ACTIVE if active else NOT_ACTIVE
    status = STATUS_TEXT.get(result["status"], STATUS_TEXT["unknown"]).in_(lang)
    revoked = f"<p><strong>{_e(REVOKED.in_(lang))}</strong></p>" if result["revoked"] else ""
    # Only a card still in force has a newer card to ask for; an ended cover has none.
    changed = ("" if result["matches_current_record"] or result["status"] not in ("active", "upcoming")
               else f'<p class="note">{_e(CHANGED.in_(lang))}</p>')
    plan = card["plan"].get(lang) or card["plan"].get("en", "")
    id_rule = ID_NOTE_TEXT[outcome.id_note] if outcome.id_note is not None else ID_RULE_UNKNOWN
    dates = FROM_TO.format(start="\x00s", end="\x00e").in_(lang)
    valid = _e(dates).replace("\x00s", _ltr(card["valid_from"])).replace("\x00e", _ltr(card["valid_to"]))
    rows = (
        ("status", f"<strong>{_e(status)}</strong>"),
        ("name_ar", f'<bdi lang="ar" dir="rtl">{_e(card["name"]["ar"] or "—")}</bdi>'),
        ("name_en", f'<bdi lang="en" dir="ltr">{_e(card["name"]["en"] or "—")}</bdi>'),
        ("member_id", _ltr(card["member_id"])),
        ("plan", _e(plan)),
        ("valid", valid),
        ("id", _e(id_rule.in_(lang))),
        ("checked", _ltr(_when(result["checked_at"]))),
    )
    details = "".join(f'<dt>{_e(LABELS[key].in_(lang))}</dt><dd id="{key}-{lang}">{value}</dd>'
                      for key, value in rows)
    tone = "ok" if active else "bad"
    return (f'<section class="verdict {tone} {lang}" lang="{lang}" dir="{direction}" role="status" '
            f'id="verdict-{lang}" data-outcome="genuine" data-active="{str(active).lower()}">'
            f"<h2>{_e(GENUINE.in_(lang))} · {_e(cover.in_(lang))}</h2>{revoked}<dl>{details}</dl>{changed}</section>")


def _forms(problem: PageProblem | None) -> str:
    alert = (f'<p class="msg" role="alert" id="problem" data-problem="{_e(problem.kind)}">'
             f"{_with_phone_link(_bilingual(problem.text))}</p>") if problem is not None else ""
    # Relative actions: the page is at /verify, also behind an API Gateway stage prefix (/api/verify).
    return (
        f"{alert}"
        f'<form method="post" action="verify" enctype="{FORM}" id="paste-form">'
        f'<label for="{TEXT_FIELD}">{_bilingual(PASTE_LABEL)}</label>'
        f'<input type="text" id="{TEXT_FIELD}" name="{TEXT_FIELD}" dir="ltr" maxlength="{MAX_PASTED_CHARS}" '
        'autocomplete="off" autocapitalize="off" spellcheck="false" autofocus required>'
        f'<button type="submit">{_bilingual(PASTE_BUTTON)}</button></form>'
        f'<form method="post" action="verify" enctype="{MULTIPART}" id="upload-form">'
        f'<label for="{FILE_FIELD}">{_bilingual(UPLOAD_LABEL)}</label>'
        f'<input type="file" id="{FILE_FIELD}" name="{FILE_FIELD}" accept="image/png,image/jpeg,image/webp" required>'
        f'<button type="submit">{_bilingual(UPLOAD_BUTTON)}</button></form>'
    )


def verify_page(outcome: Outcome | None = None, problem: PageProblem | None = None) -> str:
    """The whole page: the title, any answer (Arabic, then English), the two ways to check a card, how to."""
    how = "".join(
        f'<section class="{lang}" lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}" id="how-{lang}">'
        f"<p>{_e(INTRO.in_(lang))}</p></section>"
        for lang in ("ar", "en")
    )
    answer = "".join(_verdict(lang, outcome) for lang in ("ar", "en")) if outcome is not None else ""
    return html_document(TITLE, f'<h1 id="title">{_bilingual(TITLE)}</h1>{answer}{_forms(problem)}{how}', _CSS)
