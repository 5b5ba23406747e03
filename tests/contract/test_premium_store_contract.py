"""The premium store's contract: the in-memory fake and PremiumStore on moto pass the same tests.

Each port method's observable behaviour: what a read returns after a write, which conditions a write
guards (a LostRace naming the items not in the state expected, and nothing written, ledger included),
idempotency keys claimed and released, and each stream's ledger chained in order.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.premiums.ledger import GENESIS, LedgerEvent
from chalicelib.premiums.payment_rules import ApplicationStatus, PaymentStatus, RefundStatus
from chalicelib.premiums.ports import ApplicationDraft, IdempotencyClaim, LostRace, PaymentDraft
from tests.premiums.fakes import FakePremiumStore

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
CIVIL_ID = "290051700011"


@pytest.fixture(params=["fake", "moto"])
def store(request):
    if request.param == "fake":
        return FakePremiumStore()
    request.getfixturevalue("aws")
    from chalicelib.premiums.store import PremiumStore

    return PremiumStore()


def draft(app_id: str = "app1", revision: int = 1, civil_id: str = CIVIL_ID, **changes) -> ApplicationDraft:
    fields = dict(
        application_id=app_id, account_id="acc1", created_at=NOW.isoformat(), updated_at=NOW,
        status=ApplicationStatus.AWAITING_CONFIRMATION, revision=revision, insured_civil_id=civil_id,
        insured_name="Ahmed Ali", category="private_sector_employee", sponsor_civil_id="270010200012",
        sponsor_name="Gulf Trading", kind="new", passport_expiry="2031-01-01", years=1, start_date="2026-03-01",
        end_date="2027-03-01", amount_fils=50_000, yearly_fils=50_000, currency="KWD",
        tariff_effective_from="2025-01-01")
    fields.update(changes)
    return ApplicationDraft(**fields)


def app_event(app_id: str, kind: str, at: datetime = NOW) -> LedgerEvent:
    return LedgerEvent(f"application#{app_id}", kind, at, "account:acc1", account_id="acc1", application_id=app_id)


def pay_event(pid: str, kind: str, at: datetime = NOW) -> LedgerEvent:
    return LedgerEvent(f"payment#{pid}", kind, at, "account:acc1", account_id="acc1", payment_id=pid)


def payment_draft(pid: str = "pay1", app_id: str = "app1", civil_id: str = CIVIL_ID,
                  created: datetime = NOW) -> PaymentDraft:
    return PaymentDraft(
        payment_id=pid, account_id="acc1", application_id=app_id, application_revision=1,
        created_at=created.isoformat(), updated_at=created, status=PaymentStatus.PENDING, amount_fils=50_000,
        currency="KWD", lang="en", insured_civil_id=civil_id, insured_name="Ahmed Ali",
        category="private_sector_employee", kind="new", period_start="2026-03-01", period_end="2027-03-01",
        gateway="sandbox", reconcile_queue="pending-3", reconcile_due_at=(created + timedelta(minutes=15)).isoformat())


def claim(key: str = "acc1#k1", pid: str = "pay1") -> IdempotencyClaim:
    return IdempotencyClaim(key=key, fingerprint="fp", payment_id=pid, created_at=NOW,
                            expires_at=NOW + timedelta(hours=24))


def confirmed(store, app_id: str = "app1", civil_id: str = CIVIL_ID):
    store.create_application(draft(app_id, civil_id=civil_id), app_event(app_id, "application_created"))
    store.confirm_application(app_id, 1, NOW, app_event(app_id, "application_confirmed"))
    return store.application(app_id)


def started(store, pid: str = "pay1", key: str = "acc1#k1", app_id: str = "app1", civil_id: str = CIVIL_ID):
    app = confirmed(store, app_id, civil_id)
    return store.start_payment(claim=claim(key, pid), payment=payment_draft(pid, app_id, civil_id), application=app,
                               renewal=False, now=NOW, event=pay_event(pid, "payment_started"))


def periods(pid: str = "pay1", status: str = "active") -> list[dict]:
    return [{"start": "2026-03-01", "end": "2027-03-01", "payment_id": pid, "status": status,
             "category": "private_sector_employee", "amount_fils": 50_000, "account_id": "acc1"}]


def captured(store, pid: str = "pay1"):
    payment = started(store, pid)
    payment = store.attach_session(payment, "ref-1", "https://pay/ref-1", NOW, pay_event(pid, "session_opened"))
    return store.capture(payment, policy_id="pol1", periods=periods(pid), start_date="2026-03-01",
                         end_date="2027-03-01", now=NOW, transaction_id="tx-1", gateway_ref="ref-1",
                         gateway_result="CAPTURED", events=[pay_event(pid, "payment_captured")])


def kinds(store, stream: str) -> list[str]:
    return [e.kind for e in store.ledger(stream)]


# --- applications ---------------------------------------------------------------------------------


def test_a_created_application_reads_back_and_opens_its_ledger_stream(store):
    row = store.create_application(draft(), app_event("app1", "application_created"))
    read = store.application("app1")
    assert (row.application_id, read.status, int(read.revision), read.confirmed_revision, read.payment_id) == (
        "app1", ApplicationStatus.AWAITING_CONFIRMATION, 1, None, None)
    assert (read.insured_civil_id, int(read.amount_fils), read.end_date) == (CIVIL_ID, 50_000, "2027-03-01")
    assert kinds(store, "application#app1") == ["application_created"]
    assert store.application("nope") is None


def test_an_application_id_is_created_once(store):
    store.create_application(draft(), app_event("app1", "application_created"))
    with pytest.raises(LostRace) as lost:
        store.create_application(draft(insured_name="Other"), app_event("app1", "application_created"))
    assert lost.value.failed == {"application"}
    assert store.application("app1").insured_name == "Ahmed Ali"
    assert kinds(store, "application#app1") == ["application_created"]


def test_confirming_needs_the_revision_reviewed_and_happens_once(store):
    store.create_application(draft(), app_event("app1", "application_created"))
    with pytest.raises(LostRace) as lost:
        store.confirm_application("app1", 2, NOW, app_event("app1", "application_confirmed"))
    assert lost.value.failed == {"application"}
    store.confirm_application("app1", 1, NOW, app_event("app1", "application_confirmed"))
    read = store.application("app1")
    assert (read.status, int(read.confirmed_revision), read.confirmed_at) == (ApplicationStatus.CONFIRMED, 1, NOW)
    with pytest.raises(LostRace):
        store.confirm_application("app1", 1, NOW, app_event("app1", "application_confirmed"))
    with pytest.raises(LostRace):
        store.confirm_application("missing", 1, NOW, app_event("missing", "application_confirmed"))
    assert kinds(store, "application#app1") == ["application_created", "application_confirmed"]


def test_a_replaced_application_is_a_new_unconfirmed_revision_over_the_one_read(store):
    confirmed(store)
    row = store.replace_application(draft(revision=2, years=2), 1, app_event("app1", "application_changed"))
    read = store.application("app1")
    assert (int(row.revision), int(read.revision), int(read.years)) == (2, 2, 2)
    assert (read.status, read.confirmed_revision, read.confirmed_at) == (
        ApplicationStatus.AWAITING_CONFIRMATION, None, None)
    with pytest.raises(LostRace) as lost:  # a stale revision
        store.replace_application(draft(revision=2), 1, app_event("app1", "application_changed"))
    assert lost.value.failed == {"application"}


def test_a_paying_application_cannot_be_replaced(store):
    started(store)
    with pytest.raises(LostRace):
        store.replace_application(draft(revision=2), 1, app_event("app1", "application_changed"))
    assert store.application("app1").status == ApplicationStatus.PAYMENT_PENDING


# --- starting a payment ---------------------------------------------------------------------------


def test_starting_a_payment_claims_the_key_marks_the_application_and_locks_the_insured(store):
    payment = started(store)
    assert (payment.payment_id, payment.status, payment.payment_url) == ("pay1", PaymentStatus.PENDING, None)
    assert store.payment("pay1").reconcile_queue == "pending-3"
    assert store.idempotency("acc1#k1").payment_id == "pay1"
    app = store.application("app1")
    assert (app.status, app.payment_id) == (ApplicationStatus.PAYMENT_PENDING, "pay1")
    policy = store.policy(CIVIL_ID)
    assert (policy.lock_ref, policy.periods or None, policy.end_date) == ("pay#pay1", None, None)
    assert kinds(store, "payment#pay1") == ["payment_started"]


def test_a_key_starts_one_payment_and_a_lost_start_writes_nothing(store):
    started(store)
    app = store.application("app1")
    with pytest.raises(LostRace) as lost:
        store.start_payment(claim=claim("acc1#k1", "pay2"), payment=payment_draft("pay2"), application=app,
                            renewal=False, now=NOW, event=pay_event("pay2", "payment_started"))
    assert {"idempotency", "application", "policy"} <= lost.value.failed
    assert store.payment("pay2") is None
    assert kinds(store, "payment#pay2") == []
    assert store.idempotency("acc1#k1").payment_id == "pay1"


def test_an_unconfirmed_application_or_a_locked_insured_cannot_start_a_payment(store):
    store.create_application(draft(), app_event("app1", "application_created"))
    with pytest.raises(LostRace) as lost:
        store.start_payment(claim=claim(), payment=payment_draft(), application=store.application("app1"),
                            renewal=False, now=NOW, event=pay_event("pay1", "payment_started"))
    assert lost.value.failed == {"application"}
    assert store.idempotency("acc1#k1") is None
    started(store, "pay2", "acc1#k2", "app2")  # the same insured, another application: locks them
    store.confirm_application("app1", 1, NOW, app_event("app1", "application_confirmed"))
    with pytest.raises(LostRace) as lost:
        store.start_payment(claim=claim(), payment=payment_draft(), application=store.application("app1"),
                            renewal=False, now=NOW, event=pay_event("pay1", "payment_started"))
    assert lost.value.failed == {"policy"}


def test_a_session_is_attached_once_to_a_pending_payment(store):
    payment = started(store)
    after = store.attach_session(payment, "ref-1", "https://pay/ref-1", NOW, pay_event("pay1", "session_opened"))
    assert (after.gateway_ref, after.payment_url) == ("ref-1", "https://pay/ref-1")
    assert store.payment("pay1").payment_url == "https://pay/ref-1"
    with pytest.raises(LostRace) as lost:
        store.attach_session(payment, "ref-2", "https://pay/ref-2", NOW, pay_event("pay1", "session_opened"))
    assert lost.value.failed == {"payment"}
    assert store.payment("pay1").gateway_ref == "ref-1"


# --- settling -------------------------------------------------------------------------------------


def test_a_capture_pays_the_application_writes_the_policy_and_unlocks_it(store):
    payment = captured(store)
    assert (payment.status, payment.captured_at, payment.transaction_id, payment.reconcile_queue) == (
        PaymentStatus.CAPTURED, NOW, "tx-1", None)
    read = store.payment("pay1")
    assert (read.status, read.transaction_id, read.gateway_result, read.reconcile_due_at) == (
        PaymentStatus.CAPTURED, "tx-1", "CAPTURED", None)
    assert store.application("app1").status == ApplicationStatus.PAID
    policy = store.policy(CIVIL_ID)
    assert (policy.policy_id, policy.status, policy.start_date, policy.end_date, policy.lock_ref) == (
        "pol1", "active", "2026-03-01", "2027-03-01", None)
    assert [(p.payment_id, p.status, int(p.amount_fils)) for p in policy.periods] == [("pay1", "active", 50_000)]
    assert [p.policy_id for p in store.policies_of("acc1")] == ["pol1"]


def test_a_payment_is_captured_once(store):
    payment = captured(store)
    with pytest.raises(LostRace) as lost:
        store.capture(payment, policy_id="pol1", periods=periods(), start_date="2026-03-01", end_date="2027-03-01",
                      now=NOW, transaction_id="tx-2", gateway_ref="ref-1", gateway_result="CAPTURED",
                      events=[pay_event("pay1", "payment_captured")])
    assert "payment" in lost.value.failed
    assert store.payment("pay1").transaction_id == "tx-1"
    assert kinds(store, "payment#pay1").count("payment_captured") == 1


def test_closing_an_unpaid_payment_unlocks_the_insured_and_can_release_its_key(store):
    payment = started(store)
    store.close_unpaid(payment, status=PaymentStatus.EXPIRED, now=NOW, gateway_result="session_failed",
                       release_key="acc1#k1", events=[pay_event("pay1", "payment_expired")])
    read = store.payment("pay1")
    assert (read.status, read.gateway_result, read.reconcile_queue) == (PaymentStatus.EXPIRED, "session_failed", None)
    app = store.application("app1")
    assert (app.status, app.payment_id) == (ApplicationStatus.CONFIRMED, None)
    assert store.policy(CIVIL_ID).lock_ref is None
    assert store.idempotency("acc1#k1") is None
    with pytest.raises(LostRace) as lost:
        store.close_unpaid(payment, status=PaymentStatus.DECLINED, now=NOW, gateway_result="declined",
                           release_key=None, events=[pay_event("pay1", "payment_declined")])
    assert "payment" in lost.value.failed
    assert store.payment("pay1").status == PaymentStatus.EXPIRED


def test_a_key_of_another_payment_is_not_released(store):
    payment = started(store)
    started(store, "pay2", "acc1#k2", "app2", "288080800101")
    with pytest.raises(LostRace) as lost:
        store.close_unpaid(payment, status=PaymentStatus.EXPIRED, now=NOW, gateway_result="x",
                           release_key="acc1#k2", events=[pay_event("pay1", "payment_expired")])
    assert lost.value.failed == {"idempotency"}
    assert store.payment("pay1").status == PaymentStatus.PENDING


def test_pending_payments_come_due_and_can_be_postponed_until_settled(store):
    started(store)
    assert list(store.due_payments(NOW, 50)) == []
    later = NOW + timedelta(minutes=15)
    assert [p.payment_id for p in store.due_payments(later, 50)] == ["pay1"]
    assert store.postpone_reconciliation("pay1", later + timedelta(minutes=15)) is True
    assert list(store.due_payments(later, 50)) == []
    assert [p.payment_id for p in store.due_payments(later + timedelta(minutes=15), 50)] == ["pay1"]
    store.close_unpaid(store.payment("pay1"), status=PaymentStatus.DECLINED, now=NOW, gateway_result="declined",
                       release_key=None, events=[pay_event("pay1", "payment_declined")])
    assert list(store.due_payments(later + timedelta(days=1), 50)) == []
    assert store.postpone_reconciliation("pay1", later) is False
    assert store.postpone_reconciliation("missing", later) is False


def test_payments_of_an_account_come_newest_first(store):
    started(store, "pay1", "acc1#k1", "app1")
    store.create_application(draft("app2", civil_id="288080800101"), app_event("app2", "application_created"))
    store.confirm_application("app2", 1, NOW, app_event("app2", "application_confirmed"))
    store.start_payment(claim=claim("acc1#k2", "pay2"), payment=payment_draft("pay2", "app2", "288080800101",
                                                                             NOW + timedelta(minutes=1)),
                        application=store.application("app2"), renewal=False, now=NOW,
                        event=pay_event("pay2", "payment_started"))
    assert [p.payment_id for p in store.payments_of("acc1")] == ["pay2", "pay1"]
    assert store.payments_of("someone-else") == []


def test_an_event_only_append_lands_in_its_stream(store):
    started(store)
    store.append_events([pay_event("pay1", "payment_result_refused")])
    assert kinds(store, "payment#pay1") == ["payment_started", "payment_result_refused"]


def test_each_stream_is_a_chain_in_order(store):
    captured(store)
    chain = store.ledger("payment#pay1")
    assert [e.kind for e in chain] == ["payment_started", "session_opened", "payment_captured"]
    assert [int(e.seq) for e in chain] == [1, 2, 3]
    assert chain[0].prev_hash == GENESIS
    assert [e.prev_hash for e in chain[1:]] == [e.hash for e in chain[:-1]]


# --- refunds --------------------------------------------------------------------------------------


def test_a_refund_is_requested_once_and_locks_the_insured(store):
    payment = captured(store)
    store.request_refund(payment, reason="plans changed", now=NOW, event=pay_event("pay1", "refund_requested"))
    read = store.payment("pay1")
    assert read.refund_status == RefundStatus.REQUESTED
    assert [(a.status, int(a.amount_fils), a.reason) for a in read.refunds] == [
        (RefundStatus.REQUESTED, 50_000, "plans changed")]
    assert store.policy(CIVIL_ID).lock_ref == "refund#pay1"
    with pytest.raises(LostRace) as lost:
        store.request_refund(read, reason="again", now=NOW, event=pay_event("pay1", "refund_requested"))
    assert lost.value.failed == {"payment", "policy"}
    assert len(store.payment("pay1").refunds) == 1


def test_an_uncaptured_payment_cannot_be_refunded(store):
    payment = started(store)
    with pytest.raises(LostRace) as lost:
        store.request_refund(payment, reason="x", now=NOW, event=pay_event("pay1", "refund_requested"))
    assert "payment" in lost.value.failed
    assert store.payment("pay1").refund_status is None


def test_a_failed_refund_unlocks_and_may_be_asked_again(store):
    payment = captured(store)
    store.request_refund(payment, reason="x", now=NOW, event=pay_event("pay1", "refund_requested"))
    store.fail_refund(store.payment("pay1"), error_code="E1", now=NOW, event=pay_event("pay1", "refund_failed"))
    read = store.payment("pay1")
    assert (read.refund_status, read.refunds[-1].status, read.refunds[-1].error_code) == (
        RefundStatus.FAILED, RefundStatus.FAILED, "E1")
    assert store.policy(CIVIL_ID).lock_ref is None
    with pytest.raises(LostRace):
        store.fail_refund(read, error_code="E2", now=NOW, event=pay_event("pay1", "refund_failed"))
    store.request_refund(read, reason="again", now=NOW, event=pay_event("pay1", "refund_requested"))
    assert [a.status for a in store.payment("pay1").refunds] == [RefundStatus.FAILED, RefundStatus.REQUESTED]


def test_a_completed_refund_pays_back_once_and_cancels_the_period(store):
    payment = captured(store)
    store.request_refund(payment, reason="x", now=NOW, event=pay_event("pay1", "refund_requested"))
    requested = store.payment("pay1")
    store.complete_refund(requested, refund_ref="r-1", now=NOW, periods=periods(status="cancelled"), start_date=None,
                          end_date=None, policy_status="cancelled", events=[pay_event("pay1", "refunded")])
    read = store.payment("pay1")
    assert (read.status, read.refund_status, int(read.refunded_fils)) == (
        PaymentStatus.REFUNDED, RefundStatus.REFUNDED, 50_000)
    assert (read.refunds[-1].status, read.refunds[-1].refund_ref) == (RefundStatus.REFUNDED, "r-1")
    policy = store.policy(CIVIL_ID)
    assert (policy.status, policy.start_date, policy.end_date, policy.lock_ref) == ("cancelled", None, None, None)
    assert [p.status for p in policy.periods] == ["cancelled"]
    with pytest.raises(LostRace) as lost:
        store.complete_refund(requested, refund_ref="r-2", now=NOW, periods=periods(status="cancelled"),
                              start_date=None, end_date=None, policy_status="cancelled",
                              events=[pay_event("pay1", "refunded")])
    assert lost.value.failed == {"payment", "policy"}
    assert int(store.payment("pay1").refunded_fils) == 50_000
    assert kinds(store, "payment#pay1").count("refunded") == 1


def test_a_refund_never_requested_cannot_be_completed_kept_or_failed(store):
    payment = captured(store)
    for write in (
        lambda: store.complete_refund(payment, refund_ref="r", now=NOW, periods=periods(), start_date=None,
                                      end_date=None, policy_status="cancelled", events=[]),
        lambda: store.keep_confirmed_refund(payment, refund_ref="r", queue="refund-1", due_at=NOW, now=NOW,
                                            event=pay_event("pay1", "refund_gateway_confirmed")),
        lambda: store.fail_refund(payment, error_code="E", now=NOW, event=pay_event("pay1", "refund_failed")),
    ):
        with pytest.raises(LostRace) as lost:
            write()
        assert lost.value.failed == {"payment"}
    assert store.payment("pay1").status == PaymentStatus.CAPTURED


def test_a_gateway_confirmed_refund_waits_in_the_queue_until_written(store):
    payment = captured(store)
    store.request_refund(payment, reason="x", now=NOW, event=pay_event("pay1", "refund_requested"))
    store.keep_confirmed_refund(store.payment("pay1"), refund_ref="r-1", queue="refund-5", due_at=NOW, now=NOW,
                                event=pay_event("pay1", "refund_gateway_confirmed"))
    due = list(store.due_refunds(NOW, 50))
    assert [(p.payment_id, p.refund_status, p.refunds[-1].refund_ref) for p in due] == [
        ("pay1", RefundStatus.REQUESTED, "r-1")]
    assert list(store.due_payments(NOW + timedelta(days=1), 50)) == []
    store.complete_refund(due[0], refund_ref="r-1", now=NOW, periods=periods(status="cancelled"), start_date=None,
                          end_date=None, policy_status="cancelled", events=[pay_event("pay1", "refunded")])
    assert list(store.due_refunds(NOW + timedelta(days=1), 50)) == []


# --- renewals and their reminders ----------------------------------------------------------------


def numbered(store):
    """A captured policy that was issued a number."""
    payment = started(store)
    payment = store.attach_session(payment, "ref-1", "https://pay/ref-1", NOW, pay_event("pay1", "session_opened"))
    store.capture(payment, policy_id="pol1", periods=periods(), start_date="2026-03-01", end_date="2027-03-01",
                  now=NOW, transaction_id="tx-1", gateway_ref="ref-1", gateway_result="CAPTURED",
                  events=[pay_event("pay1", "payment_captured")], policy_number="RH-26-ABCD-EFGH")
    return store.policy(CIVIL_ID)


def renewal_draft(app_id: str = "ren1"):
    return draft(app_id, kind="renewal", start_date="2027-03-01", end_date="2028-03-01")


def test_a_policy_is_found_by_its_number_only(store):
    numbered(store)
    assert store.policy_by_number("RH-26-ABCD-EFGH").insured_civil_id == CIVIL_ID
    assert store.policy_by_number("RH-26-ABCD-EFGJ") is None


def test_a_captured_policy_waits_in_the_reminder_index_from_30_days_before_its_end(store):
    from datetime import date

    numbered(store)
    assert store.policy(CIVIL_ID).reminder_due_on == "2027-01-30"
    shards = [p for shard in map(str, range(8)) for p in store.due_reminders(shard, date(2027, 1, 29))]
    assert shards == []
    due = [p for shard in map(str, range(8)) for p in store.due_reminders(shard, date(2027, 1, 30))]
    assert [p.insured_civil_id for p in due] == [CIVIL_ID]


def test_a_reminder_step_is_recorded_once_over_the_due_day_read(store):
    policy = numbered(store)
    store.mark_reminded(policy, step="30d", next_due_on="2027-02-22", now=NOW)
    with pytest.raises(LostRace):
        store.mark_reminded(policy, step="30d", next_due_on="2027-02-22", now=NOW)  # a second run, same read
    read = store.policy(CIVIL_ID)
    assert (read.last_reminder, read.reminder_due_on) == ("2027-03-01#30d", "2027-02-22")
    store.mark_reminded(read, step="lapsed", next_due_on=None, now=NOW)
    assert store.policy(CIVIL_ID).reminder_due_on is None


def test_one_renewal_application_is_opened_per_period(store):
    numbered(store)
    store.open_renewal(renewal_draft("ren1"), renews_from="2027-03-01", replaces=None,
                       event=app_event("ren1", "application_created"))
    with pytest.raises(LostRace) as lost:
        store.open_renewal(renewal_draft("ren2"), renews_from="2027-03-01", replaces=None,
                           event=app_event("ren2", "application_created"))
    assert lost.value.failed == {"policy"}
    assert store.application("ren2") is None and kinds(store, "application#ren2") == []
    policy = store.policy(CIVIL_ID)
    assert (policy.renewal_application_id, policy.renewal_from) == ("ren1", "2027-03-01")


def test_a_renewal_from_another_end_than_the_policys_is_refused(store):
    numbered(store)
    with pytest.raises(LostRace):
        store.open_renewal(renewal_draft(), renews_from="2027-04-01", replaces=None,
                           event=app_event("ren1", "application_created"))


# --- family baskets -------------------------------------------------------------------------------

OTHER_ID = "290051700038"


def basket_started(store, pid: str = "bsk1", key: str = "acc1#b1"):
    from dataclasses import replace

    from chalicelib.premiums.ports import BasketLine

    apps = [confirmed(store, "app1", CIVIL_ID), confirmed(store, "app2", OTHER_ID)]
    lines = tuple(BasketLine(application_id=a.application_id, application_revision=1,
                             insured_civil_id=a.insured_civil_id, insured_name="Ahmed Ali",
                             category="private_sector_employee", kind="new", period_start="2026-03-01",
                             period_end="2027-03-01", amount_fils=50_000, passport_expiry="2031-01-01", years=1)
                  for a in apps)
    draft = replace(payment_draft(pid, "app1"), amount_fils=100_000, kind="basket", lines=lines)
    return store.start_basket(claim=claim(key, pid), payment=draft, applications=apps, now=NOW,
                              event=pay_event(pid, "payment_started"))


def basket_writes(payment, lock: str = "pay#bsk1", numbers=("RH-26-AAAA-AAA2", "RH-26-AAAA-AAA3")):
    from chalicelib.premiums.ports import PolicyWrite

    return [PolicyWrite(insured_civil_id=line.insured_civil_id, policy_id=f"pol{i}",
                        periods=periods(payment.payment_id), start_date="2026-03-01", end_date="2027-03-01",
                        status="active", lock_ref=lock, line=line,
                        policy_number=numbers[i])
            for i, line in enumerate(payment.lines)]


def capture_basket(store, payment, writes):
    return store.capture_basket(payment, policies=writes, now=NOW, transaction_id="tx-b", gateway_ref="ref-b",
                                gateway_result="CAPTURED", events=[pay_event(payment.payment_id, "payment_captured")])


def test_a_basket_start_marks_every_application_and_locks_every_insured(store):
    payment = basket_started(store)
    assert [line.application_id for line in store.payment("bsk1").lines] == ["app1", "app2"]
    assert {store.application(a).status for a in ("app1", "app2")} == {ApplicationStatus.PAYMENT_PENDING}
    assert {store.policy(c).lock_ref for c in (CIVIL_ID, OTHER_ID)} == {"pay#bsk1"}
    assert int(payment.amount_fils) == 100_000


def test_a_basket_capture_writes_every_policy_or_none(store):
    payment = basket_started(store)
    writes = basket_writes(payment)
    broken = [writes[0], replace_lock(writes[1], "pay#someone-else")]
    with pytest.raises(LostRace) as lost:
        capture_basket(store, payment, broken)
    assert lost.value.failed == {"policy:1"}
    assert store.payment("bsk1").status == PaymentStatus.PENDING
    assert store.policy(CIVIL_ID).policy_id is None and store.application("app1").status == "payment_pending"

    captured_payment = capture_basket(store, payment, writes)
    assert captured_payment.status == PaymentStatus.CAPTURED
    assert [(store.policy(c).status, store.policy(c).end_date, store.policy(c).lock_ref)
            for c in (CIVIL_ID, OTHER_ID)] == [("active", "2027-03-01", None)] * 2
    assert {store.application(a).status for a in ("app1", "app2")} == {ApplicationStatus.PAID}
    assert store.policy_by_number("RH-26-AAAA-AAA3").insured_civil_id == OTHER_ID


def replace_lock(write, lock):
    from dataclasses import replace

    return replace(write, lock_ref=lock)


def test_one_share_is_refunded_once_over_the_amount_read(store):
    payment = basket_started(store)
    capture_basket(store, payment, basket_writes(payment))
    read = store.payment("bsk1")
    store.request_basket_refund(read, application_ids=["app2"], amount_fils=50_000, reason="left", now=NOW,
                                event=pay_event("bsk1", "refund_requested"))
    with pytest.raises(LostRace):  # the same share again, from the same read
        store.request_basket_refund(read, application_ids=["app2"], amount_fils=50_000, reason="left", now=NOW,
                                    event=pay_event("bsk1", "refund_requested"))
    assert store.policy(OTHER_ID).lock_ref == "refund#bsk1" and store.policy(CIVIL_ID).lock_ref is None

    from chalicelib.premiums.ports import PolicyWrite

    requested = store.payment("bsk1")
    cancel = [PolicyWrite(insured_civil_id=OTHER_ID, policy_id="pol1", periods=periods("bsk1", "cancelled"),
                          start_date=None, end_date=None, status="cancelled", lock_ref="refund#bsk1")]
    store.complete_basket_refund(requested, policies=cancel, refund_ref="r-1", now=NOW,
                                 events=[pay_event("bsk1", "refunded")])
    done = store.payment("bsk1")
    assert (done.status, int(done.refunded_fils), done.refund_status) == (PaymentStatus.CAPTURED, 50_000, "refunded")
    assert [line.refund_status for line in done.lines] == [None, "refunded"]
    assert (store.policy(OTHER_ID).status, store.policy(OTHER_ID).lock_ref) == ("cancelled", None)
    with pytest.raises(LostRace):  # completed once
        store.complete_basket_refund(requested, policies=cancel, refund_ref="r-1", now=NOW,
                                     events=[pay_event("bsk1", "refunded")])
    assert int(store.payment("bsk1").refunded_fils) == 50_000


def test_a_closed_renewal_read_gives_way_to_a_new_one_for_the_same_period(store):
    numbered(store)
    store.open_renewal(renewal_draft("ren1"), renews_from="2027-03-01", replaces=None,
                       event=app_event("ren1", "application_created"))
    store.open_renewal(renewal_draft("ren2"), renews_from="2027-03-01", replaces="ren1",
                       event=app_event("ren2", "application_created"))
    assert store.policy(CIVIL_ID).renewal_application_id == "ren2"
    with pytest.raises(LostRace):  # a second caller that read "ren1" too
        store.open_renewal(renewal_draft("ren3"), renews_from="2027-03-01", replaces="ren1",
                           event=app_event("ren3", "application_created"))
