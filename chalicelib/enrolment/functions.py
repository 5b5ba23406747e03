"""The Lambda functions of HR enrolment (see platform/functions)."""

from __future__ import annotations

from chalicelib.cards import REVOKES_CARDS  # HR terminating a member revokes their cards
from chalicelib.platform.functions import BATCH_GET, DELETE, GET, PUT, Function, Needs

REPORTS = {"hr/hr/reports/*": ("s3:PutObject", "s3:AbortMultipartUpload")}
# A file enrolled in several invocations (continuation.py): its checkpoint, report parts and state,
# and the token under hr/incoming/ that S3 queues to start the next invocation.
RUNS = {"hr/hr/runs/*": ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"),
        "hr/hr/incoming/*/_continue/*": ("s3:PutObject", "s3:DeleteObject")}

API_NEEDS = Needs()
OUTBOUND_NEEDS = Needs()
FUNCTIONS: dict[str, Function] = {
    # Up to 15 minutes an invocation; a bigger file goes on in the next. Memory for a vCPU's worth of
    # parsing and batching.
    "hr_file_arrived": Function(
        Needs(tables={"policies": (GET,), "members": (BATCH_GET, PUT), "accounts": (BATCH_GET, PUT),
                      "usernames": (BATCH_GET, PUT, DELETE)},
              s3={"hr/hr/incoming/*": ("s3:GetObject", "s3:GetObjectVersion"), **REPORTS, **RUNS},
              consumes=("hr-files",), sends_outbound=True) | REVOKES_CARDS,
        timeout_s=900, memory_mb=1024),
    "hr_file_failed": Function(Needs(s3=dict(REPORTS), consumes=("hr-files-dlq",)), timeout_s=60),
}
