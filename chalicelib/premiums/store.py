"""DynamoDB reads and conditional writes of residence premiums (the payment services' only storage).

Every state change is one TransactWrite: the items it changes, each with the
condition naming the state it moves from, and its ledger event(s). When any
condition fails nothing is written and `LostRace` names the items that failed,
so the service can tell "already done by someone else" from "not allowed".
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.platform.aws import client
from chalicelib.platform.dynamo import cancellation, connection, lost_condition, reset_connection
from chalicelib.platform.jobs import SHARDS, shard_of
from chalicelib.premiums.ledger import GENESIS, HEAD_KEY, STREAM_STARTS, LedgerEvent, event_hash
from chalicelib.premiums.models import (
    POLICY_NUMBER_KEY,
    PREMIUM_MODELS,
    ApplicationRecord,
    IdempotencyRecord,
    LedgerHeadRecord,
    LedgerRecord,
    PaymentLine,
    PaymentRecord,
    PeriodMap,
    PolicyNumberClaim,
    RefundAttempt,
    ResidencePolicyRecord,
)
from chalicelib.premiums.payment_rules import ApplicationStatus, PaymentStatus, RefundStatus
from chalicelib.premiums.ports import (
    ApplicationDraft,
    ApplicationRow,
    IdempotencyClaim,
    LedgerItem,
    LostRace,
    PaymentDraft,
    PaymentLineRow,
    PaymentRow,
    PolicyRow,
    PolicyWrite,
    RefundAttemptRow,
    StoredPeriod,
)
from chalicelib.premiums.renewal_rules import first_due_on

RECONCILE_QUEUE = "pending"  # partitions "pending-0" to "pending-7": see premiums.payments.reconcile_queue_of
# Refunds the gateway made whose record failed: "refund-0" to "refund-7" of the same index.
REFUND_QUEUE = "refund"
LEDGER_HEAD = "ledger-head"  # the write name of a stream's head in a transaction
REMINDER_QUEUE = "renewal"  # partitions "renewal-0" to "renewal-7" of the due_for_renewal_reminder index
REMINDER_PAGE = 100  # due policies a Query page returns (the job's chunk)


def reminder_queue_of(insured_civil_id: str) -> str:
    """The reminder index's partition of a policy: one of 8 shards, so a busy day is no hot key."""
    return f"{REMINDER_QUEUE}-{shard_of(insured_civil_id)}"


def reminder_actions(end_date: str | None, insured_civil_id: str) -> list[Any]:
    """Into the reminder index at the first step of the period ending `end_date`; out of it without one."""
    if not end_date:
        return [ResidencePolicyRecord.reminder_queue.remove(), ResidencePolicyRecord.reminder_due_on.remove()]
    return [ResidencePolicyRecord.reminder_queue.set(reminder_queue_of(insured_civil_id)),
            ResidencePolicyRecord.reminder_due_on.set(first_due_on(date.fromisoformat(end_date)))]


def reset_connections() -> None:
    """Forget cached DynamoDB connections (a test pointing at another endpoint)."""
    reset_connection()
    for model in PREMIUM_MODELS:
        model._connection = None
    forget_known_heads()


KEY_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"
HEAD_RETRIES = 5  # another writer appended to the same stream meanwhile: read its head again


def _ledger_record(event: LedgerEvent, seq: int, prev_hash: str, after_key: str | None) -> LedgerRecord:
    """The event as stored, chained after `prev_hash`; its key sorts after the stream's last one.

    The key's time is the event's, or the last event's when this clock is behind another writer's,
    and the stream's seq breaks ties: event_key order is chain order, so a reordering is visible.
    """
    stamp = event.at.strftime(KEY_TIME)
    if after_key and after_key.split("#", 1)[0] > stamp:
        stamp = after_key.split("#", 1)[0]
    key = f"{stamp}#{seq:012d}#{event.kind}#{uuid.uuid4().hex[:6]}"
    record = LedgerRecord(
        event.stream, key, kind=event.kind, at=event.at, actor=event.actor, account_id=event.account_id,
        application_id=event.application_id, payment_id=event.payment_id, policy_id=event.policy_id,
        amount_fils=event.amount_fils, currency="KWD" if event.amount_fils is not None else None,
        from_status=event.from_status, to_status=event.to_status,
        details=json.dumps(event.details, sort_keys=True, default=str) if event.details else None,
        seq=seq, prev_hash=prev_hash,
    )
    record.hash = event_hash(record.serialize())
    return record


def _ledger_head(stream: str) -> Head | None:
    try:
        head = LedgerHeadRecord.get(stream, HEAD_KEY, consistent_read=True)
    except LedgerHeadRecord.DoesNotExist:
        return None
    return Head(int(head.seq), head.hash, head.last_key)


@dataclass(frozen=True)
class Head:
    """A stream's last event: its seq, hash and key."""

    seq: int
    hash: str
    last_key: str | None


# The heads this container wrote last, so that the next append to a stream (the session after the
# start of a payment, the callback after it) needs no read. It is only a guess: the head's condition
# in the transaction is what guarantees the chain, and a stale guess costs one retry with a read.
_known_heads: OrderedDict[str, Head] = OrderedDict()
_known_lock = threading.Lock()
KNOWN_HEADS_MAX = 1024


def _guess_heads(events: Sequence[LedgerEvent], new_streams: frozenset[str]) -> dict[str, Head | None]:
    guesses: dict[str, Head | None] = {}
    with _known_lock:
        for event in events:
            if event.stream in new_streams:
                guesses[event.stream] = None  # a stream this very write creates: no head yet
            elif event.stream in _known_heads:
                guesses[event.stream] = _known_heads[event.stream]
    return guesses


def _remember_heads(heads: dict[str, Head]) -> None:
    with _known_lock:
        for stream, head in heads.items():
            _known_heads[stream] = head
            _known_heads.move_to_end(stream)
        while len(_known_heads) > KNOWN_HEADS_MAX:
            _known_heads.popitem(last=False)


def forget_known_heads() -> None:
    with _known_lock:
        _known_heads.clear()


