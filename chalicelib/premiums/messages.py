"""Receipts of residence-premium payments and refunds, by email and SMS.

A receipt is a record people keep and show, so the email always carries Arabic
(first, right to left) and English; the SMS is short and goes in the person's
language (both when they never chose one, as for HR-enrolled accounts).
Amounts are integer fils, written with `format_amount`: never a float.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from chalicelib.errors import Text
from chalicelib.kernel.kuwait_time import KUWAIT
from chalicelib.kernel.money import format_amount
from chalicelib.kernel.plurals import DAYS
from chalicelib.platform.messages import CUSTOMER_SERVICE, Email, Message, render_email


@dataclass(frozen=True)
class ReceiptFacts:
    """What a receipt states, all of it already decided."""

    payment_id: str
    insured_name: str
    insured_civil_id: str
    category: Text
    period_start: date
    period_last_day: date
    amount_fils: int
    at: datetime  # when it was paid or refunded (UTC)
    transaction_id: str | None = None
    reason: str | None = None


def _masked(civil_id: str) -> str:
    return "*" * max(0, len(civil_id) - 4) + civil_id[-4:]


def _kuwait_time(at: datetime) -> str:
    return at.astimezone(KUWAIT).strftime("%Y-%m-%d %H:%M")


def _rows(facts: ReceiptFacts) -> tuple[tuple[Text, Text], ...]:
    def same(value: str) -> Text:
        return Text(value, value)

    rows = [
        (Text("Payment", "رقم الدفعة"), same(facts.payment_id)),
        (Text("Insured", "المؤمَّن عليه"), same(facts.insured_name)),
        (Text("Civil ID", "الرقم المدني"), same(_masked(facts.insured_civil_id))),
        (Text("Category", "الفئة"), facts.category),
        # Words, not an arrow: "→" points the wrong way in a right-to-left line.
        (Text("Coverage", "فترة التغطية"),
         Text(f"{facts.period_start.isoformat()} to {facts.period_last_day.isoformat()}",
              f"من {facts.period_start.isoformat()} إلى {facts.period_last_day.isoformat()}")),
        (Text("Amount", "المبلغ"),
         Text(format_amount(facts.amount_fils, "en"), format_amount(facts.amount_fils, "ar"))),
        (Text("Date (Kuwait time)", "التاريخ (بتوقيت الكويت)"), same(_kuwait_time(facts.at))),
    ]
    if facts.transaction_id:
        rows.append((Text("Transaction", "رقم العملية"), same(facts.transaction_id)))
    if facts.reason:
        rows.append((Text("Reason", "السبب"), same(facts.reason)))
    return tuple(rows)


def _email(to: str, template: str, subject: Text, intro: Text, facts: ReceiptFacts) -> Message:
    # The shared branded template (platform/messages.py), always in both languages: a receipt is kept and shown.
    email = Email(template=template, subject=subject, heading=subject, paragraphs=(intro,), rows=_rows(facts))
    return render_email(to, email, None, _vars(facts))


def _sms(to: str, template: str, body: Text, lang: str | None, facts: ReceiptFacts) -> Message:
    text = body.in_(lang) if lang in ("ar", "en") else f"{body.ar}\n\n{body.en}"
    return Message(channel="sms", to=to, template=template, text=text, vars=_vars(facts))


def _vars(facts: ReceiptFacts) -> dict[str, object]:
    return {
        "payment_id": facts.payment_id, "amount_fils": facts.amount_fils, "currency": "KWD",
        "period_start": facts.period_start.isoformat(), "period_last_day": facts.period_last_day.isoformat(),
        "transaction_id": facts.transaction_id, "reason": facts.reason,
    }


def payment_receipt_email(to: str, facts: ReceiptFacts) -> Message:
    intro = Text(
        f"Thank you. We received your residence health-insurance premium. Keep this receipt. "
        f"Customer service: {CUSTOMER_SERVICE}.",
        f"شكرًا لك. استلمنا رسوم الضمان الصحي للإقامة. احتفظ بهذا الإيصال. خدمة العملاء: {CUSTOMER_SERVICE}.",
    )
    subject = Text("Payment receipt: residence health insurance", "إيصال دفع: الضمان الصحي للإقامة")
    return _email(to, "premium_receipt", subject, intro, facts)


def payment_receipt_sms(to: str, lang: str | None, facts: ReceiptFacts) -> Message:
    en_amount, ar_amount = format_amount(facts.amount_fils, "en"), format_amount(facts.amount_fils, "ar")
    start, last = facts.period_start.isoformat(), facts.period_last_day.isoformat()
    body = Text(
        f"Paid {en_amount} for the health insurance of {facts.insured_name}, {start} to {last}. "
        f"Payment {facts.payment_id}.",
        f"تم دفع {ar_amount} للضمان الصحي لـ {facts.insured_name} من {start} إلى {last}. "
        f"رقم الدفعة {facts.payment_id}.",
    )
    return _sms(to, "premium_receipt", body, lang, facts)


def refund_receipt_email(to: str, facts: ReceiptFacts) -> Message:
    intro = Text(
        "Your premium was refunded in full to the card you paid with, and the coverage below is cancelled. "
        f"Banks may take a few days to show it. Customer service: {CUSTOMER_SERVICE}.",
        "تم استرداد الرسوم كاملة إلى البطاقة التي دفعت بها، وأُلغيت التغطية المذكورة أدناه. "
        f"قد يستغرق ظهور المبلغ بضعة أيام لدى البنك. خدمة العملاء: {CUSTOMER_SERVICE}.",
    )
    subject = Text("Refund receipt: residence health insurance", "إيصال استرداد: الضمان الصحي للإقامة")
    return _email(to, "premium_refund", subject, intro, facts)


def refund_receipt_sms(to: str, lang: str | None, facts: ReceiptFacts) -> Message:
    en_amount, ar_amount = format_amount(facts.amount_fils, "en"), format_amount(facts.amount_fils, "ar")
    body = Text(
        f"Refunded {en_amount} of payment {facts.payment_id}; the coverage of {facts.insured_name} it paid for "
        "is cancelled.",
        f"تم استرداد {ar_amount} من الدفعة {facts.payment_id}؛ وأُلغيت تغطية {facts.insured_name} المدفوعة بها.",
    )
    return _sms(to, "premium_refund", body, lang, facts)


# --- renewal reminders ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReminderFacts:
    """What a renewal reminder states: whose policy, when it ends, where to renew."""

    step: str  # renewal_rules.STEP_30_DAYS | STEP_7_DAYS | STEP_LAPSED
    insured_name: str
    policy_number: str | None
    end: date  # the first day no longer covered
    last_day: date
    link: str
    days_left: int
    # The passport's expiry when it ends before the last day a renewal would cover, else None.
    passport_expiry: date | None = None
    renewal_last_day: date | None = None


def _policy_ref(facts: ReminderFacts) -> Text:
    number = facts.policy_number or "—"
    return Text(f"policy {number}", f"الوثيقة {number}")


def _reminder_text(facts: ReminderFacts) -> tuple[Text, Text]:
    """(subject, the one sentence that says it) of a reminder step."""
    name, ref, last = facts.insured_name, _policy_ref(facts), facts.last_day.isoformat()
    if facts.step == "lapsed":
        subject = Text("Your residence health insurance has ended", "انتهى الضمان الصحي للإقامة")
        body = Text(
            f"The residence health insurance of {name} ({ref.en}) ended: its last day was {last}. Renew it today "
            f"and the renewal still starts on {facts.end.isoformat()}, with no gap.",
            f"انتهى الضمان الصحي للإقامة لـ {name} ({ref.ar}): كان آخر يوم فيه {last}. جدّده اليوم ويبدأ التجديد "
            f"من {facts.end.isoformat()} دون انقطاع.",
        )
        return subject, body
    left = DAYS.of(facts.days_left)
    subject = Text(f"Renew your residence health insurance: {left.en} left",
                   f"جدّد الضمان الصحي للإقامة: بقي {left.ar}")
    body = Text(
        f"The residence health insurance of {name} ({ref.en}) ends in {left.en}: its last day is {last}. Renew "
        "it in the app; the renewal starts the day after, so there is no gap.",
        f"ينتهي الضمان الصحي للإقامة لـ {name} ({ref.ar}) بعد {left.ar}: آخر يوم فيه {last}. جدّده من "
        "التطبيق؛ يبدأ التجديد في اليوم التالي دون انقطاع.",
    )
    return subject, body


def _passport_text(facts: ReminderFacts) -> Text:
    assert facts.passport_expiry is not None and facts.renewal_last_day is not None
    expiry, until = facts.passport_expiry.isoformat(), facts.renewal_last_day.isoformat()
    return Text(
        f"The passport of {facts.insured_name} expires on {expiry}, before the renewed insurance would end on "
        f"{until}: renew the passport first, then enter its new expiry date when you renew (or choose fewer years).",
        f"ينتهي جواز سفر {facts.insured_name} في {expiry} قبل انتهاء التأمين المجدَّد في {until}: جدّد الجواز "
        "أولًا ثم أدخل تاريخ انتهائه الجديد عند التجديد (أو اختر عدد سنوات أقل).",
    )


def _reminder_vars(facts: ReminderFacts) -> dict[str, object]:
    return {"step": facts.step, "policy_number": facts.policy_number, "end_date": facts.end.isoformat(),
            "last_day": facts.last_day.isoformat(), "days_left": facts.days_left, "link": facts.link,
            "passport_expiry": facts.passport_expiry.isoformat() if facts.passport_expiry else None}


RENEW_LABEL = Text("Renew in the app", "جدّد من التطبيق")


def renewal_reminder_email(to: str, lang: str | None, facts: ReminderFacts) -> Message:
    subject, body = _reminder_text(facts)
    email = Email(template="renewal_reminder", subject=subject, heading=subject, paragraphs=(body,),
                  link=facts.link, link_label=RENEW_LABEL,
                  closing=(Text(f"Customer service: {CUSTOMER_SERVICE}.", f"خدمة العملاء: {CUSTOMER_SERVICE}."),))
    return render_email(to, email, lang, _reminder_vars(facts))


def renewal_reminder_sms(to: str, lang: str | None, facts: ReminderFacts) -> Message:
    _, body = _reminder_text(facts)
    text = Text(f"{body.en} {facts.link}", f"{body.ar} {facts.link}")
    return Message(channel="sms", to=to, template="renewal_reminder", text=_pick(text, lang), links=[facts.link],
                   vars=_reminder_vars(facts))


def passport_warning_email(to: str, lang: str | None, facts: ReminderFacts) -> Message:
    subject = Text("Renew the passport before the insurance", "جدّد جواز السفر قبل التأمين")
    email = Email(template="renewal_passport_warning", subject=subject, heading=subject,
                  paragraphs=(_passport_text(facts),), link=facts.link, link_label=RENEW_LABEL,
                  closing=(Text(f"Customer service: {CUSTOMER_SERVICE}.", f"خدمة العملاء: {CUSTOMER_SERVICE}."),))
    return render_email(to, email, lang, _reminder_vars(facts))


def passport_warning_sms(to: str, lang: str | None, facts: ReminderFacts) -> Message:
    return Message(channel="sms", to=to, template="renewal_passport_warning", text=_pick(_passport_text(facts), lang),
                   links=[facts.link], vars=_reminder_vars(facts))


def _pick(text: Text, lang: str | None) -> str:
    return text.in_(lang) if lang in ("ar", "en") else f"{text.ar}\n\n{text.en}"


# --- family baskets -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    """One insured person's part of a basket payment."""

    insured_name: str
    category: Text
    period_start: date
    period_last_day: date
    amount_fils: int


