"""A family basket over HTTP: three applications paid once, three policies, one share refunded, the rest in force."""

from __future__ import annotations

from datetime import date, timedelta

from tests.api import premium_support
from tests.api.premium_support import (
    INSURED,
    SECOND_INSURED,
    choose_on_page,
    civil_id_born,
    gateway,
    ledger,
    make_payer,
    payment_ref,
)

payer = premium_support.payer
THIRD_INSURED = civil_id_born(date(1985, 2, 2), 200)


def family(payer) -> list[str]:
    return [payer.confirmed_application(insured_civil_id=INSURED, insured_name="Ahmed Ali"),
            payer.confirmed_application(insured_civil_id=SECOND_INSURED, insured_name="Mona Ali",
                                        category="joining_wife"),
            payer.confirmed_application(insured_civil_id=THIRD_INSURED, insured_name="Omar Ali",
                                        category="domestic_worker")]


def basket(payer, ids: list[str], key: str = "family-1"):
    return payer.call("POST", "/v1/payments", {"application_ids": ids}, headers={"Idempotency-Key": key})


def test_a_basket_of_three_pays_once_makes_three_policies_and_a_refunded_share_leaves_two(api, payer, outbox):
    ids = family(payer)

    started = basket(payer, ids)
    assert started.status == 201, started.body
    payment = started.body
    assert (payment["amount_fils"], payment["currency"], payment["status"]) == (50_000 + 30_000 + 5_000, "KWD",
                                                                                "pending")
    assert payment["application_ids"] == ids and [s["amount_fils"] for s in payment["lines"]] == [50_000, 30_000,
                                                                                                    5_000]
    assert "85.000" in gateway().page(payment_ref(payment))
    replay = basket(payer, ids)
    assert (replay.status, replay.headers.get("Idempotent-Replayed"), replay.body["payment_id"]) == (
        200, "true", payment["payment_id"])

    assert choose_on_page(api, payment, "approved").status == 200

    policies = payer.call("GET", "/v1/policies").body["policies"]
    assert sorted((p["insured"]["civil_id"], p["status"], p["start_date"], p["end_date"]) for p in policies) == sorted(
        (c, "active", "2026-03-01", "2027-03-01") for c in (INSURED, SECOND_INSURED, THIRD_INSURED))
    assert [p["status"] for p in payer.call("GET", "/v1/payments").body["payments"]] == ["captured"]
    receipt = outbox.last(to=payer.email, template="premium_receipt")
    assert "85.000 KWD" in receipt["text"] and "85.000 د.ك" in receipt["text"] and "Omar Ali" in receipt["text"]

    refund = payer.call("POST", f"/v1/payments/{payment['payment_id']}/refund",
                        {"reason": "Mona left Kuwait", "application_id": ids[1]})

    assert refund.status == 200, refund.body
    assert (refund.body["status"], refund.body["refunded_fils"]) == ("captured", 30_000)
    assert [s["refund_status"] for s in refund.body["lines"]] == [None, "refunded", None]
    after = {p["insured"]["civil_id"]: p["status"] for p in payer.call("GET", "/v1/policies").body["policies"]}
    assert after == {INSURED: "active", SECOND_INSURED: "cancelled", THIRD_INSURED: "active"}
    cards = {c["member_id"]: c["status"] for c in payer.call("GET", "/v1/cards").body["cards"]}
    assert cards[f"R-{INSURED}"] == "active" and cards.get(f"R-{SECOND_INSURED}") != "active"
    sms = outbox.last(to=payer.phone, template="premium_refund")
    assert sms["text"].startswith(f"Refunded 30.000 KWD of payment {payment['payment_id']}")


def test_a_basket_without_an_idempotency_key_or_with_a_foreign_application_is_refused(api, payer):
    ids = family(payer)
    no_key = payer.call("POST", "/v1/payments", {"application_ids": ids})
    assert (no_key.status, no_key.body["error"]["code"]) == (422, "IDEMPOTENCY_KEY_REQUIRED")
    too_many = basket(payer, [*ids] * 4)
    assert too_many.status == 422 and "application_ids" in too_many.body["error"]["fields"]
    stranger = make_payer(api, account_id="acct-stranger", email="x@example.com", phone="+96555555555")
    theirs = stranger.confirmed_application(insured_civil_id=civil_id_born(date(1979, 4, 4), 300),
                                            insured_name="Khalid Saleh")
    foreign = basket(payer, [*ids[:2], theirs])
    missing = basket(payer, [*ids[:2], "app" + "0" * 24], key="family-2")
    # Another account's application is answered exactly as one that does not exist: nothing tells them apart.
    assert (foreign.status, foreign.body["error"]["code"]) == (404, "NOT_FOUND")
    assert (foreign.status, foreign.body) == (missing.status, missing.body)
    assert stranger.call("GET", f"/v1/applications/{theirs}").body["status"] == "confirmed"  # untouched


def test_paying_one_application_alone_still_works_beside_baskets(api, payer):
    single = payer.started_payment()
    assert single["application_ids"] is None and single["lines"] is None
    assert single["amount_fils"] == 50_000