def _chained(events: Sequence[LedgerEvent], now: datetime,
             guesses: dict[str, Head | None]) -> tuple[list[Step], dict[str, Head]]:
    """Each event chained after its stream's head, and each stream's new head (guessed, else read now).

    Appends are PutItems: an event's key is new (attribute_not_exists), and the head is replaced only
    if it still is the head read, so two writers can never both append after the same event.
    """
    steps: list[Step] = []
    heads: dict[str, tuple[Head | None, Head]] = {}
    for event in events:
        if event.stream not in heads:
            read = guesses[event.stream] if event.stream in guesses else _ledger_head(event.stream)
            heads[event.stream] = (read, read or Head(0, GENESIS, None))
        read, last = heads[event.stream]
        record = _ledger_record(event, last.seq + 1, last.hash, last.last_key)
        steps.append(("ledger", _put(record, LedgerRecord.stream.does_not_exist())))
        heads[event.stream] = (read, Head(last.seq + 1, record.hash, record.event_key))
    for stream, (read, last) in heads.items():
        condition = (LedgerHeadRecord.stream.does_not_exist() if read is None
                     else (LedgerHeadRecord.hash == read.hash) & (LedgerHeadRecord.seq == read.seq))
        head = LedgerHeadRecord(stream, HEAD_KEY, seq=last.seq, hash=last.hash, last_key=last.last_key,
                                chain_shard=shard_of(stream), updated_at=now)
        steps.append((LEDGER_HEAD, _put(head, condition)))
    return steps, {stream: last for stream, (_, last) in heads.items()}


class _NamedWrites:
    """TransactWrite under names: PynamoDB sends checks, deletes, puts, then updates, and DynamoDB's
    cancellation reasons come in that order, so each write's name is kept in the same order."""

    def __init__(self, tx: TransactWrite) -> None:
        self.tx = tx
        self.name = ""
        self.order: dict[str, list[str]] = {"delete": [], "put": [], "update": []}

    def save(self, model: Any, condition: Any = None) -> None:
        self.order["put"].append(self.name)
        self.tx.save(model, condition=condition)

    def update(self, model: Any, actions: list[Any], condition: Any = None) -> None:
        self.order["update"].append(self.name)
        self.tx.update(model, actions=actions, condition=condition)

    def delete(self, model: Any, condition: Any = None) -> None:
        self.order["delete"].append(self.name)
        self.tx.delete(model, condition=condition)

    def names(self) -> list[str]:
        return [*self.order["delete"], *self.order["put"], *self.order["update"]]


Step = tuple[str, Callable[[_NamedWrites], None]]


def _put(model: Any, condition: Any) -> Callable[[_NamedWrites], None]:
    """A conditional put as a step (PynamoDB's models and conditions are untyped: Any at this edge)."""
    return lambda tx: tx.save(model, condition=condition)


def _transact(steps: Sequence[Step], events: Sequence[LedgerEvent]) -> None:
    """The steps and their ledger events in one transaction; retried only when just a stream's head moved.

    A stream that one of the events starts (a new application's, payment's or policy's) is guessed
    to have no head, and one this container appended to last to have the head it wrote: no read
    for either. A retry reads every head again.
    """
    guesses = _guess_heads(events, frozenset(e.stream for e in events if e.kind in STREAM_STARTS))
    for attempt in range(HEAD_RETRIES):
        chained, heads = _chained(events, datetime.now(UTC), guesses)
        try:
            _transact_once([*steps, *chained])
        except LostRace as race:
            if race.failed != {LEDGER_HEAD} or attempt == HEAD_RETRIES - 1:
                # A state condition failed (the head's alone is no news to the caller), or a conflict.
                raise LostRace(race.failed - {LEDGER_HEAD} or race.failed, race.conflict) from race
            guesses = {}
            continue
        _remember_heads(heads)
        return


def _transact_once(all_steps: list[Step]) -> None:
    writes: _NamedWrites | None = None
    try:
        with TransactWrite(connection=connection(), client_request_token=uuid.uuid4().hex) as tx:
            writes = _NamedWrites(tx)
            for name, step in all_steps:
                writes.name = name
                step(writes)
    except TransactWriteError as exc:
        why = cancellation(exc)
        names = writes.names() if writes else []
        failed = {names[i] for i in why.failed_conditions if i < len(names)}
        if failed or why.conflict:
            raise LostRace(failed, why.conflict) from exc
        raise


def _iso(value: date | datetime) -> str:
    return value.isoformat()


def _period_maps(periods: Iterable[StoredPeriod]) -> list[PeriodMap]:
    return [PeriodMap(**p) for p in periods]  # type: ignore[no-untyped-call]  # MapAttribute.__init__ is unannotated


def _attempt(row: RefundAttemptRow, **changes: object) -> RefundAttempt:
    """A refund attempt as stored, from one read (ours or a fake's), with `changes`."""
    fields = {name: getattr(row, name) for name in RefundAttempt.get_attributes()}
    return RefundAttempt(**{**fields, **changes})  # type: ignore[no-untyped-call]  # as PeriodMap above


def _attempts(payment: PaymentRow) -> list[RefundAttempt]:
    return [_attempt(a) for a in (payment.refunds or [])]


def _line(row: PaymentLineRow, **changes: object) -> PaymentLine:
    """A basket line as stored, from one read (ours or a fake's), with `changes`."""
    fields = {name: getattr(row, name) for name in PaymentLine.get_attributes()}
    return PaymentLine(**{**fields, **changes})  # type: ignore[no-untyped-call]  # as PeriodMap above


def _lines(payment: PaymentRow, refunded: Iterable[str] = ()) -> list[PaymentLine]:
    """The payment's lines, those of `refunded` applications marked refunded."""
    gone = set(refunded)
    return [_line(row, refund_status=RefundStatus.REFUNDED) if row.application_id in gone else _line(row)
            for row in (payment.lines or [])]


def _payment_after(payment: PaymentRow, **changes: object) -> PaymentRecord:
    """The payment as a write left it: what was read, with what the write set (no second read)."""
    fields = {name: getattr(payment, name) for name in PaymentRecord.get_attributes()}
    fields["refunds"] = _attempts(payment) or None
    fields["lines"] = _lines(payment) or None
    return PaymentRecord(**{**fields, **changes})


