"""When a residence policy's renewal reminders are due, as pure rules over Kuwaiti calendar days.

Three steps per period: 30 days and 7 days before the policy ends, and the day it lapses (its
`end`, the first day no longer covered: a renewal paid that day still starts then, so the lapse
reminder can still say "renew"). Each policy carries the day its next step is due (the sparse
index the job reads) and the last step sent ("<end>#<step>"), so a step is sent once per period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from chalicelib.premiums.rules import Period, add_years

STEP_30_DAYS = "30d"
STEP_7_DAYS = "7d"
STEP_LAPSED = "lapsed"
# (step, days before the end), in the order they fall due.
STEPS: tuple[tuple[str, int], ...] = ((STEP_30_DAYS, 30), (STEP_7_DAYS, 7), (STEP_LAPSED, 0))
# A lapse older than this is not announced any more (the job was stopped, a backlog): it would only confuse.
LAPSE_NOTICE_DAYS = 7


def step_day(end: date, step: str) -> date:
    return end - timedelta(days=dict(STEPS)[step])


def first_due_on(end: date) -> str:
    """The day the first reminder of a period ending on `end` falls due (the index's sort key)."""
    return step_day(end, STEPS[0][0]).isoformat()


def reminder_key(end: date, step: str) -> str:
    return f"{end.isoformat()}#{step}"


def _rank(step: str) -> int:
    return [name for name, _ in STEPS].index(step)


@dataclass(frozen=True)
class ReminderPlan:
    """What a due policy gets today: a step to send (or None), and when the next one falls due (or never)."""

    step: str | None
    next_due_on: str | None


def plan_reminder(end: date, today: date, last_reminder: str | None) -> ReminderPlan:
    """The latest step due by `today` not sent yet for this `end` (earlier missed steps are not sent late)."""
    due = [name for name, _ in STEPS if step_day(end, name) <= today]
    sent_rank = -1
    if last_reminder and last_reminder.startswith(f"{end.isoformat()}#"):
        sent_rank = _rank(last_reminder.split("#", 1)[1])
    upcoming = [name for name, _ in STEPS if step_day(end, name) > today]
    next_due_on = step_day(end, upcoming[0]).isoformat() if upcoming else None
    if not due or _rank(due[-1]) <= sent_rank:
        return ReminderPlan(None, next_due_on)
    step = due[-1]
    if step == STEP_LAPSED and today > end + timedelta(days=LAPSE_NOTICE_DAYS):
        return ReminderPlan(None, None)
    return ReminderPlan(step, next_due_on)


def renewal_period(end: date, years: int) -> Period:
    """The period a renewal of `years` years would buy: from the old end, never from today."""
    return Period(end, add_years(end, years))


def passport_short(passport_expiry: date | None, period: Period) -> bool:
    """Whether the passport ends before the last day a renewal would cover (the review would refuse it)."""
    return passport_expiry is not None and passport_expiry < period.last_day
