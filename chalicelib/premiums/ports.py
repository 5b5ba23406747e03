"""What the premium and payment use cases need from the outside world: the store, the gateway, and the
values they exchange, as Protocols and dataclasses; `PremiumDeps` is the one value the wiring fills.

The store's rows are read-only Protocols: a use case reads a row and hands the store a draft or the
row back, it never sets an attribute of a stored record. `PremiumStore` (DynamoDB) and the fake in
tests/premiums/fakes.py implement them; tests/contract/ checks that both behave alike.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from functools import cached_property
from typing import Protocol

from chalicelib.errors import StaleState
from chalicelib.platform.messages import Message
from chalicelib.premiums.ledger import LedgerEvent
from chalicelib.premiums.policy_numbers import new_policy_number
from chalicelib.premiums.rules import Tariff
from chalicelib.settings import Settings


@dataclass(frozen=True)
class Contact:
    """Where an account's receipts go."""

    email: str | None
    phone: str | None
    language: str | None


def new_id(prefix: str) -> str:
    # Letters and digits only: KNET track ids allow nothing else.
    return f"{prefix}{uuid.uuid4().hex[:24]}"


# --- what the store raises ------------------------------------------------------------------------


class LostRace(StaleState):
    """A transaction wrote nothing: the named items were not in the state it expected.

    Names: "application", "payment", "policy", "idempotency" (the rows a write guards).
    """

    def __init__(self, failed: Iterable[str] = (), conflict: bool = False) -> None:
        super().__init__()
        self.failed = frozenset(failed)
        # DynamoDB refused because another transaction held an item at that moment.
        self.conflict = conflict


# --- rows the store returns (read-only) -----------------------------------------------------------
# Numbers come back from DynamoDB as floats in PynamoDB's types: use cases read them through int().


