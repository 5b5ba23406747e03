"""The Lambda functions of residence premiums, and what premium code needs inside the API function."""

from __future__ import annotations

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
)
OUTBOUND_NEEDS = Needs()
FUNCTIONS: dict[str, Function] = {
    "reconcile_payments": Function(
        Needs(tables={"payments": (GET, UPDATE, QUERY), "applications": (GET, UPDATE),
                      "residence-policies": (GET, UPDATE), LEDGER: (GET, PUT), "idempotency-keys": (DELETE,),
                      "accounts": (GET,)},
              indexes={"payments": ("due_for_reconciliation",)},
              sends_outbound=True, secrets=PAYMENT_GATEWAY_SECRETS),
        timeout_s=300),
    # Every stream's whole chain: up to 15 minutes, from a different shard each day.
    "verify_ledger": Function(Needs(tables={LEDGER: (QUERY,)}, indexes={LEDGER: ("streams",)}), timeout_s=900),
}
