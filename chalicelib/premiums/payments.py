"""Paying a confirmed application: start (idempotent), settle from a callback or reconciliation, history.

Starting a payment is one transaction that claims the Idempotency-Key, creates the
payment, moves the application to payment_pending and locks the insured's
coverage; only the request whose transaction wins opens a gateway session, so
twenty requests with one key make one payment and one session. Settling is one
path for callbacks and reconciliation: the capture is one transaction (payment
captured, policy created or extended, application paid, ledger events); a
repeated result finds the payment no longer pending and changes nothing.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.errors import NotFound, StaleState
from chalicelib.kernel.kuwait_time import kuwait_today
from chalicelib.kernel.money import CURRENCY
from chalicelib.logs import log_alert, log_error, log_event
from chalicelib.platform.jobs import shard_of
from chalicelib.platform.messages import Message
from chalicelib.premiums import messages as premium_messages
from chalicelib.premiums.ledger import LedgerEvent
from chalicelib.premiums.payment_rules import (
    AlreadyPaid,
    ApplicationOutdated,
    ApplicationStatus,
    ConfirmationRequired,
    CoveredPeriod,
    GatewayUnavailable,
    IdempotencyKeyReused,
    InsuredBusy,
    InvalidCallback,
    PaymentInProgress,
    PaymentStarting,
    PaymentStatus,
    add_period,
    check_idempotency_key,
    current_span,
    is_id,
    request_fingerprint,
)
from chalicelib.premiums.ports import (
    ApplicationRow,
    CallbackAck,
    GatewayResult,
    IdempotencyClaim,
    IdempotencyRow,
    LostRace,
    PaymentDraft,
    PaymentRow,
    PolicyRow,
    PremiumDeps,
    StoredPeriod,
)
from chalicelib.premiums.rules import CATEGORIES_BY_CODE, KIND_RENEWAL, Period

# How long a request that lost the race waits for the winner's gateway session.
SESSION_WAIT_S = 5.0
SESSION_POLL_S = 0.05
# A payment with no session after this long lost its request (a crash): it is closed, the key freed.
SESSION_ABANDONED_S = 60
RECONCILE_BATCH = 50
# Policy numbers drawn before a capture gives up (each draw collides with odds of ~1 in 10**7 or less).
POLICY_NUMBER_DRAWS = 5


def _key(account_id: str, idempotency_key: str) -> str:
    # Scoped to the account: two people's keys never meet; the header itself is not stored.
    return f"{account_id}#{hashlib.sha256(idempotency_key.encode('utf-8')).hexdigest()}"


def _period(record: PaymentRow) -> dict[str, str]:
    start, end = date.fromisoformat(record.period_start), date.fromisoformat(record.period_end)
    return {"start_date": start.isoformat(), "end_date": end.isoformat(), "last_day": Period(start, end).last_day
            .isoformat()}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def payment_view(record: PaymentRow) -> dict[str, Any]:
    """A payment as the app shows it: status, amount in fils, what it covers, its refunds."""
    refunds = [
        {"status": r.status, "amount_fils": int(r.amount_fils), "currency": CURRENCY, "reason": r.reason,
         "requested_at": _iso(r.requested_at), "completed_at": _iso(r.completed_at)}
        for r in (record.refunds or [])
    ]
    return {
        "payment_id": record.payment_id,
        "status": record.status,
        "application_id": record.application_id,
        "amount_fils": int(record.amount_fils),
        "currency": record.currency,
        # Only a pending payment can still be paid on the gateway's page.
        "payment_url": record.payment_url if record.status == PaymentStatus.PENDING else None,
        "insured": {"civil_id": record.insured_civil_id, "name": record.insured_name,
                    "name_ar": record.insured_name_ar},
        "category": record.category,
        "kind": record.kind,
        "period": _period(record),
        "gateway": record.gateway,
        "transaction_id": record.transaction_id,
        "created_at": record.created_at,
        "captured_at": _iso(record.captured_at),
        "refunded_fils": int(record.refunded_fils or 0),
        "refund_status": record.refund_status,
        "refunds": refunds,
        # A family basket: its applications, each with its share (the fields above are the first one's).
        "application_ids": [line.application_id for line in record.lines] if record.lines else None,
        "lines": _lines_view(record) if record.lines else None,
    }


def _lines_view(record: PaymentRow) -> list[dict[str, Any]]:
    """A basket's lines as the app shows them: who, what period, how much, refunded or not."""
    return [
        {"application_id": line.application_id,
         "insured": {"civil_id": line.insured_civil_id, "name": line.insured_name, "name_ar": line.insured_name_ar},
         "category": line.category, "kind": line.kind, "amount_fils": int(line.amount_fils), "currency": CURRENCY,
         "period": {"start_date": line.period_start, "end_date": line.period_end,
                    "last_day": Period(date.fromisoformat(line.period_start),
                                       date.fromisoformat(line.period_end)).last_day.isoformat()},
         "refund_status": line.refund_status}
        for line in record.lines or []]


