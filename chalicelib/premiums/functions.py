"""The Lambda functions of residence premiums, and what premium code needs inside the API function."""

from __future__ import annotations

from chalicelib.cards import REVOKES_CARDS  # a refund that ends a cover revokes its cards
from chalicelib.platform.functions import DELETE, GET, PUT, QUERY, UPDATE, Function, Needs

LEDGER = "payment-ledger"
PAYMENT_GATEWAY_SECRETS = ("payment-callback", "knet-terminal")  # sandbox (dev) and KNET (prod)

API_NEEDS = Needs(
    tables={"applications": (GET, PUT, UPDATE), "payments": (GET, PUT, UPDATE, QUERY),
            "residence-policies": (GET, UPDATE, QUERY), LEDGER: (GET, PUT),
            "idempotency-keys": (GET, PUT, DELETE)},
    indexes={"payments": ("by_account",), "residence-policies": ("by_account",)},
    sends_outbound=True,  # receipts
    secrets=PAYMENT_GATEWAY_SECRETS,
) | REVOKES_CARDS  # the API function refunds too (the cards' own routes already need the same)
# The renewal reminders are built when sent, in the account's language (its contact read then).
OUTBOUND_NEEDS = Needs(tables={"accounts": (GET,)})
FUNCTIONS: dict[str, Function] = {
    # Every 5 minutes: asks the gateway about each pending payment and waits on it (I/O, 512 MB). 240 s
    # (stopping 24 s early) ends before the next run starts, so runs do not overlap in the ordinary course.
    "reconcile_payments": Function(
        Needs(tables={"payments": (GET, UPDATE, QUERY), "applications": (GET, UPDATE),
                      "residence-policies": (GET, UPDATE), LEDGER: (GET, PUT), "idempotency-keys": (DELETE,),
                      "accounts": (GET,)},
              indexes={"payments": ("due_for_reconciliation",)},
              sends_outbound=True, secrets=PAYMENT_GATEWAY_SECRETS)
        | REVOKES_CARDS,
        timeout_s=240, memory_mb=512),
    # Daily: the policies whose renewal reminder is due (a sparse index, pages of 100), each step recorded by
    # one conditional UpdateItem, the messages queued ten to a request. It waits on DynamoDB and SQS: 512 MB,
    # 300 s (stopping 30 s early; the rest stays due for the next day's run, which sends only the latest step).
    "remind_renewals": Function(
        Needs(tables={"residence-policies": (UPDATE, QUERY)},
              indexes={"residence-policies": ("due_for_renewal_reminder",)}, sends_outbound=True),
        timeout_s=300, memory_mb=512),
    # Every stream's whole chain: up to 15 minutes, from a different shard each day. Parsing every page and
    # hashing every entry is CPU: 1,024 MB (0.58 vCPU) keeps a growing ledger well inside the 15 minutes.
    "verify_ledger": Function(Needs(tables={LEDGER: (QUERY,)}, indexes={LEDGER: ("streams",)}), timeout_s=900,
                              memory_mb=1024),
}
