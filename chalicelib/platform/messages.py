"""Every email and SMS the system sends, rendered in the reader's language (or both).

HR data carries no language preference, so messages to HR-enrolled people carry
Arabic and English together; a self-registered person gets the language they chose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Literal

from chalicelib.errors import Text

CUSTOMER_SERVICE = "19097"
INSURER = Text("Insurance e-card", "البطاقة التأمينية الإلكترونية")


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


def _both(text: Text) -> str:
    return f"{text.ar}\n\n{text.en}"


def _pick(text: Text, lang: str | None) -> str:
    return _both(text) if lang not in ("ar", "en") else text.in_(lang)


def _html(text: Text, lang: str | None, link: str | None = None, link_label: Text | None = None) -> str:
    def section(body: str, code: str) -> str:
        direction = "rtl" if code == "ar" else "ltr"
        paragraphs = "".join(f"<p>{escape(p)}</p>" for p in body.split("\n") if p.strip())
        button = ""
        if link and link_label:
            button = (f'<p><a href="{escape(link)}" style="display:inline-block;padding:10px 18px;'
                      f'background:#0b5ea8;color:#fff;text-decoration:none;border-radius:6px">'
                      f"{escape(link_label.in_(code))}</a></p>")
        return f'<div dir="{direction}" lang="{code}" style="margin-bottom:24px">{paragraphs}{button}</div>'

    codes = [lang] if lang in ("ar", "en") else ["ar", "en"]
    sections = "".join(section(text.in_(code), code) for code in codes)
    return f'<!doctype html><html><body style="font-family:Arial,sans-serif">{sections}</body></html>'


def _email(to: str, template: str, subject: Text, body: Text, lang: str | None, variables: dict[str, object],
           *, link: str | None = None, link_label: Text | None = None) -> Message:
    return Message(
        channel="email", to=to, template=template, subject=_subject(subject, lang),
        text=_pick(body, lang), html=_html(body, lang, link, link_label),
        links=[link] if link else [], vars=variables,
    )


def _subject(subject: Text, lang: str | None) -> str:
    return subject.in_(lang) if lang in ("ar", "en") else f"{subject.ar} | {subject.en}"


def _sms(to: str, template: str, body: Text, lang: str | None, *, link: str | None = None,
         **variables: object) -> Message:
    return Message(channel="sms", to=to, template=template, text=_pick(body, lang),
                   links=[link] if link else [], vars=variables)


def registration_code_sms(to: str, lang: str, code: str, minutes: int) -> Message:
    body = Text(f"Your verification code is {code}. It expires in {minutes} minutes. Never share it.",
                f"رمز التحقق الخاص بك هو {code}. ينتهي خلال {minutes} دقائق. لا تشاركه مع أحد.")
    return _sms(to, "registration_code", body, lang, code=code, minutes=minutes)


def temporary_password_sms(to: str, lang: str, username: str, password: str, days: int) -> Message:
    body = Text(
        f"Your account is ready. Username: {username} (your civil ID). Temporary password: {password} "
        f"(valid {days} days). Log in to the app to choose your own password.",
        f"تم إنشاء حسابك. اسم المستخدم: {username} (رقمك المدني). كلمة المرور المؤقتة: {password} "
        f"(صالحة {days} أيام). سجّل الدخول في التطبيق لاختيار كلمة مرورك.",
    )
    return _sms(to, "temporary_password", body, lang, username=username, password=password, days=days)


def welcome_email(to: str, name: str, link: str, days: int) -> Message:
    body = Text(
        f"Welcome {name}. Your employer has insured you with us, and our app shows your digital "
        f"medical card and your dependents'. Your username is this email address. Open the link below "
        f"to receive a temporary password for your first login; the link is valid for {days} days. "
        f"If it has expired, open the app, choose Login, then Forgot password, and enter this email. "
        f"Customer service: {CUSTOMER_SERVICE}.",
        f"مرحبًا {name}. قامت جهة عملك بتأمينك لدينا، ويعرض تطبيقنا بطاقتك الطبية الرقمية وبطاقات "
        f"التابعين لك. اسم المستخدم هو عنوان البريد الإلكتروني هذا. افتح الرابط أدناه لتحصل على كلمة مرور "
        f"مؤقتة لأول دخول؛ الرابط صالح لمدة {days} يومًا. إذا انتهت صلاحيته افتح التطبيق واختر تسجيل "
        f"الدخول ثم نسيت كلمة المرور وأدخل هذا البريد. خدمة العملاء: {CUSTOMER_SERVICE}.",
    )
    subject = Text("Welcome to your insurance e-card", "مرحبًا بك في بطاقتك التأمينية")
    label = Text("Get my temporary password", "احصل على كلمة المرور المؤقتة")
    return _email(to, "welcome", subject, body, None, {"name": name, "link": link, "days": days},
                  link=link, link_label=label)


def activation_password_email(to: str, name: str, password: str, days: int) -> Message:
    body = Text(
        f"Hello {name}. Your temporary password is {password} and it is valid for {days} days. "
        f"Log in to the app with this email address as your username; you will then choose your own "
        f"password. Customer service: {CUSTOMER_SERVICE}.",
        f"مرحبًا {name}. كلمة المرور المؤقتة هي {password} وهي صالحة لمدة {days} أيام. سجّل الدخول في "
        f"التطبيق باستخدام هذا البريد الإلكتروني اسمًا للمستخدم، ثم اختر كلمة مرورك. "
        f"خدمة العملاء: {CUSTOMER_SERVICE}.",
    )
    subject = Text("Your temporary password", "كلمة المرور المؤقتة")
    return _email(to, "temporary_password", subject, body, None,
                  {"name": name, "password": password, "days": days})


def reset_link_email(to: str, lang: str | None, link: str, hours: int) -> Message:
    body = Text(
        f"Someone asked to reset the password of your insurance e-card account. Open the link below to "
        f"choose a new password; it is valid for {hours} hours and works once. If it was not you, ignore "
        f"this email: your password stays as it is. Customer service: {CUSTOMER_SERVICE}.",
        f"طُلب إعادة تعيين كلمة مرور حسابك في البطاقة التأمينية. افتح الرابط أدناه لاختيار كلمة مرور جديدة؛ "
        f"الرابط صالح لمدة {hours} ساعة ويعمل مرة واحدة. إن لم تكن أنت فتجاهل هذه الرسالة وستبقى كلمة "
        f"مرورك كما هي. خدمة العملاء: {CUSTOMER_SERVICE}.",
    )
    subject = Text("Reset your password", "إعادة تعيين كلمة المرور")
    label = Text("Choose a new password", "اختر كلمة مرور جديدة")
    return _email(to, "password_reset", subject, body, lang, {"link": link, "hours": hours},
                  link=link, link_label=label)


def reset_link_sms(to: str, lang: str | None, link: str, hours: int) -> Message:
    body = Text(f"Reset your insurance app password (valid {hours} h, once): {link}",
                f"لإعادة تعيين كلمة مرور تطبيق التأمين (صالح {hours} ساعة، مرة واحدة): {link}")
    return _sms(to, "password_reset", body, lang, link=link, hours=hours)


def email_changed_email(to: str, name: str, old_email: str, new_email: str) -> Message:
    body = Text(
        f"Hello {name}. Your employer's HR changed the email of your insurance e-card account from {old_email} "
        f"to {new_email}. From now on, log in with {new_email}. If you did not expect this, call customer "
        f"service on {CUSTOMER_SERVICE}.",
        f"مرحبًا {name}. غيّرت الموارد البشرية لدى جهة عملك البريد الإلكتروني لحسابك في البطاقة التأمينية من "
        f"{old_email} إلى {new_email}. سجّل الدخول من الآن باستخدام {new_email}. إن لم تكن تتوقع ذلك فاتصل بخدمة "
        f"العملاء {CUSTOMER_SERVICE}.",
    )
    subject = Text("Your login email changed", "تغيّر البريد الإلكتروني لتسجيل الدخول")
    return _email(to, "email_changed", subject, body, None, {"old_email": old_email, "new_email": new_email})


def password_expiry_reminder(to: str, lang: str | None, days: int) -> Message:
    body = Text(
        f"Your insurance e-card password expires in {days} days. Change it in the app (Profile, Change "
        f"password) before then; after that, the app will ask you for a new one when you log in.",
        f"تنتهي صلاحية كلمة مرور حسابك في البطاقة التأمينية خلال {days} أيام. غيّرها في التطبيق (الملف "
        f"الشخصي، تغيير كلمة المرور) قبل ذلك؛ وبعدها سيطلب منك التطبيق كلمة مرور جديدة عند الدخول.",
    )
    subject = Text("Your password expires soon", "كلمة المرور ستنتهي قريبًا")
    return _email(to, "password_expiry_reminder", subject, body, lang, {"days": days})


def registration_attempt_notice(channel: Literal["email", "sms"], to: str, lang: str | None, field: str) -> Message:
    """To an account's owner: someone proved a phone and tried to register their civil ID or email again."""
    what = Text("civil ID", "رقمك المدني") if field == "civil_id" else Text("email address", "بريدك الإلكتروني")
    body = Text(
        f"Someone tried to create a new insurance e-card account with your {what.en}. Your account is "
        f"unchanged. If it was you, log in with your username, or use Forgot password. If it was not you, "
        f"call customer service on {CUSTOMER_SERVICE}.",
        f"حاول أحدهم إنشاء حساب جديد في البطاقة التأمينية باستخدام {what.ar}. حسابك لم يتغير. إن كنت أنت "
        f"فسجّل الدخول باسم المستخدم أو استخدم نسيت كلمة المرور. وإن لم تكن أنت فاتصل بخدمة العملاء "
        f"{CUSTOMER_SERVICE}.",
    )
    if channel == "sms":
        return _sms(to, "registration_attempt", body, lang, field=field)
    subject = Text("Someone tried to register with your details", "محاولة تسجيل باستخدام بياناتك")
    return _email(to, "registration_attempt", subject, body, lang, {"field": field})