class ApplicationRow(Protocol):
    """A stored application (see models.ApplicationRecord)."""

    @property
    def application_id(self) -> str: ...
    @property
    def account_id(self) -> str: ...
    @property
    def created_at(self) -> str: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def status(self) -> str: ...
    @property
    def revision(self) -> float: ...
    @property
    def insured_civil_id(self) -> str: ...
    @property
    def insured_name(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def sponsor_civil_id(self) -> str: ...
    @property
    def sponsor_name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def passport_expiry(self) -> str: ...
    @property
    def years(self) -> float: ...
    @property
    def start_date(self) -> str: ...
    @property
    def end_date(self) -> str: ...
    @property
    def amount_fils(self) -> float: ...
    @property
    def yearly_fils(self) -> float: ...
    @property
    def currency(self) -> str: ...
    @property
    def tariff_effective_from(self) -> str: ...
    @property
    def confirmed_revision(self) -> float | None: ...
    @property
    def confirmed_at(self) -> datetime | None: ...
    @property
    def payment_id(self) -> str | None: ...
    @property
    def insured_name_ar(self) -> str | None: ...


class RefundAttemptRow(Protocol):
    """One refund attempt of a payment."""

    @property
    def status(self) -> str: ...
    @property
    def amount_fils(self) -> float: ...
    @property
    def reason(self) -> str: ...
    @property
    def requested_at(self) -> datetime: ...
    @property
    def completed_at(self) -> datetime | None: ...
    @property
    def refund_ref(self) -> str | None: ...
    @property
    def error_code(self) -> str | None: ...
    @property
    def shares(self) -> str | None: ...  # a basket's refund: the application ids, space-separated


class PaymentRow(Protocol):
    """A stored payment (see models.PaymentRecord)."""

    @property
    def payment_id(self) -> str: ...
    @property
    def account_id(self) -> str: ...
    @property
    def application_id(self) -> str: ...
    @property
    def application_revision(self) -> float: ...
    @property
    def created_at(self) -> str: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def status(self) -> str: ...
    @property
    def amount_fils(self) -> float: ...
    @property
    def currency(self) -> str: ...
    @property
    def lang(self) -> str: ...
    @property
    def insured_civil_id(self) -> str: ...
    @property
    def insured_name(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def period_start(self) -> str: ...
    @property
    def period_end(self) -> str: ...
    @property
    def gateway(self) -> str: ...
    @property
    def gateway_ref(self) -> str | None: ...
    @property
    def payment_url(self) -> str | None: ...
    @property
    def transaction_id(self) -> str | None: ...
    @property
    def gateway_result(self) -> str | None: ...
    @property
    def captured_at(self) -> datetime | None: ...
    @property
    def refunded_fils(self) -> float | None: ...
    @property
    def refund_status(self) -> str | None: ...
    @property
    def refunds(self) -> Sequence[RefundAttemptRow] | None: ...
    @property
    def reconcile_queue(self) -> str | None: ...
    @property
    def reconcile_due_at(self) -> str | None: ...
    @property
    def insured_name_ar(self) -> str | None: ...
    @property
    def passport_expiry(self) -> str | None: ...
    @property
    def years(self) -> float | None: ...
    @property
    def lines(self) -> Sequence[PaymentLineRow] | None: ...


class PaymentLineRow(Protocol):
    """One application of a family basket (see models.PaymentLine)."""

    @property
    def application_id(self) -> str: ...
    @property
    def application_revision(self) -> float: ...
    @property
    def insured_civil_id(self) -> str: ...
    @property
    def insured_name(self) -> str: ...
    @property
    def insured_name_ar(self) -> str | None: ...
    @property
    def category(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def period_start(self) -> str: ...
    @property
    def period_end(self) -> str: ...
    @property
    def amount_fils(self) -> float: ...
    @property
    def passport_expiry(self) -> str | None: ...
    @property
    def years(self) -> float | None: ...
    @property
    def refund_status(self) -> str | None: ...


class PeriodRow(Protocol):
    """One paid period of a policy."""

    @property
    def start(self) -> str: ...
    @property
    def end(self) -> str: ...
    @property
    def payment_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def amount_fils(self) -> float: ...
    @property
    def account_id(self) -> str: ...


class PolicyRow(Protocol):
    """The stored residence policy of one civil ID (see models.ResidencePolicyRecord)."""

    @property
    def insured_civil_id(self) -> str: ...
    @property
    def policy_id(self) -> str | None: ...
    @property
    def account_id(self) -> str | None: ...
    @property
    def insured_name(self) -> str | None: ...
    @property
    def category(self) -> str | None: ...
    @property
    def status(self) -> str | None: ...
    @property
    def start_date(self) -> str | None: ...
    @property
    def end_date(self) -> str | None: ...
    @property
    def periods(self) -> Sequence[PeriodRow] | None: ...
    @property
    def lock_ref(self) -> str | None: ...
    @property
    def policy_number(self) -> str | None: ...
    @property
    def insured_name_ar(self) -> str | None: ...
    @property
    def renewal_application_id(self) -> str | None: ...
    @property
    def renewal_from(self) -> str | None: ...
    @property
    def passport_expiry(self) -> str | None: ...
    @property
    def renewal_years(self) -> float | None: ...
    @property
    def reminder_due_on(self) -> str | None: ...
    @property
    def last_reminder(self) -> str | None: ...


class IdempotencyRow(Protocol):
    """A claimed Idempotency-Key of one account."""

    @property
    def key(self) -> str: ...
    @property
    def fingerprint(self) -> str: ...
    @property
    def payment_id(self) -> str: ...


# --- what use cases hand the store ----------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationDraft:
    """An application as a use case writes it (created, or replaced by a new revision)."""

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
    insured_name_ar: str | None = None


@dataclass(frozen=True)
class PaymentDraft:
    """A new payment, pending, queued for reconciliation."""

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
    reconcile_queue: str
    reconcile_due_at: str
    refunded_fils: int = 0
    insured_name_ar: str | None = None
    passport_expiry: str | None = None
    years: int | None = None
    # A family basket's applications; None for a payment of one application.
    lines: tuple[BasketLine, ...] | None = None


@dataclass(frozen=True)
class BasketLine:
    """One confirmed application of a family basket, as its payment records it."""

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


@dataclass(frozen=True)
class PolicyWrite:
    """One insured person's policy as a basket's capture or refund leaves it (the write names it "policy:<n>")."""

    insured_civil_id: str
    policy_id: str
    periods: Sequence[StoredPeriod]
    start_date: str | None
    end_date: str | None
    status: str  # active | cancelled
    # The lock this write expects and clears: "pay#<payment id>" or "refund#<payment id>".
    lock_ref: str
    # Capture only: the line it is paid by, and a number to issue when the policy has none.
    line: PaymentLineRow | None = None
    policy_number: str | None = None


@dataclass(frozen=True)
class IdempotencyClaim:
    """An Idempotency-Key claimed by the write that starts a payment; gone after `expires_at`."""

    key: str
    fingerprint: str
    payment_id: str
    created_at: datetime
    expires_at: datetime


# A policy's periods as a use case rewrites them: the fields of PeriodRow.
StoredPeriod = dict[str, str | int]


class PremiumStorePort(Protocol):
    """Reads and conditional writes of applications, payments, policies, keys and the ledger.

    Every write is all-or-nothing with its ledger events; when an item is not in the state the
    write expects, nothing is written and `LostRace` names the items that failed.
    """

    # reads
    def application(self, application_id: str) -> ApplicationRow | None: ...
    def payment(self, payment_id: str) -> PaymentRow | None: ...
    def policy(self, insured_civil_id: str) -> PolicyRow | None: ...
    def idempotency(self, key: str) -> IdempotencyRow | None: ...
    def payments_of(self, account_id: str, limit: int = 100) -> Sequence[PaymentRow]: ...
    def policies_of(self, account_id: str) -> Sequence[PolicyRow]: ...
    def due_payments(self, now: datetime, limit: int) -> Iterator[PaymentRow]: ...
    def due_refunds(self, now: datetime, limit: int) -> Iterator[PaymentRow]: ...
    def policy_by_number(self, policy_number: str) -> PolicyRow | None: ...
    def due_reminders(self, shard: str, today: date) -> Iterable[PolicyRow]: ...

    # applications
    def create_application(self, draft: ApplicationDraft, event: LedgerEvent) -> ApplicationRow:
        """A new application; LostRace({"application"}) if its id exists."""
        ...

    def replace_application(self, draft: ApplicationDraft, expected_revision: int,
                            event: LedgerEvent) -> ApplicationRow:
        """A new revision over `expected_revision`, if still unpaid; else LostRace({"application"})."""
        ...

    def confirm_application(self, application_id: str, revision: int, now: datetime, event: LedgerEvent) -> None:
        """awaiting_confirmation at `revision` -> confirmed; else LostRace({"application"})."""
        ...

    def open_renewal(self, draft: ApplicationDraft, *, renews_from: str, replaces: str | None,
                     event: LedgerEvent) -> ApplicationRow:
        """A renewal application, recorded on the insured's policy as the one for the period ending
        `renews_from`; LostRace({"policy"}) when another is recorded for it (other than `replaces`, one read
        and found closed: its payment refunded) or the policy moved."""
        ...

    # renewal reminders
    def mark_reminded(self, policy: PolicyRow, *, step: str | None, next_due_on: str | None, now: datetime) -> None:
        """Record reminder `step` as sent (the next one due on `next_due_on`, or none): only over the due day
        and end read, so of two runs one records it; else LostRace({"policy"})."""
        ...

    def drop_reminders(self, policy: PolicyRow) -> None:
        """Out of the reminder index (a cancelled policy); LostRace({"policy"}) if it changed meanwhile."""
        ...

    # payments
    def start_payment(self, *, claim: IdempotencyClaim, payment: PaymentDraft, application: ApplicationRow,
                      renewal: bool, now: datetime, event: LedgerEvent) -> PaymentRow:
        """Claim the key, create the payment, mark the application paying, lock the insured: all or nothing."""
        ...

    def attach_session(self, payment: PaymentRow, gateway_ref: str, payment_url: str, now: datetime,
                       event: LedgerEvent) -> PaymentRow:
        """The gateway session of a pending payment without one; the payment as it now is."""
        ...

    # family baskets (one payment, several applications and policies)
    def start_basket(self, *, claim: IdempotencyClaim, payment: PaymentDraft,
                     applications: Sequence[ApplicationRow], now: datetime, event: LedgerEvent) -> PaymentRow:
        """Claim the key, create the payment, mark every application paying and lock every insured: all or none.

        LostRace names "application:<i>" / "policy:<i>" (the i-th application and its insured) that failed.
        """
        ...

    def capture_basket(self, payment: PaymentRow, *, policies: Sequence[PolicyWrite], now: datetime,
                       transaction_id: str | None, gateway_ref: str | None, gateway_result: str,
                       events: Sequence[LedgerEvent]) -> PaymentRow:
        """pending -> captured, every policy written and unlocked, every application paid: one transaction.

        LostRace({"policy_number"}) when a number to issue is taken (draw others and try again).
        """
        ...

    def request_basket_refund(self, payment: PaymentRow, *, application_ids: Sequence[str], amount_fils: int,
                              reason: str, now: datetime, event: LedgerEvent) -> None:
        """A refund of these applications' shares: only over the refunded amount read, no refund in flight,
        each share's insured unlocked and still ending where its share ends; each insured locked."""
        ...

    def complete_basket_refund(self, payment: PaymentRow, *, policies: Sequence[PolicyWrite], refund_ref: str | None,
                               now: datetime, events: Sequence[LedgerEvent]) -> None:
        """requested -> refunded: the shares' lines and periods cancelled, the amount added, the insured unlocked;
        the payment refunded once every share is."""
        ...

    def capture(self, payment: PaymentRow, *, policy_id: str, periods: Sequence[StoredPeriod], start_date: str,
                end_date: str, now: datetime, transaction_id: str | None, gateway_ref: str | None,
                gateway_result: str, events: Sequence[LedgerEvent],
                policy_number: str | None = None) -> PaymentRow:
        """pending -> captured, the policy written and unlocked, the application paid; the payment as it now is.

        `policy_number`: a number to issue to a policy that has none; claimed in the same transaction,
        LostRace({"policy_number"}) when another policy holds it (draw another and try again).
        """
        ...

    def close_unpaid(self, payment: PaymentRow, *, status: str, now: datetime, gateway_result: str,
                     release_key: str | None, events: Sequence[LedgerEvent]) -> None:
        """pending -> declined or expired, the insured unlocked, the application payable again."""
        ...

    def append_events(self, events: Sequence[LedgerEvent]) -> None:
        """Ledger events that record no state change."""
        ...

    def postpone_reconciliation(self, payment_id: str, due_at: datetime) -> bool:
        """Ask the gateway again at `due_at`; False when the payment is no longer pending."""
        ...

    # refunds
    def request_refund(self, payment: PaymentRow, *, reason: str, now: datetime, event: LedgerEvent) -> None:
        """captured, no live refund -> refund requested, the insured locked."""
        ...

    def complete_refund(self, payment: PaymentRow, *, refund_ref: str | None, now: datetime,
                        periods: Sequence[StoredPeriod], start_date: str | None, end_date: str | None,
                        policy_status: str, events: Sequence[LedgerEvent]) -> None:
        """requested -> refunded, its period cancelled, the insured unlocked."""
        ...

    def keep_confirmed_refund(self, payment: PaymentRow, *, refund_ref: str | None, queue: str, due_at: datetime,
                              now: datetime, event: LedgerEvent) -> None:
        """A refund the gateway made whose record failed: its reference kept, queued for reconciliation."""
        ...

    def fail_refund(self, payment: PaymentRow, *, error_code: str | None, now: datetime, event: LedgerEvent) -> None:
        """requested -> failed, the insured unlocked."""
        ...


# An item of the ledger table as DynamoDB returns it: attribute name -> {type: value}.
LedgerItem = dict[str, dict[str, object]]


class LedgerReaderPort(Protocol):
    """What the ledger check reads: every stream, and each stream's items as stored."""

    def ledger_streams(self, first_shard: int = 0) -> Iterator[str]: ...
    def ledger_items(self, stream: str) -> list[LedgerItem]: ...


# --- the payment gateway --------------------------------------------------------------------------


class GatewayStatus(StrEnum):
    """What the gateway says happened to a payment."""

    CAPTURED = "captured"
    DECLINED = "declined"
    # No final answer yet (person still on the page, bank timeout): ask again later.
    PENDING = "pending"
    # The gateway has no such payment: it was never started on the hosted page.
    NOT_FOUND = "not_found"


class GatewayRefundStatus(StrEnum):
    """What the gateway says happened to a refund (our refund's own states: payment_rules.RefundStatus)."""

    REFUNDED = "refunded"
    FAILED = "failed"


@dataclass(frozen=True)
class Session:
    """A started payment: the gateway's reference and the page to send the person to."""

    gateway_ref: str
    payment_url: str


@dataclass(frozen=True)
class GatewayResult:
    """The gateway's answer about one payment, from a callback or a query."""

    status: GatewayStatus
    # Our payment id (KNET's track id), echoed back by the gateway.
    payment_id: str | None
    # The gateway's own id for the payment (KNET payment id, sandbox ref).
    gateway_ref: str | None
    transaction_id: str | None = None
    reference: str | None = None
    auth_code: str | None = None
    amount_fils: int | None = None
    # The gateway's own word for the result (CAPTURED, NOT CAPTURED, approved...).
    raw_result: str = ""
    error_code: str | None = None
    confirmed: bool = False


@dataclass(frozen=True)
class RefundResult:
    """The gateway's answer to a refund request."""

    status: GatewayRefundStatus
    gateway_ref: str
    amount_fils: int
    refund_ref: str | None = None
    raw_result: str = ""
    error_code: str | None = None


@dataclass(frozen=True)
class CallbackAck:
    """What the callback endpoint must answer so the gateway knows it was heard."""

    status: int
    content_type: str
    body: str


class PaymentGatewayPort(Protocol):
    """A hosted-page payment gateway as the payment use cases use it (gateway.sandbox, gateway.knet)."""

    @property
    def name(self) -> str: ...

    def create_session(self, payment_id: str, amount_fils: int, currency: str, return_url: str, callback_url: str,
                       lang: str) -> Session:
        """Start a payment and return where to send the person."""
        ...

    def query(self, payment_id: str, gateway_ref: str | None, amount_fils: int) -> GatewayResult:
        """Ask the gateway, server to server, what happened to a payment."""
        ...

    def refund(self, payment_id: str, gateway_ref: str, amount_fils: int) -> RefundResult:
        """Give back `amount_fils` of a captured payment."""
        ...

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> GatewayResult:
        """Read a callback the gateway posted, or raise one of `PremiumDeps.callback_errors`."""
        ...

    def callback_ack(self, result: GatewayResult | None) -> CallbackAck:
        """The answer the callback endpoint returns to the gateway."""
        ...

    def session_ref(self, result: GatewayResult) -> str | None:
        """The reference `create_session` returned for the session `result` is about.

        A result is settled against a payment only when this is the payment's stored reference:
        a correctly signed result about another session must never capture this payment.
        """
        ...


@dataclass
class PremiumDeps:
    settings: Settings
    store: PremiumStorePort
    # Built on first use: quotes and applications never touch the gateway or its secret.
    make_gateway: Callable[[], PaymentGatewayPort]
    contact: Callable[[str], Contact | None]
    send: Callable[[Message], object]
    now: Callable[[], datetime]
    tariffs: tuple[Tariff, ...]
    # The gateway's exceptions, named here because use cases may not import adapters:
    gateway_errors: tuple[type[Exception], ...] = ()  # it could not answer: the outcome is unknown
    callback_errors: tuple[type[Exception], ...] = ()  # a callback that is forged, garbled or stale
    new_id: Callable[[str], str] = new_id
    # The day of issue -> a random number; uniqueness is the store's conditional claim.
    new_policy_number: Callable[[date], str] = new_policy_number
    sleep: Callable[[float], None] = field(default=time.sleep)
    # The insured civil IDs whose cover a refund ended: their cards go on the issuer's revocation lists
    # (the cards capability's revoke_cards). None: nothing to list (use-case tests on fakes).
    revoke_cards_of: Callable[[Sequence[str]], object] | None = None
    # The insured civil IDs whose cover a capture made or extended: their wallet passes show the new
    # dates (the wallet feature's passes_changed). None: nobody to tell (use-case tests on fakes).
    cover_changed_of: Callable[[Sequence[str]], object] | None = None

    @cached_property
    def gateway(self) -> PaymentGatewayPort:
        return self.make_gateway()
