"""PynamoDB models of residence premiums: applications, payments, policies, the ledger, idempotency keys.

Dates of coverage are ISO `YYYY-MM-DD` strings (Kuwaiti calendar days, no time
zone to get wrong); instants are UTC. Amounts are integer fils. Index sort keys
are ISO strings, which sort as time does.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.platform.dynamo import TableMeta, by_account_index
from chalicelib.settings import get_settings

_settings = get_settings()
_tables = _settings.premium_tables


class ApplicationRecord(Model):
    """What a person asked to insure, as reviewed; `revision` goes up on every change."""

    class Meta(TableMeta):
        table_name = _tables.applications

    application_id = UnicodeAttribute(hash_key=True)
    account_id = UnicodeAttribute()
    created_at = UnicodeAttribute()  # ISO-8601 UTC, the index's sort key
    updated_at = UTCDateTimeAttribute()
    # awaiting_confirmation | confirmed | payment_pending | paid
    status = UnicodeAttribute()
    revision = NumberAttribute()
    insured_civil_id = UnicodeAttribute()
    insured_name = UnicodeAttribute()
    insured_name_ar = UnicodeAttribute(null=True)  # optional, Arabic script only
    category = UnicodeAttribute()
    sponsor_civil_id = UnicodeAttribute()
    sponsor_name = UnicodeAttribute()
    kind = UnicodeAttribute()  # new | renewal
    passport_expiry = UnicodeAttribute()
    years = NumberAttribute()
    start_date = UnicodeAttribute()
    end_date = UnicodeAttribute()  # exclusive: the first day not covered
    amount_fils = NumberAttribute()
    yearly_fils = NumberAttribute()
    currency = UnicodeAttribute()
    tariff_effective_from = UnicodeAttribute()
    # The revision the person confirmed, and when; a change clears both.
    confirmed_revision = NumberAttribute(null=True)
    confirmed_at = UTCDateTimeAttribute(null=True)
    payment_id = UnicodeAttribute(null=True)  # the payment in flight, or the one that paid it
    by_account = by_account_index("created_at")


# PynamoDB's Index.__init_subclass__ is unannotated: subclassing it is the documented way to declare an index.
class PaymentsDueForReconciliation(GlobalSecondaryIndex["PaymentRecord"]):  # type: ignore[no-untyped-call]
    """Sparse: only payments reconciliation must finish carry `reconcile_queue`, so the index holds just them:
    pending ones ("pending-<shard>") and refunds the gateway made that are not yet written ("refund-<shard>")."""

    class Meta:
        index_name = "due_for_reconciliation"
        projection = AllProjection()

    reconcile_queue = UnicodeAttribute(hash_key=True)
    reconcile_due_at = UnicodeAttribute(range_key=True)


class RefundAttempt(MapAttribute[str, Any]):
    status = UnicodeAttribute()  # requested | refunded | failed
    amount_fils = NumberAttribute()
    reason = UnicodeAttribute()
    requested_at = UTCDateTimeAttribute()
    completed_at = UTCDateTimeAttribute(null=True)
    refund_ref = UnicodeAttribute(null=True)
    error_code = UnicodeAttribute(null=True)
    # A family basket's refund: the applications whose shares it gives back, space-separated (null: a payment
    # of one application, refunded whole).
    shares = UnicodeAttribute(null=True)


class PaymentLine(MapAttribute[str, Any]):
    """One application of a family basket: what its share of the payment buys, and whether it was refunded."""

    application_id = UnicodeAttribute()
    application_revision = NumberAttribute()
    insured_civil_id = UnicodeAttribute()
    insured_name = UnicodeAttribute()
    insured_name_ar = UnicodeAttribute(null=True)
    category = UnicodeAttribute()
    kind = UnicodeAttribute()
    period_start = UnicodeAttribute()
    period_end = UnicodeAttribute()
    amount_fils = NumberAttribute()
    passport_expiry = UnicodeAttribute(null=True)
    years = NumberAttribute(null=True)
    refund_status = UnicodeAttribute(null=True)  # refunded once its share went back


class PaymentRecord(Model):
    """One attempt to pay one application: pending, then captured, declined or expired; maybe refunded."""

    class Meta(TableMeta):
        table_name = _tables.payments

    payment_id = UnicodeAttribute(hash_key=True)
    account_id = UnicodeAttribute()
    application_id = UnicodeAttribute()
    application_revision = NumberAttribute()
    created_at = UnicodeAttribute()  # ISO-8601 UTC
    updated_at = UTCDateTimeAttribute()
    status = UnicodeAttribute()  # pending | captured | declined | expired | refunded
    amount_fils = NumberAttribute()
    currency = UnicodeAttribute()
    lang = UnicodeAttribute()
    insured_civil_id = UnicodeAttribute()
    insured_name = UnicodeAttribute()
    insured_name_ar = UnicodeAttribute(null=True)
    category = UnicodeAttribute()
    kind = UnicodeAttribute()
    period_start = UnicodeAttribute()
    period_end = UnicodeAttribute()
    gateway = UnicodeAttribute()
    gateway_ref = UnicodeAttribute(null=True)
    payment_url = UnicodeAttribute(null=True)
    transaction_id = UnicodeAttribute(null=True)
    gateway_result = UnicodeAttribute(null=True)
    settled_at = UTCDateTimeAttribute(null=True)
    captured_at = UTCDateTimeAttribute(null=True)
    refunded_fils = NumberAttribute(default=0)
    refund_status = UnicodeAttribute(null=True)  # of the latest attempt
    refunds = ListAttribute(of=RefundAttempt, null=True)
    # Present only while pending, or while a gateway-confirmed refund awaits its record: the sparse index.
    reconcile_queue = UnicodeAttribute(null=True)
    reconcile_due_at = UnicodeAttribute(null=True)
    # What the capture copies onto the policy for its renewal reminders (null on payments made before).
    passport_expiry = UnicodeAttribute(null=True)
    years = NumberAttribute(null=True)
    # A family basket (POST /v1/payments): one line per application; null for a payment of one application.
    lines = ListAttribute(of=PaymentLine, null=True)
    by_account = by_account_index("created_at")
    due_for_reconciliation = PaymentsDueForReconciliation()


class PeriodMap(MapAttribute[str, Any]):
    start = UnicodeAttribute()
    end = UnicodeAttribute()
    payment_id = UnicodeAttribute()
    status = UnicodeAttribute()  # active | cancelled
    category = UnicodeAttribute()
    amount_fils = NumberAttribute()
    account_id = UnicodeAttribute()


class PoliciesDueForReminder(GlobalSecondaryIndex["ResidencePolicyRecord"]):  # type: ignore[no-untyped-call]
    """Sparse: only active policies with a renewal reminder still to send carry `reminder_queue`
    ("renewal-<shard>"), by the Kuwaiti day the next one is due."""

    class Meta:
        index_name = "due_for_renewal_reminder"
        projection = AllProjection()

    reminder_queue = UnicodeAttribute(hash_key=True)
    reminder_due_on = UnicodeAttribute(range_key=True)


class ResidencePolicyRecord(Model):
    """The residence health insurance of one civil ID: its paid periods, and a lock while money moves.

    `lock_ref` ("pay#<id>" or "refund#<id>") is set by the write that starts a payment or
    refund and cleared by the one that settles it: one change of coverage at a time per person.
    An item with a lock but no periods is a person whose first payment is in flight.
    `start_date`/`end_date` span the *active* periods (what a new payment or a refund is checked
    against), so a policy whose every period was refunded has neither: its dates are its periods'.
    """

    class Meta(TableMeta):
        table_name = _tables.policies

    insured_civil_id = UnicodeAttribute(hash_key=True)
    policy_id = UnicodeAttribute(null=True)  # internal: ledger streams and logs, never shown to people
    # What people read and say (policy_numbers.py); null on policies issued before numbers existed.
    policy_number = UnicodeAttribute(null=True)
    account_id = UnicodeAttribute(null=True)  # the account that paid last; sparse in by_account
    insured_name = UnicodeAttribute(null=True)
    insured_name_ar = UnicodeAttribute(null=True)
    category = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)  # active | cancelled
    start_date = UnicodeAttribute(null=True)
    end_date = UnicodeAttribute(null=True)  # exclusive end of the last active period
    periods = ListAttribute(of=PeriodMap, null=True)
    lock_ref = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    # The renewal application opened for the period ending on `renewal_from` (one per period: POST .../renew).
    renewal_application_id = UnicodeAttribute(null=True)
    renewal_from = UnicodeAttribute(null=True)
    # From the last paid application: what a renewal would ask for, and whether the passport lasts that long.
    passport_expiry = UnicodeAttribute(null=True)
    renewal_years = NumberAttribute(null=True)
    # The next renewal reminder (30 days, 7 days before `end_date`, on it): the sparse due index, and the
    # last step sent ("<end_date>#<step>"), which a reminder's conditional write moves forward exactly once.
    reminder_queue = UnicodeAttribute(null=True)
    reminder_due_on = UnicodeAttribute(null=True)
    last_reminder = UnicodeAttribute(null=True)
    by_account = by_account_index("insured_civil_id")
    due_for_renewal_reminder = PoliciesDueForReminder()


class PolicyNumberClaim(Model):
    """A policy number taken, in the residence-policies table under "policy-number#<number>".

    Written (UpdateItem, attribute_not_exists) in the transaction that issues the number, so no two
    policies ever hold one. It has no account_id, so it is in no index, and its key is never a civil ID.
    """

    class Meta(TableMeta):
        table_name = _tables.policies

    claim_key = UnicodeAttribute(hash_key=True, attr_name="insured_civil_id")
    policy_id = UnicodeAttribute()
    holder_civil_id = UnicodeAttribute()
    claimed_at = UTCDateTimeAttribute()


POLICY_NUMBER_KEY = "policy-number#"


class LedgerRecord(Model):
    """One state change, as it happened: never updated, never deleted (no role may), chained by hash."""

    class Meta(TableMeta):
        table_name = _tables.ledger

    stream = UnicodeAttribute(hash_key=True)  # application#<id> | payment#<id> | policy#<id>
    event_key = UnicodeAttribute(range_key=True)  # <ISO time>#<kind>#<random>: time order
    kind = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    actor = UnicodeAttribute()  # account:<id> | gateway:<name> | reconciliation
    account_id = UnicodeAttribute(null=True)
    application_id = UnicodeAttribute(null=True)
    payment_id = UnicodeAttribute(null=True)
    policy_id = UnicodeAttribute(null=True)
    amount_fils = NumberAttribute(null=True)
    currency = UnicodeAttribute(null=True)
    from_status = UnicodeAttribute(null=True)
    to_status = UnicodeAttribute(null=True)
    details = UnicodeAttribute(null=True)  # JSON
    # The hash chain of the stream (premiums/ledger.py): always written, null only in items from before it.
    seq = NumberAttribute(null=True)
    prev_hash = UnicodeAttribute(null=True)
    hash = UnicodeAttribute(null=True)


class LedgerStreams(GlobalSecondaryIndex["LedgerHeadRecord"]):  # type: ignore[no-untyped-call]  # as above
    """Sparse: only head items carry `chain_shard`, so the index lists every stream, 8 partitions wide."""

    class Meta:
        index_name = "streams"
        projection = KeysOnlyProjection()

    chain_shard = UnicodeAttribute(hash_key=True)
    stream = UnicodeAttribute(range_key=True)


class LedgerHeadRecord(Model):
    """The head of one stream's chain (event_key "#head"): the last event's seq, hash and key.

    Replaced (PutItem, conditional on the head read) in the transaction that appends to the stream.
    """

    class Meta(TableMeta):
        table_name = _tables.ledger

    stream = UnicodeAttribute(hash_key=True)
    event_key = UnicodeAttribute(range_key=True)
    seq = NumberAttribute()
    hash = UnicodeAttribute()
    last_key = UnicodeAttribute()
    chain_shard = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute()
    streams = LedgerStreams()


class IdempotencyRecord(Model):
    """An Idempotency-Key of one account: what it asked for and the payment it made."""

    class Meta(TableMeta):
        table_name = _tables.idempotency

    key = UnicodeAttribute(hash_key=True)  # <account_id>#<sha256 of the header>
    fingerprint = UnicodeAttribute()
    payment_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_ttl = TTLAttribute()


PREMIUM_MODELS = (ApplicationRecord, PaymentRecord, ResidencePolicyRecord, PolicyNumberClaim, LedgerRecord,
                  LedgerHeadRecord, IdempotencyRecord)
