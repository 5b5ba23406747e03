"""An in-memory premium store that keeps PremiumStore's promises: all-or-nothing writes, the same conditions.

Every write first checks the state each item must be in (the conditions store.py sends DynamoDB), names
every item that is not in it in one `LostRace`, and only then changes anything, ledger events included.
Reads hand out copies, as a database would. tests/contract/test_premium_store_contract.py runs the
same suite against this fake and against the real store on moto.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from chalicelib.platform.jobs import shard_of
from chalicelib.platform.messages import Message
from chalicelib.premiums.gateway import CallbackRejected, GatewayError
from chalicelib.premiums.gateway.sandbox import InMemorySandboxStore, SandboxGateway
from chalicelib.premiums.ledger import GENESIS, LedgerEvent
from chalicelib.premiums.payment_rules import ApplicationStatus, PaymentStatus, RefundStatus
from chalicelib.premiums.ports import (
    ApplicationDraft,
    ApplicationRow,
    Contact,
    IdempotencyClaim,
    LostRace,
    PaymentDraft,
    PaymentRow,
    PolicyRow,
    PolicyWrite,
    PremiumDeps,
    RefundAttemptRow,
    StoredPeriod,
)
from chalicelib.premiums.renewal_rules import first_due_on
from chalicelib.premiums.rules import DEFAULT_TARIFFS
from chalicelib.settings import get_settings

SHARDS = 8
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@dataclass
class FakeApplication:
    application_id: str
    account_id: str
    created_at: str
    updated_at: datetime
    status: str
    revision: int
    insured_civil_id: str
    insured_name: str
    category: str
    sponsor_civil_id: str
    sponsor_name: str
    kind: str
    passport_expiry: str
    years: int
    start_date: str
    end_date: str
    amount_fils: int
    yearly_fils: int
    currency: str
    tariff_effective_from: str
    confirmed_revision: int | None = None
    confirmed_at: datetime | None = None
    payment_id: str | None = None
    insured_name_ar: str | None = None


@dataclass
class FakeRefundAttempt:
    status: str
    amount_fils: int
    reason: str
    requested_at: datetime
    completed_at: datetime | None = None
    refund_ref: str | None = None
    error_code: str | None = None
    shares: str | None = None


@dataclass
class FakePayment:
    payment_id: str
    account_id: str
    application_id: str
    application_revision: int
    created_at: str
    updated_at: datetime
    status: str
    amount_fils: int
    currency: str
    lang: str
    insured_civil_id: str
    insured_name: str
    category: str
    kind: str
    period_start: str
    period_end: str
    gateway: str
    reconcile_queue: str | None = None
    reconcile_due_at: str | None = None
    refunded_fils: int = 0
    gateway_ref: str | None = None
    payment_url: str | None = None
    transaction_id: str | None = None
    gateway_result: str | None = None
    settled_at: datetime | None = None
    captured_at: datetime | None = None
    refund_status: str | None = None
    refunds: list[FakeRefundAttempt] | None = None
    insured_name_ar: str | None = None
    passport_expiry: str | None = None
    years: int | None = None
    lines: list[FakeLine] | None = None


@dataclass
class FakeLine:
    application_id: str
    application_revision: int
    insured_civil_id: str
    insured_name: str
    category: str
    kind: str
    period_start: str
    period_end: str
    amount_fils: int
    passport_expiry: str | None = None
    years: int | None = None
    insured_name_ar: str | None = None
    refund_status: str | None = None


@dataclass
class FakePeriod:
    start: str
    end: str
    payment_id: str
    status: str
    category: str
    amount_fils: int
    account_id: str


@dataclass
class FakePolicy:
    insured_civil_id: str
    policy_id: str | None = None
    account_id: str | None = None
    insured_name: str | None = None
    category: str | None = None
    status: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    periods: list[FakePeriod] | None = None
    lock_ref: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    policy_number: str | None = None
    insured_name_ar: str | None = None
    renewal_application_id: str | None = None
    renewal_from: str | None = None
    passport_expiry: str | None = None
    renewal_years: int | None = None
    reminder_queue: str | None = None
    reminder_due_on: str | None = None
    last_reminder: str | None = None

    def remind_from(self, end_date: str | None) -> None:
        """Into the reminder index at the first step of the period ending `end_date` (store.reminder_actions)."""
        if end_date:
            self.reminder_queue = f"renewal-{shard_of(self.insured_civil_id)}"
            self.reminder_due_on = first_due_on(date.fromisoformat(end_date))
        else:
            self.reminder_queue = self.reminder_due_on = None


@dataclass
class FakeIdempotency:
    key: str
    fingerprint: str
    payment_id: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class FakeLedgerEntry:
    """A ledger event as chained: seq, the previous event's hash, its own."""

    stream: str
    seq: int
    kind: str
    prev_hash: str
    hash: str
    event: LedgerEvent


