"""`python -m admin backfill-renewal-reminders`: policies paid before the reminder index existed get into it.

A capture puts every policy it makes or extends into the sparse due index the daily `remind_renewals`
job reads (`store.reminder_actions`: the first step's day of its end date). Policies paid before that
index existed carry none of it, so the job never sees them. This one-off command walks the
residence-policies table with a paginated Scan (admin code only: the app never Scans) and writes the
same attributes from each policy's end date, with a write conditioned on the policy as read (same
end, in force, not updated since, no payment or refund in flight, not in the index yet): a policy
that changed meanwhile is left as its change made it (a capture or refund sets or clears the index
itself), and counted. Running it again finds everything indexed and writes nothing.

A policy whose end has passed is indexed too, as a capture would: the job's next run sends the lapse
reminder if it lapsed at most 7 days ago, and otherwise takes it out of the index without a message.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from chalicelib.premiums.models import ResidencePolicyRecord

# What each policy read comes to, in the order the summary prints them.
OUTCOMES = (
    ("indexed", "put in the reminder index"),
    ("would_index", "would be put in the reminder index (dry run)"),
    ("already_indexed", "already in the index"),
    ("already_reminded", "reminded for their current period already"),
    ("not_in_force", "not in force (cancelled, nothing paid yet, or no end date)"),
    ("in_flight", "with a payment or refund in flight (its capture or refund sets the index)"),
    ("changed", "changed while this ran (left as changed; run again to see them)"),
)


def backfill_renewal_reminders(out: TextIO | None = None, *, dry_run: bool = False, page_size: int = 100) -> int:
    """Index every in-force residence policy missing from the reminder index; print the counts. Exit status 0."""
    from chalicelib.premiums.models import POLICY_NUMBER_KEY, ResidencePolicyRecord
    from chalicelib.premiums.ports import LostRace
    from chalicelib.premiums.store import PremiumStore

    out = out or sys.stdout
    store = PremiumStore()
    counts: Counter[str] = Counter()
    read = 0
    # Model.scan follows LastEvaluatedKey page after page; consistent, so a policy just written is seen as it is.
    for policy in ResidencePolicyRecord.scan(page_size=page_size, consistent_read=True):
        if policy.insured_civil_id.startswith(POLICY_NUMBER_KEY):
            continue  # a policy number's claim item, in the same table: no policy
        read += 1
        outcome = _outcome(policy)
        if outcome == "index":
            if dry_run:
                outcome = "would_index"
            else:
                try:
                    store.index_for_reminders(policy)
                    outcome = "indexed"
                except LostRace:
                    outcome = "changed"
        counts[outcome] += 1
    print(f"residence policies read: {read}{' (dry run: nothing written)' if dry_run else ''}", file=out)
    for name, text in OUTCOMES:
        if counts[name]:
            print(f"  {text}: {counts[name]}", file=out)
    return 0


def _outcome(policy: ResidencePolicyRecord) -> str:
    """What the backfill does with a policy as read: "index" it, or why not."""
    if policy.status != "active" or not policy.policy_id or not policy.end_date:
        return "not_in_force"
    if policy.reminder_queue:
        return "already_indexed"
    if (policy.last_reminder or "").startswith(f"{policy.end_date}#"):
        return "already_reminded"  # the job went through this period's steps and let it go
    if policy.lock_ref:
        return "in_flight"
    return "index"