class PremiumStore:
    """PynamoDB-backed storage of applications, payments, policies, the ledger and idempotency keys."""

    # --- reads -----------------------------------------------------------------------------------
    def application(self, application_id: str) -> ApplicationRecord | None:
        try:
            return ApplicationRecord.get(application_id, consistent_read=True)
        except ApplicationRecord.DoesNotExist:
            return None

    def payment(self, payment_id: str) -> PaymentRecord | None:
        try:
            return PaymentRecord.get(payment_id, consistent_read=True)
        except PaymentRecord.DoesNotExist:
            return None

    def policy(self, insured_civil_id: str) -> ResidencePolicyRecord | None:
        try:
            return ResidencePolicyRecord.get(insured_civil_id, consistent_read=True)
        except ResidencePolicyRecord.DoesNotExist:
            return None

    def idempotency(self, key: str) -> IdempotencyRecord | None:
        try:
            return IdempotencyRecord.get(key, consistent_read=True)
        except IdempotencyRecord.DoesNotExist:
            return None

    def payments_of(self, account_id: str, limit: int = 100) -> list[PaymentRecord]:
        return list(PaymentRecord.by_account.query(account_id, scan_index_forward=False, limit=limit))

    def policies_of(self, account_id: str) -> list[ResidencePolicyRecord]:
        return list(ResidencePolicyRecord.by_account.query(account_id))

    def due_payments(self, now: datetime, limit: int) -> Iterator[PaymentRecord]:
        """Pending payments whose reconciliation is due, shard by shard, read lazily (Queries, never a Scan)."""
        for shard in range(SHARDS):
            yield from PaymentRecord.due_for_reconciliation.query(
                    f"{RECONCILE_QUEUE}-{shard}", PaymentRecord.reconcile_due_at <= _iso(now), page_size=limit)

    def due_refunds(self, now: datetime, limit: int) -> Iterator[PaymentRecord]:
        """Payments whose gateway-confirmed refund is still to be recorded, shard by shard (Queries)."""
        for shard in range(SHARDS):
            yield from PaymentRecord.due_for_reconciliation.query(
                    f"{REFUND_QUEUE}-{shard}", PaymentRecord.reconcile_due_at <= _iso(now), page_size=limit)

    def policy_by_number(self, policy_number: str) -> ResidencePolicyRecord | None:
        """The policy holding a number, through its claim item (two GetItems, never a Scan)."""
        try:
            claim = PolicyNumberClaim.get(f"{POLICY_NUMBER_KEY}{policy_number}", consistent_read=True)
        except PolicyNumberClaim.DoesNotExist:
            return None
        return self.policy(claim.holder_civil_id)

    def due_reminders(self, shard: str, today: date) -> Iterator[ResidencePolicyRecord]:
        """Policies of one shard whose next renewal reminder is due by `today`, a page at a time (a Query)."""
        yield from ResidencePolicyRecord.due_for_renewal_reminder.query(
            f"{REMINDER_QUEUE}-{shard}", ResidencePolicyRecord.reminder_due_on <= today.isoformat(),
            page_size=REMINDER_PAGE)

    def ledger(self, stream: str) -> list[LedgerRecord]:
        """A stream's events in order (its head item left out)."""
        return list(LedgerRecord.query(stream, LedgerRecord.event_key > HEAD_KEY, consistent_read=True))

    def ledger_items(self, stream: str) -> list[LedgerItem]:
        """Every item of a stream as stored (DynamoDB's typed attributes), head included: what the check reads."""
        pages = client("dynamodb").get_paginator("query").paginate(
            TableName=LedgerRecord.Meta.table_name, KeyConditionExpression="#s = :s",
            ExpressionAttributeNames={"#s": "stream"}, ExpressionAttributeValues={":s": {"S": stream}},
            ConsistentRead=True)
        return [item for page in pages for item in page.get("Items", [])]

    def ledger_streams(self, first_shard: int = 0) -> Iterator[str]:
        """Every stream with a head, from the sparse "streams" index, shard by shard (Queries, no Scan)."""
        for offset in range(SHARDS):
            shard = str((first_shard + offset) % SHARDS)
            for head in LedgerHeadRecord.streams.query(shard):
                yield head.stream

    # --- applications ----------------------------------------------------------------------------
    def create_application(self, draft: ApplicationDraft, event: LedgerEvent) -> ApplicationRecord:
        record = ApplicationRecord(**asdict(draft))
        _transact([("application", lambda tx: tx.save(
            record, condition=ApplicationRecord.application_id.does_not_exist()))], [event])
        return record

    def replace_application(self, draft: ApplicationDraft, expected_revision: int,
                            event: LedgerEvent) -> ApplicationRecord:
        """Write a changed application over the one read, if it is still that revision and unpaid."""
        record = ApplicationRecord(**asdict(draft))  # a new revision: its confirmation and payment cleared
        condition = ((ApplicationRecord.revision == expected_revision)
                     & ApplicationRecord.status.is_in(ApplicationStatus.AWAITING_CONFIRMATION,
                                                      ApplicationStatus.CONFIRMED))
        _transact([("application", lambda tx: tx.save(record, condition=condition))], [event])
        return record

    def confirm_application(self, application_id: str, revision: int, now: datetime, event: LedgerEvent) -> None:
        # Guards: the revision reviewed is the one stored; a paying or paid application stays as it is.
        condition = ((ApplicationRecord.revision == revision)
                     & (ApplicationRecord.status == ApplicationStatus.AWAITING_CONFIRMATION))
        actions = [ApplicationRecord.status.set(ApplicationStatus.CONFIRMED),
                   ApplicationRecord.confirmed_revision.set(revision), ApplicationRecord.confirmed_at.set(now),
                   ApplicationRecord.updated_at.set(now)]
        _transact([("application", lambda tx: tx.update(ApplicationRecord(application_id), actions=actions,
                                                         condition=condition))], [event])

    def open_renewal(self, draft: ApplicationDraft, *, renews_from: str, replaces: str | None,
                     event: LedgerEvent) -> ApplicationRecord:
        """The renewal application and its mark on the policy, at once; one per period ending `renews_from`."""
        record = ApplicationRecord(**asdict(draft))
        # Guards: the policy still ends where the review priced from, is in force, and has no renewal for it yet
        # (or only the closed one read, whose payment was refunded).
        free = ResidencePolicyRecord.renewal_from.does_not_exist() | (ResidencePolicyRecord.renewal_from != renews_from)
        if replaces:
            free = free | (ResidencePolicyRecord.renewal_application_id == replaces)
        policy_condition = ((ResidencePolicyRecord.end_date == renews_from)
                            & (ResidencePolicyRecord.status == "active") & free)
        _transact([
            ("application", lambda tx: tx.save(record, condition=ApplicationRecord.application_id.does_not_exist())),
            ("policy", lambda tx: tx.update(
                ResidencePolicyRecord(draft.insured_civil_id),
                actions=[ResidencePolicyRecord.renewal_application_id.set(draft.application_id),
                         ResidencePolicyRecord.renewal_from.set(renews_from)],
                condition=policy_condition)),
        ], [event])
        return record

    # --- renewal reminders -----------------------------------------------------------------------
    def mark_reminded(self, policy: PolicyRow, *, step: str | None, next_due_on: str | None, now: datetime) -> None:
        """The step sent (if any) and the next due day, over the due day and end read: one run of two wins."""
        end = policy.end_date
        actions: list[Any] = [ResidencePolicyRecord.reminder_due_on.set(next_due_on)] if next_due_on else [
            ResidencePolicyRecord.reminder_queue.remove(), ResidencePolicyRecord.reminder_due_on.remove()]
        if step is not None and end:
            actions.append(ResidencePolicyRecord.last_reminder.set(f"{end}#{step}"))
        condition = ((ResidencePolicyRecord.reminder_due_on == policy.reminder_due_on)
                     & (ResidencePolicyRecord.end_date == end))
        self._update_policy(policy.insured_civil_id, actions, condition)

    def index_for_reminders(self, policy: ResidencePolicyRecord) -> None:
        """Into the reminder index exactly as a capture puts it (`reminder_actions` of its end date).

        For the one-off backfill of policies paid before the index existed (`python -m admin
        backfill-renewal-reminders`): only over the policy as read (same end, in force, last updated
        when it was read, no payment or refund in flight) and not in the index yet; otherwise LostRace.
        """
        end = policy.end_date
        if not end:
            raise LostRace({"policy"})
        unchanged = (ResidencePolicyRecord.updated_at == policy.updated_at if policy.updated_at is not None
                     else ResidencePolicyRecord.updated_at.does_not_exist())
        condition = (ResidencePolicyRecord.reminder_queue.does_not_exist()
                     & (ResidencePolicyRecord.end_date == end) & (ResidencePolicyRecord.status == "active")
                     & (ResidencePolicyRecord.policy_id == policy.policy_id)
                     & ResidencePolicyRecord.lock_ref.does_not_exist() & unchanged)
        self._update_policy(policy.insured_civil_id, reminder_actions(end, policy.insured_civil_id), condition)

    def drop_reminders(self, policy: PolicyRow) -> None:
        condition = ResidencePolicyRecord.reminder_due_on == policy.reminder_due_on
        self._update_policy(policy.insured_civil_id, reminder_actions(None, policy.insured_civil_id), condition)

    def _update_policy(self, civil_id: str, actions: list[Any], condition: Any) -> None:
        try:
            ResidencePolicyRecord(civil_id).update(actions=actions, condition=condition)
        except UpdateError as exc:
            if lost_condition(exc):
                raise LostRace({"policy"}) from exc
            raise

    # --- starting a payment ----------------------------------------------------------------------
    def start_payment(self, *, claim: IdempotencyClaim, payment: PaymentDraft, application: ApplicationRow,
                      renewal: bool, now: datetime, event: LedgerEvent) -> PaymentRecord:
        """Claim the key, create the payment, mark the application paying and lock the insured, at once."""
        record = PaymentRecord(**asdict(payment))
        idempotency = IdempotencyRecord(key=claim.key, fingerprint=claim.fingerprint, payment_id=claim.payment_id,
                                        created_at=claim.created_at, expires_ttl=claim.expires_at)
        revision = int(application.revision)
        start = application.start_date
        app_condition = ((ApplicationRecord.status == ApplicationStatus.CONFIRMED)
                         & (ApplicationRecord.revision == revision)
                         & (ApplicationRecord.confirmed_revision == revision))
        # The insured's coverage must still be what the review priced, and nobody else changing it.
        if renewal:
            coverage = (ResidencePolicyRecord.end_date == start) & (ResidencePolicyRecord.status == "active")
        else:
            coverage = ResidencePolicyRecord.end_date.does_not_exist() | (ResidencePolicyRecord.end_date <= start)
        policy_condition = ResidencePolicyRecord.lock_ref.does_not_exist() & coverage
        pid = payment.payment_id
        _transact([
            ("idempotency", lambda tx: tx.save(idempotency, condition=IdempotencyRecord.key.does_not_exist())),
            ("payment", lambda tx: tx.save(record, condition=PaymentRecord.payment_id.does_not_exist())),
            ("application", lambda tx: tx.update(
                ApplicationRecord(application.application_id),
                actions=[ApplicationRecord.status.set(ApplicationStatus.PAYMENT_PENDING),
                         ApplicationRecord.payment_id.set(pid), ApplicationRecord.updated_at.set(now)],
                condition=app_condition)),
            ("policy", lambda tx: tx.update(
                ResidencePolicyRecord(application.insured_civil_id),
                actions=[ResidencePolicyRecord.lock_ref.set(f"pay#{pid}")], condition=policy_condition)),
        ], [event])
        return record

    def attach_session(self, payment: PaymentRow, gateway_ref: str, payment_url: str, now: datetime,
                       event: LedgerEvent) -> PaymentRecord:
        condition = (PaymentRecord.status == PaymentStatus.PENDING) & PaymentRecord.payment_url.does_not_exist()
        actions = [PaymentRecord.gateway_ref.set(gateway_ref), PaymentRecord.payment_url.set(payment_url),
                   PaymentRecord.updated_at.set(now)]
        _transact([("payment", lambda tx: tx.update(PaymentRecord(payment.payment_id), actions=actions,
                                                     condition=condition))], [event])
        return _payment_after(payment, gateway_ref=gateway_ref, payment_url=payment_url, updated_at=now)

    # --- family baskets --------------------------------------------------------------------------
    def start_basket(self, *, claim: IdempotencyClaim, payment: PaymentDraft, applications: Sequence[ApplicationRow],
                     now: datetime, event: LedgerEvent) -> PaymentRecord:
        """Claim the key, create the payment, mark each application paying and lock each insured, at once."""
        fields = asdict(payment)
        fields["lines"] = [PaymentLine(**line) for line in fields["lines"] or []]  # type: ignore[no-untyped-call]
        record = PaymentRecord(**fields)
        idempotency = IdempotencyRecord(key=claim.key, fingerprint=claim.fingerprint, payment_id=claim.payment_id,
                                        created_at=claim.created_at, expires_ttl=claim.expires_at)
        pid = payment.payment_id
        steps: list[Step] = [
            ("idempotency", lambda tx: tx.save(idempotency, condition=IdempotencyRecord.key.does_not_exist())),
            ("payment", lambda tx: tx.save(record, condition=PaymentRecord.payment_id.does_not_exist())),
        ]
        for i, application in enumerate(applications):
            steps += _paying_steps(application, pid, now, suffix=f":{i}")
        _transact(steps, [event])
        return record

    def capture_basket(self, payment: PaymentRow, *, policies: Sequence[PolicyWrite], now: datetime,
                       transaction_id: str | None, gateway_ref: str | None, gateway_result: str,
                       events: Sequence[LedgerEvent]) -> PaymentRecord:
        """pending -> captured; every policy created or extended and unlocked; every application paid."""
        pid = payment.payment_id
        payment_actions = [
            PaymentRecord.status.set(PaymentStatus.CAPTURED), PaymentRecord.captured_at.set(now),
            PaymentRecord.settled_at.set(now), PaymentRecord.updated_at.set(now),
            PaymentRecord.gateway_result.set(gateway_result),
            PaymentRecord.reconcile_queue.remove(), PaymentRecord.reconcile_due_at.remove(),
        ]
        if transaction_id:
            payment_actions.append(PaymentRecord.transaction_id.set(transaction_id))
        if gateway_ref and not payment.gateway_ref:
            payment_actions.append(PaymentRecord.gateway_ref.set(gateway_ref))
        steps: list[Step] = [("payment", lambda tx: tx.update(
            PaymentRecord(pid), actions=payment_actions, condition=PaymentRecord.status == PaymentStatus.PENDING))]
        for i, write in enumerate(policies):
            line = write.line
            assert line is not None and write.end_date is not None
            steps += _captured_policy_steps(payment, write, line, now, index=i)
            steps.append((f"application:{i}", _paid(line.application_id, pid, now)))
        _transact(steps, events)
        return _payment_after(
            payment, status=PaymentStatus.CAPTURED, captured_at=now, settled_at=now, updated_at=now,
            gateway_result=gateway_result, reconcile_queue=None, reconcile_due_at=None,
            transaction_id=transaction_id or payment.transaction_id, gateway_ref=payment.gateway_ref or gateway_ref)

    def request_basket_refund(self, payment: PaymentRow, *, application_ids: Sequence[str], amount_fils: int,
                              reason: str, now: datetime, event: LedgerEvent) -> None:
        """The shares' refund requested over the refunded amount read; each share's insured locked."""
        pid = payment.payment_id
        attempt = RefundAttempt(  # type: ignore[no-untyped-call]  # MapAttribute.__init__ is unannotated
            status=RefundStatus.REQUESTED, amount_fils=amount_fils, reason=reason, requested_at=now,
            shares=" ".join(application_ids))
        attempts = [*_attempts(payment), attempt]
        refunded = int(payment.refunded_fils or 0)
        # Guards: captured, no refund in flight, and nothing refunded since the lines were read (two refunds of
        # one share: the second finds the amount moved, or the first still requested).
        payment_condition = ((PaymentRecord.status == PaymentStatus.CAPTURED)
                             & (PaymentRecord.refund_status.does_not_exist()
                                | PaymentRecord.refund_status.is_in(RefundStatus.FAILED, RefundStatus.REFUNDED))
                             & (PaymentRecord.refunded_fils == refunded))
        steps: list[Step] = [("payment", lambda tx: tx.update(
            PaymentRecord(pid), actions=[PaymentRecord.refund_status.set(RefundStatus.REQUESTED),
                                         PaymentRecord.refunds.set(attempts), PaymentRecord.updated_at.set(now)],
            condition=payment_condition))]
        wanted = set(application_ids)
        for i, line in enumerate(payment.lines or []):
            if line.application_id not in wanted:
                continue
            # Only the last period may go, and only when nothing else is changing this person's coverage.
            condition = (ResidencePolicyRecord.lock_ref.does_not_exist()
                         & (ResidencePolicyRecord.end_date == line.period_end))
            steps.append((f"policy:{i}", _locked(line.insured_civil_id, f"refund#{pid}", condition)))
        _transact(steps, [event])

    def complete_basket_refund(self, payment: PaymentRow, *, policies: Sequence[PolicyWrite], refund_ref: str | None,
                               now: datetime, events: Sequence[LedgerEvent]) -> None:
        """The requested shares refunded: lines and periods cancelled, refunded_fils up, insured unlocked."""
        pid = payment.payment_id
        attempts = _attempts(payment)
        if not attempts or not attempts[-1].shares:
            raise LostRace({"payment"})  # no share's refund was requested: nothing to settle
        targets = str(attempts[-1].shares).split()
        amount = int(attempts[-1].amount_fils)
        attempts[-1] = _attempt(attempts[-1], status=RefundStatus.REFUNDED, completed_at=now, refund_ref=refund_ref)
        lines = _lines(payment, refunded=targets)
        all_back = all(line.refund_status == RefundStatus.REFUNDED for line in lines)
        refunded = int(payment.refunded_fils or 0)
        # Never more back than was paid: the condition is the arithmetic, checked by DynamoDB.
        payment_condition = ((PaymentRecord.refund_status == RefundStatus.REQUESTED)
                             & (PaymentRecord.status == PaymentStatus.CAPTURED)
                             & (PaymentRecord.refunded_fils == refunded)
                             & (PaymentRecord.refunded_fils <= int(payment.amount_fils) - amount))
        payment_actions = [PaymentRecord.refund_status.set(RefundStatus.REFUNDED),
                           PaymentRecord.refunded_fils.add(amount), PaymentRecord.refunds.set(attempts),
                           PaymentRecord.lines.set(lines), PaymentRecord.updated_at.set(now),
                           PaymentRecord.reconcile_queue.remove(), PaymentRecord.reconcile_due_at.remove()]
        if all_back:
            payment_actions.append(PaymentRecord.status.set(PaymentStatus.REFUNDED))
        steps: list[Step] = [("payment", lambda tx: tx.update(PaymentRecord(pid), actions=payment_actions,
                                                              condition=payment_condition))]
        for i, write in enumerate(policies):
            actions = [ResidencePolicyRecord.periods.set(_period_maps(write.periods)),
                       ResidencePolicyRecord.status.set(write.status), ResidencePolicyRecord.lock_ref.remove(),
                       ResidencePolicyRecord.updated_at.set(now)]
            for attr, value in ((ResidencePolicyRecord.start_date, write.start_date),
                                (ResidencePolicyRecord.end_date, write.end_date)):
                actions.append(attr.set(value) if value else attr.remove())
            actions += reminder_actions(write.end_date if write.status == "active" else None, write.insured_civil_id)
            steps.append((f"policy:{i}", _locked(write.insured_civil_id, None, ResidencePolicyRecord.lock_ref
                                                 == write.lock_ref, actions=actions)))
        _transact(steps, events)

    # --- settling a payment ----------------------------------------------------------------------
    def capture(self, payment: PaymentRow, *, policy_id: str, periods: Sequence[StoredPeriod], start_date: str,
                end_date: str, now: datetime, transaction_id: str | None, gateway_ref: str | None,
                gateway_result: str, events: Sequence[LedgerEvent],
                policy_number: str | None = None) -> PaymentRecord:
        """pending -> captured, the policy created or extended and unlocked, the application paid.

        With `policy_number`, the number is claimed (its claim item must not exist) and given to the
        policy (which must have none) in the same transaction.
        """
        pid = payment.payment_id
        payment_actions = [
            PaymentRecord.status.set(PaymentStatus.CAPTURED), PaymentRecord.captured_at.set(now),
            PaymentRecord.settled_at.set(now), PaymentRecord.updated_at.set(now),
            PaymentRecord.gateway_result.set(gateway_result),
            PaymentRecord.reconcile_queue.remove(), PaymentRecord.reconcile_due_at.remove(),
        ]
        if transaction_id:
            payment_actions.append(PaymentRecord.transaction_id.set(transaction_id))
        if gateway_ref and not payment.gateway_ref:
            payment_actions.append(PaymentRecord.gateway_ref.set(gateway_ref))
        policy_actions = [
            ResidencePolicyRecord.policy_id.set(policy_id), ResidencePolicyRecord.account_id.set(payment.account_id),
            ResidencePolicyRecord.insured_name.set(payment.insured_name),
            ResidencePolicyRecord.category.set(payment.category), ResidencePolicyRecord.status.set("active"),
            ResidencePolicyRecord.start_date.set(start_date), ResidencePolicyRecord.end_date.set(end_date),
            ResidencePolicyRecord.periods.set(_period_maps(periods)), ResidencePolicyRecord.lock_ref.remove(),
            ResidencePolicyRecord.created_at.set(ResidencePolicyRecord.created_at | now),
            ResidencePolicyRecord.updated_at.set(now),
        ]
        if payment.insured_name_ar:
            # Left out on a renewal, the Arabic name given before stays: same civil ID, same person.
            policy_actions.append(ResidencePolicyRecord.insured_name_ar.set(payment.insured_name_ar))
        policy_actions += _renewal_facts(payment.passport_expiry, payment.years)
        policy_actions += reminder_actions(end_date, payment.insured_civil_id)
        policy_condition = ResidencePolicyRecord.lock_ref == f"pay#{pid}"
        steps: list[Step] = []
        if policy_number:
            policy_actions.append(ResidencePolicyRecord.policy_number.set(policy_number))
            # A policy keeps the number it was issued; the claim makes the number this policy's alone.
            policy_condition = policy_condition & ResidencePolicyRecord.policy_number.does_not_exist()
            claim_actions = [PolicyNumberClaim.policy_id.set(policy_id),
                             PolicyNumberClaim.holder_civil_id.set(payment.insured_civil_id),
                             PolicyNumberClaim.claimed_at.set(now)]
            steps.append(("policy_number", lambda tx: tx.update(
                PolicyNumberClaim(f"{POLICY_NUMBER_KEY}{policy_number}"), actions=claim_actions,
                condition=PolicyNumberClaim.claim_key.does_not_exist())))
        _transact([
            *steps,
            ("payment", lambda tx: tx.update(PaymentRecord(pid), actions=payment_actions,
                                             condition=PaymentRecord.status == PaymentStatus.PENDING)),
            ("policy", lambda tx: tx.update(ResidencePolicyRecord(payment.insured_civil_id), actions=policy_actions,
                                            condition=policy_condition)),
            ("application", lambda tx: tx.update(
                ApplicationRecord(payment.application_id),
                actions=[ApplicationRecord.status.set(ApplicationStatus.PAID), ApplicationRecord.updated_at.set(now)],
                condition=(ApplicationRecord.status == ApplicationStatus.PAYMENT_PENDING)
                & (ApplicationRecord.payment_id == pid))),
        ], events)
        return _payment_after(
            payment, status=PaymentStatus.CAPTURED, captured_at=now, settled_at=now, updated_at=now,
            gateway_result=gateway_result, reconcile_queue=None, reconcile_due_at=None,
            transaction_id=transaction_id or payment.transaction_id, gateway_ref=payment.gateway_ref or gateway_ref)

    def close_unpaid(self, payment: PaymentRow, *, status: str, now: datetime, gateway_result: str,
                     release_key: str | None, events: Sequence[LedgerEvent]) -> None:
        """pending -> declined or expired: the insured unlocked, the application payable again (new key)."""
        pid = payment.payment_id
        steps: list[Step] = [
            ("payment", lambda tx: tx.update(
                PaymentRecord(pid),
                actions=[PaymentRecord.status.set(status), PaymentRecord.settled_at.set(now),
                         PaymentRecord.updated_at.set(now), PaymentRecord.gateway_result.set(gateway_result),
                         PaymentRecord.reconcile_queue.remove(), PaymentRecord.reconcile_due_at.remove()],
                condition=PaymentRecord.status == PaymentStatus.PENDING)),
            ("policy", lambda tx: tx.update(
                ResidencePolicyRecord(payment.insured_civil_id), actions=[ResidencePolicyRecord.lock_ref.remove()],
                condition=ResidencePolicyRecord.lock_ref == f"pay#{pid}")),
            ("application", lambda tx: tx.update(
                ApplicationRecord(payment.application_id),
                actions=[ApplicationRecord.status.set(ApplicationStatus.CONFIRMED),
                         ApplicationRecord.payment_id.remove(), ApplicationRecord.updated_at.set(now)],
                condition=(ApplicationRecord.status == ApplicationStatus.PAYMENT_PENDING)
                & (ApplicationRecord.payment_id == pid))),
        ]
        if payment.lines:
            steps = [steps[0], *_basket_unpaid_steps(payment, now)]
        if release_key:
            # The gateway never started: the same key may try again, as if this request never happened.
            steps.append(("idempotency", lambda tx: tx.delete(
                IdempotencyRecord(release_key), condition=IdempotencyRecord.payment_id == pid)))
        _transact(steps, events)

    def append_events(self, events: Sequence[LedgerEvent]) -> None:
        """Ledger events that record no state change (a refused gateway result, for the audit)."""
        _transact([], events)

    def postpone_reconciliation(self, payment_id: str, due_at: datetime) -> bool:
        """Ask the gateway again later; False when the payment is no longer pending."""
        try:
            PaymentRecord(payment_id).update(actions=[PaymentRecord.reconcile_due_at.set(_iso(due_at))],
                                             condition=PaymentRecord.status == PaymentStatus.PENDING)
            return True
        except UpdateError as exc:
            if lost_condition(exc):
                return False
            raise

    # --- refunds ---------------------------------------------------------------------------------
    def request_refund(self, payment: PaymentRow, *, reason: str, now: datetime, event: LedgerEvent) -> None:
        """captured, no live refund -> refund requested; the insured locked so coverage cannot move meanwhile."""
        pid = payment.payment_id
        attempt = RefundAttempt(  # type: ignore[no-untyped-call]  # MapAttribute.__init__ is unannotated
            status=RefundStatus.REQUESTED, amount_fils=int(payment.amount_fils), reason=reason, requested_at=now)
        attempts = [*_attempts(payment), attempt]
        payment_condition = ((PaymentRecord.status == PaymentStatus.CAPTURED)
                             & (PaymentRecord.refund_status.does_not_exist()
                                | (PaymentRecord.refund_status == RefundStatus.FAILED)))
        # Only the last period may go, and only when nothing else is changing this person's coverage.
        policy_condition = (ResidencePolicyRecord.lock_ref.does_not_exist()
                            & (ResidencePolicyRecord.end_date == payment.period_end))
        _transact([
            ("payment", lambda tx: tx.update(
                PaymentRecord(pid), actions=[PaymentRecord.refund_status.set(RefundStatus.REQUESTED),
                                             PaymentRecord.refunds.set(attempts), PaymentRecord.updated_at.set(now)],
                condition=payment_condition)),
            ("policy", lambda tx: tx.update(
                ResidencePolicyRecord(payment.insured_civil_id),
                actions=[ResidencePolicyRecord.lock_ref.set(f"refund#{pid}")], condition=policy_condition)),
        ], [event])

    def complete_refund(self, payment: PaymentRow, *, refund_ref: str | None, now: datetime,
                        periods: Sequence[StoredPeriod], start_date: str | None, end_date: str | None,
                        policy_status: str, events: Sequence[LedgerEvent]) -> None:
        """requested -> refunded, the payment refunded, its period cancelled, the insured unlocked."""
        pid = payment.payment_id
        amount = int(payment.amount_fils)
        attempts = _attempts(payment)
        if not attempts:
            raise LostRace({"payment"})  # no refund was requested: nothing to settle
        attempts[-1] = _attempt(attempts[-1], status=RefundStatus.REFUNDED, completed_at=now, refund_ref=refund_ref)
        # Never more back than was paid: the condition is the arithmetic, checked by DynamoDB.
        payment_condition = ((PaymentRecord.refund_status == RefundStatus.REQUESTED)
                             & (PaymentRecord.status == PaymentStatus.CAPTURED)
                             & (PaymentRecord.refunded_fils <= int(payment.amount_fils) - amount))
        policy_actions = [ResidencePolicyRecord.periods.set(_period_maps(periods)),
                          ResidencePolicyRecord.status.set(policy_status), ResidencePolicyRecord.lock_ref.remove(),
                          ResidencePolicyRecord.updated_at.set(now)]
        for attr, value in ((ResidencePolicyRecord.start_date, start_date), (ResidencePolicyRecord.end_date, end_date)):
            policy_actions.append(attr.set(value) if value else attr.remove())
        # The reminders follow the end that is left (none when nothing is).
        policy_actions += reminder_actions(end_date if policy_status == "active" else None, payment.insured_civil_id)
        _transact([
            ("payment", lambda tx: tx.update(
                PaymentRecord(pid),
                actions=[PaymentRecord.status.set(PaymentStatus.REFUNDED),
                         PaymentRecord.refund_status.set(RefundStatus.REFUNDED),
                         PaymentRecord.refunded_fils.add(amount), PaymentRecord.refunds.set(attempts),
                         PaymentRecord.updated_at.set(now),
                         # Out of the reconciliation index, if a failed record had put it there.
                         PaymentRecord.reconcile_queue.remove(), PaymentRecord.reconcile_due_at.remove()],
                condition=payment_condition)),
            ("policy", lambda tx: tx.update(ResidencePolicyRecord(payment.insured_civil_id), actions=policy_actions,
                                            condition=ResidencePolicyRecord.lock_ref == f"refund#{pid}")),
        ], events)

    def keep_confirmed_refund(self, payment: PaymentRow, *, refund_ref: str | None, queue: str, due_at: datetime,
                              now: datetime, event: LedgerEvent) -> None:
        """The gateway refunded but the record failed: keep its reference and queue it for reconciliation.

        The refund stays `requested` and the insured locked, so nothing else moves until reconciliation
        writes what `complete_refund` could not.
        """
        pid = payment.payment_id
        attempts = _attempts(payment)
        if not attempts:
            raise LostRace({"payment"})
        attempts[-1] = _attempt(attempts[-1], refund_ref=refund_ref)
        _transact([
            ("payment", lambda tx: tx.update(
                PaymentRecord(pid), actions=[PaymentRecord.refunds.set(attempts),
                                             PaymentRecord.reconcile_queue.set(queue),
                                             PaymentRecord.reconcile_due_at.set(_iso(due_at)),
                                             PaymentRecord.updated_at.set(now)],
                condition=(PaymentRecord.refund_status == RefundStatus.REQUESTED)
                & (PaymentRecord.status == PaymentStatus.CAPTURED))),
        ], [event])

    def fail_refund(self, payment: PaymentRow, *, error_code: str | None, now: datetime, event: LedgerEvent) -> None:
        """requested -> failed: nothing moved, the insured unlocked."""
        pid = payment.payment_id
        attempts = _attempts(payment)
        if not attempts:
            raise LostRace({"payment"})  # no refund was requested: nothing to settle
        attempts[-1] = _attempt(attempts[-1], status=RefundStatus.FAILED, completed_at=now, error_code=error_code)
        civil_ids = _refund_targets(payment) or [payment.insured_civil_id]
        _transact([
            ("payment", lambda tx: tx.update(
                PaymentRecord(pid), actions=[PaymentRecord.refund_status.set(RefundStatus.FAILED),
                                             PaymentRecord.refunds.set(attempts), PaymentRecord.updated_at.set(now)],
                condition=PaymentRecord.refund_status == RefundStatus.REQUESTED)),
            *[(f"policy:{i}" if payment.lines else "policy", _unlock(civil_id, f"refund#{pid}"))
              for i, civil_id in enumerate(civil_ids)],
        ], [event])