def payment_event(payment: PaymentRow, kind: str, at: datetime, actor: str, *, amount_fils: int | None = None,
                  **fields: Any) -> LedgerEvent:
    """An event of the payment's stream; `amount_fils` is the money it moves when that is not the whole payment
    (a basket share's refund), so the ledger never records 85,000 fils for a share of 30,000."""
    amount = int(payment.amount_fils) if amount_fils is None else int(amount_fils)
    return LedgerEvent(f"payment#{payment.payment_id}", kind, at, actor, account_id=payment.account_id,
                       application_id=payment.application_id, payment_id=payment.payment_id,
                       amount_fils=amount, **fields)


# --- start --------------------------------------------------------------------------------------


def _check_payable(application: ApplicationRow, today: date) -> None:
    status = application.status
    if status == ApplicationStatus.PAYMENT_PENDING:
        raise PaymentInProgress()
    if status == ApplicationStatus.PAID:
        raise AlreadyPaid()
    confirmed = application.confirmed_revision is not None and \
        int(application.confirmed_revision) == int(application.revision)
    if status != ApplicationStatus.CONFIRMED or not confirmed:
        raise ConfirmationRequired()
    start = date.fromisoformat(application.start_date)
    # A new policy starts the day it is applied for; a renewal cannot start in the past.
    if (application.kind == KIND_RENEWAL and start < today) or (application.kind != KIND_RENEWAL and start != today):
        raise ApplicationOutdated()


def start_payment(deps: PremiumDeps, *, account_id: str, application_id: str, idempotency_key: object,
                  body: Mapping[str, Any], lang: str) -> tuple[dict[str, Any], bool]:
    """One payment per Idempotency-Key: (its view, whether this request created it)."""
    key = check_idempotency_key(idempotency_key)
    store_key = _key(account_id, key)
    fingerprint = request_fingerprint("POST /v1/applications/{id}/pay", application_id, dict(body))
    existing = deps.store.idempotency(store_key)
    if existing is not None:
        return _replay(deps, existing, fingerprint), False

    application = deps.store.application(application_id) if is_id(application_id) else None
    if application is None or application.account_id != account_id:
        raise NotFound()
    now = deps.now()
    try:
        _check_payable(application, kuwait_today(now))
    except (PaymentInProgress, AlreadyPaid):
        # Maybe by this very key, in a request that won the race since we looked.
        existing = deps.store.idempotency(store_key)
        if existing is None:
            raise
        return _replay(deps, existing, fingerprint), False
    payment_id = deps.new_id("pay")
    settings = deps.settings.payments
    draft = PaymentDraft(
        payment_id=payment_id, account_id=account_id, application_id=application_id,
        application_revision=int(application.revision), created_at=now.isoformat(), updated_at=now,
        status=PaymentStatus.PENDING, amount_fils=int(application.amount_fils), currency=application.currency,
        lang="ar" if lang == "ar" else "en", insured_civil_id=application.insured_civil_id,
        insured_name=application.insured_name, insured_name_ar=application.insured_name_ar,
        category=application.category, kind=application.kind,
        period_start=application.start_date, period_end=application.end_date, gateway=settings.gateway,
        passport_expiry=application.passport_expiry, years=int(application.years),
        reconcile_queue=reconcile_queue_of(payment_id),
        reconcile_due_at=(now + timedelta(minutes=settings.reconcile_after_minutes)).isoformat())
    claim = IdempotencyClaim(key=store_key, fingerprint=fingerprint, payment_id=payment_id, created_at=now,
                             expires_at=now + timedelta(hours=settings.idempotency_hours))
    event = LedgerEvent(f"payment#{payment_id}", "payment_started", now, f"account:{account_id}",
                        account_id=account_id, application_id=application_id, payment_id=payment_id,
                        amount_fils=draft.amount_fils, to_status=PaymentStatus.PENDING,
                        details={"application_revision": int(application.revision)})
    try:
        payment = deps.store.start_payment(claim=claim, payment=draft, application=application,
                                           renewal=application.kind == KIND_RENEWAL, now=now, event=event)
    except StaleState as lost:
        return _lost_start(deps, lost, store_key, fingerprint, application), False
    return payment_view(_open_session(deps, payment, store_key, now)), True


