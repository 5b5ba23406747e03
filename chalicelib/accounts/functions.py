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

# Memory buys CPU: Lambda gives one vCPU at 1,769 MB and proportionally less below (README "Runtime and
# architecture"). The expiry jobs wait on DynamoDB, not the CPU: 512 MB (0.29 vCPU) signs and parses the
# 8 requests they keep in flight; their 300 s (a 30 s margin) is ~100x what 3,000 due items take.
JOB_TIMEOUT_S, JOB_MEMORY_MB = 300, 512

FUNCTIONS: dict[str, Function] = {
    # The internet-facing authorizer verifies an Ed25519 token (well under 1 ms warm, billed 1-2 ms at any
    # size) with the signing secret's keys and reads nothing else. Its only real CPU is its cold path,
    # on a person's request: 1,024 MB runs it at 0.58 vCPU for about $0.03 per million warm calls.
    "jwt_authorizer": Function(Needs(secrets=("jwt-signing",)), memory_mb=1024),
    "expire_invites": Function(Needs(tables={"accounts": (QUERY, UPDATE)}, indexes={"accounts": ("by_invite_due",)}),
                               timeout_s=JOB_TIMEOUT_S, memory_mb=JOB_MEMORY_MB),
    "expire_passwords": Function(Needs(tables={"accounts": (QUERY, UPDATE)},
                                       indexes={"accounts": ("by_password_due",)}, sends_outbound=True),
                                 timeout_s=JOB_TIMEOUT_S, memory_mb=JOB_MEMORY_MB),
    # Every 15 minutes: 300 s still ends before the next run starts.
    "purge_tokens": Function(Needs(tables={"tokens": (QUERY, DELETE)}, indexes={"tokens": ("by_due",)}),
                             timeout_s=JOB_TIMEOUT_S, memory_mb=JOB_MEMORY_MB),
    "purge_sessions": Function(Needs(tables={"sessions": (QUERY, DELETE)}, indexes={"sessions": ("by_due",)}),
                               timeout_s=JOB_TIMEOUT_S, memory_mb=JOB_MEMORY_MB),
}