def _refund_targets(payment: PaymentRow) -> list[str]:
    """The insured civil IDs of the shares the latest refund attempt of a basket covers."""
    attempt = payment.refunds[-1] if payment.refunds else None
    wanted = set((attempt.shares or "").split()) if attempt is not None else set()
    return [line.insured_civil_id for line in payment.lines or [] if line.application_id in wanted]


def _unlock(civil_id: str, lock_ref: str) -> Callable[[_NamedWrites], None]:
    return lambda tx: tx.update(ResidencePolicyRecord(civil_id), actions=[ResidencePolicyRecord.lock_ref.remove()],
                                condition=ResidencePolicyRecord.lock_ref == lock_ref)


def _locked(civil_id: str, lock_ref: str | None, condition: Any, *,
            actions: list[Any] | None = None) -> Callable[[_NamedWrites], None]:
    """An update of one insured's policy: set the lock (`lock_ref`) or the given actions, under `condition`."""
    chosen = actions if actions is not None else [ResidencePolicyRecord.lock_ref.set(str(lock_ref))]
    return lambda tx: tx.update(ResidencePolicyRecord(civil_id), actions=chosen, condition=condition)


def _paid(application_id: str, pid: str, now: datetime) -> Callable[[_NamedWrites], None]:
    return lambda tx: tx.update(
        ApplicationRecord(application_id),
        actions=[ApplicationRecord.status.set(ApplicationStatus.PAID), ApplicationRecord.updated_at.set(now)],
        condition=(ApplicationRecord.status == ApplicationStatus.PAYMENT_PENDING)
        & (ApplicationRecord.payment_id == pid))