def _lost_start(deps: PremiumDeps, lost: StaleState, store_key: str, fingerprint: str,
                application: ApplicationRow) -> dict[str, Any]:
    """Our transaction wrote nothing: another request with this key won, or the application cannot be paid."""
    failed = lost.failed if isinstance(lost, LostRace) else frozenset()
    existing = deps.store.idempotency(store_key)
    if existing is not None:
        return _replay(deps, existing, fingerprint)
    if isinstance(lost, LostRace) and lost.conflict and not failed:
        raise PaymentStarting(headers={"Retry-After": "1"}) from lost
    fresh = deps.store.application(application.application_id)
    if fresh is None:
        raise NotFound() from lost
    _check_payable(fresh, kuwait_today(deps.now()))
    if "policy" in failed:
        policy = deps.store.policy(application.insured_civil_id)
        if policy is not None and policy.lock_ref:
            raise InsuredBusy() from lost
        raise ApplicationOutdated() from lost
    raise StaleState() from lost


def _replay(deps: PremiumDeps, claim: IdempotencyRow, fingerprint: str) -> dict[str, Any]:
    """The payment a key already made, once its gateway session is open."""
    if claim.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    deadline = time.monotonic() + SESSION_WAIT_S
    pause = SESSION_POLL_S
    while True:
        payment = deps.store.payment(claim.payment_id)
        if payment is None:
            raise StaleState()
        if payment.payment_url or payment.status != PaymentStatus.PENDING:
            return payment_view(payment)
        if time.monotonic() >= deadline:
            break
        deps.sleep(pause)
        pause = min(pause * 2, 0.5)  # back off: the waiters must not starve the request doing the work
    created = datetime.fromisoformat(payment.created_at)
    if deps.now() - created > timedelta(seconds=SESSION_ABANDONED_S):
        # The request that made it died before opening a session: close it and free the key.
        _close(deps, payment, PaymentStatus.EXPIRED, "session_never_opened", "system", release_key=claim.key)
        raise GatewayUnavailable()
    raise PaymentStarting(headers={"Retry-After": "1"})


