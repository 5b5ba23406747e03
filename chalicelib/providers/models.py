"""PynamoDB models of providers, their lookup log, their counters and the members-by-civil-ID index."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute, VersionAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.platform.dynamo import TableMeta, by_account_index
from chalicelib.providers.settings import provider_settings
from chalicelib.settings import get_settings

_settings = provider_settings()


class ProviderRecord(Model):
    """A hospital or clinic with FHIR credentials; the secret is kept as its SHA-256 only."""

    class Meta(TableMeta):
        table_name = _settings.providers_table

    client_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    secret_hash = UnicodeAttribute()
    status = UnicodeAttribute()  # active | disabled
    secret_version = NumberAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()


class LookupRecord(Model):
    """One line of the append-only lookup log: a provider's lookup as it concerned one person."""

    class Meta(TableMeta):
        table_name = _settings.lookups_table

    lookup_id = UnicodeAttribute(hash_key=True)
    subject = UnicodeAttribute(range_key=True)
    provider_id = UnicodeAttribute()
    provider_name = UnicodeAttribute()
    # ISO 8601 UTC with microseconds: sorts by time in the by_account index.
    looked_up_at = UnicodeAttribute()
    interaction = UnicodeAttribute()
    purpose = UnicodeAttribute()
    outcome = UnicodeAttribute()
    account_id = UnicodeAttribute(null=True)  # absent for an identifier nobody holds: not in the index
    member_id = UnicodeAttribute(null=True)
    service_date = UnicodeAttribute(null=True)
    expires_ttl = TTLAttribute(null=True)
    by_account = by_account_index("looked_up_at")


class CounterRecord(Model):
    """A counter in a fixed window, in the throttles table the accounts' limits use (keys never collide:
    "oauth-client#..." and "fhir#..." are this capability's)."""

    class Meta(TableMeta):
        table_name = get_settings().tables.throttles

    key = UnicodeAttribute(hash_key=True)
    # Shadows Model.count (never called on this table): the stored attribute is "count", as accounts' is.
    count = NumberAttribute(null=True)  # type: ignore[assignment]
    expires_ttl = TTLAttribute(null=True)


class _ByCivilId(GlobalSecondaryIndex["MemberCivilIdRow"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by_civil_id"
        projection = KeysOnlyProjection()

    national_id = UnicodeAttribute(hash_key=True)


class MemberCivilIdRow(Model):
    """The members table seen through its sparse by_civil_id index only (keys: which member ids a civil ID
    has). Read-only: members are enrolment's; the person behind each id is read through cards."""

    class Meta(TableMeta):
        table_name = get_settings().tables.members

    member_id = UnicodeAttribute(hash_key=True)
    national_id = UnicodeAttribute(null=True)
    by_civil_id = _ByCivilId()
