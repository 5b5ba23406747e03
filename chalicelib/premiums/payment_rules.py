"""Premium payments and refunds as pure rules: states, refund eligibility, periods.

A payment moves pending -> captured | declined | expired, and captured -> refunded, never back:
every status change in storage is a conditional write whose condition is the state it moves
from (store.py, and the fake in tests/premiums), so two racing writers never both win; the ledger gets
one event per change. Times are UTC; "today" is Kuwait's calendar day (UTC+3,
no daylight saving), because coverage dates are Kuwaiti dates.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from chalicelib.errors import AppError, Conflict, FieldErrors, FieldProblem, Text, ValidationFailed
from chalicelib.kernel.kuwait_time import kuwait_today
from chalicelib.kernel.plurals import DAYS

REFUND_REASON_MAX = 500
IDEMPOTENCY_KEY_MAX = 255
IDEMPOTENCY_HEADER = "Idempotency-Key"
# Our ids are a prefix and 24 hex digits (ports.new_id): letters and digits, far below 64. Anything else
# names nothing, and is never looked up: DynamoDB refuses a key over 2048 bytes with a ValidationException.
ID_MAX = 64
_ID = re.compile(rf"[A-Za-z0-9]{{1,{ID_MAX}}}")


def is_id(value: object) -> bool:
    """Whether `value` could be one of our ids (letters and digits, at most ID_MAX): worth a read."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


class ApplicationStatus:
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    CONFIRMED = "confirmed"
    PAYMENT_PENDING = "payment_pending"
    PAID = "paid"


class PaymentStatus:
    PENDING = "pending"
    CAPTURED = "captured"
    DECLINED = "declined"
    # The gateway never saw it (session not started, or the page was never opened).
    EXPIRED = "expired"
    REFUNDED = "refunded"


class RefundStatus:
    """Our refund's states (what the gateway says of a refund: ports.GatewayRefundStatus)."""

    REQUESTED = "requested"
    REFUNDED = "refunded"
    FAILED = "failed"


# --- errors -------------------------------------------------------------------------------------


class ConfirmationRequired(Conflict):
    code = "CONFIRMATION_REQUIRED"
    text = Text(
        "Review the application and confirm it (accept: true) before paying.",
        "راجع الطلب وأكّده (accept: true) قبل الدفع.",
    )


class ApplicationLocked(Conflict):
    code = "APPLICATION_LOCKED"
    text = Text(
        "This application has a payment in progress or is paid, so it can no longer change.",
        "لهذا الطلب عملية دفع جارية أو تم دفعه، فلا يمكن تعديله.",
    )


class ApplicationOutdated(Conflict):
    code = "APPLICATION_OUTDATED"
    text = Text(
        "The dates of this application are no longer right (a day passed or the policy changed). "
        "Update the application, review it and confirm it again.",
        "لم تعد تواريخ هذا الطلب صحيحة (مرّ يوم أو تغيّرت الوثيقة). حدّث الطلب وراجعه وأكّده من جديد.",
    )


class AlreadyPaid(Conflict):
    code = "ALREADY_PAID"
    text = Text("This application is already paid.", "تم دفع هذا الطلب بالفعل.")


class PaymentInProgress(Conflict):
    code = "PAYMENT_IN_PROGRESS"
    text = Text(
        "A payment for this application is still being processed. Wait for its result before paying again.",
        "عملية دفع لهذا الطلب ما زالت قيد المعالجة. انتظر نتيجتها قبل الدفع مرة أخرى.",
    )


class InsuredBusy(Conflict):
    code = "COVERAGE_CHANGE_IN_PROGRESS"
    text = Text(
        "Another payment or refund for this insured person is in progress. Try again when it is finished.",
        "توجد عملية دفع أو استرداد أخرى جارية لهذا المؤمَّن عليه. حاول مرة أخرى بعد انتهائها.",
    )


class PaymentStarting(Conflict):
    code = "PAYMENT_STARTING"
    text = Text(
        "This payment is being started by another request with the same Idempotency-Key. Retry in a moment.",
        "يجري بدء هذه الدفعة بطلب آخر يحمل نفس Idempotency-Key. أعد المحاولة بعد قليل.",
    )


