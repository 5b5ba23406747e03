"""`python -m admin backfill-renewal-reminders` on moto: policies paid before the reminder index existed get
into it exactly as a capture puts them, a policy changed meanwhile is left as changed, and a second run
writes nothing; the reminder job then reminds them."""

from __future__ import annotations

from datetime import date

from admin.__main__ import main
from tests.api import premium_support
from tests.api.premium_support import INSURED, SECOND_INSURED, choose_on_page, civil_id_born
from tests.premiums.dynamo_limits import dynamodb_requests

payer = premium_support.payer
THIRD_INSURED = civil_id_born(date(1985, 2, 2), 200)


def _paid(api, payer, key: str, **overrides) -> dict:
    payment = payer.started_payment(key=key, **overrides)
    assert choose_on_page(api, payment, "approved").status == 200
    return payment


def _index(civil_id: str) -> tuple[str | None, str | None]:
    from chalicelib.premiums.models import ResidencePolicyRecord

    policy = ResidencePolicyRecord.get(civil_id, consistent_read=True)
    return policy.reminder_queue, policy.reminder_due_on


def _as_before_the_index(civil_id: str) -> None:
    """The policy as a capture wrote it before the reminder index existed: none of its attributes."""
    from chalicelib.premiums.models import ResidencePolicyRecord

    ResidencePolicyRecord(civil_id).update(actions=[ResidencePolicyRecord.reminder_queue.remove(),
                                                    ResidencePolicyRecord.reminder_due_on.remove()])


def _remind(app, at: str) -> dict:
    from devstack.lambdas import invoke, scheduled_event

    event = scheduled_event("me-south-1", "remind_renewals")
    event["time"] = at
    return invoke(app, "remind_renewals", event)


def test_the_backfill_indexes_old_policies_as_a_capture_would_once_and_leaves_a_changed_one_alone(
        app, api, payer, outbox, monkeypatch, capsys):
    from chalicelib.premiums.store import PremiumStore

    _paid(api, payer, "ahmed")
    as_captured = _index(INSURED)
    mona = _paid(api, payer, "mona", insured_civil_id=SECOND_INSURED, insured_name="Mona Ali",
                 category="joining_wife")
    _paid(api, payer, "omar", insured_civil_id=THIRD_INSURED, insured_name="Omar Ali",
          category="domestic_worker")  # paid after the index existed: in it already
    for civil_id in (INSURED, SECOND_INSURED):
        _as_before_the_index(civil_id)
    assert as_captured[1] == "2027-01-30" and _index(INSURED) == (None, None)
    assert _remind(app, "2027-01-30T06:00:00Z")["done"] == 1  # only Omar: the job never sees the other two

    real = PremiumStore.index_for_reminders

    def refunded_meanwhile(self, policy):
        if policy.insured_civil_id == SECOND_INSURED:  # Mona's payment is refunded between read and write
            assert payer.refund(mona["payment_id"], "left Kuwait").status == 200
        return real(self, policy)

    monkeypatch.setattr(PremiumStore, "index_for_reminders", refunded_meanwhile)
    capsys.readouterr()
    assert main(["backfill-renewal-reminders"]) == 0

    out = capsys.readouterr().out
    assert "residence policies read: 3" in out
    assert "put in the reminder index: 1" in out and "already in the index: 1" in out
    assert "changed while this ran (left as changed; run again to see them): 1" in out
    assert _index(INSURED) == as_captured  # the very attributes its capture had written
    assert _index(SECOND_INSURED) == (None, None)  # cancelled by its refund: nothing to remind

    monkeypatch.setattr(PremiumStore, "index_for_reminders", real)
    requests = dynamodb_requests(monkeypatch)
    assert main(["backfill-renewal-reminders"]) == 0  # again: everything is where it belongs
    out = capsys.readouterr().out
    assert "already in the index: 2" in out and "not in force (" in out and "put in" not in out
    assert {op for op, _ in requests} == {"Scan"}  # read only: not one write

    assert _remind(app, "2027-01-30T06:00:00Z")["done"] == 1  # Ahmed's 30-day reminder, once
    sms = outbox.last(to=payer.phone, template="renewal_reminder")
    assert "Ahmed Ali" in sms["text"] and "ends in 30 days" in sms["text"]


def test_a_dry_run_counts_and_writes_nothing(api, payer, capsys):
    _paid(api, payer, "ahmed")
    _as_before_the_index(INSURED)

    assert main(["backfill-renewal-reminders", "--dry-run"]) == 0

    out = capsys.readouterr().out
    assert "residence policies read: 1 (dry run: nothing written)" in out
    assert "would be put in the reminder index (dry run): 1" in out
    assert _index(INSURED) == (None, None)
