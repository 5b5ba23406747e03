"""The HTML pages that email links open, in Arabic and English, working without JavaScript.

Pure rendering: each function takes the values a page shows and returns the document;
the views own the routes, the status codes and `PAGE_HEADERS`. Every dynamic value is
HTML-escaped here, so a view may pass request data through unchanged.

Forms post to a *relative* action (`activate`, `reset-password`): the page is served at
`/activate` and `/reset-password`, so the browser posts back to the same path whether
the API sits at the domain root or under an API Gateway stage prefix such as `/api/`,
and the token travels in the body, never again in a URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import TYPE_CHECKING, Literal

from chalicelib.errors import Text
from chalicelib.kernel.plurals import DAYS, HOURS
from chalicelib.platform.http import HTML_PAGE_HEADERS, html_document

if TYPE_CHECKING:
    from chalicelib.accounts.settings import Lifetimes

CUSTOMER_SERVICE_PHONE = "19097"
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128

# The token sits in the URL of these pages: no cache may keep it, no Referer may carry it.
PAGE_HEADERS = HTML_PAGE_HEADERS

# Seed FAQ 7 to 9; plain text so the API's wrong-credentials answer can say the same.
USERNAME_HELP = Text(
    en=(
        "Your username is the email address your employer's HR first registered for you, "
        "or your civil ID if you registered yourself in the app. Not sure which email? "
        f"Ask your HR which email they gave us, then call customer service on {CUSTOMER_SERVICE_PHONE}."
    ),
    ar=(
        "اسم المستخدم هو البريد الإلكتروني الذي سجّلته لك إدارة الموارد البشرية في جهة عملك أول مرة، "
        "أو رقمك المدني إذا سجّلت بنفسك في التطبيق. لا تعرف أي بريد سُجّل لك؟ "
        "اسأل الموارد البشرية عن البريد الذي قدّموه لنا، ثم اتصل بخدمة العملاء على الرقم "
        f"{CUSTOMER_SERVICE_PHONE}."
    ),
)

FORGOT_PASSWORD_STEPS = Text(
    en=(
        "Open the app, tap Login → Forgot password, and enter the email your employer's HR "
        "registered (or your civil ID if you registered yourself). We will email you a new link."
    ),
    ar=(
        "افتح التطبيق، واضغط على «تسجيل الدخول» ← «نسيت كلمة المرور»، وأدخل البريد الإلكتروني "
        "الذي سجّلته الموارد البشرية في جهة عملك (أو رقمك المدني إذا سجّلت بنفسك). "
        "سنرسل إليك رابطًا جديدًا بالبريد الإلكتروني."
    ),
)

PASSWORD_RULES: tuple[Text, ...] = (
    Text(f"{PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters.",
         f"من {PASSWORD_MIN_LENGTH} إلى {PASSWORD_MAX_LENGTH} حرفًا."),
    Text("It must not contain your email or your civil ID.",
         "ألّا تحتوي على بريدك الإلكتروني أو رقمك المدني."),
    Text("It must not be one of your last 5 passwords.",
         "ألّا تكون إحدى آخر 5 كلمات مرور استخدمتها."),
    Text("It must not be a common password.",
         "ألّا تكون كلمة مرور شائعة."),
)

LinkKind = Literal["activation", "reset"]
LinkReason = Literal["expired", "used", "invalid"]

_LINK_PROBLEM_TITLES: dict[tuple[str, str], Text] = {
    ("activation", "expired"): Text("This activation link has expired", "انتهت صلاحية رابط التفعيل"),
    ("activation", "used"): Text("This activation link was already used", "رابط التفعيل استُخدم من قبل"),
    ("activation", "invalid"): Text("This activation link is not valid", "رابط التفعيل غير صالح"),
    ("reset", "expired"): Text("This password reset link has expired",
                               "انتهت صلاحية رابط إعادة تعيين كلمة المرور"),
    ("reset", "used"): Text("This password reset link was already used",
                            "رابط إعادة تعيين كلمة المرور استُخدم من قبل"),
    ("reset", "invalid"): Text("This password reset link is not valid",
                               "رابط إعادة تعيين كلمة المرور غير صالح"),
}

_LINK_PROBLEM_WHY: dict[str, Text] = {
    "expired": Text("For your security, links in our emails stop working after a while.",
                    "حفاظًا على أمانك، تتوقف الروابط في رسائلنا عن العمل بعد مدة."),
    "used": Text("Each link works only once. If you already set your password, just log in to the app.",
                 "يعمل كل رابط مرة واحدة فقط. إذا كنت قد عيّنت كلمة المرور، فسجّل الدخول في التطبيق مباشرة."),
    "invalid": Text("The link may be incomplete, or a newer email replaced it: use the latest email we sent.",
                    "ربما نُسخ الرابط ناقصًا، أو استُبدل برسالة أحدث: استخدم آخر رسالة أرسلناها إليك."),
}

_CSS = """
main{max-width:40rem}
h1{font-size:1.375rem;line-height:1.3;margin:.25rem 0 .75rem;color:#0b3d63}
p,ul{margin:0 0 .75rem}
ul{padding-inline-start:1.25rem}
label{display:block;font-weight:600;margin:1rem 0 .25rem}
input[type=password]{display:block;width:100%;min-height:2.75rem;padding:.5rem .75rem;
font:inherit;border:1px solid #6b7785;border-radius:.5rem;background:#fff;color:inherit}
input[aria-invalid=true]{border:2px solid #b3261e}
.msg{color:#b3261e;font-weight:600;margin:.25rem 0 0}
.alert{border:2px solid #b3261e;border-radius:.5rem;padding:.5rem .75rem;margin:0 0 .5rem}
button{margin:1.25rem 0 .25rem}
"""


def _e(value: object) -> str:
    """The value as text safe inside HTML content and quoted attributes."""
    return escape(str(value), quote=True)


def _with_phone_link(escaped: str) -> str:
    """Escaped text with the customer-service number made tappable (digits survive escaping)."""
    link = f'<a href="tel:{CUSTOMER_SERVICE_PHONE}">{CUSTOMER_SERVICE_PHONE}</a>'
    return escaped.replace(CUSTOMER_SERVICE_PHONE, link)


def _paragraphs(lang: str, texts: tuple[Text, ...]) -> str:
    return "".join(f"<p>{_with_phone_link(_e(text.in_(lang)))}</p>" for text in texts)


def _rules(lang: str) -> str:
    heading = "Your new password:" if lang == "en" else "كلمة المرور الجديدة:"
    items = "".join(f"<li>{_e(rule.in_(lang))}</li>" for rule in PASSWORD_RULES)
    return f'<p>{_e(heading)}</p><ul id="rules-{lang}">{items}</ul>'


def _section(lang: str, title: Text, body_html: str) -> str:
    """One language's part of the page, with its own heading and writing direction."""
    direction = "rtl" if lang == "ar" else "ltr"
    return (
        f'<section class="{lang}" lang="{lang}" dir="{direction}" aria-labelledby="title-{lang}">'
        f'<h1 id="title-{lang}">{_e(title.in_(lang))}</h1>{body_html}</section>'
    )


def _bilingual(text: Text) -> str:
    """Arabic then English, each in its own span with its language and direction."""
    return (f'<span class="ar" lang="ar" dir="rtl">{_e(text.ar)}</span>'
            f'<span class="en" lang="en" dir="ltr">{_e(text.en)}</span>')


def _document(title: Text, sections: str, form: str = "") -> str:
    """A complete page: Arabic first (the app's main audience), then English, then any form."""
    return html_document(title, sections + form, _CSS)


def _page(title: Text, body: dict[str, str], form: str = "") -> str:
    sections = "".join(_section(lang, title, body[lang]) for lang in ("ar", "en"))
    return _document(title, sections, form)


def _hidden_token(token: str) -> str:
    return f'<input type="hidden" name="token" value="{_e(token)}">'


def _lifetimes() -> Lifetimes:
    from chalicelib.settings import get_settings

    return get_settings().lifetimes


def activate_page(token: str, days: int | None = None) -> str:
    """The welcome link's page: confirming posts the token and emails a temporary password."""
    title = Text("Activate your account", "تفعيل حسابك")
    valid = DAYS.of(days if days is not None else _lifetimes().temporary_password_days)
    text = Text(
        f"Confirm below and we will email you a temporary password, valid for {valid.en}. "
        "Log in to the app with your email address and that password; the app will then ask "
        "you to choose your own password.",
        f"أكّد أدناه وسنرسل إليك كلمة مرور مؤقتة بالبريد الإلكتروني، صالحة لمدة {valid.ar}. "
        "سجّل الدخول في التطبيق ببريدك الإلكتروني وكلمة المرور المؤقتة، ثم سيطلب منك "
        "التطبيق اختيار كلمة مرور خاصة بك.",
    )
    once = Text("This link works once.", "يعمل هذا الرابط مرة واحدة فقط.")
    body = {lang: f"{_paragraphs(lang, (text,))}<p class=\"note\">{_e(once.in_(lang))}</p>"
            for lang in ("ar", "en")}
    button = Text("Email me a temporary password", "أرسل لي كلمة مرور مؤقتة")
    form = (
        '<form method="post" action="activate" enctype="application/x-www-form-urlencoded">'
        f'{_hidden_token(token)}<button type="submit">{_bilingual(button)}</button></form>'
    )
    return _page(title, body, form)


def activate_done_page(email_hint: str, days: int | None = None) -> str:
    """After activation: where the temporary password went and what to do with it."""
    valid = DAYS.of(days if days is not None else _lifetimes().temporary_password_days)
    title = Text("Check your email", "تحقّق من بريدك الإلكتروني")
    # The address reads left to right inside the Arabic sentence too; without one, say "your email".
    address = f'<bdi dir="ltr">{_e(email_hint)}</bdi>' if email_hint.strip() else ""
    hint = {"en": address or "your email address", "ar": address or "بريدك الإلكتروني"}
    sent = {
        "en": f"We emailed your temporary password to {hint['en']}. It is valid for {valid.en}.",
        "ar": f"أرسلنا كلمة المرور المؤقتة إلى {hint['ar']}. وهي صالحة لمدة {valid.ar}.",
    }
    steps = Text(
        "Open the app and log in with your email address and the temporary password. "
        "You will be asked to choose a new password.",
        "افتح التطبيق وسجّل الدخول ببريدك الإلكتروني وكلمة المرور المؤقتة، "
        "وسيُطلب منك اختيار كلمة مرور جديدة.",
    )
    missing = Text(
        "Nothing arrived after a few minutes? Check your spam folder, or use Forgot password in the app.",
        "لم تصلك الرسالة خلال دقائق؟ تحقّق من مجلد الرسائل غير المرغوب فيها، أو استخدم "
        "«نسيت كلمة المرور» في التطبيق.",
    )
    body = {
        lang: (f"<p>{sent[lang]}</p>"
               f"{_paragraphs(lang, (steps,))}<p class=\"note\">{_e(missing.in_(lang))}</p>")
        for lang in ("ar", "en")
    }
    return _page(title, body)


def link_problem_page(kind: LinkKind, reason: LinkReason) -> str:
    """A dead activation or reset link: why, and how Forgot password still gets the person in."""
    title = _LINK_PROBLEM_TITLES.get((kind, reason))
    if title is None:
        raise ValueError(f"unknown link problem: {kind!r}, {reason!r}")
    body = {lang: _paragraphs(lang, (_LINK_PROBLEM_WHY[reason], FORGOT_PASSWORD_STEPS, USERNAME_HELP))
            for lang in ("ar", "en")}
    return _page(title, body)


def _field_error(field: str, errors: Mapping[str, tuple[str, str]]) -> str:
    if field not in errors:
        return ""
    english, arabic = errors[field]
    return f'<p class="msg" id="{field}-error">{_bilingual(Text(english, arabic))}</p>'


def _password_input(field: str, label: Text, errors: Mapping[str, tuple[str, str]]) -> str:
    invalid = field in errors
    described = f"{field}-error rules-ar rules-en" if invalid else "rules-ar rules-en"
    invalid_attr = ' aria-invalid="true"' if invalid else ""
    return (
        f'<label for="{field}">{_bilingual(label)}</label>'
        f'<input type="password" id="{field}" name="{field}" autocomplete="new-password" required '
        f'minlength="{PASSWORD_MIN_LENGTH}" maxlength="{PASSWORD_MAX_LENGTH}" dir="ltr" '
        f'aria-describedby="{described}"{invalid_attr}>'
        f"{_field_error(field, errors)}"
    )


def reset_page(token: str, errors: Mapping[str, tuple[str, str]] | None = None, hours: int | None = None) -> str:
    """The reset link's page: the rules and a form for the new password, with any refusals shown."""
    errors = dict(errors or {})
    fields = ("new_password", "confirm_password")
    title = Text("Choose a new password", "اختر كلمة مرور جديدة")
    valid = HOURS.of(hours if hours is not None else _lifetimes().reset_link_hours)
    validity = Text(f"This link is valid for {valid.en} and works once.",
                    f"هذا الرابط صالح لمدة {valid.ar} ويعمل مرة واحدة فقط.")
    body = {lang: f"<p>{_e(validity.in_(lang))}</p>{_rules(lang)}{_paragraphs(lang, (USERNAME_HELP,))}"
            for lang in ("ar", "en")}
    # Problems not tied to a password box (the token, the form as a whole) go on top of the form.
    general = "".join(
        f'<p class="msg alert" role="alert">{_bilingual(Text(*errors[key]))}</p>'
        for key in errors if key not in fields
    )
    button = Text("Change password", "تغيير كلمة المرور")
    form = (
        '<form method="post" action="reset-password" enctype="application/x-www-form-urlencoded">'
        f"{general}{_hidden_token(token)}"
        f"{_password_input('new_password', Text('New password', 'كلمة المرور الجديدة'), errors)}"
        f"{_password_input('confirm_password', Text('Confirm new password', 'تأكيد كلمة المرور الجديدة'), errors)}"
        f'<button type="submit">{_bilingual(button)}</button></form>'
    )
    return _page(title, body, form)


def reset_done_page() -> str:
    """After a reset: the password changed and every other device was signed out."""
    title = Text("Your password was changed", "تم تغيير كلمة المرور")
    text = Text(
        "For your security, every other device signed in to your account was signed out. "
        "Open the app and log in with your new password.",
        "حفاظًا على أمانك، سجّلنا خروج جميع الأجهزة الأخرى المتصلة بحسابك. "
        "افتح التطبيق وسجّل الدخول بكلمة المرور الجديدة.",
    )
    body = {lang: _paragraphs(lang, (text,)) for lang in ("ar", "en")}
    return _page(title, body)