class IdempotencyKeyReused(AppError):
    status = 422
    code = "IDEMPOTENCY_KEY_REUSED"
    text = Text(
        "This Idempotency-Key was already used for another request. Use a new key for a new payment.",
        "تم استخدام مفتاح Idempotency-Key هذا لطلب آخر. استخدم مفتاحًا جديدًا لدفعة جديدة.",
    )


class GatewayUnavailable(AppError):
    status = 502
    code = "GATEWAY_UNAVAILABLE"
    text = Text(
        "The payment gateway did not answer. Nothing was charged; try again.",
        "لم تستجب بوابة الدفع. لم يتم خصم أي مبلغ؛ حاول مرة أخرى.",
    )


class InvalidCallback(AppError):
    status = 400
    code = "INVALID_CALLBACK"
    text = Text("This payment notification is not valid.", "إشعار الدفع هذا غير صالح.")


class AlreadyRefunded(Conflict):
    code = "ALREADY_REFUNDED"
    text = Text("This payment has already been refunded.", "تم استرداد هذه الدفعة بالفعل.")


class RefundInProgress(Conflict):
    code = "REFUND_IN_PROGRESS"
    text = Text(
        "A refund of this payment is already being processed.",
        "استرداد هذه الدفعة قيد المعالجة بالفعل.",
    )


class NotRefundable(Conflict):
    code = "NOT_REFUNDABLE"
    text = Text("Only a completed payment can be refunded.", "لا يمكن استرداد إلا دفعة مكتملة.")


class RefundWindowClosed(AppError):
    status = 422
    code = "REFUND_NOT_ALLOWED"
    text = Text(
        "A premium can be refunded before its coverage starts or within {days} of payment; this one cannot.",
        "يمكن استرداد الرسوم قبل بدء التغطية أو خلال {days} من الدفع؛ وهذه الدفعة لا ينطبق عليها ذلك.",
    )


class LaterPeriodPaid(Conflict):
    code = "LATER_PERIOD_PAID"
    text = Text(
        "A later renewal of this policy is paid. Refund the latest renewal first.",
        "تم دفع تجديد لاحق لهذه الوثيقة. استرد آخر تجديد أولًا.",
    )


class RefundFailed(AppError):
    status = 502
    code = "REFUND_FAILED"
    text = Text(
        "The payment gateway refused the refund. Nothing was refunded; you may try again or call 19097.",
        "رفضت بوابة الدفع الاسترداد. لم يُسترد أي مبلغ؛ يمكنك المحاولة مرة أخرى أو الاتصال على 19097.",
    )


# --- requests -----------------------------------------------------------------------------------


def check_idempotency_key(raw: object) -> str:
    """The Idempotency-Key header as given, or a field-named error."""
    value = raw.strip() if isinstance(raw, str) else ""
    if not value:
        raise ValidationFailed(
            code="IDEMPOTENCY_KEY_REQUIRED",
            text=Text(
                "Send an Idempotency-Key header (for example a UUID) with every payment request.",
                "أرسل ترويسة Idempotency-Key (مثل UUID) مع كل طلب دفع.",
            ),
            fields={IDEMPOTENCY_HEADER: FieldProblem("required", Text("Required.", "مطلوب."))},
        )
    if len(value) > IDEMPOTENCY_KEY_MAX or not value.isascii() or not value.isprintable():
        raise ValidationFailed(
            fields={
                IDEMPOTENCY_HEADER: FieldProblem(
                    "format",
                    Text(
                        f"Use at most {IDEMPOTENCY_KEY_MAX} printable ASCII characters.",
                        f"استخدم {IDEMPOTENCY_KEY_MAX} حرفًا على الأكثر من حروف ASCII المطبوعة.",
                    ),
                )
            }
        )
    return value