def _open_session(deps: PremiumDeps, payment: PaymentRow, store_key: str, now: datetime) -> PaymentRow:
    settings = deps.settings
    callback_url = f"{settings.public_base_url}/v1/payments/callback"
    refused: tuple[type[Exception], ...] = (*deps.gateway_errors, ValueError)
    try:
        session = deps.gateway.create_session(payment.payment_id, int(payment.amount_fils), payment.currency,
                                              settings.payments.return_url, callback_url, payment.lang)
    except refused as exc:
        log_error("payment_session_failed", payment_id=payment.payment_id, reason=str(exc))
        # No page was ever shown, so no money can move: close it and let the same key try again.
        _close(deps, payment, PaymentStatus.EXPIRED, "session_failed", "system", release_key=store_key)
        raise GatewayUnavailable() from exc
    payment = deps.store.attach_session(payment, session.gateway_ref, session.payment_url, now, payment_event(
        payment, "payment_session_opened", now, f"account:{payment.account_id}",
        details={"gateway": deps.gateway.name, "gateway_ref": session.gateway_ref}))
    log_event("payment_started", payment_id=payment.payment_id, amount_fils=int(payment.amount_fils))
    return payment


# --- settle (callbacks and reconciliation share this path) --------------------------------------


def handle_callback(deps: PremiumDeps, body: bytes, headers: Mapping[str, str]) -> CallbackAck:
    """Verify and apply the gateway's posted result; returns the acknowledgement the gateway expects."""
    gateway = deps.gateway
    try:
        result = gateway.parse_callback(body, headers)
    except deps.callback_errors as exc:
        log_event("payment_callback_rejected", gateway=gateway.name, reason=getattr(exc, "reason", str(exc)))
        raise InvalidCallback() from exc
    payment = deps.store.payment(result.payment_id) if result.payment_id else None
    if payment is None:
        log_event("payment_callback_rejected", gateway=gateway.name, reason="unknown payment")
        raise InvalidCallback()
    if not result.confirmed:
        # An unauthenticated claim (KNET posts AES without a MAC): ask the gateway itself.
        try:
            result = gateway.query(payment.payment_id, payment.gateway_ref, int(payment.amount_fils))
        except deps.gateway_errors as exc:
            log_error("payment_query_failed", payment_id=payment.payment_id, reason=str(exc))
            return gateway.callback_ack(result)  # reconciliation will ask again
    settle(deps, payment, result, f"gateway:{gateway.name}")
    return gateway.callback_ack(result)


def settle(deps: PremiumDeps, payment: PaymentRow, result: GatewayResult, actor: str) -> str:
    """Apply a confirmed gateway result to a payment; what happened, in one word."""
    if result.payment_id != payment.payment_id:
        log_error("payment_result_mismatch", payment_id=payment.payment_id, reason="payment id")
        return "mismatch"
    session_ref = deps.gateway.session_ref(result)
    if payment.gateway_ref and session_ref != payment.gateway_ref:
        # Signed by the gateway, yet about a session this payment never opened: applying it would
        # capture this payment on the strength of another session's money (and a refund would then
        # go to a session that holds none). Reconciliation asks about the stored session instead.
        return _refuse(deps, payment, actor, reason="gateway_ref", gateway_ref=session_ref,
                       expected_gateway_ref=payment.gateway_ref, status=str(result.status))
    if payment.status != PaymentStatus.PENDING:
        if result.status == "captured" and payment.status in (PaymentStatus.DECLINED, PaymentStatus.EXPIRED):
            # Money moved for a payment we closed: operations must refund or apply it by hand.
            log_error("payment_captured_after_close", payment_id=payment.payment_id, status=payment.status)
        return "unchanged"
    if result.amount_fils is not None and int(result.amount_fils) != int(payment.amount_fils):
        log_error("payment_amount_mismatch", payment_id=payment.payment_id, expected=int(payment.amount_fils),
                  got=int(result.amount_fils))
        return "mismatch"
    now = deps.now()
    status = str(result.status)
    if status == "captured":
        return _capture(deps, payment, result, actor, now)
    if status == "declined":
        return _close(deps, payment, PaymentStatus.DECLINED, result.raw_result or "declined", actor)
    created = datetime.fromisoformat(payment.created_at)
    patience = timedelta(minutes=2 * deps.settings.payments.reconcile_after_minutes)
    if status == "not_found" and now - created > patience:
        # The gateway never saw it: the page was never opened, or abandoned long ago.
        return _close(deps, payment, PaymentStatus.EXPIRED, "not_found", actor)
    deps.store.postpone_reconciliation(
        payment.payment_id, now + timedelta(minutes=deps.settings.payments.reconcile_after_minutes))
    return "pending"


