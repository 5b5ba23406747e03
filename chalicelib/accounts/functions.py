"""The Lambda functions of accounts, and what account code needs inside the shared ones (see platform/functions)."""

from __future__ import annotations

from chalicelib.platform.functions import BATCH_WRITE, DELETE, GET, PUT, QUERY, UPDATE, Function, Needs

# Routes: login names, accounts, hourly limits, codes and links, sessions; mail goes on the outbound queue.
API_NEEDS = Needs(
    tables={"accounts": (GET, PUT), "usernames": (GET, PUT), "throttles": (GET, UPDATE),
            "tokens": (GET, PUT, UPDATE), "sessions": (GET, PUT, UPDATE, DELETE, QUERY, BATCH_WRITE)},
    indexes={"sessions": ("by_account",)},
    sends_outbound=True,
    secrets=("jwt-signing", "accounts-hmac"),
)
# Welcome and reset emails are minted at send time: accounts, login names, tokens, hourly limits.
OUTBOUND_NEEDS = Needs(tables={"accounts": (GET, PUT), "usernames": (GET,), "tokens": (PUT,),
                               "throttles": (UPDATE,)})

FUNCTIONS: dict[str, Function] = {
    # The internet-facing authorizer: verifies a token with the signing secret's keys, reads nothing else.
    "jwt_authorizer": Function(Needs(secrets=("jwt-signing",))),
    "expire_invites": Function(Needs(tables={"accounts": (QUERY, UPDATE)}, indexes={"accounts": ("by_invite_due",)})),
    "expire_passwords": Function(Needs(tables={"accounts": (QUERY, UPDATE)},
                                       indexes={"accounts": ("by_password_due",)}, sends_outbound=True)),
    "purge_tokens": Function(Needs(tables={"tokens": (QUERY, DELETE)}, indexes={"tokens": ("by_due",)})),
    "purge_sessions": Function(Needs(tables={"sessions": (QUERY, DELETE)}, indexes={"sessions": ("by_due",)})),
}