def request_fingerprint(operation: str, target: str, body: Mapping[str, object]) -> str:
    """What a request asked for, as a hash: the same key must always ask for the same thing."""
    canonical = json.dumps({"op": operation, "target": target, "body": body}, sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def check_accept(body: Mapping[str, object]) -> None:
    """A review is confirmed only by an explicit `accept: true`."""
    if body.get("accept") is not True:
        errors = FieldErrors()
        errors.add("accept", "must_be_true",
                   "Confirm that every detail of the review is right by sending accept: true.",
                   "أكّد صحة جميع بيانات المراجعة بإرسال accept: true.")
        errors.raise_if_any()


def check_refund_reason(raw: object) -> str:
    """The reason a person gives for a refund: required, one line of reasonable length."""
    errors = FieldErrors()
    reason = " ".join(raw.split()) if isinstance(raw, str) else ""
    if not reason:
        errors.add("reason", "required", "Tell us why you want a refund.", "اذكر سبب طلب الاسترداد.")
    elif len(reason) > REFUND_REASON_MAX or not reason.isprintable():
        errors.add("reason", "format", f"Use at most {REFUND_REASON_MAX} characters.",
                   f"استخدم {REFUND_REASON_MAX} حرفًا على الأكثر.")
    errors.raise_if_any()
    return reason


# --- refunds ------------------------------------------------------------------------------------


def check_refundable(
    *, status: str, refund_status: str | None, captured_at: datetime | None, period_start: date, now: datetime,
    window_days: int,
) -> None:
    """Raise unless a full refund of this payment may be asked for now."""
    if status == PaymentStatus.REFUNDED or refund_status == RefundStatus.REFUNDED:
        raise AlreadyRefunded()
    if refund_status == RefundStatus.REQUESTED:
        raise RefundInProgress()
    if status != PaymentStatus.CAPTURED or captured_at is None:
        raise NotRefundable()
    not_started = kuwait_today(now) < period_start
    recent = now - captured_at <= timedelta(days=window_days)
    if not (not_started or recent):
        days = DAYS.of(window_days)  # the window is a setting: "14 يومًا" but "7 أيام" (CLDR plural rules)
        raise RefundWindowClosed(Text(RefundWindowClosed.text.en.format(days=days.en),
                                      RefundWindowClosed.text.ar.format(days=days.ar)),
                                 details={"window_days": window_days})


# --- policy periods -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CoveredPeriod:
    """One paid period of a residence policy: [start, end), bought by one payment."""

    start: date
    end: date
    payment_id: str
    status: str = "active"  # active | cancelled

    @property
    def active(self) -> bool:
        return self.status == "active"


def active_end(periods: Iterable[CoveredPeriod]) -> date | None:
    """The first day no longer covered, or None when nothing is covered."""
    ends = [p.end for p in periods if p.active]
    return max(ends) if ends else None


def current_span(periods: Iterable[CoveredPeriod]) -> tuple[date, date] | None:
    """The unbroken coverage that ends last: from the start of its first period to its end."""
    active = sorted((p for p in periods if p.active), key=lambda p: p.start)
    if not active:
        return None
    start, end = active[-1].start, active[-1].end
    for period in reversed(active[:-1]):
        if period.end != start:
            break  # a gap: coverage lapsed before this run began
        start = period.start
    return start, end


def add_period(periods: tuple[CoveredPeriod, ...], new: CoveredPeriod) -> tuple[CoveredPeriod, ...]:
    """The periods with `new` appended; it must start on or after the current end (no overlap)."""
    end = active_end(periods)
    if end is not None and new.start < end:
        raise ValueError(f"period from {new.start} overlaps coverage until {end}")
    if any(p.payment_id == new.payment_id for p in periods):
        raise ValueError(f"payment {new.payment_id} already bought a period")
    return (*periods, new)


def cancel_period(periods: tuple[CoveredPeriod, ...], payment_id: str) -> tuple[CoveredPeriod, ...]:
    """The periods with the one `payment_id` bought cancelled; only the last active one may go."""
    target = next((p for p in periods if p.payment_id == payment_id and p.active), None)
    if target is None:
        raise ValueError(f"no active period bought by {payment_id}")
    if target.end != active_end(periods):
        raise ValueError("only the last period can be cancelled")
    return tuple(replace(p, status="cancelled") if p is target else p for p in periods)


def utc(value: datetime) -> datetime:
    return value.astimezone(UTC)
