"""What each Lambda function is allowed to call, declared by the capability that owns its code.

Pure data: `devstack/infra/iam.py` turns it into one least-privilege IAM policy per function, and
`devstack/gen_resources.py` writes each function's timeout, memory and policy file into
`.chalice/config.json`. A new scheduled job is its handler plus one `Function` entry in its
capability's `functions.py`, then `python -m devstack.gen_resources`.

Read off the code: PynamoDB's `get` is GetItem, `query` Query, `save` PutItem, `update` UpdateItem,
`delete` DeleteItem, `batch_get` BatchGetItem, `batch_write` BatchWriteItem; inside
TransactWriteItems IAM checks each item's own action (a Put is dynamodb:PutItem).
"""

from __future__ import annotations

from dataclasses import dataclass, field

GET, PUT, UPDATE, DELETE = "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"
BATCH_GET, BATCH_WRITE, QUERY = "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:Query"

# The one Lambda behind API Gateway: its needs are the union of every capability's `API_NEEDS`.
API_HANDLER = "api_handler"
# The outbound sender (platform/outbound.py): its own needs plus each capability's `OUTBOUND_NEEDS`
# (what the builders it registered with @builds read and write).
SEND_OUTBOUND = "send_outbound"


@dataclass(frozen=True)
class Needs:
    """What code calls: table -> actions, table -> indexes queried, S3 prefixes, queues, secrets."""

    tables: dict[str, tuple[str, ...]] = field(default_factory=dict)
    indexes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    s3: dict[str, tuple[str, ...]] = field(default_factory=dict)  # "<bucket suffix>/<prefix>*" -> actions
    list_buckets: tuple[str, ...] = ()
    consumes: tuple[str, ...] = ()  # queue suffixes
    sends_outbound: bool = False
    secrets: tuple[str, ...] = ()
    email: bool = False
    sms: bool = False

    def __or__(self, other: Needs) -> Needs:
        """Both needs at once (order kept: first seen first)."""

        def union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(dict.fromkeys((*a, *b)))

        def merged(a: dict[str, tuple[str, ...]], b: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
            return {k: union(a.get(k, ()), b.get(k, ())) for k in dict.fromkeys((*a, *b))}

        return Needs(tables=merged(self.tables, other.tables), indexes=merged(self.indexes, other.indexes),
                     s3=merged(self.s3, other.s3), list_buckets=union(self.list_buckets, other.list_buckets),
                     consumes=union(self.consumes, other.consumes),
                     sends_outbound=self.sends_outbound or other.sends_outbound,
                     secrets=union(self.secrets, other.secrets), email=self.email or other.email,
                     sms=self.sms or other.sms)


@dataclass(frozen=True)
class Function:
    """One Lambda function: what it may call, and its limits where they differ from the app's defaults."""

    needs: Needs
    timeout_s: int | None = None  # .chalice/config.json's lambda_timeout (app default 30 s)
    memory_mb: int | None = None  # lambda_memory_size (app default 512 MB)


# Memory buys CPU: Lambda gives one full vCPU at 1,769 MB and a proportional share below (README
# "Runtime and architecture"). Work that is all CPU costs the same GB-seconds at any size up to
# 1,769 MB and ends sooner at 1,769; time spent waiting on DynamoDB or SES costs more the more memory.
# The API function runs logins: argon2id (32 MiB, 2 passes, one lane) is single-threaded CPU, and so
# are card drawing and its cold start. At 1,769 MB a login costs what it would at 512 MB and answers
# ~3.5x sooner; above it a second vCPU would sit idle (one lane). devstack/infra/iam.py gives it to the
# API function's entry in .chalice/config.json; a function that declares no memory gets the app's 512 MB.
API_MEMORY_MB = 1769

# The sender itself: its queue, SES and SNS (SMS). It waits on SES at the queue's pace (I/O): 512 MB.
OUTBOUND = Function(Needs(consumes=("outbound",), email=True, sms=True), timeout_s=60, memory_mb=512)
