"""Renewal on autopilot: a renewal application in one call, and the reminders that lead to it.

`renew_policy` prefills a renewal from the policy's last paid application and checks it against
today's rules and tariff exactly as a typed application is checked; it then waits for the same
review and confirmation (money paid on wrong data is lost). One renewal application per period:
the policy records it in the same transaction, so a second call (or two at once) answers that one.

`send_due_reminders` is the scheduled job's use case: it reads only the policies whose next
reminder is due (a sparse index), records each step with a write conditioned on the due day and
end read (of two runs, one sends), then queues the messages, which are built when sent in the
account's language (`build_reminder`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.errors import NotFound, StaleState
from chalicelib.kernel.kuwait_time import kuwait_today
from chalicelib.platform.jobs import WORKERS, JobRun, QueuedMessages, run_due
from chalicelib.platform.messages import Message
from chalicelib.premiums import messages as premium_messages
from chalicelib.premiums.applications import _draft, _event, _review, application_view
from chalicelib.premiums.payment_rules import ApplicationStatus
from chalicelib.premiums.policy_numbers import is_policy_number
from chalicelib.premiums.ports import ApplicationRow, LostRace, PolicyRow, PremiumDeps
from chalicelib.premiums.renewal_rules import (
    passport_short,
    plan_reminder,
    renewal_period,
    step_day,
)
from chalicelib.premiums.rules import KIND_RENEWAL

# What a person may change in the one call; everything else comes from the last application.
RENEW_OVERRIDES = ("passport_expiry", "years")
OPEN = (ApplicationStatus.AWAITING_CONFIRMATION, ApplicationStatus.CONFIRMED, ApplicationStatus.PAYMENT_PENDING)


def renewal_link(base_url: str, policy_number: str | None) -> str:
    """The app's renewal screen of a policy (a universal link the app claims; the API is POST .../renew)."""
    return f"{base_url}/app/policies/{policy_number or ''}/renew"


# --- renew in one call ----------------------------------------------------------------------------


def _own_policy(deps: PremiumDeps, account_id: str, policy_number: object) -> PolicyRow:
    # Only a well-formed number is looked up: any other path names no policy (and one over 2048 bytes
    # would be DynamoDB's ValidationException, a 500, instead of this 404).
    if not isinstance(policy_number, str) or not is_policy_number(policy_number):
        raise NotFound()
    policy = deps.store.policy_by_number(policy_number)
    if policy is None or policy.account_id != account_id or not policy.policy_id:
        raise NotFound()
    return policy


def _last_application(deps: PremiumDeps, policy: PolicyRow) -> ApplicationRow:
    """The application that paid the policy's latest active period (a basket's line for this person)."""
    paid = [p for p in (policy.periods or []) if p.status == "active"] or list(policy.periods or [])
    for period in sorted(paid, key=lambda p: p.end, reverse=True):
        payment = deps.store.payment(period.payment_id)
        if payment is None:
            continue
        application_id = payment.application_id
        for line in payment.lines or []:
            if line.insured_civil_id == policy.insured_civil_id:
                application_id = line.application_id
        application = deps.store.application(application_id)
        if application is not None:
            return application
    raise NotFound()


def _open_renewal(deps: PremiumDeps, policy: PolicyRow) -> ApplicationRow | None:
    """The renewal application already opened for this period, if it is still open."""
    if not policy.renewal_application_id or policy.renewal_from != policy.end_date:
        return None
    existing = deps.store.application(policy.renewal_application_id)
    return existing if existing is not None and existing.status in OPEN else None