def _paying_steps(application: ApplicationRow, pid: str, now: datetime, *, suffix: str = "") -> list[Step]:
    """An application marked paying by payment `pid`, and its insured locked, if both are as the review saw them."""
    revision = int(application.revision)
    start = application.start_date
    app_condition = ((ApplicationRecord.status == ApplicationStatus.CONFIRMED)
                     & (ApplicationRecord.revision == revision)
                     & (ApplicationRecord.confirmed_revision == revision))
    # The insured's coverage must still be what the review priced, and nobody else changing it.
    if application.kind == "renewal":
        coverage = (ResidencePolicyRecord.end_date == start) & (ResidencePolicyRecord.status == "active")
    else:
        coverage = ResidencePolicyRecord.end_date.does_not_exist() | (ResidencePolicyRecord.end_date <= start)
    return [
        (f"application{suffix}", lambda tx: tx.update(
            ApplicationRecord(application.application_id),
            actions=[ApplicationRecord.status.set(ApplicationStatus.PAYMENT_PENDING),
                     ApplicationRecord.payment_id.set(pid), ApplicationRecord.updated_at.set(now)],
            condition=app_condition)),
        (f"policy{suffix}", _locked(application.insured_civil_id, f"pay#{pid}",
                                    ResidencePolicyRecord.lock_ref.does_not_exist() & coverage)),
    ]


