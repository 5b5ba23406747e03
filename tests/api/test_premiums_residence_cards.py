"""A paid residence premium as the resident and a provider see it: the names, the policy number, dates and status.

Everything goes through the API as the app does: apply, confirm, pay on the sandbox page, refund,
then list cards, download one (the drawn content is captured) and verify its QR.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from chalicelib.premiums.policy_numbers import is_policy_number
from tests.api import premium_support
from tests.api.cards_support import Holder, Renders, qr_of_png, stored
from tests.api.premium_support import SECOND_INSURED, choose_on_page

payer = premium_support.payer
NUMBER = re.compile(r"RH-26-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}")


def paid(api, payer, key: str = "first", **overrides) -> dict:
    payment = payer.started_payment(key=key, **overrides)
    choose_on_page(api, payment, "approved")
    return payment


def resident(api, payer) -> Holder:
    return Holder(api, payer.account_id)


def drawn(renders: Renders, holder: Holder, member_id: str):
    """The content of the card the app downloads, and the QR text read back off the stored PNG."""
    answer = holder.card(member_id, "png")
    assert answer.status == 200, answer.body
    content = renders.drawn[-1][1]
    return content, qr_of_png(stored(answer.body["url"])[0])


def verify(api, payload: str) -> dict:
    answer = api.post("/v1/verify", {"payload": payload})
    assert answer.status == 200, answer.body
    return answer.body


@pytest.fixture
def renders(monkeypatch) -> Renders:
    return Renders(monkeypatch)


# --- 1. the Arabic name -------------------------------------------------------------------------


def test_an_arabic_name_given_when_applying_prints_in_the_arabic_slot_of_the_residence_card(api, payer, renders):
    applied = payer.apply(insured_name_ar="  أحمد   علي ")
    assert applied.status == 201, applied.body
    assert applied.body["review"]["insured_name_ar"] == "أحمد علي"  # reviewed as it will print
    payer.confirm(applied.body["application_id"])
    payment = payer.pay(applied.body["application_id"]).body
    choose_on_page(api, payment, "approved")
    holder = resident(api, payer)

    [card] = holder.cards()
    content, qr = drawn(renders, holder, card["member_id"])

    assert card["name"] == {"en": "Ahmed Ali", "ar": "أحمد علي"}
    assert (content.name.en, content.name.ar) == ("Ahmed Ali", "أحمد علي")
    assert verify(api, qr)["card"]["name"] == {"en": "Ahmed Ali", "ar": "أحمد علي"}
    policy = payer.call("GET", "/v1/policies").body["policies"][0]
    assert policy["insured"]["name_ar"] == "أحمد علي"
    assert payer.call("GET", f"/v1/payments/{payment['payment_id']}").body["insured"]["name_ar"] == "أحمد علي"


def test_without_an_arabic_name_the_card_never_prints_the_latin_name_in_the_arabic_slot(api, payer, renders):
    paid(api, payer)
    holder = resident(api, payer)

    [card] = holder.cards()
    content, qr = drawn(renders, holder, card["member_id"])

    assert card["name"] == {"en": "Ahmed Ali", "ar": ""}
    assert (content.name.en, content.name.ar) == ("Ahmed Ali", "")
    answer = verify(api, qr)
    assert answer["card"]["name"] == {"en": "Ahmed Ali", "ar": ""}
    assert answer["matches_current_record"] is True and answer["status"] == "active"


def test_a_latin_arabic_name_is_refused_naming_the_field_in_both_languages(payer):
    english = payer.apply(insured_name_ar="Ahmed Ali")
    arabic = payer.call("POST", "/v1/applications", premium_support.application_body(insured_name_ar="Ahmed Ali"),
                        lang="ar")

    assert english.status == 422 and arabic.status == 422
    problem = english.body["error"]["fields"]["insured_name_ar"]
    assert problem["rule"] == "arabic_script" and "Arabic" in problem["message"] and "“A”" in problem["message"]
    assert "بالعربية" in arabic.body["error"]["fields"]["insured_name_ar"]["message"]


# --- 2. the policy number -----------------------------------------------------------------------


def test_a_paid_policy_has_a_number_to_read_over_the_phone_on_the_card_and_in_the_api_never_its_internal_id(
        api, payer, renders):
    from chalicelib.premiums.models import ResidencePolicyRecord

    payment = paid(api, payer)
    holder = resident(api, payer)

    policy = payer.call("GET", "/v1/policies").body["policies"][0]
    [card] = holder.cards()
    content, _ = drawn(renders, holder, card["member_id"])

    number = policy["policy_number"]
    assert NUMBER.fullmatch(number) and is_policy_number(number)
    assert card["policy_number"] == number and content.cover.policy_number == number
    internal = ResidencePolicyRecord.get(payment["insured"]["civil_id"]).policy_id
    seen = json.dumps([policy, card, payer.call("GET", "/v1/payments").body], ensure_ascii=False)
    assert "policy_id" not in seen and internal not in seen


def test_a_renewal_keeps_the_policy_number(api, payer, clock):
    paid(api, payer)
    number = payer.call("GET", "/v1/policies").body["policies"][0]["policy_number"]
    clock.shift(timedelta(days=320))
    renewal = payer.confirmed_application(kind="renewal")
    choose_on_page(api, payer.pay(renewal, "second").body, "approved")

    policy = payer.call("GET", "/v1/policies").body["policies"][0]
    assert policy["policy_number"] == number and len(policy["periods"]) == 2


def test_two_policies_that_draw_the_same_number_never_share_it(api, payer):
    from chalicelib.premiums.models import POLICY_NUMBER_KEY, PolicyNumberClaim
    from chalicelib.premiums.wiring import premium_deps

    # The random draw repeats itself once: the store's claim must catch it, not luck.
    draws = iter(["RH-26-4K7M-9P2Q", "RH-26-4K7M-9P2Q", "RH-26-HX3N-5VW7"])
    deps = premium_deps()
    original = deps.new_policy_number
    deps.new_policy_number = lambda day: next(draws)
    try:
        paid(api, payer)
        paid(api, payer, key="second", insured_civil_id=SECOND_INSURED)
    finally:
        deps.new_policy_number = original

    numbers = sorted(p["policy_number"] for p in payer.call("GET", "/v1/policies").body["policies"])
    assert numbers == ["RH-26-4K7M-9P2Q", "RH-26-HX3N-5VW7"]
    assert PolicyNumberClaim.get(f"{POLICY_NUMBER_KEY}RH-26-4K7M-9P2Q").holder_civil_id == premium_support.INSURED
    assert PolicyNumberClaim.get(f"{POLICY_NUMBER_KEY}RH-26-HX3N-5VW7").holder_civil_id == SECOND_INSURED


# --- 3. a refunded (cancelled) policy -------------------------------------------------------------


def test_a_refunded_residence_card_lists_its_real_dates_and_says_cancelled(api, payer, clock, outbox, renders):
    payment = paid(api, payer)
    assert outbox.messages(template="premium_receipt")  # delivered before the clock moves
    holder = resident(api, payer)
    member_id = holder.cards()[0]["member_id"]
    _, screenshot = drawn(renders, holder, member_id)  # the card kept on the phone
    clock.shift(timedelta(days=3))

    assert payer.refund(payment["payment_id"]).status == 200
    [card] = holder.cards()

    assert (card["valid_from"], card["valid_to"]) == ("2026-03-01", "2027-02-28")
    assert card["status"] == "cancelled" and card["card_available"] is False and card["formats"] == []
    assert card["policy_number"] == payer.call("GET", "/v1/policies").body["policies"][0]["policy_number"]
    refused = holder.card(member_id, "png")
    assert refused.status == 410 and refused.body["error"]["code"] == "COVERAGE_TERMINATED"
    answer = verify(api, screenshot)
    assert answer["status"] == "cancelled"
    assert (answer["card"]["valid_from"], answer["card"]["valid_to"]) == ("2026-03-01", "2027-02-28")


# --- 4. the plan in both languages at /v1/verify -----------------------------------------------------


def test_verify_names_a_residence_cards_plan_in_arabic_and_english(api, payer, renders):
    paid(api, payer)
    holder = resident(api, payer)
    _, qr = drawn(renders, holder, holder.cards()[0]["member_id"])

    assert verify(api, qr)["card"]["plan"] == {"en": "Residence", "ar": "إقامة"}
