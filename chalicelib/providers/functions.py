"""What provider code needs inside the API function (providers have no Lambda of their own; see platform/functions)."""

from __future__ import annotations

from chalicelib.platform.functions import GET, PUT, QUERY, UPDATE, Function, Needs

# Provider credentials (read at each token request and lookup, written by nobody but the admin command),
# the per-provider and failed-authentication counters, the append-only lookup log (put, and read by an
# account through its index), members by civil ID (the index only: the member itself is read through
# cards, whose needs name it), the token key and the HMAC key of civil IDs in the log.
API_NEEDS = Needs(
    tables={"providers": (GET,), "throttles": (UPDATE,), "provider-lookups": (PUT, QUERY), "members": (QUERY,)},
    indexes={"provider-lookups": ("by_account",), "members": ("by_civil_id",)},
    secrets=("jwt-signing", "providers-hmac"),
)
OUTBOUND_NEEDS = Needs()
FUNCTIONS: dict[str, Function] = {}
