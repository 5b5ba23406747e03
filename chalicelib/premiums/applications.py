"""Residence categories, quotes, and applications: create, change, confirm (the review before paying)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from chalicelib.errors import Conflict, FieldErrors, NotFound, StaleState, Text
from chalicelib.kernel.civil_id import check_civil_id
from chalicelib.kernel.kuwait_time import kuwait_today
from chalicelib.kernel.money import CURRENCY
from chalicelib.premiums.ledger import LedgerEvent
from chalicelib.premiums.payment_rules import (
    ApplicationLocked,
    ApplicationStatus,
    check_accept,
    is_id,
)
from chalicelib.premiums.ports import ApplicationDraft, ApplicationRow, PremiumDeps
from chalicelib.premiums.rules import (
    CATEGORIES_BY_CODE,
    ApplicationRequest,
    ApplicationReview,
    Period,
    price_list,
    quote,
    review_application,
)

APPLICATION_FIELDS = ("insured_civil_id", "insured_name", "category", "sponsor_name", "sponsor_civil_id", "kind",
                      "passport_expiry", "years", "insured_name_ar")

NOT_OFFERED_ONLINE = [
    {
        "category": "joining_child",
        "rule": "min_age_exclusive",
        "min_age_exclusive": CATEGORIES_BY_CODE["joining_child"].min_age_exclusive,
        "message": {
            "en": "A son or daughter aged 12 or younger on the start date cannot be insured online: "
                  "visit a health insurance service centre.",
            "ar": "لا يمكن تأمين الابن أو الابنة بعمر 12 سنة أو أقل في تاريخ البدء عبر الإنترنت: "
                  "يرجى مراجعة أحد مراكز خدمة الضمان الصحي.",
        },
    },
    {
        "category": None,
        "rule": "not_listed",
        "message": {
            "en": "Cases not in this list are not offered online: visit a health insurance service centre.",
            "ar": "الحالات غير المذكورة في هذه القائمة لا تُقدَّم عبر الإنترنت: يرجى مراجعة مركز الخدمة.",
        },
    },
]


class ApplicationChanged(Conflict):
    code = "APPLICATION_CHANGED"
    text = Text(
        "The application changed since you reviewed it. Review it again, then confirm.",
        "تغيّر الطلب منذ مراجعتك له. راجعه مرة أخرى ثم أكّده.",
    )


def _label(code: str) -> dict[str, str]:
    label = CATEGORIES_BY_CODE[code].label
    return {"en": label.en, "ar": label.ar}


# --- public: categories and quotes (pure: no storage) --------------------------------------------


def _date_param(raw: str | None, name: str, default: date) -> date:
    if raw in (None, ""):
        return default
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        errors = FieldErrors()
        errors.add(name, "date", "Enter a date as YYYY-MM-DD.", "أدخل التاريخ بالصيغة YYYY-MM-DD.")
        errors.raise_if_any()
        raise


def categories(deps: PremiumDeps, params: Mapping[str, str]) -> dict[str, Any]:
    """Every category offered online on a day (today by default), with its yearly premium in fils."""
    on = _date_param(params.get("on"), "on", kuwait_today(deps.now()))
    entries = price_list(deps.tariffs, on)
    return {
        "on": on.isoformat(),
        "currency": CURRENCY,
        "max_years": deps.settings.payments.max_years,
        "categories": [
            {"code": e.category.code, "label": _label(e.category.code), "yearly_fils": e.yearly_fils,
             "currency": CURRENCY, "tariff_effective_from": e.tariff_effective_from.isoformat(),
             "min_age_exclusive": e.category.min_age_exclusive,
             "sponsor_must_differ": e.category.sponsor_must_differ}
            for e in entries
        ],
        "not_offered_online": NOT_OFFERED_ONLINE,
    }


def quote_premium(deps: PremiumDeps, params: Mapping[str, str]) -> dict[str, Any]:
    """The premium of `years` years of a category from a start date (today by default)."""
    start = _date_param(params.get("start_date"), "start_date", kuwait_today(deps.now()))
    raw_years = params.get("years")
    years: object = int(raw_years) if isinstance(raw_years, str) and raw_years.isdecimal() else raw_years
    result = quote(deps.tariffs, params.get("category"), start, years, max_years=deps.settings.payments.max_years)
    period = Period.of_years(start, result.years)
    return {
        "category": result.category_code, "label": _label(result.category_code), "years": result.years,
        "yearly_fils": result.yearly_fils, "amount_fils": result.amount_fils, "currency": result.currency,
        "tariff_effective_from": result.tariff_effective_from.isoformat(),
        "period": _period(period.start, period.end),
    }


# --- applications ---------------------------------------------------------------------------------


def _period(start: date, end: date) -> dict[str, str]:
    return {"start_date": start.isoformat(), "end_date": end.isoformat(),
            "last_day": Period(start, end).last_day.isoformat()}


def application_view(record: ApplicationRow) -> dict[str, Any]:
    """The review a person confirms: every field, the period and the amount."""
    confirmed = (record.confirmed_revision is not None and int(record.confirmed_revision) == int(record.revision)
                 and record.status != ApplicationStatus.AWAITING_CONFIRMATION)
    return {
        "application_id": record.application_id,
        "status": record.status,
        "revision": int(record.revision),
        "review": {
            "insured_civil_id": record.insured_civil_id,
            "insured_name": record.insured_name,
            "insured_name_ar": record.insured_name_ar,
            "category": {"code": record.category, "label": _label(record.category)},
            "sponsor_civil_id": record.sponsor_civil_id,
            "sponsor_name": record.sponsor_name,
            "kind": record.kind,
            "passport_expiry": record.passport_expiry,
            "years": int(record.years),
            "period": _period(date.fromisoformat(record.start_date), date.fromisoformat(record.end_date)),
            "yearly_fils": int(record.yearly_fils),
            "amount_fils": int(record.amount_fils),
            "currency": record.currency,
            "tariff_effective_from": record.tariff_effective_from,
        },
        "confirmation": {
            "confirmed": confirmed,
            "confirmed_at": record.confirmed_at.isoformat() if confirmed and record.confirmed_at else None,
        },
        "payment_id": record.payment_id,
        "created_at": record.created_at,
        "updated_at": record.updated_at.isoformat(),
    }


def _request(body: Mapping[str, Any]) -> ApplicationRequest:
    return ApplicationRequest(**{name: body.get(name) for name in APPLICATION_FIELDS})


def _review(deps: PremiumDeps, body: Mapping[str, Any], today: date) -> ApplicationReview:
    request = _request(body)
    insured = check_civil_id(request.insured_civil_id, today=today, field="insured_civil_id", errors=FieldErrors())
    existing_end = None
    if insured is not None:
        policy = deps.store.policy(insured.number)
        if policy is not None and policy.end_date:
            existing_end = date.fromisoformat(policy.end_date)
    review = review_application(request, today=today, existing_policy_end=existing_end, tariffs=deps.tariffs,
                                max_years=deps.settings.payments.max_years)
    return review


def _draft(review: ApplicationReview, *, application_id: str, account_id: str, created_at: str, now: datetime,
           revision: int) -> ApplicationDraft:
    """A revision awaiting its confirmation, as reviewed."""
    return ApplicationDraft(
        application_id=application_id, account_id=account_id, created_at=created_at, updated_at=now,
        status=ApplicationStatus.AWAITING_CONFIRMATION, revision=revision,
        insured_civil_id=review.insured.number, insured_name=review.insured_name,
        category=review.category.code, sponsor_civil_id=review.sponsor.number,
        sponsor_name=review.sponsor_name, kind=review.kind,
        passport_expiry=review.passport_expiry.isoformat(), years=review.quote.years,
        start_date=review.period.start.isoformat(), end_date=review.period.end.isoformat(),
        amount_fils=review.quote.amount_fils, yearly_fils=review.quote.yearly_fils,
        currency=review.quote.currency, tariff_effective_from=review.quote.tariff_effective_from.isoformat(),
        insured_name_ar=review.insured_name_ar,
    )


def _event(application_id: str, kind: str, account_id: str, now: datetime, **fields: Any) -> LedgerEvent:
    return LedgerEvent(f"application#{application_id}", kind, now, f"account:{account_id}", account_id=account_id,
                       application_id=application_id, **fields)


def create_application(deps: PremiumDeps, account_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """Check an application against every rule and store it, awaiting the person's confirmation."""
    now = deps.now()
    review = _review(deps, body, kuwait_today(now))
    application_id = deps.new_id("app")
    draft = _draft(review, application_id=application_id, account_id=account_id, created_at=now.isoformat(), now=now,
                   revision=1)
    record = deps.store.create_application(draft, _event(
        application_id, "application_created", account_id, now, amount_fils=review.quote.amount_fils,
        to_status=ApplicationStatus.AWAITING_CONFIRMATION, details={"revision": 1}))
    return application_view(record)


