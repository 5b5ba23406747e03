"""PynamoDB models of accounts: one class per table, names fixed by the stage's settings."""

from __future__ import annotations

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection
from pynamodb.models import Model

from chalicelib.platform.dynamo import TableMeta, by_account_index, due_index
from chalicelib.settings import get_settings

_settings = get_settings()


class AccountRecord(Model):
    """A person who can log in: HR-enrolled (username email) or self-registered (civil ID)."""

    class Meta(TableMeta):
        table_name = _settings.tables.accounts

    account_id = UnicodeAttribute(hash_key=True)
    status = UnicodeAttribute()  # invited | active | invite_expired
    source = UnicodeAttribute()  # hr | self
    email = UnicodeAttribute(null=True)
    civil_id = UnicodeAttribute(null=True)  # a login name of this account (HR accounts: when HR sent one)
    phone = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    gender = UnicodeAttribute(null=True)
    city = UnicodeAttribute(null=True)
    language = UnicodeAttribute(null=True)  # ar | en; None for HR accounts (both languages)
    password_hash = UnicodeAttribute(null=True)
    password_kind = UnicodeAttribute(null=True)  # temporary | permanent
    password_set_at = UTCDateTimeAttribute(null=True)
    password_history = ListAttribute(of=UnicodeAttribute, null=True)  # the last 5 hashes
    # The one live welcome link and reset link: a newer one voids the older by replacing it.
    activation_hash = UnicodeAttribute(null=True)
    activation_expires_at = UTCDateTimeAttribute(null=True)
    activation_used_hash = UnicodeAttribute(null=True)  # so a used link says "used", not "invalid"
    # Each email HR gives a never-registered person starts a new welcome generation; the sender
    # marks the one it delivered, so re-uploads and queue retries never send it twice.
    welcome_generation = NumberAttribute(null=True)
    welcome_delivered_generation = NumberAttribute(null=True)
    password_expired = UnicodeAttribute(null=True)  # "yes" once the password job marked it
    password_reminded_for = UTCDateTimeAttribute(null=True)  # the password_set_at a reminder was sent for
    # Due work for the scheduled jobs (absent when there is none).
    invite_shard = UnicodeAttribute(null=True)
    invite_due_at = UTCDateTimeAttribute(null=True)
    password_shard = UnicodeAttribute(null=True)
    password_due_at = UTCDateTimeAttribute(null=True)
    reset_hash = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()
    by_invite_due = due_index("by_invite_due", "invite_shard", "invite_due_at", AllProjection)
    by_password_due = due_index("by_password_due", "password_shard", "password_due_at", AllProjection)


class UsernameRecord(Model):
    """A login name (email or civil ID) and the account it opens.

    Failed logins are counted in the throttles table (`login#<name>`), for known and unknown
    names alike; `failed_count` and `locked_until` are no longer written.
    """

    class Meta(TableMeta):
        table_name = _settings.tables.usernames

    username = UnicodeAttribute(hash_key=True)
    account_id = UnicodeAttribute(null=True)
    failed_count = NumberAttribute(default=0)
    locked_until = UTCDateTimeAttribute(null=True)
    expires_ttl = TTLAttribute(null=True)


class TokenDataAttribute(MapAttribute):  # type: ignore[type-arg]  # untyped pynamodb generic
    """What a token carries besides its owner, as stored (values.TokenData is what the use cases see)."""

    reason = UnicodeAttribute(null=True)
    civil_id = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    gender = UnicodeAttribute(null=True)
    language = UnicodeAttribute(null=True)
    city = UnicodeAttribute(null=True)
    code_hash = UnicodeAttribute(null=True)
    code_expires_at = UTCDateTimeAttribute(null=True)
    sent_at = ListAttribute(of=UTCDateTimeAttribute, null=True)
    device_id = UnicodeAttribute(null=True)
    device_name = UnicodeAttribute(null=True)


class TokenRecord(Model):
    """A single-use secret (activation, reset, challenge, registration), stored by SHA-256 only."""

    class Meta(TableMeta):
        table_name = _settings.tables.tokens

    token_hash = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()  # activation | reset | challenge | registration
    account_id = UnicodeAttribute(null=True)
    expires_at = UTCDateTimeAttribute()
    expires_ttl = TTLAttribute()
    used_at = UTCDateTimeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    data = TokenDataAttribute(null=True)  # type: ignore[no-untyped-call]  # pynamodb MapAttribute
    due_shard = UnicodeAttribute(null=True)
    due_at = UTCDateTimeAttribute(null=True)
    version = VersionAttribute()
    by_due = due_index("by_due", "due_shard", "due_at")


class SessionRecord(Model):
    """One device signed in: its refresh-token family, rotated on every refresh."""

    class Meta(TableMeta):
        table_name = _settings.tables.sessions

    session_id = UnicodeAttribute(hash_key=True)
    account_id = UnicodeAttribute()
    created_at = UnicodeAttribute()  # ISO-8601, the index's sort key
    device_id = UnicodeAttribute()
    device_name = UnicodeAttribute()
    language = UnicodeAttribute(null=True)
    refresh_hash = UnicodeAttribute()
    used_hashes = ListAttribute(of=UnicodeAttribute, null=True)  # for reuse detection
    # The token the last rotation replaced and when: presented again within the grace period it
    # gets the same successor (derived, never stored), after it reuse detection ends the session.
    previous_hash = UnicodeAttribute(null=True)
    rotated_at = UTCDateTimeAttribute(null=True)
    last_used_at = UTCDateTimeAttribute()
    idle_expires_at = UTCDateTimeAttribute()
    absolute_expires_at = UTCDateTimeAttribute()
    expires_ttl = TTLAttribute()
    due_shard = UnicodeAttribute(null=True)
    due_at = UTCDateTimeAttribute(null=True)
    by_account = by_account_index("created_at")
    by_due = due_index("by_due", "due_shard", "due_at")


class ThrottleRecord(Model):
    """A counter in a time window: forgot-password and registration limits, and a login name's
    password-check budget (`login#<name>`: checks reserved, failures, the window's end, the lock)."""

    class Meta(TableMeta):
        table_name = _settings.tables.throttles

    key = UnicodeAttribute(hash_key=True)
    # Shadows Model.count (never called on this table): the stored attribute has always been "count".
    count = NumberAttribute(default=0)  # type: ignore[assignment]
    failed = NumberAttribute(null=True)
    window_end = UTCDateTimeAttribute(null=True)
    locked_until = UTCDateTimeAttribute(null=True)
    expires_ttl = TTLAttribute()