@dataclass(frozen=True)
class BasketFacts:
    """What a basket's receipt states: the total paid (or refunded) and each share."""

    payment_id: str
    amount_fils: int
    at: datetime
    shares: tuple[Share, ...]
    transaction_id: str | None = None
    reason: str | None = None


def _basket_rows(facts: BasketFacts) -> tuple[tuple[Text, Text], ...]:
    def same(value: str) -> Text:
        return Text(value, value)

    rows = [(Text("Payment", "رقم الدفعة"), same(facts.payment_id))]
    for share in facts.shares:
        start, last = share.period_start.isoformat(), share.period_last_day.isoformat()
        rows.append((same(share.insured_name),
                     Text(f"{share.category.en}, {start} to {last}: {format_amount(share.amount_fils, 'en')}",
                          f"{share.category.ar}، من {start} إلى {last}: {format_amount(share.amount_fils, 'ar')}")))
    rows.append((Text("Total", "المجموع"),
                 Text(format_amount(facts.amount_fils, "en"), format_amount(facts.amount_fils, "ar"))))
    rows.append((Text("Date (Kuwait time)", "التاريخ (بتوقيت الكويت)"), same(_kuwait_time(facts.at))))
    if facts.transaction_id:
        rows.append((Text("Transaction", "رقم العملية"), same(facts.transaction_id)))
    if facts.reason:
        rows.append((Text("Reason", "السبب"), same(facts.reason)))
    return tuple(rows)


