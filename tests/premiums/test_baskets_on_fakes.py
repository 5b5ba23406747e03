"""A family basket on fakes: one payment for several confirmed applications, captured together, refunded by share."""

from __future__ import annotations

from datetime import date

import pytest

from chalicelib.errors import AppError, NotFound
from chalicelib.premiums import applications, baskets, payments, refunds
from chalicelib.premiums.payment_rules import ApplicationStatus, PaymentStatus
from tests.api.premium_support import INSURED, SECOND_INSURED, application_body, civil_id_born
from tests.premiums.fakes import World
from tests.premiums.test_payments_on_fakes import ACCOUNT, person_chooses

THIRD_INSURED = civil_id_born(date(1985, 2, 2), 200)
FAMILY = ((INSURED, "Ahmed Ali", "private_sector_employee"), (SECOND_INSURED, "Mona Ali", "joining_wife"),
          (THIRD_INSURED, "Omar Ali", "joining_sibling"))


def confirmed(world: World, civil_id: str, name: str, category: str, account: str = ACCOUNT, **changes) -> str:
    created = applications.create_application(world.deps, account, application_body(
        insured_civil_id=civil_id, insured_name=name, category=category, **changes))
    applications.confirm_application(world.deps, account, created["application_id"], {"accept": True})
    return str(created["application_id"])


def family(world: World) -> list[str]:
    return [confirmed(world, *person) for person in FAMILY]


def start(world: World, ids: list[str], key: str = "basket-1", body: dict | None = None):
    return baskets.start_basket_payment(world.deps, account_id=ACCOUNT, idempotency_key=key,
                                        body=body if body is not None else {"application_ids": ids}, lang="en")


def approve(world: World, payment: dict) -> None:
    callback = person_chooses(world, payment)
    payments.handle_callback(world.deps, callback.body, callback.headers)


def policies(world: World) -> dict[str, tuple[str, str | None, str | None]]:
    return {p["insured"]["civil_id"]: (p["status"], p["start_date"], p["end_date"])
            for p in payments.list_policies(world.deps, ACCOUNT)}


def test_a_basket_of_three_pays_once_for_their_sum_and_creates_three_policies(world):
    ids = family(world)

    payment, created = start(world, ids)
    assert created and payment["status"] == "pending" and payment["payment_url"]
    assert (payment["amount_fils"], payment["currency"]) == (50_000 + 30_000 + 50_000, "KWD")
    assert payment["application_ids"] == ids
    assert [line["amount_fils"] for line in payment["lines"]] == [50_000, 30_000, 50_000]
    assert world.gateway.store.get(payment["payment_url"].rsplit("/", 1)[-1]).amount_fils == 130_000

    approve(world, payment)

    assert payments.get_payment(world.deps, ACCOUNT, payment["payment_id"])["status"] == "captured"
    assert policies(world) == {civil_id: ("active", "2026-03-01", "2027-03-01") for civil_id, _, _ in FAMILY}
    assert {world.store.application(i).status for i in ids} == {ApplicationStatus.PAID}
    numbers = {p["policy_number"] for p in payments.list_policies(world.deps, ACCOUNT)}
    assert len(numbers) == 3 and None not in numbers
    # One receipt for the family: the total and every person's share.
    [email] = [m for m in world.sent if m.channel == "email"]
    assert "130.000 KWD" in email.text and "Mona Ali" in email.text and "30.000 KWD" in email.text
    [sms] = [m for m in world.sent if m.channel == "sms"]
    assert sms.text.startswith("Paid 130.000 KWD for the health insurance of Ahmed Ali, Mona Ali, Omar Ali.")


def test_the_same_key_answers_the_same_basket_and_another_basket_with_it_is_refused(world):
    ids = family(world)
    first, _ = start(world, ids)
    again, created = start(world, ids)
    assert (created, again["payment_id"]) == (False, first["payment_id"])
    assert len(world.store.payments) == 1
    with pytest.raises(AppError) as reused:
        start(world, ids[:2])
    assert reused.value.code == "IDEMPOTENCY_KEY_REUSED"


def test_a_declined_basket_leaves_every_application_payable_and_nobody_locked(world):
    ids = family(world)
    payment, _ = start(world, ids)
    callback = person_chooses(world, payment, "declined")
    payments.handle_callback(world.deps, callback.body, callback.headers)

    assert {world.store.application(i).status for i in ids} == {ApplicationStatus.CONFIRMED}
    assert {world.store.policy(c).lock_ref for c, _, _ in FAMILY} == {None}
    again, created = start(world, ids, key="basket-2")
    assert created and again["payment_id"] != payment["payment_id"]