def _refuse(deps: PremiumDeps, payment: PaymentRow, actor: str, **details: Any) -> str:
    """A gateway result not applied: an error line for operations and an audit event; nothing else changes."""
    log_alert("payment_result_mismatch", payment_id=payment.payment_id, reason=details.get("reason"),
              gateway=deps.gateway.name)
    try:
        deps.store.append_events([payment_event(payment, "payment_result_refused", deps.now(), actor,
                                                details=details)])
    except Exception:
        log_error("ledger_event_not_written", payment_id=payment.payment_id, kind="payment_result_refused")
    return "mismatch"


def _close(deps: PremiumDeps, payment: PaymentRow, status: str, why: str, actor: str, *,
           release_key: str | None = None) -> str:
    now = deps.now()
    event = payment_event(payment, f"payment_{status}", now, actor, from_status=PaymentStatus.PENDING, to_status=status,
                   details={"gateway_result": why})
    try:
        deps.store.close_unpaid(payment, status=status, now=now, gateway_result=why, release_key=release_key,
                                events=[event])
    except StaleState:
        fresh = deps.store.payment(payment.payment_id)
        if fresh is not None and fresh.status != PaymentStatus.PENDING:
            return "unchanged"  # a racing duplicate settled it first
        raise
    log_event("payment_closed", payment_id=payment.payment_id, status=status)
    return status


def policy_periods(policy: PolicyRow | None) -> tuple[list[StoredPeriod], tuple[CoveredPeriod, ...]]:
    """A policy's periods as the use case rewrites them, and as the rules see them."""
    rows = (policy.periods if policy else None) or []
    stored: list[StoredPeriod] = [
        {"start": p.start, "end": p.end, "payment_id": p.payment_id, "status": p.status, "category": p.category,
         "amount_fils": int(p.amount_fils), "account_id": p.account_id}
        for p in rows]
    domain = tuple(CoveredPeriod(date.fromisoformat(p.start), date.fromisoformat(p.end), p.payment_id, p.status)
                   for p in rows)
    return stored, domain


def _capture(deps: PremiumDeps, payment: PaymentRow, result: GatewayResult, actor: str, now: datetime) -> str:
    if payment.lines:
        from chalicelib.premiums.baskets import capture_basket  # it builds on this module

        return capture_basket(deps, payment, result, actor, now)
    policy = deps.store.policy(payment.insured_civil_id)
    if policy is None or policy.lock_ref != f"pay#{payment.payment_id}":
        raise StaleState()
    stored, domain = policy_periods(policy)
    new = CoveredPeriod(date.fromisoformat(payment.period_start), date.fromisoformat(payment.period_end),
                        payment.payment_id)
    covered = add_period(domain, new)  # the lock guarantees no overlap; this says so loudly if not
    stored.append({"start": payment.period_start, "end": payment.period_end, "payment_id": payment.payment_id,
                   "status": "active", "category": payment.category, "amount_fils": int(payment.amount_fils),
                   "account_id": payment.account_id})
    policy_id = policy.policy_id or deps.new_id("pol")
    if not policy.policy_id:
        policy_kind = "policy_created"
    else:
        policy_kind = "policy_extended" if payment.kind == KIND_RENEWAL else "policy_period_added"
    span = current_span(covered)
    assert span is not None
    # A policy is numbered when it is issued; one issued before numbers existed gets its number now.
    issue_number = policy.policy_number is None
    def write() -> PaymentRow:
        number = deps.new_policy_number(kuwait_today(now)) if issue_number else policy.policy_number
        events = [
            payment_event(payment, "payment_captured", now, actor, policy_id=policy_id,
                          from_status=PaymentStatus.PENDING, to_status=PaymentStatus.CAPTURED,
                          details={"transaction_id": result.transaction_id, "gateway_ref": result.gateway_ref}),
            LedgerEvent(f"policy#{policy_id}", policy_kind, now, actor,
                        account_id=payment.account_id, application_id=payment.application_id,
                        payment_id=payment.payment_id, policy_id=policy_id, amount_fils=int(payment.amount_fils),
                        from_status=policy.status, to_status="active",
                        details={"period_start": payment.period_start, "period_end": payment.period_end,
                                 "policy_number": number}),
        ]
        return deps.store.capture(
            payment, policy_id=policy_id, periods=stored, start_date=span[0].isoformat(),
            end_date=span[1].isoformat(), now=now, transaction_id=result.transaction_id,
            gateway_ref=result.gateway_ref, gateway_result=result.raw_result or "captured", events=events,
            policy_number=number if issue_number else None)

    captured = drawing_policy_numbers(deps, payment, write)
    if captured is None:
        return "unchanged"
    log_event("payment_captured", payment_id=payment.payment_id, policy_id=policy_id,
              amount_fils=int(payment.amount_fils))
    send_receipts(deps, captured, now, refund=False)
    cover_changed(deps, [payment.insured_civil_id])
    return "captured"


