"""One payment for a whole family: a basket of confirmed applications, captured together, refunded whole or by share.

Starting is one transaction (the Idempotency-Key claimed, the payment created with one line per
application, every application marked paying and every insured locked), so a key makes one payment
and no application can be in two baskets. The capture is one transaction too: the payment captured,
every policy created or extended (a renewal from its old end) and unlocked, every application paid,
or none of it. A refund gives back the whole basket or one application's share through the gateway's
partial refund; the payment's refunded amount, read and conditioned on, makes two refunds of one
share (or of the whole and a share) land once; the payment is refunded once every share is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.errors import FieldErrors, NotFound, StaleState
from chalicelib.kernel.kuwait_time import kuwait_today
from chalicelib.logs import log_error, log_event
from chalicelib.platform.messages import Message
from chalicelib.premiums import messages as premium_messages
from chalicelib.premiums.ledger import LedgerEvent
from chalicelib.premiums.payment_rules import (
    ID_MAX,
    AlreadyPaid,
    AlreadyRefunded,
    ApplicationOutdated,
    CoveredPeriod,
    InsuredBusy,
    LaterPeriodPaid,
    PaymentInProgress,
    PaymentStarting,
    PaymentStatus,
    RefundFailed,
    RefundInProgress,
    RefundStatus,
    add_period,
    cancel_period,
    check_idempotency_key,
    check_refund_reason,
    check_refundable,
    current_span,
    is_id,
    request_fingerprint,
)
from chalicelib.premiums.payments import (
    _check_payable,
    _key,
    _open_session,
    _replay,
    cover_changed,
    drawing_policy_numbers,
    payment_event,
    payment_view,
    policy_periods,
    reconcile_queue_of,
)
from chalicelib.premiums.ports import (
    ApplicationRow,
    BasketLine,
    GatewayResult,
    IdempotencyClaim,
    LostRace,
    PaymentDraft,
    PaymentLineRow,
    PaymentRow,
    PolicyWrite,
    PremiumDeps,
)
from chalicelib.premiums.rules import CATEGORIES_BY_CODE, KIND_RENEWAL, Period

MAX_APPLICATIONS = 10
BASKET_KIND = "basket"  # a basket payment's `kind`; its lines carry each application's own


# --- start --------------------------------------------------------------------------------------


def _application_ids(body: Mapping[str, Any]) -> list[str]:
    raw = body.get("application_ids")
    errors = FieldErrors()
    if (not isinstance(raw, list) or not 1 <= len(raw) <= MAX_APPLICATIONS
            or not all(isinstance(v, str) and v for v in raw)):
        errors.add("application_ids", "list",
                   f"Send application_ids: from 1 to {MAX_APPLICATIONS} ids of confirmed applications.",
                   f"أرسل application_ids: من 1 إلى {MAX_APPLICATIONS} من أرقام الطلبات المؤكدة.")
    elif not all(is_id(v) for v in raw):
        # Refused before any read: such a string names no application (and over 2048 bytes DynamoDB refuses it).
        errors.add("application_ids", "id",
                   f"An application id is letters and digits, at most {ID_MAX} of them.",
                   f"رقم الطلب حروف وأرقام، {ID_MAX} على الأكثر.")
    elif len(set(raw)) != len(raw):
        errors.add("application_ids", "unique", "Each application may be in the basket once.",
                   "يمكن إضافة كل طلب إلى السلة مرة واحدة فقط.")
    errors.raise_if_any()
    return list(raw) if isinstance(raw, list) else []


def _one_per_person(applications: Sequence[ApplicationRow]) -> None:
    seen: set[str] = set()
    for application in applications:
        if application.insured_civil_id in seen:
            errors = FieldErrors()
            errors.add("application_ids", "same_insured",
                       "Two applications in the basket insure the same person: keep one.",
                       "طلبان في السلة لنفس الشخص المؤمَّن عليه: أبقِ واحدًا فقط.")
            errors.raise_if_any()
        seen.add(application.insured_civil_id)


def _line(application: ApplicationRow) -> BasketLine:
    return BasketLine(
        application_id=application.application_id, application_revision=int(application.revision),
        insured_civil_id=application.insured_civil_id, insured_name=application.insured_name,
        insured_name_ar=application.insured_name_ar, category=application.category, kind=application.kind,
        period_start=application.start_date, period_end=application.end_date,
        amount_fils=int(application.amount_fils), passport_expiry=application.passport_expiry,
        years=int(application.years))


def start_basket_payment(deps: PremiumDeps, *, account_id: str, idempotency_key: object, body: Mapping[str, Any],
                         lang: str) -> tuple[dict[str, Any], bool]:
    """One payment for 1-10 confirmed applications of this account, per Idempotency-Key: (its view, created)."""
    key = check_idempotency_key(idempotency_key)
    ids = _application_ids(body)
    store_key = _key(account_id, key)
    fingerprint = request_fingerprint("POST /v1/payments", " ".join(ids), dict(body))
    existing = deps.store.idempotency(store_key)
    if existing is not None:
        return _replay(deps, existing, fingerprint), False
    applications = []
    for application_id in ids:
        application = deps.store.application(application_id)
        if application is None or application.account_id != account_id:
            raise NotFound()
        applications.append(application)
    _one_per_person(applications)
    now = deps.now()
    today = kuwait_today(now)
    try:
        for application in applications:
            _check_payable(application, today)
    except (PaymentInProgress, AlreadyPaid):
        # Maybe by this very key, in a request that won the race since we looked.
        existing = deps.store.idempotency(store_key)
        if existing is None:
            raise
        return _replay(deps, existing, fingerprint), False
    lines = tuple(_line(a) for a in applications)
    payment_id = deps.new_id("pay")
    settings = deps.settings.payments
    first = lines[0]
    draft = PaymentDraft(
        payment_id=payment_id, account_id=account_id, application_id=first.application_id,
        application_revision=first.application_revision, created_at=now.isoformat(), updated_at=now,
        status=PaymentStatus.PENDING, amount_fils=sum(line.amount_fils for line in lines),
        currency=applications[0].currency, lang="ar" if lang == "ar" else "en",
        insured_civil_id=first.insured_civil_id, insured_name=first.insured_name,
        insured_name_ar=first.insured_name_ar, category=first.category, kind=BASKET_KIND,
        period_start=min(line.period_start for line in lines), period_end=max(line.period_end for line in lines),
        gateway=settings.gateway, reconcile_queue=reconcile_queue_of(payment_id),
        reconcile_due_at=(now + timedelta(minutes=settings.reconcile_after_minutes)).isoformat(), lines=lines)
    claim = IdempotencyClaim(key=store_key, fingerprint=fingerprint, payment_id=payment_id, created_at=now,
                             expires_at=now + timedelta(hours=settings.idempotency_hours))
    event = LedgerEvent(f"payment#{payment_id}", "payment_started", now, f"account:{account_id}",
                        account_id=account_id, application_id=first.application_id, payment_id=payment_id,
                        amount_fils=draft.amount_fils, to_status=PaymentStatus.PENDING,
                        details={"application_ids": ids,
                                 "application_revisions": [line.application_revision for line in lines]})
    try:
        payment = deps.store.start_basket(claim=claim, payment=draft, applications=applications, now=now, event=event)
    except StaleState as lost:
        return _lost_start(deps, lost, store_key, fingerprint, applications), False
    return payment_view(_open_session(deps, payment, store_key, now)), True


def _lost_start(deps: PremiumDeps, lost: StaleState, store_key: str, fingerprint: str,
                applications: Sequence[ApplicationRow]) -> dict[str, Any]:
    """Nothing was written: another request with this key won, or an application or insured moved meanwhile."""
    existing = deps.store.idempotency(store_key)
    if existing is not None:
        return _replay(deps, existing, fingerprint)
    failed = lost.failed if isinstance(lost, LostRace) else frozenset()
    if isinstance(lost, LostRace) and lost.conflict and not failed:
        raise PaymentStarting(headers={"Retry-After": "1"}) from lost
    today = kuwait_today(deps.now())
    for application in applications:
        fresh = deps.store.application(application.application_id)
        if fresh is None:
            raise NotFound() from lost
        _check_payable(fresh, today)  # paying or paid meanwhile: said as for one application
    insured = [applications[int(name.split(":", 1)[1])].insured_civil_id for name in failed
               if name.startswith("policy:") and name.split(":", 1)[1].isdigit()]
    if insured:
        # As for one application: a lock is a payment or refund in flight (busy: retry); no lock means the
        # person's cover is no longer what the review priced (covered by another payment meanwhile).
        policies = [deps.store.policy(civil_id) for civil_id in insured]
        if all(policy is not None and policy.lock_ref for policy in policies):
            raise InsuredBusy() from lost
        raise ApplicationOutdated() from lost
    raise StaleState() from lost


# --- capture ------------------------------------------------------------------------------------


def capture_basket(deps: PremiumDeps, payment: PaymentRow, result: GatewayResult, actor: str, now: datetime) -> str:
    """Every line's policy created or extended in one transaction with the payment's capture, or nothing."""
    lines = list(payment.lines or [])
    plans = []
    for line in lines:
        policy = deps.store.policy(line.insured_civil_id)
        if policy is None or policy.lock_ref != f"pay#{payment.payment_id}":
            raise StaleState()
        stored, domain = policy_periods(policy)
        covered = add_period(domain, _covered(line, payment.payment_id))  # the lock guarantees no overlap
        stored.append({"start": line.period_start, "end": line.period_end, "payment_id": payment.payment_id,
                       "status": "active", "category": line.category, "amount_fils": int(line.amount_fils),
                       "account_id": payment.account_id})
        span = current_span(covered)
        assert span is not None
        plans.append((line, policy, stored, span, policy.policy_id or deps.new_id("pol")))

    def write() -> PaymentRow:
        writes, events = [], [payment_event(
            payment, "payment_captured", now, actor, from_status=PaymentStatus.PENDING,
            to_status=PaymentStatus.CAPTURED, details={"transaction_id": result.transaction_id,
                                                       "gateway_ref": result.gateway_ref,
                                                       "application_ids": [line.application_id for line in lines]})]
        for line, policy, stored, span, policy_id in plans:
            number = deps.new_policy_number(kuwait_today(now)) if policy.policy_number is None else None
            writes.append(PolicyWrite(
                insured_civil_id=line.insured_civil_id, policy_id=policy_id, periods=stored,
                start_date=span[0].isoformat(), end_date=span[1].isoformat(), status="active",
                lock_ref=f"pay#{payment.payment_id}", line=line, policy_number=number))
            kind = ("policy_created" if not policy.policy_id
                    else "policy_extended" if line.kind == KIND_RENEWAL else "policy_period_added")
            events.append(LedgerEvent(
                f"policy#{policy_id}", kind, now, actor, account_id=payment.account_id,
                application_id=line.application_id, payment_id=payment.payment_id, policy_id=policy_id,
                amount_fils=int(line.amount_fils), from_status=policy.status, to_status="active",
                details={"period_start": line.period_start, "period_end": line.period_end,
                         "policy_number": number or policy.policy_number}))
        return deps.store.capture_basket(
            payment, policies=writes, now=now, transaction_id=result.transaction_id,
            gateway_ref=result.gateway_ref, gateway_result=result.raw_result or "captured", events=events)

    captured = drawing_policy_numbers(deps, payment, write)
    if captured is None:
        return "unchanged"
    log_event("payment_captured", payment_id=payment.payment_id, amount_fils=int(payment.amount_fils),
              policies=len(plans))
    send_basket_receipt(deps, captured, now, refunded_fils=None)
    cover_changed(deps, [line.insured_civil_id for line in lines])
    return "captured"


def _covered(line: PaymentLineRow, payment_id: str) -> CoveredPeriod:
    return CoveredPeriod(date.fromisoformat(line.period_start), date.fromisoformat(line.period_end), payment_id)


def send_basket_receipt(deps: PremiumDeps, payment: PaymentRow, at: datetime, *, refunded_fils: int | None,
                        reason: str | None = None, shares: Sequence[PaymentLineRow] = ()) -> None:
    """One receipt for the basket (each insured a row), or for the shares a refund gave back.

    Never fails what it tells of: the money and the policies are written before it is called, so a
    failure here (the account's contact unreadable, a message unbuildable or unsent) is an error line.
    """
    try:
        messages = _basket_receipts(deps, payment, at, refunded_fils=refunded_fils, reason=reason, shares=shares)
    except Exception as exc:
        log_error("receipt_not_sent", payment_id=payment.payment_id, channel=None, error=type(exc).__name__)
        return
    for message in messages:
        try:
            deps.send(message)
        except Exception:
            log_error("receipt_not_sent", payment_id=payment.payment_id, channel=message.channel)


def _basket_receipts(deps: PremiumDeps, payment: PaymentRow, at: datetime, *, refunded_fils: int | None,
                     reason: str | None, shares: Sequence[PaymentLineRow]) -> list[Message]:
    contact = deps.contact(payment.account_id)
    if contact is None:
        return []
    lines = list(shares) if refunded_fils is not None else list(payment.lines or [])
    facts = premium_messages.BasketFacts(
        payment_id=payment.payment_id, at=at, transaction_id=payment.transaction_id, reason=reason,
        amount_fils=refunded_fils if refunded_fils is not None else int(payment.amount_fils),
        shares=tuple(premium_messages.Share(
            insured_name=line.insured_name, category=CATEGORIES_BY_CODE[line.category].label,
            period_start=date.fromisoformat(line.period_start),
            period_last_day=Period(date.fromisoformat(line.period_start),
                                   date.fromisoformat(line.period_end)).last_day,
            amount_fils=int(line.amount_fils)) for line in lines))
    refund = refunded_fils is not None
    messages = []
    if contact.email:
        messages.append(premium_messages.basket_receipt_email(contact.email, facts, refund=refund))
    if contact.phone:
        messages.append(premium_messages.basket_receipt_sms(contact.phone, contact.language, facts, refund=refund))
    return messages


# --- refunds ------------------------------------------------------------------------------------


def _shares(payment: PaymentRow, body: Mapping[str, Any]) -> list[PaymentLineRow]:
    """The lines a refund asks for: one application's (`application_id`), or every one not refunded yet."""
    lines = list(payment.lines or [])
    wanted = body.get("application_id")
    if wanted is None:
        open_lines = [line for line in lines if line.refund_status != RefundStatus.REFUNDED]
        if not open_lines:
            raise AlreadyRefunded()
        return open_lines
    match = [line for line in lines if line.application_id == wanted]
    if not match:
        errors = FieldErrors()
        errors.add("application_id", "not_in_payment", "This application was not paid by this payment.",
                   "لم يُدفع هذا الطلب بهذه الدفعة.")
        errors.raise_if_any()
    if match[0].refund_status == RefundStatus.REFUNDED:
        raise AlreadyRefunded()
    return match


def _check_shares(deps: PremiumDeps, payment: PaymentRow, shares: Sequence[PaymentLineRow], now: datetime) -> None:
    if payment.refund_status == RefundStatus.REQUESTED:
        raise RefundInProgress()
    for line in shares:
        # Each share by the one rule: before its cover starts or within the window of the payment.
        check_refundable(status=payment.status, refund_status=None, captured_at=payment.captured_at,
                         period_start=date.fromisoformat(line.period_start), now=now,
                         window_days=deps.settings.payments.refund_window_days)


def request_basket_refund(deps: PremiumDeps, account_id: str, payment: PaymentRow,
                          body: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
    """Refund a basket whole (no application_id) or one application's share; (view, 200 or 202)."""
    reason = check_refund_reason(body.get("reason"))
    now = deps.now()
    if payment.status == PaymentStatus.REFUNDED:
        raise AlreadyRefunded()
    shares = _shares(payment, body)
    _check_shares(deps, payment, shares, now)
    for line in shares:
        policy = deps.store.policy(line.insured_civil_id)
        if policy is not None and policy.end_date and policy.end_date != line.period_end:
            raise LaterPeriodPaid()
    ids = [line.application_id for line in shares]
    amount = sum(int(line.amount_fils) for line in shares)
    try:
        deps.store.request_basket_refund(payment, application_ids=ids, amount_fils=amount, reason=reason, now=now,
                                         event=payment_event(payment, "refund_requested", now, f"account:{account_id}",
                                                             amount_fils=amount, from_status=payment.refund_status,
                                                             to_status=RefundStatus.REQUESTED,
                                                             details={"reason": reason, "application_ids": ids,
                                                                      "refund_fils": amount}))
    except StaleState as lost:
        fresh = deps.store.payment(payment.payment_id)
        if fresh is None:
            raise NotFound() from lost
        # A racing refund won: this share (or all) refunded meanwhile, or a refund is in flight.
        if fresh.status == PaymentStatus.REFUNDED:
            raise AlreadyRefunded() from lost
        fresh_shares = _shares(fresh, body)
        _check_shares(deps, fresh, fresh_shares, now)
        if isinstance(lost, LostRace) and any(name.startswith("policy") for name in lost.failed):
            raise InsuredBusy() from lost
        raise
    requested = deps.store.payment(payment.payment_id)
    if requested is None:
        raise NotFound()
    try:
        answer = deps.gateway.refund(requested.payment_id, requested.gateway_ref or requested.payment_id, amount)
    except deps.gateway_errors as exc:
        log_error("refund_outcome_unknown", payment_id=requested.payment_id, reason=str(exc))
        return payment_view(requested), 202
    if str(answer.status) != RefundStatus.REFUNDED:
        deps.store.fail_refund(requested, error_code=answer.error_code, now=deps.now(), event=payment_event(
            requested, "refund_failed", deps.now(), f"gateway:{deps.gateway.name}", amount_fils=amount,
            from_status=RefundStatus.REQUESTED, to_status=RefundStatus.FAILED,
            details={"error_code": answer.error_code, "application_ids": ids}))
        log_event("refund_failed", payment_id=requested.payment_id, error_code=answer.error_code)
        failed = deps.store.payment(requested.payment_id)
        raise RefundFailed(details={"payment": payment_view(failed or requested)})
    try:
        recorded = complete_basket_refund(deps, requested, answer.refund_ref, reason, f"gateway:{deps.gateway.name}")
    except Exception as exc:  # any failure at all: the money already went back
        from chalicelib.premiums.refunds import _refunded_but_not_recorded

        return _refunded_but_not_recorded(deps, requested, answer.refund_ref, exc)
    return payment_view(recorded), 200


def complete_basket_refund(deps: PremiumDeps, payment: PaymentRow, refund_ref: str | None, reason: str,
                           actor: str) -> PaymentRow:
    """Write the shares' refund the gateway made: their periods cancelled, the insured unlocked; a receipt."""
    now = deps.now()
    attempt = payment.refunds[-1] if payment.refunds else None
    wanted = set((attempt.shares or "").split()) if attempt is not None else set()
    shares = [line for line in payment.lines or [] if line.application_id in wanted]
    if not shares:
        raise StaleState()
    writes, events = [], []
    amount = sum(int(line.amount_fils) for line in shares)
    # The payment is refunded once every share is back (the store's write says the same: all_back).
    all_back = all(line.application_id in wanted or line.refund_status == RefundStatus.REFUNDED
                   for line in payment.lines or [])
    events.append(payment_event(payment, "refunded", now, actor, amount_fils=amount,
                                from_status=PaymentStatus.CAPTURED,
                                to_status=PaymentStatus.REFUNDED if all_back else PaymentStatus.CAPTURED, details={
                                    "refund_ref": refund_ref, "reason": reason, "refund_fils": amount,
                                    "application_ids": sorted(wanted)}))
    cancelled: list[str] = []
    for line in shares:
        policy = deps.store.policy(line.insured_civil_id)
        if policy is None or not policy.policy_id:
            raise StaleState()
        stored, domain = policy_periods(policy)
        remaining = cancel_period(domain, payment.payment_id)
        for period in stored:
            if period["payment_id"] == payment.payment_id:
                period["status"] = "cancelled"
        span = current_span(remaining)
        start, end = span if span else (None, None)
        status = "active" if end else "cancelled"
        if status == "cancelled":
            cancelled.append(line.insured_civil_id)
        writes.append(PolicyWrite(insured_civil_id=line.insured_civil_id, policy_id=policy.policy_id, periods=stored,
                                  start_date=start.isoformat() if start else None,
                                  end_date=end.isoformat() if end else None, status=status,
                                  lock_ref=f"refund#{payment.payment_id}"))
        events.append(LedgerEvent(
            f"policy#{policy.policy_id}", "policy_period_cancelled", now, actor, account_id=payment.account_id,
            application_id=line.application_id, payment_id=payment.payment_id, policy_id=policy.policy_id,
            amount_fils=-int(line.amount_fils), from_status=policy.status, to_status=status,
            details={"period_start": line.period_start, "period_end": line.period_end}))
    try:
        deps.store.complete_basket_refund(payment, policies=writes, refund_ref=refund_ref, now=now, events=events)
    except StaleState as exc:
        raise AlreadyRefunded() from exc
    log_event("refunded", payment_id=payment.payment_id, amount_fils=amount, shares=len(shares))
    if cancelled and deps.revoke_cards_of is not None:
        try:
            deps.revoke_cards_of(cancelled)
        except Exception as exc:
            log_error("card_revocation_failed", payment_id=payment.payment_id, error=type(exc).__name__)
    refunded = deps.store.payment(payment.payment_id) or payment
    send_basket_receipt(deps, refunded, now, refunded_fils=amount, reason=reason, shares=shares)
    return refunded