def test_the_ledger_records_each_share_refund_for_the_share_and_the_last_share_refunds_the_payment(
        api, payer, clock, monkeypatch):
    from chalicelib.premiums import refunds
    from chalicelib.premiums.gateway import GatewayRefundStatus, RefundResult
    from chalicelib.premiums.store import PremiumStore
    from chalicelib.premiums.wiring import premium_deps

    ids = family(payer)
    payment = basket(payer, ids).body
    assert choose_on_page(api, payment, "approved").status == 200
    pid = payment["payment_id"]

    def refund(body: dict):
        clock.shift(timedelta(minutes=1))  # one event time each: the stream reads in time order
        return payer.call("POST", f"/v1/payments/{pid}/refund", {"reason": "left Kuwait", **body})

    real_refund = gateway().refund
    monkeypatch.setattr(gateway(), "refund", lambda p, ref, amount: RefundResult(
        GatewayRefundStatus.FAILED, ref, amount, error_code="IPAY0100159"))
    assert refund({"application_id": ids[1]}).status == 502  # the gateway refused Mona's share
    monkeypatch.setattr(gateway(), "refund", real_refund)
    assert refund({"application_id": ids[1]}).status == 200  # Mona's 30.000 went back

    real_write = PremiumStore.complete_basket_refund
    monkeypatch.setattr(PremiumStore, "complete_basket_refund", lambda *a, **k: (_ for _ in ()).throw(
        RuntimeError("DynamoDB unavailable")))
    assert refund({}).status == 202  # the other two shares went back; their record failed
    monkeypatch.setattr(PremiumStore, "complete_basket_refund", real_write)
    clock.shift(timedelta(minutes=1))
    assert refunds.complete_confirmed_refunds(premium_deps()) == {"refund_completed": 1}

    money = [(e.kind, int(e.amount_fils), e.to_status) for e in ledger(f"payment#{pid}")
             if e.kind.startswith("refund")]
    assert money == [
        ("refund_requested", 30_000, "requested"), ("refund_failed", 30_000, "failed"),
        ("refund_requested", 30_000, "requested"), ("refunded", 30_000, "captured"),
        ("refund_requested", 55_000, "requested"), ("refund_gateway_confirmed", 55_000, None),
        ("refunded", 55_000, "refunded")]
    final = payer.call("GET", f"/v1/payments/{pid}").body
    assert (final["status"], final["refunded_fils"]) == ("refunded", 85_000)
    assert sum(amount for kind, amount, _ in money if kind == "refunded") == final["refunded_fils"]


def test_a_share_refund_written_before_something_failed_answers_200_without_a_not_recorded_alert(
        api, payer, clock, monkeypatch, capsys):
    from chalicelib.premiums.store import PremiumStore
    from chalicelib.premiums.wiring import premium_deps

    ids = family(payer)
    payment = basket(payer, ids).body
    assert choose_on_page(api, payment, "approved").status == 200
    pid = payment["payment_id"]
    real_write = PremiumStore.complete_basket_refund

    def written_but_answer_lost(self, *args, **kwargs):
        real_write(self, *args, **kwargs)
        raise ConnectionResetError("the write's answer never came")

    monkeypatch.setattr(PremiumStore, "complete_basket_refund", written_but_answer_lost)
    capsys.readouterr()
    lost = payer.call("POST", f"/v1/payments/{pid}/refund", {"reason": "left", "application_id": ids[1]})

    assert lost.status == 200, lost.body
    assert (lost.body["status"], lost.body["refunded_fils"], lost.body["refund_status"]) == (
        "captured", 30_000, "refunded")
    monkeypatch.setattr(PremiumStore, "complete_basket_refund", real_write)

    def contact_unreadable(account_id):
        raise RuntimeError("accounts table throttled")

    monkeypatch.setattr(premium_deps(), "contact", contact_unreadable)
    clock.shift(timedelta(minutes=1))
    receipt_failed = payer.call("POST", f"/v1/payments/{pid}/refund", {"reason": "left", "application_id": ids[2]})

    assert receipt_failed.status == 200, receipt_failed.body
    assert [line["refund_status"] for line in receipt_failed.body["lines"]] == [None, "refunded", "refunded"]
    out = capsys.readouterr().out
    assert '"refund_not_recorded"' not in out and '"receipt_not_sent"' in out
    assert "refund_gateway_confirmed" not in [e.kind for e in ledger(f"payment#{pid}")]
    assert payer.call("GET", f"/v1/payments/{pid}").body["refunded_fils"] == 35_000


def test_an_application_id_no_one_was_given_is_refused_by_its_field_before_any_read(api, payer, monkeypatch):
    from tests.premiums.dynamo_limits import dynamodb_requests

    ids = family(payer)
    long_id = "app" + "7" * 3_000
    requests = dynamodb_requests(monkeypatch)

    for odd in (long_id, "app/../x", "x" * 65):
        answer = basket(payer, [ids[0], odd], key=f"family-{len(odd)}")
        assert answer.status == 422, answer.body
        assert answer.body["error"]["fields"]["application_ids"]["rule"] == "id"
    assert not [op for op, params in requests if long_id[:100] in params or "app/../x" in params]
    assert basket(payer, ids).status == 201  # the same payer's real ids still make a basket


def test_a_basket_whose_person_another_payment_now_covers_is_outdated_not_busy(api, payer):
    ids = family(payer)
    stranger = make_payer(api, account_id="acct-stranger", email="x@example.com", phone="+96555555555")
    theirs = stranger.started_payment(key="mona", insured_civil_id=SECOND_INSURED, insured_name="Mona Ali",
                                      category="joining_wife")

    busy = basket(payer, ids)  # Mona's cover is being paid by someone else right now: worth a retry
    assert (busy.status, busy.body["error"]["code"]) == (409, "COVERAGE_CHANGE_IN_PROGRESS")
    assert choose_on_page(api, theirs, "approved").status == 200
    outdated = basket(payer, ids, key="family-2")  # now she is covered: a retry can never succeed

    assert (outdated.status, outdated.body["error"]["code"]) == (409, "APPLICATION_OUTDATED")
    assert {payer.call("GET", f"/v1/applications/{i}").body["status"] for i in ids} == {"confirmed"}
    assert payer.call("GET", "/v1/payments").body["payments"] == []