@dataclass
class _Tx:
    """One write: conditions checked first (all of them), then the changes, then the ledger."""

    checks: list[tuple[str, bool]] = field(default_factory=list)
    changes: list[Callable[[], None]] = field(default_factory=list)

    def check(self, name: str, ok: bool) -> None:
        self.checks.append((name, ok))

    def then(self, change: Callable[[], None]) -> None:
        self.changes.append(change)


def _attempts(payment: PaymentRow) -> list[FakeRefundAttempt]:
    return [_attempt(a) for a in (payment.refunds or [])]


def _attempt(row: RefundAttemptRow) -> FakeRefundAttempt:
    return FakeRefundAttempt(status=row.status, amount_fils=int(row.amount_fils), reason=row.reason,
                             requested_at=row.requested_at, completed_at=row.completed_at,
                             refund_ref=row.refund_ref, error_code=row.error_code, shares=row.shares)


class FakePremiumStore:
    """PremiumStorePort in memory; `ledger(stream)` shows what was appended, as the real store's does."""

    def __init__(self) -> None:
        self.applications: dict[str, FakeApplication] = {}
        self.payments: dict[str, FakePayment] = {}
        self.policies: dict[str, FakePolicy] = {}
        self.keys: dict[str, FakeIdempotency] = {}
        self.policy_numbers: dict[str, str] = {}  # claimed number -> policy id
        self.ledgers: dict[str, list[FakeLedgerEntry]] = {}
        self.writes = 0  # transactions that landed
        self.reads = 0  # items the reminder index handed out

    # --- the transaction ---------------------------------------------------------------------------
    def _commit(self, tx: _Tx, events: Sequence[LedgerEvent]) -> None:
        failed = {name for name, ok in tx.checks if not ok}
        if failed:
            raise LostRace(failed)
        for change in tx.changes:
            change()
        for event in events:
            chain = self.ledgers.setdefault(event.stream, [])
            prev = chain[-1].hash if chain else GENESIS
            digest = hashlib.sha256(f"{prev}|{len(chain) + 1}|{event!r}".encode()).hexdigest()
            chain.append(FakeLedgerEntry(event.stream, len(chain) + 1, event.kind, prev, digest, event))
        self.writes += 1

    # --- reads ---------------------------------------------------------------------------------------
    def application(self, application_id: str) -> FakeApplication | None:
        return copy.deepcopy(self.applications.get(application_id))

    def payment(self, payment_id: str) -> FakePayment | None:
        return copy.deepcopy(self.payments.get(payment_id))

    def policy(self, insured_civil_id: str) -> FakePolicy | None:
        return copy.deepcopy(self.policies.get(insured_civil_id))

    def idempotency(self, key: str) -> FakeIdempotency | None:
        return copy.deepcopy(self.keys.get(key))

    def payments_of(self, account_id: str, limit: int = 100) -> list[FakePayment]:
        mine = sorted((p for p in self.payments.values() if p.account_id == account_id),
                      key=lambda p: p.created_at, reverse=True)
        return copy.deepcopy(mine[:limit])

    def policies_of(self, account_id: str) -> list[FakePolicy]:
        mine = sorted((p for p in self.policies.values() if p.account_id == account_id),
                      key=lambda p: p.insured_civil_id)
        return copy.deepcopy(mine)

    def _due(self, queue: str, now: datetime) -> Iterator[FakePayment]:
        for shard in range(SHARDS):
            due = sorted((p for p in self.payments.values() if p.reconcile_queue == f"{queue}-{shard}"
                          and p.reconcile_due_at is not None and p.reconcile_due_at <= now.isoformat()),
                         key=lambda p: p.reconcile_due_at or "")
            yield from copy.deepcopy(due)

    def due_payments(self, now: datetime, limit: int) -> Iterator[FakePayment]:
        return self._due("pending", now)

    def due_refunds(self, now: datetime, limit: int) -> Iterator[FakePayment]:
        return self._due("refund", now)

    def policy_by_number(self, policy_number: str) -> FakePolicy | None:
        return copy.deepcopy(next((p for p in self.policies.values() if p.policy_number == policy_number
                                   and policy_number in self.policy_numbers), None))

    def due_reminders(self, shard: str, today: date) -> Iterator[FakePolicy]:
        due = sorted((p for p in self.policies.values() if p.reminder_queue == f"renewal-{shard}"
                      and p.reminder_due_on is not None and p.reminder_due_on <= today.isoformat()),
                     key=lambda p: p.reminder_due_on or "")
        self.reads += len(due)
        yield from copy.deepcopy(due)

    def ledger(self, stream: str) -> list[FakeLedgerEntry]:
        return list(self.ledgers.get(stream, []))

    # --- applications --------------------------------------------------------------------------------
    def create_application(self, draft: ApplicationDraft, event: LedgerEvent) -> FakeApplication:
        record = FakeApplication(**asdict(draft))
        tx = _Tx()
        tx.check("application", draft.application_id not in self.applications)
        tx.then(lambda: self.applications.__setitem__(draft.application_id, record))
        self._commit(tx, [event])
        return copy.deepcopy(record)

    def replace_application(self, draft: ApplicationDraft, expected_revision: int,
                            event: LedgerEvent) -> FakeApplication:
        record = FakeApplication(**asdict(draft))
        current = self.applications.get(draft.application_id)
        tx = _Tx()
        tx.check("application", current is not None and current.revision == expected_revision
                 and current.status in (ApplicationStatus.AWAITING_CONFIRMATION, ApplicationStatus.CONFIRMED))
        tx.then(lambda: self.applications.__setitem__(draft.application_id, record))
        self._commit(tx, [event])
        return copy.deepcopy(record)

    def confirm_application(self, application_id: str, revision: int, now: datetime, event: LedgerEvent) -> None:
        current = self.applications.get(application_id)
        tx = _Tx()
        tx.check("application", current is not None and current.revision == revision
                 and current.status == ApplicationStatus.AWAITING_CONFIRMATION)

        def confirm() -> None:
            assert current is not None
            current.status, current.confirmed_revision = ApplicationStatus.CONFIRMED, revision
            current.confirmed_at = current.updated_at = now
        tx.then(confirm)
        self._commit(tx, [event])

    def open_renewal(self, draft: ApplicationDraft, *, renews_from: str, replaces: str | None,
                     event: LedgerEvent) -> FakeApplication:
        record = FakeApplication(**asdict(draft))
        policy = self.policies.get(draft.insured_civil_id)
        tx = _Tx()
        tx.check("application", draft.application_id not in self.applications)
        tx.check("policy", policy is not None and policy.end_date == renews_from and policy.status == "active"
                 and (policy.renewal_from != renews_from
                      or (replaces is not None and policy.renewal_application_id == replaces)))

        def open_it() -> None:
            assert policy is not None
            self.applications[draft.application_id] = record
            policy.renewal_application_id, policy.renewal_from = draft.application_id, renews_from
        tx.then(open_it)
        self._commit(tx, [event])
        return copy.deepcopy(record)

    # --- renewal reminders ---------------------------------------------------------------------------
    def mark_reminded(self, policy: PolicyRow, *, step: str | None, next_due_on: str | None, now: datetime) -> None:
        stored = self.policies.get(policy.insured_civil_id)
        tx = _Tx()
        tx.check("policy", stored is not None and stored.reminder_due_on == policy.reminder_due_on
                 and stored.end_date == policy.end_date)

        def mark() -> None:
            assert stored is not None
            if next_due_on:
                stored.reminder_due_on = next_due_on
            else:
                stored.reminder_queue = stored.reminder_due_on = None
            if step is not None and policy.end_date:
                stored.last_reminder = f"{policy.end_date}#{step}"
        tx.then(mark)
        self._commit(tx, [])

    def drop_reminders(self, policy: PolicyRow) -> None:
        stored = self.policies.get(policy.insured_civil_id)
        tx = _Tx()
        tx.check("policy", stored is not None and stored.reminder_due_on == policy.reminder_due_on)
        tx.then(lambda: stored.remind_from(None) if stored else None)
        self._commit(tx, [])

    # --- payments ------------------------------------------------------------------------------------
    def _policy_for_update(self, civil_id: str) -> FakePolicy:
        # An update creates the item when it is missing, as DynamoDB's UpdateItem does.
        return self.policies.setdefault(civil_id, FakePolicy(civil_id))

    def start_payment(self, *, claim: IdempotencyClaim, payment: PaymentDraft, application: ApplicationRow,
                      renewal: bool, now: datetime, event: LedgerEvent) -> FakePayment:
        record = FakePayment(**asdict(payment))
        revision = int(application.revision)
        start = application.start_date
        stored_app = self.applications.get(application.application_id)
        policy = self.policies.get(application.insured_civil_id)
        end = policy.end_date if policy else None
        coverage = ((end == start and policy is not None and policy.status == "active") if renewal
                    else (end is None or end <= start))
        tx = _Tx()
        tx.check("idempotency", claim.key not in self.keys)
        tx.check("payment", payment.payment_id not in self.payments)
        tx.check("application", stored_app is not None and stored_app.status == ApplicationStatus.CONFIRMED
                 and stored_app.revision == revision and stored_app.confirmed_revision == revision)
        tx.check("policy", (policy is None or policy.lock_ref is None) and coverage)

        def start_it() -> None:
            assert stored_app is not None
            self.keys[claim.key] = FakeIdempotency(**asdict(claim))
            self.payments[payment.payment_id] = record
            stored_app.status, stored_app.payment_id = ApplicationStatus.PAYMENT_PENDING, payment.payment_id
            stored_app.updated_at = now
            self._policy_for_update(application.insured_civil_id).lock_ref = f"pay#{payment.payment_id}"
        tx.then(start_it)
        self._commit(tx, [event])
        return copy.deepcopy(record)

    def attach_session(self, payment: PaymentRow, gateway_ref: str, payment_url: str, now: datetime,
                       event: LedgerEvent) -> FakePayment:
        stored = self.payments.get(payment.payment_id)
        tx = _Tx()
        tx.check("payment", stored is not None and stored.status == PaymentStatus.PENDING
                 and stored.payment_url is None)

        def attach() -> None:
            assert stored is not None
            stored.gateway_ref, stored.payment_url, stored.updated_at = gateway_ref, payment_url, now
        tx.then(attach)
        self._commit(tx, [event])
        return copy.deepcopy(self.payments[payment.payment_id])

    # --- family baskets ------------------------------------------------------------------------------
    def start_basket(self, *, claim: IdempotencyClaim, payment: PaymentDraft, applications: Sequence[ApplicationRow],
                     now: datetime, event: LedgerEvent) -> FakePayment:
        fields = asdict(payment)
        fields["lines"] = [FakeLine(**line) for line in fields["lines"] or []]
        record = FakePayment(**fields)
        tx = _Tx()
        tx.check("idempotency", claim.key not in self.keys)
        tx.check("payment", payment.payment_id not in self.payments)
        for i, application in enumerate(applications):
            revision = int(application.revision)
            stored_app = self.applications.get(application.application_id)
            policy = self.policies.get(application.insured_civil_id)
            end = policy.end_date if policy else None
            coverage = ((end == application.start_date and policy is not None and policy.status == "active")
                        if application.kind == "renewal" else (end is None or end <= application.start_date))
            tx.check(f"application:{i}", stored_app is not None and stored_app.status == ApplicationStatus.CONFIRMED
                     and stored_app.revision == revision and stored_app.confirmed_revision == revision)
            tx.check(f"policy:{i}", (policy is None or policy.lock_ref is None) and coverage)

        def start_it() -> None:
            self.keys[claim.key] = FakeIdempotency(**asdict(claim))
            self.payments[payment.payment_id] = record
            for application in applications:
                stored_app = self.applications[application.application_id]
                stored_app.status, stored_app.payment_id = ApplicationStatus.PAYMENT_PENDING, payment.payment_id
                stored_app.updated_at = now
                self._policy_for_update(application.insured_civil_id).lock_ref = f"pay#{payment.payment_id}"
        tx.then(start_it)
        self._commit(tx, [event])
        return copy.deepcopy(record)

    def capture_basket(self, payment: PaymentRow, *, policies: Sequence[PolicyWrite], now: datetime,
                       transaction_id: str | None, gateway_ref: str | None, gateway_result: str,
                       events: Sequence[LedgerEvent]) -> FakePayment:
        pid = payment.payment_id
        stored = self.payments.get(pid)
        tx = _Tx()
        tx.check("payment", stored is not None and stored.status == PaymentStatus.PENDING)
        for i, write in enumerate(policies):
            assert write.line is not None
            policy = self.policies.get(write.insured_civil_id)
            app = self.applications.get(write.line.application_id)
            if write.policy_number:
                tx.check("policy_number", write.policy_number not in self.policy_numbers)
            tx.check(f"policy:{i}", policy is not None and policy.lock_ref == write.lock_ref
                     and not (write.policy_number and policy.policy_number))
            tx.check(f"application:{i}", app is not None and app.status == ApplicationStatus.PAYMENT_PENDING
                     and app.payment_id == pid)

        def capture_it() -> None:
            assert stored is not None
            stored.status, stored.captured_at, stored.settled_at, stored.updated_at = (
                PaymentStatus.CAPTURED, now, now, now)
            stored.gateway_result, stored.reconcile_queue, stored.reconcile_due_at = gateway_result, None, None
            if transaction_id:
                stored.transaction_id = transaction_id
            if gateway_ref and not payment.gateway_ref:
                stored.gateway_ref = gateway_ref
            for write in policies:
                line = write.line
                assert line is not None
                policy = self.policies[write.insured_civil_id]
                policy.policy_id, policy.account_id, policy.insured_name = write.policy_id, payment.account_id, \
                    line.insured_name
                policy.category, policy.status, policy.start_date, policy.end_date = (
                    line.category, "active", write.start_date, write.end_date)
                policy.periods = [FakePeriod(**p) for p in write.periods]  # type: ignore[arg-type]
                policy.lock_ref, policy.created_at, policy.updated_at = None, policy.created_at or now, now
                if line.insured_name_ar:
                    policy.insured_name_ar = line.insured_name_ar
                if line.passport_expiry:
                    policy.passport_expiry = line.passport_expiry
                if line.years:
                    policy.renewal_years = int(line.years)
                policy.remind_from(write.end_date)
                if write.policy_number:
                    policy.policy_number = write.policy_number
                    self.policy_numbers[write.policy_number] = write.policy_id
                app = self.applications[line.application_id]
                app.status, app.updated_at = ApplicationStatus.PAID, now
        tx.then(capture_it)
        self._commit(tx, events)
        return copy.deepcopy(self.payments[pid])

    def request_basket_refund(self, payment: PaymentRow, *, application_ids: Sequence[str], amount_fils: int,
                              reason: str, now: datetime, event: LedgerEvent) -> None:
        pid = payment.payment_id
        attempts = [*_attempts(payment), FakeRefundAttempt(RefundStatus.REQUESTED, amount_fils, reason,
                                                           requested_at=now, shares=" ".join(application_ids))]
        stored = self.payments.get(pid)
        tx = _Tx()
        tx.check("payment", stored is not None and stored.status == PaymentStatus.CAPTURED
                 and stored.refund_status in (None, RefundStatus.FAILED, RefundStatus.REFUNDED)
                 and stored.refunded_fils == int(payment.refunded_fils or 0))
        targets = [(i, line) for i, line in enumerate(payment.lines or []) if line.application_id in application_ids]
        for i, line in targets:
            policy = self.policies.get(line.insured_civil_id)
            tx.check(f"policy:{i}", (policy is None or policy.lock_ref is None)
                     and (policy.end_date if policy else None) == line.period_end)

        def request() -> None:
            assert stored is not None
            stored.refund_status, stored.refunds, stored.updated_at = RefundStatus.REQUESTED, attempts, now
            for _, line in targets:
                self._policy_for_update(line.insured_civil_id).lock_ref = f"refund#{pid}"
        tx.then(request)
        self._commit(tx, [event])

    def complete_basket_refund(self, payment: PaymentRow, *, policies: Sequence[PolicyWrite], refund_ref: str | None,
                               now: datetime, events: Sequence[LedgerEvent]) -> None:
        pid = payment.payment_id
        attempts = _attempts(payment)
        if not attempts or not attempts[-1].shares:
            raise LostRace({"payment"})
        targets = set((attempts[-1].shares or "").split())
        amount = int(attempts[-1].amount_fils)
        attempts[-1] = replace(attempts[-1], status=RefundStatus.REFUNDED, completed_at=now, refund_ref=refund_ref)
        stored = self.payments.get(pid)
        refunded = int(payment.refunded_fils or 0)
        tx = _Tx()
        tx.check("payment", stored is not None and stored.refund_status == RefundStatus.REQUESTED
                 and stored.status == PaymentStatus.CAPTURED and stored.refunded_fils == refunded
                 and stored.refunded_fils <= int(payment.amount_fils) - amount)
        for i, write in enumerate(policies):
            policy = self.policies.get(write.insured_civil_id)
            tx.check(f"policy:{i}", policy is not None and policy.lock_ref == write.lock_ref)

        def complete() -> None:
            assert stored is not None and stored.lines is not None
            stored.refund_status, stored.refunds, stored.updated_at = RefundStatus.REFUNDED, attempts, now
            stored.refunded_fils += amount
            stored.reconcile_queue = stored.reconcile_due_at = None
            for line in stored.lines:
                if line.application_id in targets:
                    line.refund_status = RefundStatus.REFUNDED
            if all(line.refund_status == RefundStatus.REFUNDED for line in stored.lines):
                stored.status = PaymentStatus.REFUNDED
            for write in policies:
                policy = self.policies[write.insured_civil_id]
                policy.periods = [FakePeriod(**p) for p in write.periods]  # type: ignore[arg-type]
                policy.status, policy.lock_ref, policy.updated_at = write.status, None, now
                policy.start_date, policy.end_date = write.start_date or None, write.end_date or None
                policy.remind_from(write.end_date if write.status == "active" else None)
        tx.then(complete)
        self._commit(tx, events)

    def capture(self, payment: PaymentRow, *, policy_id: str, periods: Sequence[StoredPeriod], start_date: str,
                end_date: str, now: datetime, transaction_id: str | None, gateway_ref: str | None,
                gateway_result: str, events: Sequence[LedgerEvent],
                policy_number: str | None = None) -> FakePayment:
        pid = payment.payment_id
        stored = self.payments.get(pid)
        policy = self.policies.get(payment.insured_civil_id)
        app = self.applications.get(payment.application_id)
        tx = _Tx()
        if policy_number:
            tx.check("policy_number", policy_number not in self.policy_numbers)
        tx.check("payment", stored is not None and stored.status == PaymentStatus.PENDING)
        tx.check("policy", policy is not None and policy.lock_ref == f"pay#{pid}"
                 and not (policy_number and policy.policy_number))
        tx.check("application", app is not None and app.status == ApplicationStatus.PAYMENT_PENDING
                 and app.payment_id == pid)

        def capture_it() -> None:
            assert stored is not None and policy is not None and app is not None
            stored.status, stored.captured_at, stored.settled_at, stored.updated_at = (
                PaymentStatus.CAPTURED, now, now, now)
            stored.gateway_result, stored.reconcile_queue, stored.reconcile_due_at = gateway_result, None, None
            if transaction_id:
                stored.transaction_id = transaction_id
            if gateway_ref and not payment.gateway_ref:
                stored.gateway_ref = gateway_ref
            policy.policy_id, policy.account_id, policy.insured_name = policy_id, payment.account_id, \
                payment.insured_name
            policy.category, policy.status, policy.start_date, policy.end_date = (
                payment.category, "active", start_date, end_date)
            policy.periods = [FakePeriod(**p) for p in periods]  # type: ignore[arg-type]
            policy.lock_ref, policy.created_at, policy.updated_at = None, policy.created_at or now, now
            if payment.insured_name_ar:
                policy.insured_name_ar = payment.insured_name_ar
            if payment.passport_expiry:
                policy.passport_expiry = payment.passport_expiry
            if payment.years:
                policy.renewal_years = int(payment.years)
            policy.remind_from(end_date)
            if policy_number:
                policy.policy_number = policy_number
                self.policy_numbers[policy_number] = policy_id
            app.status, app.updated_at = ApplicationStatus.PAID, now
        tx.then(capture_it)
        self._commit(tx, events)
        return copy.deepcopy(self.payments[pid])

    def close_unpaid(self, payment: PaymentRow, *, status: str, now: datetime, gateway_result: str,
                     release_key: str | None, events: Sequence[LedgerEvent]) -> None:
        pid = payment.payment_id
        stored = self.payments.get(pid)
        tx = _Tx()
        tx.check("payment", stored is not None and stored.status == PaymentStatus.PENDING)
        pairs = [(line.insured_civil_id, line.application_id, f":{i}") for i, line in enumerate(payment.lines or [])] \
            or [(payment.insured_civil_id, payment.application_id, "")]
        for civil_id, app_id, suffix in pairs:
            policy, app = self.policies.get(civil_id), self.applications.get(app_id)
            tx.check(f"policy{suffix}", policy is not None and policy.lock_ref == f"pay#{pid}")
            tx.check(f"application{suffix}", app is not None and app.status == ApplicationStatus.PAYMENT_PENDING
                     and app.payment_id == pid)
        if release_key:
            key = self.keys.get(release_key)
            tx.check("idempotency", key is not None and key.payment_id == pid)

        def close() -> None:
            assert stored is not None
            stored.status, stored.settled_at, stored.updated_at, stored.gateway_result = status, now, now, \
                gateway_result
            stored.reconcile_queue = stored.reconcile_due_at = None
            for civil_id, app_id, _ in pairs:
                self.policies[civil_id].lock_ref = None
                app = self.applications[app_id]
                app.status, app.payment_id, app.updated_at = ApplicationStatus.CONFIRMED, None, now
            if release_key:
                del self.keys[release_key]
        tx.then(close)
        self._commit(tx, events)

    def append_events(self, events: Sequence[LedgerEvent]) -> None:
        self._commit(_Tx(), events)

    def postpone_reconciliation(self, payment_id: str, due_at: datetime) -> bool:
        stored = self.payments.get(payment_id)
        if stored is None or stored.status != PaymentStatus.PENDING:
            return False
        stored.reconcile_due_at = due_at.isoformat()
        return True

    # --- refunds -------------------------------------------------------------------------------------
    def request_refund(self, payment: PaymentRow, *, reason: str, now: datetime, event: LedgerEvent) -> None:
        pid = payment.payment_id
        attempts = [*_attempts(payment), FakeRefundAttempt(RefundStatus.REQUESTED, int(payment.amount_fils), reason,
                                                           requested_at=now)]
        stored = self.payments.get(pid)
        policy = self.policies.get(payment.insured_civil_id)
        tx = _Tx()
        tx.check("payment", stored is not None and stored.status == PaymentStatus.CAPTURED
                 and stored.refund_status in (None, RefundStatus.FAILED))
        tx.check("policy", (policy is None or policy.lock_ref is None)
                 and (policy.end_date if policy else None) == payment.period_end)

        def request() -> None:
            assert stored is not None
            stored.refund_status, stored.refunds, stored.updated_at = RefundStatus.REQUESTED, attempts, now
            self._policy_for_update(payment.insured_civil_id).lock_ref = f"refund#{pid}"
        tx.then(request)
        self._commit(tx, [event])

    def complete_refund(self, payment: PaymentRow, *, refund_ref: str | None, now: datetime,
                        periods: Sequence[StoredPeriod], start_date: str | None, end_date: str | None,
                        policy_status: str, events: Sequence[LedgerEvent]) -> None:
        pid = payment.payment_id
        amount = int(payment.amount_fils)
        attempts = _attempts(payment)
        if not attempts:
            raise LostRace({"payment"})
        attempts[-1] = replace(attempts[-1], status=RefundStatus.REFUNDED, completed_at=now, refund_ref=refund_ref)
        stored = self.payments.get(pid)
        policy = self.policies.get(payment.insured_civil_id)
        tx = _Tx()
        # Never more back than was paid (the real store's condition is this arithmetic).
        tx.check("payment", stored is not None and stored.refund_status == RefundStatus.REQUESTED
                 and stored.status == PaymentStatus.CAPTURED and stored.refunded_fils <= amount - amount)
        tx.check("policy", policy is not None and policy.lock_ref == f"refund#{pid}")

        def complete() -> None:
            assert stored is not None and policy is not None
            stored.status, stored.refund_status = PaymentStatus.REFUNDED, RefundStatus.REFUNDED
            stored.refunded_fils += amount
            stored.refunds, stored.updated_at = attempts, now
            stored.reconcile_queue = stored.reconcile_due_at = None
            policy.periods = [FakePeriod(**p) for p in periods]  # type: ignore[arg-type]
            policy.status, policy.lock_ref, policy.updated_at = policy_status, None, now
            policy.start_date, policy.end_date = start_date or None, end_date or None
            policy.remind_from(end_date if policy_status == "active" else None)
        tx.then(complete)
        self._commit(tx, events)

    def keep_confirmed_refund(self, payment: PaymentRow, *, refund_ref: str | None, queue: str, due_at: datetime,
                              now: datetime, event: LedgerEvent) -> None:
        attempts = _attempts(payment)
        if not attempts:
            raise LostRace({"payment"})
        attempts[-1] = replace(attempts[-1], refund_ref=refund_ref)
        stored = self.payments.get(payment.payment_id)
        tx = _Tx()
        tx.check("payment", stored is not None and stored.refund_status == RefundStatus.REQUESTED
                 and stored.status == PaymentStatus.CAPTURED)

        def keep() -> None:
            assert stored is not None
            stored.refunds, stored.reconcile_queue, stored.reconcile_due_at = attempts, queue, due_at.isoformat()
            stored.updated_at = now
        tx.then(keep)
        self._commit(tx, [event])

    def fail_refund(self, payment: PaymentRow, *, error_code: str | None, now: datetime, event: LedgerEvent) -> None:
        pid = payment.payment_id
        attempts = _attempts(payment)
        if not attempts:
            raise LostRace({"payment"})
        attempts[-1] = replace(attempts[-1], status=RefundStatus.FAILED, completed_at=now, error_code=error_code)
        stored = self.payments.get(pid)
        wanted = set((attempts[-1].shares or "").split())
        civil_ids = [line.insured_civil_id for line in payment.lines or [] if line.application_id in wanted] \
            or [payment.insured_civil_id]
        tx = _Tx()
        tx.check("payment", stored is not None and stored.refund_status == RefundStatus.REQUESTED)
        for i, civil_id in enumerate(civil_ids):
            policy = self.policies.get(civil_id)
            tx.check(f"policy:{i}" if payment.lines else "policy",
                     policy is not None and policy.lock_ref == f"refund#{pid}")

        def fail() -> None:
            assert stored is not None
            stored.refund_status, stored.refunds, stored.updated_at = RefundStatus.FAILED, attempts, now
            for civil_id in civil_ids:
                self.policies[civil_id].lock_ref = None
        tx.then(fail)
        self._commit(tx, [event])