def _captured_policy_steps(payment: PaymentRow, write: PolicyWrite, line: PaymentLineRow, now: datetime, *,
                           index: int) -> list[Step]:
    """One basket line's policy created or extended and unlocked (and its number claimed when it has none)."""
    actions = [
        ResidencePolicyRecord.policy_id.set(write.policy_id), ResidencePolicyRecord.account_id.set(payment.account_id),
        ResidencePolicyRecord.insured_name.set(line.insured_name), ResidencePolicyRecord.category.set(line.category),
        ResidencePolicyRecord.status.set("active"), ResidencePolicyRecord.start_date.set(str(write.start_date)),
        ResidencePolicyRecord.end_date.set(str(write.end_date)),
        ResidencePolicyRecord.periods.set(_period_maps(write.periods)), ResidencePolicyRecord.lock_ref.remove(),
        ResidencePolicyRecord.created_at.set(ResidencePolicyRecord.created_at | now),
        ResidencePolicyRecord.updated_at.set(now),
        *_renewal_facts(line.passport_expiry, line.years),
        *reminder_actions(write.end_date, write.insured_civil_id),
    ]
    if line.insured_name_ar:
        actions.append(ResidencePolicyRecord.insured_name_ar.set(line.insured_name_ar))
    condition = ResidencePolicyRecord.lock_ref == write.lock_ref
    steps: list[Step] = []
    number = write.policy_number
    if number:
        actions.append(ResidencePolicyRecord.policy_number.set(number))
        condition = condition & ResidencePolicyRecord.policy_number.does_not_exist()
        claim_actions = [PolicyNumberClaim.policy_id.set(write.policy_id),
                         PolicyNumberClaim.holder_civil_id.set(write.insured_civil_id),
                         PolicyNumberClaim.claimed_at.set(now)]
        steps.append(("policy_number", lambda tx: tx.update(
            PolicyNumberClaim(f"{POLICY_NUMBER_KEY}{number}"), actions=claim_actions,
            condition=PolicyNumberClaim.claim_key.does_not_exist())))
    steps.append((f"policy:{index}", _locked(write.insured_civil_id, None, condition, actions=actions)))
    return steps