def renew_policy(deps: PremiumDeps, account_id: str, policy_number: object,
                 body: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """A renewal application prefilled from the last one, checked and priced today; (its view, whether new)."""
    policy = _own_policy(deps, account_id, policy_number)
    existing = _open_renewal(deps, policy)
    if existing is not None:
        return application_view(existing), False
    last = _last_application(deps, policy)
    prefilled: dict[str, Any] = {
        "insured_civil_id": policy.insured_civil_id, "insured_name": last.insured_name,
        "insured_name_ar": last.insured_name_ar or policy.insured_name_ar, "category": last.category,
        "sponsor_name": last.sponsor_name, "sponsor_civil_id": last.sponsor_civil_id, "kind": KIND_RENEWAL,
        "passport_expiry": last.passport_expiry, "years": int(last.years),
    }
    prefilled.update({name: body[name] for name in RENEW_OVERRIDES if body.get(name) is not None})
    now = deps.now()
    # Today's rules and tariff: a category no longer offered or a passport too short is refused as on a form.
    review = _review(deps, prefilled, kuwait_today(now))
    application_id = deps.new_id("app")
    draft = _draft(review, application_id=application_id, account_id=account_id, created_at=now.isoformat(),
                   now=now, revision=1)
    renews_from = review.period.start.isoformat()
    # A renewal recorded for this period but closed (paid, then refunded) gives way to this one.
    replaces = policy.renewal_application_id if policy.renewal_from == renews_from else None
    try:
        record = deps.store.open_renewal(draft, renews_from=renews_from, replaces=replaces, event=_event(
            application_id, "application_created", account_id, now, amount_fils=review.quote.amount_fils,
            to_status=ApplicationStatus.AWAITING_CONFIRMATION,
            details={"revision": 1, "renewal_of": policy.policy_id, "renews_from": renews_from}))
    except LostRace as lost:
        # Another call opened it first (a double tap): that one is the renewal.
        fresh = deps.store.policy(policy.insured_civil_id)
        raced = _open_renewal(deps, fresh) if fresh is not None else None
        if raced is None:
            raise StaleState() from lost
        return application_view(raced), False
    return application_view(record), True


# --- reminders ------------------------------------------------------------------------------------

def _reminder_jobs(policy: PolicyRow, step: str, end: date, *, warn_passport: bool) -> list[dict[str, Any]]:
    """The outbound jobs of one step: the reminder (and the passport warning), each by email and by SMS.

    No civil ID travels: the builder needs only the account, the names and the dates.
    """
    years = int(policy.renewal_years or 1)
    period = renewal_period(end, years)
    passport = date.fromisoformat(policy.passport_expiry) if policy.passport_expiry else None
    base = {"account_id": policy.account_id, "step": step, "end": end.isoformat(),
            "insured_name": policy.insured_name or "", "policy_number": policy.policy_number,
            "renewal_last_day": period.last_day.isoformat()}
    kinds = ["renewal_reminder"]
    if warn_passport and passport_short(passport, period):
        kinds.append("renewal_passport_warning")
        base["passport_expiry"] = passport.isoformat() if passport else None
    return [{"kind": "renewal_reminder", "message": kind, "channel": channel, **base}
            for kind in kinds for channel in ("email", "sms")]


def send_due_reminders(deps: PremiumDeps, run: JobRun, at: datetime,
                       enqueue: Callable[[list[dict[str, Any]]], object]) -> JobRun:
    """Every policy whose renewal reminder is due on the Kuwaiti day of `at` (the run's time) gets it, once."""
    today = kuwait_today(at)
    queue = QueuedMessages(enqueue, run)

    def act(policy: PolicyRow) -> bool:
        if policy.status != "active" or not policy.end_date or not policy.account_id:
            deps.store.drop_reminders(policy)
            return False
        end = date.fromisoformat(policy.end_date)
        plan = plan_reminder(end, today, policy.last_reminder)
        first_of_period = not (policy.last_reminder or "").startswith(f"{end.isoformat()}#")
        # The write first, conditioned on what made it due: of two runs, one moves it and sends.
        deps.store.mark_reminded(policy, step=plan.step, next_due_on=plan.next_due_on, now=at)
        if plan.step is None:
            return False
        queue.add(*_reminder_jobs(policy, plan.step, end, warn_passport=first_of_period))
        return True

    try:
        return run_due(run, lambda shard: deps.store.due_reminders(shard, today), act, workers=WORKERS)
    finally:
        queue.flush()


def build_reminder(deps: PremiumDeps, job: Mapping[str, Any]) -> Message | None:
    """The message of one queued reminder job, in the account's language; None without an address."""
    contact = deps.contact(str(job["account_id"]))
    if contact is None:
        return None
    end = date.fromisoformat(str(job["end"]))
    step = str(job["step"])
    passport = job.get("passport_expiry")
    facts = premium_messages.ReminderFacts(
        step=step, insured_name=str(job["insured_name"]), policy_number=job.get("policy_number"), end=end,
        last_day=end - timedelta(days=1),
        link=renewal_link(deps.settings.public_base_url, job.get("policy_number")),
        days_left=(end - step_day(end, step)).days,
        passport_expiry=date.fromisoformat(str(passport)) if passport else None,
        renewal_last_day=date.fromisoformat(str(job["renewal_last_day"])))
    warning = job.get("message") == "renewal_passport_warning"
    if job.get("channel") == "email":
        if not contact.email:
            return None
        build = premium_messages.passport_warning_email if warning else premium_messages.renewal_reminder_email
        return build(contact.email, contact.language, facts)
    if not contact.phone:
        return None
    build_sms = premium_messages.passport_warning_sms if warning else premium_messages.renewal_reminder_sms
    return build_sms(contact.phone, contact.language, facts)