def drawing_policy_numbers(deps: PremiumDeps, payment: PaymentRow,
                           write: Callable[[], PaymentRow]) -> PaymentRow | None:
    """A capture's write, drawn again when a policy number it drew is another policy's (27.5 billion a
    year: rare); None when another caller settled the payment meanwhile. `write` draws its numbers anew
    each time. Past POLICY_NUMBER_DRAWS (never in practice) the payment stays pending for reconciliation."""
    for _attempt in range(POLICY_NUMBER_DRAWS):
        try:
            return write()
        except StaleState as lost:
            if isinstance(lost, LostRace) and lost.failed == {"policy_number"}:
                log_event("policy_number_taken", payment_id=payment.payment_id)
                continue
            fresh = deps.store.payment(payment.payment_id)
            if fresh is not None and fresh.status != PaymentStatus.PENDING:
                return None
            raise
    log_alert("policy_number_draws_exhausted", payment_id=payment.payment_id)
    raise StaleState()


def cover_changed(deps: PremiumDeps, civil_ids: list[str]) -> None:
    """Tell the wallet passes of these insured that their cover changed; a failure is logged, never the payment's."""
    if deps.cover_changed_of is None or not civil_ids:
        return
    try:
        deps.cover_changed_of(civil_ids)
    except Exception as error:  # the money and the policy are settled; the pass catches up on its next fetch
        log_error("wallet_update_not_queued", policies=len(civil_ids), error=type(error).__name__)


def send_receipts(deps: PremiumDeps, payment: PaymentRow, at: datetime, *, refund: bool,
                  reason: str | None = None) -> None:
    """The payment's (or refund's) receipt by email and SMS; a failure is an error line, never the payment's."""
    try:
        messages = _receipts(deps, payment, at, refund=refund, reason=reason)
    except Exception as exc:  # the account's contact unreadable: the money and the policy are settled
        log_error("receipt_not_sent", payment_id=payment.payment_id, channel=None, error=type(exc).__name__)
        return
    for message in messages:
        try:
            deps.send(message)
        except Exception:
            # The money and the policy are settled; a lost receipt is logged, never a failed payment.
            log_error("receipt_not_sent", payment_id=payment.payment_id, channel=message.channel)


def _receipts(deps: PremiumDeps, payment: PaymentRow, at: datetime, *, refund: bool,
              reason: str | None) -> list[Message]:
    contact = deps.contact(payment.account_id)
    if contact is None:
        return []
    start, end = date.fromisoformat(payment.period_start), date.fromisoformat(payment.period_end)
    facts = premium_messages.ReceiptFacts(
        payment_id=payment.payment_id, insured_name=payment.insured_name, insured_civil_id=payment.insured_civil_id,
        category=CATEGORIES_BY_CODE[payment.category].label, period_start=start,
        period_last_day=Period(start, end).last_day, amount_fils=int(payment.amount_fils), at=at,
        transaction_id=payment.transaction_id, reason=reason)
    email = premium_messages.refund_receipt_email if refund else premium_messages.payment_receipt_email
    sms = premium_messages.refund_receipt_sms if refund else premium_messages.payment_receipt_sms
    messages = []
    if contact.email:
        messages.append(email(contact.email, facts))
    if contact.phone:
        messages.append(sms(contact.phone, contact.language, facts))
    return messages


