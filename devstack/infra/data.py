"""DynamoDB tables: one per PynamoDB model family, each with its indexes and protections."""

from __future__ import annotations

from devstack.infra import sub


def table(name: str, key: list[tuple[str, str, str]], *, ttl: str | None = None,
          indexes: list[dict] | None = None, stream: bool = False) -> dict:
    attrs: dict[str, str] = {}
    for attr, kind, _ in key:
        attrs[attr] = kind
    for index in indexes or []:
        for attr, kind, _ in index["key"]:
            attrs[attr] = kind
    props: dict = {
        "TableName": sub(f"insure-${{Stage}}-{name}"),
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": t} for a, t in attrs.items()],
        "KeySchema": [{"AttributeName": a, "KeyType": k} for a, _, k in key],
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
        "DeletionProtectionEnabled": {"Fn::If": ["IsProd", True, False]},
    }
    if ttl:
        props["TimeToLiveSpecification"] = {"AttributeName": ttl, "Enabled": True}
    if indexes:
        props["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index["name"],
                "KeySchema": [{"AttributeName": a, "KeyType": k} for a, _, k in index["key"]],
                "Projection": index.get("projection", {"ProjectionType": "ALL"}),
            }
            for index in indexes
        ]
    if stream:
        props["StreamSpecification"] = {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    return {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain", "Properties": props}


def due_index(name: str, shard: str, due_at: str, projection: str = "KEYS_ONLY") -> dict:
    # Keys only where the job just deletes with a condition; ALL where it writes to the person.
    return {"name": name, "key": [(shard, "S", "HASH"), (due_at, "S", "RANGE")],
            "projection": {"ProjectionType": projection}}


def resources() -> dict:
    return {
        # Scheduled jobs read only what is due through sparse "due" indexes: an item carries a
        # (shard, due time) pair only while a job has something to do with it. The shard number
        # (0-7) in the key spreads one day's due items over 8 partitions instead of one hot key.
        "AccountsTable": table("accounts", [("account_id", "S", "HASH")], indexes=[
            due_index("by_invite_due", "invite_shard", "invite_due_at", "ALL"),
            due_index("by_password_due", "password_shard", "password_due_at", "ALL"),
        ]),
        # One item per login name (email or civil ID): a conditional put keeps them unique.
        "UsernamesTable": table("usernames", [("username", "S", "HASH")]),
        # Activation, reset, challenge and registration tokens, stored by SHA-256 only.
        "TokensTable": table("tokens", [("token_hash", "S", "HASH")], ttl="expires_ttl",
                             indexes=[due_index("by_due", "due_shard", "due_at")]),
        "SessionsTable": table(
            "sessions", [("session_id", "S", "HASH")], ttl="expires_ttl",
            indexes=[{"name": "by_account",
                      "key": [("account_id", "S", "HASH"), ("created_at", "S", "RANGE")]},
                     due_index("by_due", "due_shard", "due_at")],
        ),
        # Employers' group policies, created by the admin command before their HR files.
        "PoliciesTable": table("policies", [("policy_no", "S", "HASH")]),
        # Every insured person (the card number is the key); an account sees its people by index.
        "MembersTable": table(
            "members", [("member_id", "S", "HASH")],
            indexes=[{"name": "by_account", "key": [("account_id", "S", "HASH"), ("member_id", "S", "RANGE")]},
                     # Sparse (members HR gave a civil ID): a provider's eligibility lookup by civil ID finds
                     # the member ids with one query, no Scan (chalicelib/providers/models.py reads it).
                     {"name": "by_civil_id", "key": [("national_id", "S", "HASH")],
                      "projection": {"ProjectionType": "KEYS_ONLY"}}],
        ),
        # Lockout and rate-limit counters; they only need deleting, so TTL does it.
        "ThrottlesTable": table("throttles", [("key", "S", "HASH")], ttl="expires_ttl"),
        # Residence premiums. An application is what the person reviewed and confirmed.
        "ApplicationsTable": table(
            "applications", [("application_id", "S", "HASH")],
            indexes=[{"name": "by_account", "key": [("account_id", "S", "HASH"), ("created_at", "S", "RANGE")]}],
        ),
        # Payments; pending ones also sit in a sparse index by the time reconciliation is due.
        "PaymentsTable": table(
            "payments", [("payment_id", "S", "HASH")],
            indexes=[{"name": "by_account", "key": [("account_id", "S", "HASH"), ("created_at", "S", "RANGE")]},
                     {"name": "due_for_reconciliation",
                      "key": [("reconcile_queue", "S", "HASH"), ("reconcile_due_at", "S", "RANGE")]}],
        ),
        # One item per insured civil ID: its periods, and a lock while a payment or refund is in flight.
        "ResidencePoliciesTable": table(
            "residence-policies", [("insured_civil_id", "S", "HASH")],
            indexes=[{"name": "by_account",
                      "key": [("account_id", "S", "HASH"), ("insured_civil_id", "S", "RANGE")]},
                     # Sparse: active policies with a renewal reminder to send, by the day it is due.
                     due_index("due_for_renewal_reminder", "reminder_queue", "reminder_due_on", "ALL")],
        ),
        # Append-only: every state change of applications, payments and policies (the role cannot update it).
        # Each stream's head item ("#head") carries chain_shard: the sparse "streams" index lists them all,
        # which is how the scheduled chain check finds every stream without a Scan.
        "PaymentLedgerTable": table("payment-ledger", [("stream", "S", "HASH"), ("event_key", "S", "RANGE")],
                                    indexes=[{"name": "streams", "key": [("chain_shard", "S", "HASH"),
                                                                         ("stream", "S", "RANGE")],
                                              "projection": {"ProjectionType": "KEYS_ONLY"}}]),
        # Idempotency-Key claims of POST .../pay, scoped to the account; they expire by TTL.
        "IdempotencyKeysTable": table("idempotency-keys", [("key", "S", "HASH")], ttl="expires_ttl"),
        # Wallet passes: each pass's update tag and its devices, each device's passes (chalicelib/wallet/models.py).
        "WalletTable": table("wallet", [("pk", "S", "HASH"), ("sk", "S", "RANGE")]),
        # Hospitals and clinics with FHIR credentials: the client id is the key, the secret is kept as a hash.
        "ProvidersTable": table("providers", [("client_id", "S", "HASH")]),
        # Append-only (the role cannot update or delete it): every provider lookup, one item per person it
        # concerned, kept 2 years by TTL. An account reads its people's lookups by the sparse by_account index.
        "ProviderLookupsTable": table(
            "provider-lookups", [("lookup_id", "S", "HASH"), ("subject", "S", "RANGE")], ttl="expires_ttl",
            indexes=[{"name": "by_account", "key": [("account_id", "S", "HASH"), ("looked_up_at", "S", "RANGE")]}],
        ),
    }


TABLES = ("accounts", "usernames", "tokens", "sessions", "throttles", "policies", "members",
          "applications", "payments", "residence-policies", "payment-ledger", "idempotency-keys",
          "providers", "provider-lookups", "wallet")