# --- the world a use-case test runs in --------------------------------------------------------------


@dataclass
class Clock:
    at: datetime = START

    def __call__(self) -> datetime:
        return self.at

    def shift(self, by: timedelta) -> None:
        self.at += by


@dataclass
class World:
    """What a use-case test sees: the deps it passes, and the fakes' state it asserts on."""

    deps: PremiumDeps
    store: FakePremiumStore
    gateway: SandboxGateway
    clock: Clock
    sent: list[Message] = field(default_factory=list)


def make_world() -> World:
    """Premium deps on fakes: this store, the sandbox gateway in memory, a clock that moves when told."""
    clock = Clock()
    store = FakePremiumStore()
    gateway = SandboxGateway(b"fake-secret", "http://sandbox.test/pay", store=InMemorySandboxStore(),
                             clock=lambda: clock().timestamp())
    sent: list[Message] = []
    ids = iter(range(1, 10_000))
    deps = PremiumDeps(
        settings=get_settings(), store=store, make_gateway=lambda: gateway,
        contact=lambda account_id: Contact("payer@example.com", "+96550000000", "en"),
        send=sent.append, now=clock, tariffs=DEFAULT_TARIFFS,
        gateway_errors=(GatewayError,), callback_errors=(CallbackRejected,),
        new_id=lambda prefix: f"{prefix}{next(ids):04d}", sleep=lambda seconds: None)
    return World(deps, store, gateway, clock, sent)