def _own(deps: PremiumDeps, account_id: str, application_id: str) -> ApplicationRow:
    if not is_id(application_id):
        raise NotFound()  # names no application; never read (DynamoDB refuses a key over 2048 bytes)
    record = deps.store.application(application_id)
    if record is None or record.account_id != account_id:
        raise NotFound()
    return record


def get_application(deps: PremiumDeps, account_id: str, application_id: str) -> dict[str, Any]:
    return application_view(_own(deps, account_id, application_id))


def change_application(deps: PremiumDeps, account_id: str, application_id: str,
                       body: Mapping[str, Any]) -> dict[str, Any]:
    """Replace an unpaid application's fields: a new revision, which needs a new confirmation."""
    record = _own(deps, account_id, application_id)
    if record.status not in (ApplicationStatus.AWAITING_CONFIRMATION, ApplicationStatus.CONFIRMED):
        raise ApplicationLocked()
    now = deps.now()
    review = _review(deps, body, kuwait_today(now))
    previous_revision, previous_status = int(record.revision), record.status
    draft = _draft(review, application_id=application_id, account_id=account_id, created_at=record.created_at,
                   now=now, revision=previous_revision + 1)
    try:
        changed = deps.store.replace_application(draft, previous_revision, _event(
            application_id, "application_changed", account_id, now, amount_fils=review.quote.amount_fils,
            from_status=previous_status, to_status=ApplicationStatus.AWAITING_CONFIRMATION,
            details={"revision": previous_revision + 1}))
    except StaleState as exc:
        fresh = _own(deps, account_id, application_id)
        if fresh.status not in (ApplicationStatus.AWAITING_CONFIRMATION, ApplicationStatus.CONFIRMED):
            raise ApplicationLocked() from exc
        raise ApplicationChanged() from exc
    return application_view(changed)


def confirm_application(deps: PremiumDeps, account_id: str, application_id: str,
                        body: Mapping[str, Any]) -> dict[str, Any]:
    """Record that the person reviewed this revision and accepts it (`accept: true`), with the time."""
    check_accept(body)
    record = _own(deps, account_id, application_id)
    revision = body.get("revision")
    if revision is not None and revision != int(record.revision):
        raise ApplicationChanged(details={"revision": int(record.revision)})
    if record.status != ApplicationStatus.AWAITING_CONFIRMATION:
        if record.status == ApplicationStatus.CONFIRMED:
            return application_view(record)  # confirming twice changes nothing
        raise ApplicationLocked()
    now = deps.now()
    try:
        deps.store.confirm_application(application_id, int(record.revision), now, _event(
            application_id, "application_confirmed", account_id, now, amount_fils=int(record.amount_fils),
            from_status=record.status, to_status=ApplicationStatus.CONFIRMED,
            details={"revision": int(record.revision), "accept": True}))
    except StaleState as exc:
        raise ApplicationChanged() from exc
    return application_view(_own(deps, account_id, application_id))
