"""Every email and SMS the system sends, rendered in the reader's language (or both).

HR data carries no language preference, so messages to HR-enrolled people carry
Arabic and English together; a self-registered person gets the language they chose.

Every email goes through one branded template (`render_email`): the insurer's name, logo
(an inline SVG: no remote image to block or track) and colour, the app's name and where to
get it, from the stage's `Branding` (chalicelib/settings.py). Each language is a block of its
own (`dir="rtl" lang="ar"` for Arabic), laid out with one table at most 600 px wide and
inline styles, which is what mail clients render alike on a phone and a desktop. The HTML
part goes with a plain-text part saying the same (SES sends both as multipart/alternative).
Every value from data (names from HR files, addresses, links) is escaped in the HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from chalicelib.errors import Text
from chalicelib.kernel.plurals import DAYS, HOURS, MINUTES

if TYPE_CHECKING:
    from chalicelib.settings import Branding

CUSTOMER_SERVICE = "19097"


@dataclass(frozen=True)
class Message:
    """One email or SMS, ready to send."""

    channel: Literal["email", "sms"]
    to: str
    template: str
    text: str
    subject: str = ""
    html: str = ""
    links: list[str] = field(default_factory=list)
    vars: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Secret:
    """A value the reader copies (a temporary password): set apart in a box, in monospace."""

    label: Text
    value: str


@dataclass(frozen=True)
class Email:
    """What an email says, in both languages; `render_email` lays it out in the branded template."""

    template: str
    subject: Text
    heading: Text
    paragraphs: tuple[Text, ...] = ()
    secret: Secret | None = None
    link: str | None = None
    link_label: Text | None = None
    # Facts shown as a table (a receipt): label, value (the value may differ by language).
    rows: tuple[tuple[Text, Text], ...] = ()
    closing: tuple[Text, ...] = ()


def branding() -> Branding:
    from chalicelib.settings import get_settings

    return get_settings().branding


def _insurer(brand: Branding) -> Text:
    return Text(brand.insurer_en, brand.insurer_ar)


def _app(brand: Branding) -> Text:
    return Text(brand.app_en, brand.app_ar)


def _customer_service(brand: Branding) -> Text:
    return Text(f"Customer service: {brand.customer_service}.", f"خدمة العملاء: {brand.customer_service}.")


def _codes(lang: str | None) -> list[str]:
    # Arabic first when both: the country's language, and what people read first on a phone.
    return [lang] if lang in ("ar", "en") else ["ar", "en"]


def _get_the_app(brand: Branding, code: str) -> str:
    """Where to get the app, as plain text (the HTML makes the store names links when they are set)."""
    app = _app(brand).in_(code)
    if code == "ar":
        return f"حمّل تطبيق «{app}»: ابحث عن اسمه في App Store (آيفون) أو Google Play (أندرويد)."
    return f"Get the “{app}” app: search for its name in the App Store (iPhone) or Google Play (Android)."


# --- plain text ---------------------------------------------------------------------------------------

def _text_section(email: Email, brand: Branding, code: str) -> str:
    parts = [email.heading.in_(code), *(p.in_(code) for p in email.paragraphs)]
    if email.secret is not None:
        parts.append(f"{email.secret.label.in_(code)}:\n\n    {email.secret.value}")
    if email.link and email.link_label:
        parts.append(f"{email.link_label.in_(code)}:\n{email.link}")
    if email.rows:
        parts.append("\n".join(f"{label.in_(code)}: {value.in_(code)}" for label, value in email.rows))
    parts += [p.in_(code) for p in email.closing]
    parts.append(_get_the_app(brand, code))
    if brand.app_store_url:
        parts.append(f"App Store: {brand.app_store_url}")
    if brand.play_store_url:
        parts.append(f"Google Play: {brand.play_store_url}")
    parts.append(f"{_insurer(brand).in_(code)} · {_customer_service(brand).in_(code)}")
    return "\n\n".join(parts)


# --- HTML ---------------------------------------------------------------------------------------------

FONT = "Tahoma,Arial,'Noto Sans Arabic','Noto Naskh Arabic',sans-serif"
INK, MUTED, LINE, PAPER = "#1c2b33", "#55656d", "#dde5ea", "#ffffff"
# Long unbroken words (a link, an address) wrap instead of widening the email on a phone.
WRAP = "overflow-wrap:anywhere;word-break:break-word"


# Addresses and dates inside a sentence: kept left to right as one run inside Arabic, and a date never
# breaks at its hyphens (an address may: it can be longer than a phone is wide).
_EMAIL = re.compile(r"[^\s@<>;]+@[^\s@<>;]+\.[A-Za-z]{2,}")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2})?\b")


# A count stays on the line of what it counts ("7 أيام", not "7" at a line's end); so do the store names.
_COUNT = re.compile(r"(?<![\d:-])(\d+) (?=[^\W\d])")
_UNBROKEN = ("App Store", "Google Play")


def _inline(text: str) -> str:
    """Escaped text, with each address isolated left to right, and dates, counts and store names unbroken."""
    html = escape(text)
    html = _EMAIL.sub(lambda m: f'<span dir="ltr">{m.group(0)}</span>', html)
    html = _DATE.sub(lambda m: f'<span dir="ltr" style="white-space:nowrap">{m.group(0)}</span>', html)
    for name in _UNBROKEN:
        html = html.replace(name, name.replace(" ", "&nbsp;"))
    return _COUNT.sub("\\1&nbsp;", html)


PROJECT_ROOT = Path(__file__).resolve().parents[2]  # /var/task in Lambda


@lru_cache(maxsize=4)
def _logo_file(path: str) -> str:
    text = (PROJECT_ROOT / path).read_text(encoding="utf-8").strip()  # an absolute path stays itself
    if not text.startswith("<svg") and "<svg" not in text[:200]:
        raise ValueError(f"BRAND_LOGO_SVG_FILE {path} is not an SVG")
    return text[text.index("<svg"):]


def _logo(brand: Branding) -> str:
    if brand.logo_svg_file:
        return _logo_file(brand.logo_svg_file)  # the stage's own file: configuration, not data
    # A white shield with a cross in the brand colour, drawn on the header's colour.
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40" viewBox="0 0 40 40" role="img" '
            f'aria-label="{escape(brand.insurer_en)}" style="display:block">'
            '<path d="M20 2 36 8v11c0 10-7 16.5-16 19C11 35.5 4 29 4 19V8z" fill="#ffffff"/>'
            f'<path d="M17 11h6v6h6v6h-6v6h-6v-6h-6v-6h6z" fill="{brand.colour}"/></svg>')


def _direction(code: str) -> str:
    return "rtl" if code == "ar" else "ltr"


def _align(code: str) -> str:
    return "right" if code == "ar" else "left"


def _header(brand: Branding, codes: list[str]) -> str:
    names = "".join(
        f'<div dir="{_direction(c)}" lang="{c}" style="font-size:{18 if i == 0 else 15}px;font-weight:bold;'
        f'line-height:1.3;color:#ffffff">{escape(_insurer(brand).in_(c))}</div>'
        for i, c in enumerate(codes))
    return (f'<tr><td class="header" style="background:{brand.colour};padding:16px 20px;border-radius:8px 8px 0 0">'
            '<table role="presentation" cellpadding="0" cellspacing="0" border="0"><tr>'
            f'<td style="padding:0 14px 0 0;vertical-align:middle">{_logo(brand)}</td>'
            f'<td style="vertical-align:middle;font-family:{FONT}">{names}</td>'
            "</tr></table></td></tr>")


def _button(brand: Branding, link: str, label: str, code: str) -> str:
    href = escape(link, quote=True)
    return (f'<table role="presentation" cellpadding="0" cellspacing="0" border="0" align="{_align(code)}" '
            f'style="margin:8px 0 12px"><tr><td style="background:{brand.colour};border-radius:6px">'
            f'<a href="{href}" style="display:inline-block;padding:12px 22px;font-family:{FONT};font-size:16px;'
            f'font-weight:bold;color:#ffffff;text-decoration:none;border-radius:6px">{escape(label)}</a>'
            "</td></tr></table>")


def _secret_box(brand: Branding, secret: Secret, code: str) -> str:
    # dir="ltr" inside the Arabic block too: a password reads left to right, character by character.
    # user-select:all: one tap selects the whole password for copying.
    return (f'<p style="margin:16px 0 6px;font-weight:bold">{escape(secret.label.in_(code))}</p>'
            f'<div class="secret" dir="ltr" style="margin:0 0 14px;padding:14px 12px;background:{brand.tint};'
            f'border:2px dashed {brand.colour};border-radius:6px;text-align:center;'
            "font-family:'Courier New',Courier,'DejaVu Sans Mono',monospace;font-size:24px;font-weight:bold;"
            f'letter-spacing:2px;color:{INK};{WRAP};-webkit-user-select:all;user-select:all">'
            f"{escape(secret.value)}</div>")


def _rows(rows: tuple[tuple[Text, Text], ...], code: str) -> str:
    align, gap = _align(code), "left" if code == "ar" else "right"
    cell = f"text-align:{align};vertical-align:top;padding:6px 0;border-bottom:1px solid {LINE}"
    cells = "".join(
        f'<tr><th style="{cell};padding-{gap}:12px;font-weight:bold;color:{MUTED};width:40%">'
        f"{escape(label.in_(code))}</th>"
        f'<td dir="auto" style="{cell};{WRAP}">{_inline(value.in_(code))}</td></tr>'
        for label, value in rows)
    return ('<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
            f'style="border-collapse:collapse;margin:4px 0 14px;font-size:15px">{cells}</table>')


def _store_links(brand: Branding, code: str) -> str:
    app = escape(_app(brand).in_(code))
    if not (brand.app_store_url or brand.play_store_url):
        return f"<p style=\"margin:0\">{_inline(_get_the_app(brand, code))}</p>"

    def store(name: str, url: str) -> str:
        if not url:
            return name
        return (f'<a href="{escape(url, quote=True)}" style="color:{brand.colour};font-weight:bold;'
                f'white-space:nowrap">{name}</a>')

    apple, google = store("App Store", brand.app_store_url), store("Google Play", brand.play_store_url)
    if code == "ar":
        return f'<p style="margin:0">حمّل تطبيق «{app}»: {apple} (آيفون) · {google} (أندرويد)</p>'
    return f'<p style="margin:0">Get the “{app}” app: {apple} (iPhone) · {google} (Android)</p>'


def _html_section(email: Email, brand: Branding, code: str) -> str:
    p = 'style="margin:0 0 12px"'
    parts = [f'<h1 style="margin:0 0 12px;font-size:21px;line-height:1.35;color:{brand.colour}">'
             f"{escape(email.heading.in_(code))}</h1>"]
    parts += [f"<p {p}>{_inline(t.in_(code))}</p>" for t in email.paragraphs]
    if email.secret is not None:
        parts.append(_secret_box(brand, email.secret, code))
    if email.link and email.link_label:
        parts.append(_button(brand, email.link, email.link_label.in_(code), code))
        copy = Text("If the button does not work, copy this link into your browser:",
                    "إن لم يعمل الزر، انسخ هذا الرابط إلى المتصفح:")
        parts.append(f'<p style="clear:both;margin:0 0 12px;font-size:13px;color:{MUTED}">{escape(copy.in_(code))}'
                     f'<span dir="ltr" style="display:block;text-align:left;{WRAP}">{escape(email.link)}</span></p>')
    if email.rows:
        parts.append(_rows(email.rows, code))
    parts += [f"<p {p}>{_inline(t.in_(code))}</p>" for t in email.closing]
    parts.append(f'<div style="margin:16px 0 0;padding:12px 14px;background:{brand.tint};border-radius:6px;'
                 f'font-size:14px">{_store_links(brand, code)}</div>')
    return (f'<tr><td class="section" dir="{_direction(code)}" lang="{code}" style="padding:24px 24px 20px;'
            f"text-align:{_align(code)};font-family:{FONT};font-size:16px;line-height:1.6;color:{INK};{WRAP}\">"
            f'{"".join(parts)}</td></tr>')


def _footer(brand: Branding, codes: list[str]) -> str:
    number = escape(brand.customer_service)
    phone = f'<a href="tel:{number}" style="color:{MUTED}">{number}</a>'
    label = Text("Customer service", "خدمة العملاء")
    lines = "".join(
        f'<div dir="{_direction(c)}" lang="{c}" style="margin:2px 0">'
        f"{escape(_insurer(brand).in_(c))} · {escape(label.in_(c))} {phone}</div>"
        for c in codes)
    return (f'<tr><td style="padding:14px 24px;background:#f6f8f9;border-top:1px solid {LINE};'
            f'border-radius:0 0 8px 8px;text-align:center;font-family:{FONT};font-size:12px;line-height:1.5;'
            f'color:{MUTED}">{lines}</td></tr>')


def _html(email: Email, brand: Branding, codes: list[str], subject: str) -> str:
    divider = f'<tr><td style="padding:0 24px"><div style="border-top:1px solid {LINE};height:1px"></div></td></tr>'
    sections = divider.join(_html_section(email, brand, c) for c in codes)
    first = codes[0]
    return (
        f'<!doctype html><html lang="{first}" dir="{_direction(first)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(subject)}</title></head>"
        f'<body style="margin:0;padding:0;background:{brand.tint};-webkit-text-size-adjust:100%">'
        f'<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
        f'style="background:{brand.tint}"><tr><td align="center" style="padding:16px 8px">'
        f'<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
        f'style="max-width:600px;width:100%;background:{PAPER};border-radius:8px;border-collapse:separate">'
        f"{_header(brand, codes)}{sections}{_footer(brand, codes)}"
        "</table></td></tr></table></body></html>"
    )


def render_email(to: str, email: Email, lang: str | None, variables: dict[str, object]) -> Message:
    """The email in the branded template: HTML and plain text, in `lang` (both when None)."""
    brand = branding()
    codes = _codes(lang)
    subject = email.subject.in_(codes[0]) if len(codes) == 1 else f"{email.subject.ar} | {email.subject.en}"
    text = "\n\n————————\n\n".join(_text_section(email, brand, c) for c in codes)
    return Message(channel="email", to=to, template=email.template, subject=subject, text=text,
                   html=_html(email, brand, codes, subject), links=[email.link] if email.link else [],
                   vars=variables)


# --- SMS ----------------------------------------------------------------------------------------------

def _pick(text: Text, lang: str | None) -> str:
    return f"{text.ar}\n\n{text.en}" if lang not in ("ar", "en") else text.in_(lang)


def _sms(to: str, template: str, body: Text, lang: str | None, *, link: str | None = None,
         **variables: object) -> Message:
    return Message(channel="sms", to=to, template=template, text=_pick(body, lang),
                   links=[link] if link else [], vars=variables)


def registration_code_sms(to: str, lang: str, code: str, minutes: int) -> Message:
    life = MINUTES.of(minutes)
    body = Text(f"Your verification code is {code}. It expires in {life.en}. Never share it.",
                f"رمز التحقق الخاص بك هو {code}. ينتهي خلال {life.ar}. لا تشاركه مع أحد.")
    return _sms(to, "registration_code", body, lang, code=code, minutes=minutes)


def temporary_password_sms(to: str, lang: str, username: str, password: str, days: int) -> Message:
    life = DAYS.of(days)
    body = Text(
        f"Your account is ready. Username: {username} (your civil ID). Temporary password: {password} "
        f"(valid {life.en}). Log in to the app to choose your own password.",
        f"تم إنشاء حسابك. اسم المستخدم: {username} (رقمك المدني). كلمة المرور المؤقتة: {password} "
        f"(صالحة لمدة {life.ar}). سجّل الدخول في التطبيق لاختيار كلمة مرورك.",
    )
    return _sms(to, "temporary_password", body, lang, username=username, password=password, days=days)


def reset_link_sms(to: str, lang: str | None, link: str, hours: int) -> Message:
    life = HOURS.of(hours)
    body = Text(f"Reset your insurance app password (valid {life.en}, once): {link}",
                f"لإعادة تعيين كلمة مرور تطبيق التأمين (صالح {life.ar}، مرة واحدة): {link}")
    return _sms(to, "password_reset", body, lang, link=link, hours=hours)


# --- emails -------------------------------------------------------------------------------------------

def _greeting(en: str, ar: str, name: str, name_ar: str | None) -> Text:
    # HR files give a Latin and (usually) an Arabic name: each language greets with its own.
    arabic = name_ar or name
    return Text(f"{en}, {name}" if name else en, f"{ar} {arabic}" if arabic else ar)


def _hello(name: str, name_ar: str | None) -> Text:
    return _greeting("Hello", "مرحبًا", name, name_ar)


def welcome_email(to: str, name: str, link: str, days: int, name_ar: str | None = None) -> Message:
    brand = branding()
    insurer, app, life, cs = _insurer(brand), _app(brand), DAYS.of(days), _customer_service(brand)
    email = Email(
        template="welcome",
        subject=Text(f"Welcome to {app.en}", f"مرحبًا بك في {app.ar}"),
        heading=_greeting("Welcome", "مرحبًا", name, name_ar),
        paragraphs=(
            Text(f"Your employer has insured you with {insurer.en}. The {app.en} app shows your digital medical "
                 "card and your dependents' cards, also when you are offline.",
                 f"قامت جهة عملك بتأمينك لدى {insurer.ar}. يعرض تطبيق {app.ar} بطاقتك الطبية الرقمية وبطاقات "
                 "التابعين لك، حتى دون اتصال بالإنترنت."),
            Text(f"Your username is this email address. Open the link below to receive a temporary password for "
                 f"your first login; the link is valid for {life.en}.",
                 f"اسم المستخدم هو عنوان البريد الإلكتروني هذا. افتح الرابط أدناه لتحصل على كلمة مرور مؤقتة لأول "
                 f"دخول؛ الرابط صالح لمدة {life.ar}."),
        ),
        link=link,
        link_label=Text("Get my temporary password", "احصل على كلمة المرور المؤقتة"),
        closing=(Text("If the link has expired, open the app, choose Login, then Forgot password, and enter this "
                      f"email. {cs.en}",
                      "إذا انتهت صلاحية الرابط فافتح التطبيق واختر تسجيل الدخول ثم نسيت كلمة المرور وأدخل هذا "
                      f"البريد. {cs.ar}"),),
    )
    return render_email(to, email, None, {"name": name, "name_ar": name_ar, "link": link, "days": days})


def activation_password_email(to: str, name: str, password: str, days: int, name_ar: str | None = None) -> Message:
    brand = branding()
    app, life, cs = _app(brand), DAYS.of(days), _customer_service(brand)
    email = Email(
        template="temporary_password",
        subject=Text("Your temporary password", "كلمة المرور المؤقتة"),
        heading=_hello(name, name_ar),
        paragraphs=(Text(f"Here is your temporary password for your first login in the {app.en} app. "
                         f"It is valid for {life.en}.",
                         f"إليك كلمة المرور المؤقتة لأول دخول في تطبيق {app.ar}. وهي صالحة لمدة {life.ar}."),),
        secret=Secret(Text("Temporary password", "كلمة المرور المؤقتة"), password),
        closing=(Text("Log in with this email address as your username; the app then asks you to choose your own "
                      f"password. Never share this password with anyone. {cs.en}",
                      "سجّل الدخول باستخدام هذا البريد الإلكتروني اسمًا للمستخدم، ثم يطلب منك التطبيق اختيار كلمة "
                      f"مرورك. لا تشارك كلمة المرور هذه مع أحد. {cs.ar}"),),
    )
    return render_email(to, email, None, {"name": name, "name_ar": name_ar, "password": password, "days": days})


def reset_link_email(to: str, lang: str | None, link: str, hours: int) -> Message:
    brand = branding()
    insurer, app, life, cs = _insurer(brand), _app(brand), HOURS.of(hours), _customer_service(brand)
    email = Email(
        template="password_reset",
        subject=Text("Reset your password", "إعادة تعيين كلمة المرور"),
        heading=Text("Reset your password", "إعادة تعيين كلمة المرور"),
        paragraphs=(Text(f"Someone asked to reset the password of your {app.en} account with {insurer.en}. Open the "
                         f"link below to choose a new password; it is valid for {life.en} and works once.",
                         f"طُلب إعادة تعيين كلمة مرور حسابك في {app.ar} لدى {insurer.ar}. افتح الرابط أدناه لاختيار "
                         f"كلمة مرور جديدة؛ الرابط صالح لمدة {life.ar} ويعمل مرة واحدة."),),
        link=link,
        link_label=Text("Choose a new password", "اختر كلمة مرور جديدة"),
        closing=(Text(f"If it was not you, ignore this email: your password stays as it is. {cs.en}",
                      f"إن لم تكن أنت فتجاهل هذه الرسالة وستبقى كلمة مرورك كما هي. {cs.ar}"),),
    )
    return render_email(to, email, lang, {"link": link, "hours": hours})


def email_changed_email(to: str, name: str, old_email: str, new_email: str, name_ar: str | None = None) -> Message:
    brand = branding()
    app, cs = _app(brand), brand.customer_service
    email = Email(
        template="email_changed",
        subject=Text("Your login email changed", "تغيّر البريد الإلكتروني لتسجيل الدخول"),
        heading=_hello(name, name_ar),
        # The addresses go in the table below, not inside the sentence: long ones read better on their own.
        paragraphs=(Text(f"Your employer's HR changed the email of your {app.en} account. From now on, log in "
                         "with the new address below.",
                         f"غيّرت الموارد البشرية لدى جهة عملك البريد الإلكتروني لحسابك في {app.ar}. سجّل الدخول من "
                         "الآن باستخدام العنوان الجديد أدناه."),),
        rows=((Text("Before", "السابق"), Text(old_email, old_email)),
              (Text("From now on", "من الآن"), Text(new_email, new_email))),
        closing=(Text(f"If you did not expect this, call customer service on {cs}.",
                      f"إن لم تكن تتوقع ذلك فاتصل بخدمة العملاء {cs}."),),
    )
    return render_email(to, email, None, {"old_email": old_email, "new_email": new_email})


def password_expiry_reminder(to: str, lang: str | None, days: int) -> Message:
    brand = branding()
    app, life, cs = _app(brand), DAYS.of(days), _customer_service(brand)
    email = Email(
        template="password_expiry_reminder",
        subject=Text("Your password expires soon", "كلمة المرور ستنتهي قريبًا"),
        heading=Text("Your password expires soon", "كلمة المرور ستنتهي قريبًا"),
        paragraphs=(Text(f"Your {app.en} password expires in {life.en}. Change it in the app (Profile, Change "
                         "password) before then; after that, the app will ask you for a new one when you log in.",
                         f"تنتهي صلاحية كلمة مرور حسابك في {app.ar} خلال {life.ar}. غيّرها في التطبيق (الملف "
                         "الشخصي، تغيير كلمة المرور) قبل ذلك؛ وبعدها سيطلب منك التطبيق كلمة مرور جديدة عند الدخول."),),
        closing=(Text(cs.en, cs.ar),),
    )
    return render_email(to, email, lang, {"days": days})


def registration_attempt_notice(channel: Literal["email", "sms"], to: str, lang: str | None, field: str) -> Message:
    """To an account's owner: someone proved a phone and tried to register their civil ID or email again."""
    brand = branding()
    app, cs = _app(brand), brand.customer_service
    what = Text("civil ID", "رقمك المدني") if field == "civil_id" else Text("email address", "بريدك الإلكتروني")
    attempt = Text(f"Someone tried to create a new {app.en} account with your {what.en}. Your account is unchanged.",
                   f"حاول أحدهم إنشاء حساب جديد في {app.ar} باستخدام {what.ar}. حسابك لم يتغير.")
    advice = Text(f"If it was you, log in with your username, or use Forgot password. If it was not you, call "
                  f"customer service on {cs}.",
                  f"إن كنت أنت فسجّل الدخول باسم المستخدم أو استخدم نسيت كلمة المرور. وإن لم تكن أنت فاتصل بخدمة "
                  f"العملاء {cs}.")
    if channel == "sms":
        return _sms(to, "registration_attempt", Text(f"{attempt.en} {advice.en}", f"{attempt.ar} {advice.ar}"),
                    lang, field=field)
    email = Email(
        template="registration_attempt",
        subject=Text("Someone tried to register with your details", "محاولة تسجيل باستخدام بياناتك"),
        heading=Text("Someone tried to register with your details", "محاولة تسجيل باستخدام بياناتك"),
        paragraphs=(attempt,),
        closing=(advice,),
    )
    return render_email(to, email, lang, {"field": field})