def _basket_vars(facts: BasketFacts) -> dict[str, object]:
    return {"payment_id": facts.payment_id, "amount_fils": facts.amount_fils, "currency": "KWD",
            "shares": len(facts.shares), "transaction_id": facts.transaction_id, "reason": facts.reason}


def basket_receipt_email(to: str, facts: BasketFacts, *, refund: bool) -> Message:
    if refund:
        subject = Text("Refund receipt: residence health insurance", "إيصال استرداد: الضمان الصحي للإقامة")
        intro = Text("These shares of your family payment were refunded to the card you paid with, and their "
                     f"coverage is cancelled; the others stay in force. Customer service: {CUSTOMER_SERVICE}.",
                     "تم استرداد هذه الحصص من دفعة العائلة إلى البطاقة التي دفعت بها وأُلغيت تغطيتها؛ وتبقى "
                     f"الأخرى سارية. خدمة العملاء: {CUSTOMER_SERVICE}.")
    else:
        subject = Text("Payment receipt: residence health insurance", "إيصال دفع: الضمان الصحي للإقامة")
        intro = Text("Thank you. We received one payment for the residence health insurance of everyone below. "
                     f"Keep this receipt. Customer service: {CUSTOMER_SERVICE}.",
                     "شكرًا لك. استلمنا دفعة واحدة للضمان الصحي للإقامة لكل المذكورين أدناه. احتفظ بهذا الإيصال. "
                     f"خدمة العملاء: {CUSTOMER_SERVICE}.")
    email = Email(template="premium_refund" if refund else "premium_receipt", subject=subject, heading=subject,
                  paragraphs=(intro,), rows=_basket_rows(facts))
    return render_email(to, email, None, _basket_vars(facts))


def basket_receipt_sms(to: str, lang: str | None, facts: BasketFacts, *, refund: bool) -> Message:
    en_amount, ar_amount = format_amount(facts.amount_fils, "en"), format_amount(facts.amount_fils, "ar")
    names = ", ".join(share.insured_name for share in facts.shares)
    names_ar = "، ".join(share.insured_name for share in facts.shares)
    if refund:
        body = Text(f"Refunded {en_amount} of payment {facts.payment_id}; the coverage of {names} is cancelled.",
                    f"تم استرداد {ar_amount} من الدفعة {facts.payment_id}؛ وأُلغيت تغطية {names_ar}.")
    else:
        body = Text(f"Paid {en_amount} for the health insurance of {names}. Payment {facts.payment_id}.",
                    f"تم دفع {ar_amount} للضمان الصحي لـ {names_ar}. رقم الدفعة {facts.payment_id}.")
    return Message(channel="sms", to=to, template="premium_refund" if refund else "premium_receipt",
                   text=_pick(body, lang), vars=_basket_vars(facts))
