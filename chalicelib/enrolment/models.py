"""PynamoDB models of group policies and insured members."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    MapAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.models import Model

from chalicelib.platform.dynamo import TableMeta, by_account_index
from chalicelib.settings import get_settings

_settings = get_settings()


class GroupPolicyRecord(Model):
    """An employer's group policy and its plans (created by the admin command)."""

    class Meta(TableMeta):
        table_name = _settings.tables.policies

    policy_no = UnicodeAttribute(hash_key=True)
    employer_en = UnicodeAttribute()
    employer_ar = UnicodeAttribute()
    # plan code -> {name_en, name_ar, network_en, network_ar}; PynamoDB's raw MapAttribute is unannotated.
    plans: MapAttribute[str, Any] = MapAttribute()  # type: ignore[no-untyped-call]
    created_at = UTCDateTimeAttribute()


class MemberRecord(Model):
    """One insured person; the key is the card number."""

    class Meta(TableMeta):
        table_name = _settings.tables.members

    member_id = UnicodeAttribute(hash_key=True)
    policy_no = UnicodeAttribute()
    employee_no = UnicodeAttribute()
    relationship = UnicodeAttribute()
    name_en = UnicodeAttribute()
    name_ar = UnicodeAttribute(null=True)
    date_of_birth = UnicodeAttribute()  # ISO date
    gender = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    mobile = UnicodeAttribute(null=True)
    national_id = UnicodeAttribute(null=True)
    plan = UnicodeAttribute()
    coverage_start = UnicodeAttribute()
    coverage_end = UnicodeAttribute()
    status = UnicodeAttribute()  # active | terminated
    fingerprint = UnicodeAttribute()
    account_id = UnicodeAttribute(null=True)  # the principal's account: the family's cards
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    terminated_at = UTCDateTimeAttribute(null=True)
    # What the card prints (rules.card_fingerprint), and since when: a card drawn before `card_since`
    # no longer holds (listed in the revocation list when it changed), and the card's object key
    # carries it, so a card whose content comes back to an earlier state is drawn anew, never re-served.
    card_fingerprint = UnicodeAttribute(null=True)
    card_since = UTCDateTimeAttribute(null=True)
    version = VersionAttribute()
    by_account = by_account_index("member_id")