def _basket_unpaid_steps(payment: PaymentRow, now: datetime) -> list[Step]:
    """A closed basket: every insured unlocked, every application payable again."""
    pid = payment.payment_id
    steps: list[Step] = []
    for i, line in enumerate(payment.lines or []):
        steps.append((f"policy:{i}", _unlock(line.insured_civil_id, f"pay#{pid}")))
        steps.append((f"application:{i}", _payable_again(line.application_id, pid, now)))
    return steps


def _payable_again(application_id: str, pid: str, now: datetime) -> Callable[[_NamedWrites], None]:
    return lambda tx: tx.update(
        ApplicationRecord(application_id),
        actions=[ApplicationRecord.status.set(ApplicationStatus.CONFIRMED),
                 ApplicationRecord.payment_id.remove(), ApplicationRecord.updated_at.set(now)],
        condition=(ApplicationRecord.status == ApplicationStatus.PAYMENT_PENDING)
        & (ApplicationRecord.payment_id == pid))


def _renewal_facts(passport_expiry: str | None, years: float | None) -> list[Any]:
    """What a renewal of this policy would ask for, from the application just paid (for its reminders)."""
    actions: list[Any] = []
    if passport_expiry:
        actions.append(ResidencePolicyRecord.passport_expiry.set(passport_expiry))
    if years:
        actions.append(ResidencePolicyRecord.renewal_years.set(int(years)))
    return actions


def reconcile_due_at(created: datetime, minutes: int) -> str:
    return _iso(created + timedelta(minutes=minutes))