def test_a_refund_of_one_share_leaves_the_other_two_in_force(world):
    ids = family(world)
    payment, _ = start(world, ids)
    approve(world, payment)

    view, status = refunds.request_refund(world.deps, ACCOUNT, payment["payment_id"],
                                          {"reason": "Mona left Kuwait", "application_id": ids[1]})

    assert (status, view["status"], view["refunded_fils"], view["refund_status"]) == (
        200, PaymentStatus.CAPTURED, 30_000, "refunded")
    assert [line["refund_status"] for line in view["lines"]] == [None, "refunded", None]
    assert policies(world) == {INSURED: ("active", "2026-03-01", "2027-03-01"),
                               SECOND_INSURED: ("cancelled", None, None),
                               THIRD_INSURED: ("active", "2026-03-01", "2027-03-01")}
    assert world.gateway.store.get(payment["payment_url"].rsplit("/", 1)[-1]).refunded_fils == 30_000
    refund_sms = [m for m in world.sent if m.channel == "sms" and m.template == "premium_refund"]
    assert refund_sms[-1].text.startswith("Refunded 30.000 KWD of payment")

    with pytest.raises(AppError) as twice:
        refunds.request_refund(world.deps, ACCOUNT, payment["payment_id"],
                               {"reason": "again", "application_id": ids[1]})
    assert twice.value.code == "ALREADY_REFUNDED"

    rest, status = refunds.request_refund(world.deps, ACCOUNT, payment["payment_id"], {"reason": "all of us left"})
    assert (status, rest["status"], rest["refunded_fils"]) == (200, PaymentStatus.REFUNDED, 130_000)
    assert {s for s, _, _ in policies(world).values()} == {"cancelled"}


def test_a_whole_basket_is_refunded_in_one_go(world):
    payment, _ = start(world, family(world))
    approve(world, payment)
    view, status = refunds.request_refund(world.deps, ACCOUNT, payment["payment_id"], {"reason": "plans changed"})
    assert (status, view["status"], view["refunded_fils"]) == (200, PaymentStatus.REFUNDED, 130_000)
    assert world.gateway.store.get(payment["payment_url"].rsplit("/", 1)[-1]).refunded_fils == 130_000


@pytest.mark.parametrize(("body", "rule"), [
    ({"application_ids": []}, "list"),
    ({"application_ids": [f"app{n}" for n in range(11)]}, "list"),
    ({"application_ids": "app1"}, "list"),
    ({"application_ids": ["app1", "app1"]}, "unique"),
])
def test_a_basket_needs_one_to_ten_distinct_applications(world, body, rule):
    with pytest.raises(AppError) as refused:
        start(world, [], body=body)
    assert refused.value.fields["application_ids"].rule == rule


def test_a_basket_takes_only_this_accounts_confirmed_applications_one_per_person(world):
    mine = confirmed(world, INSURED, "Ahmed Ali", "private_sector_employee")
    theirs = confirmed(world, SECOND_INSURED, "Mona Ali", "joining_wife", account="someone-else")
    with pytest.raises(NotFound):
        start(world, [mine, theirs])
    unconfirmed = applications.create_application(world.deps, ACCOUNT, application_body(
        insured_civil_id=THIRD_INSURED, insured_name="Omar Ali"))["application_id"]
    with pytest.raises(AppError) as not_confirmed:
        start(world, [mine, unconfirmed], key="basket-2")
    assert not_confirmed.value.code == "CONFIRMATION_REQUIRED"
    twin = confirmed(world, INSURED, "Ahmed Ali", "private_sector_employee")
    with pytest.raises(AppError) as same:
        start(world, [mine, twin], key="basket-3")
    assert same.value.fields["application_ids"].rule == "same_insured"
    assert world.store.payments == {}


def test_a_basket_can_renew_one_policy_from_its_end_beside_new_ones(world):
    first, _ = start(world, [confirmed(world, INSURED, "Ahmed Ali", "private_sector_employee")], key="k0")
    approve(world, first)
    renewal = confirmed(world, INSURED, "Ahmed Ali", "private_sector_employee", kind="renewal")
    other = confirmed(world, SECOND_INSURED, "Mona Ali", "joining_wife")
    payment, _ = start(world, [renewal, other])
    approve(world, payment)
    assert policies(world) == {INSURED: ("active", "2026-03-01", "2028-03-01"),
                               SECOND_INSURED: ("active", "2026-03-01", "2027-03-01")}


def test_a_basket_whose_callback_never_came_is_captured_by_reconciliation(world):
    from datetime import timedelta

    payment, _ = start(world, family(world))
    assert person_chooses(world, payment, "timeout") is None  # the money moved, nobody told us
    world.clock.shift(timedelta(minutes=16))

    outcomes = payments.reconcile_due(world.deps)

    assert outcomes == {"captured": 1}
    assert {status for status, _, _ in policies(world).values()} == {"active"} and len(policies(world)) == 3


def test_a_share_refunded_at_the_gateway_whose_record_failed_is_written_by_reconciliation(world, monkeypatch):
    ids = family(world)
    payment, _ = start(world, ids)
    approve(world, payment)
    real = world.store.complete_basket_refund
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("throttled")
        return real(*args, **kwargs)

    monkeypatch.setattr(world.store, "complete_basket_refund", flaky)

    view, status = refunds.request_refund(world.deps, ACCOUNT, payment["payment_id"],
                                          {"reason": "left", "application_id": ids[2]})
    assert (status, view["refund_status"], view["refunded_fils"]) == (202, "requested", 0)

    assert refunds.complete_confirmed_refunds(world.deps) == {"refund_completed": 1}
    done = payments.get_payment(world.deps, ACCOUNT, payment["payment_id"])
    assert (done["status"], done["refunded_fils"]) == ("captured", 50_000)
    assert policies(world)[THIRD_INSURED][0] == "cancelled" and policies(world)[INSURED][0] == "active"
    assert world.gateway.store.get(payment["payment_url"].rsplit("/", 1)[-1]).refunded_fils == 50_000