# --- reconciliation -----------------------------------------------------------------------------


def reconcile_queue_of(payment_id: str) -> str:
    """The reconciliation index's partition of a pending payment: one of 8 shards, never one hot key."""
    return f"pending-{shard_of(payment_id)}"


def refund_queue_of(payment_id: str) -> str:
    """The index's partition of a payment whose gateway-confirmed refund awaits its record (refunds.py)."""
    return f"refund-{shard_of(payment_id)}"


def reconcile_due(deps: PremiumDeps, *, limit: int = RECONCILE_BATCH,
                  out_of_time: Callable[[], bool] = lambda: False) -> dict[str, int]:
    """Ask the gateway about pending payments whose time came (an index query, never a Scan) and settle them."""
    outcomes: Counter[str] = Counter()
    for payment in deps.store.due_payments(deps.now(), limit):
        if out_of_time():
            break  # the rest stay due: the next run takes them (platform.schedule's margin)
        try:
            result = deps.gateway.query(payment.payment_id, payment.gateway_ref, int(payment.amount_fils))
        except deps.gateway_errors as exc:
            log_error("payment_query_failed", payment_id=payment.payment_id, reason=str(exc))
            deps.store.postpone_reconciliation(
                payment.payment_id, deps.now() + timedelta(minutes=deps.settings.payments.reconcile_after_minutes))
            outcomes["unreachable"] += 1
            continue
        try:
            outcomes[settle(deps, payment, result, "reconciliation")] += 1
        except StaleState:
            outcomes["raced"] += 1
    return dict(outcomes)


# --- history ------------------------------------------------------------------------------------


def list_payments(deps: PremiumDeps, account_id: str) -> list[dict[str, Any]]:
    return [payment_view(p) for p in deps.store.payments_of(account_id)]


def get_payment(deps: PremiumDeps, account_id: str, payment_id: str) -> dict[str, Any]:
    payment = deps.store.payment(payment_id) if is_id(payment_id) else None
    if payment is None or payment.account_id != account_id:
        raise NotFound()
    return payment_view(payment)


def policy_view(record: PolicyRow, today: date) -> dict[str, Any]:
    periods = [
        {"start_date": p.start, "end_date": p.end,
         "last_day": Period(date.fromisoformat(p.start), date.fromisoformat(p.end)).last_day.isoformat(),
         "payment_id": p.payment_id, "status": p.status, "category": p.category, "amount_fils": int(p.amount_fils),
         "currency": CURRENCY}
        for p in (record.periods or [])
    ]
    if record.status != "active" or not record.end_date:
        status = "cancelled"
    elif date.fromisoformat(record.end_date) <= today:
        status = "expired"
    elif record.start_date and date.fromisoformat(record.start_date) > today:
        status = "upcoming"
    else:
        status = "active"
    # The internal policy_id stays out: people read, say and type the policy number.
    return {
        "policy_number": record.policy_number, "status": status,
        "insured": {"civil_id": record.insured_civil_id, "name": record.insured_name,
                    "name_ar": record.insured_name_ar},
        "category": record.category, "start_date": record.start_date, "end_date": record.end_date,
        "last_day": (date.fromisoformat(record.end_date) - timedelta(days=1)).isoformat() if record.end_date else None,
        "periods": periods,
    }


def list_policies(deps: PremiumDeps, account_id: str) -> list[dict[str, Any]]:
    today = kuwait_today(deps.now())
    return [policy_view(p, today) for p in deps.store.policies_of(account_id) if p.policy_id]
