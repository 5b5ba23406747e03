"""Categories and quotes: the seed's yearly amounts in fils, effective-dated tariffs, no database at all."""

from __future__ import annotations

import json

import pytest

from devstack.counting import count_aws_calls

SEED_AMOUNTS = {
    "commercial_residence": 50_000, "government_employee": 50_000, "private_sector_employee": 50_000,
    "study": 50_000, "joining_sibling": 50_000, "joining_parent": 50_000, "joining_child": 50_000,
    "joining_wife": 30_000,
    "domestic_worker": 5_000, "widow_or_divorcee_of_kuwaiti": 5_000, "wife_of_kuwaiti": 5_000,
    "joining_gcc_or_kuwaiti_sponsor": 5_000, "self_sponsored": 5_000, "stateless": 5_000,
}


def test_the_categories_list_every_seed_category_with_both_labels_and_its_yearly_fils(api, clock):
    with count_aws_calls() as calls:
        answer = api.get("/v1/premiums/categories")

    assert answer.status == 200
    assert calls.of("dynamodb") == 0
    listed = {c["code"]: c for c in answer.body["categories"]}
    assert {code: c["yearly_fils"] for code, c in listed.items()} == SEED_AMOUNTS
    for category in listed.values():
        assert category["currency"] == "KWD" and isinstance(category["yearly_fils"], int)
        assert category["label"]["en"] and category["label"]["ar"]
    assert answer.body["max_years"] == 3
    assert any(case["category"] == "joining_child" for case in answer.body["not_offered_online"])


@pytest.mark.parametrize(("category", "yearly"), sorted(SEED_AMOUNTS.items()))
def test_a_quote_is_the_yearly_amount_times_the_years_in_integer_fils(api, clock, category, yearly):
    with count_aws_calls() as calls:
        answer = api.get(f"/v1/premiums/quote?category={category}&years=3")

    assert answer.status == 200, answer.body
    assert calls.of("dynamodb") == 0
    assert answer.body["amount_fils"] == yearly * 3
    assert answer.body["yearly_fils"] == yearly
    assert answer.body["currency"] == "KWD"
    assert answer.body["period"] == {"start_date": "2026-03-01", "end_date": "2029-03-01", "last_day": "2029-02-28"}


def test_a_quote_names_each_field_it_refuses_in_the_callers_language(api, clock):
    answer = api.get("/v1/premiums/quote?category=astronaut&years=9", lang="ar")

    assert answer.status == 422
    assert answer.body["error"]["code"] == "VALIDATION_FAILED"
    assert answer.body["error"]["fields"]["category"]["rule"] == "unknown"
    assert answer.body["error"]["fields"]["years"]["rule"] == "range"
    assert "اختر" in answer.body["error"]["fields"]["years"]["message"]

    missing = api.get("/v1/premiums/quote")
    assert set(missing.body["error"]["fields"]) == {"category", "years"}
    assert missing.body["error"]["fields"]["category"]["rule"] == "required"

    bad_date = api.get("/v1/premiums/quote?category=study&years=1&start_date=tomorrow")
    assert bad_date.body["error"]["fields"]["start_date"]["rule"] == "date"


def test_before_the_first_tariff_nothing_is_quoted(api, clock):
    answer = api.get("/v1/premiums/quote?category=study&years=1&start_date=2019-12-31")

    assert answer.status == 422
    assert answer.body["error"]["fields"]["start_date"]["rule"] == "no_tariff"


def test_a_later_tariff_is_data_it_prices_later_start_dates_and_leaves_stored_applications_alone(
        api, clock, tmp_path, monkeypatch):
    from tests.api.premium_support import make_payer

    payer = make_payer(api)
    before = payer.apply(category="study", years=1)
    assert before.status == 201 and before.body["review"]["amount_fils"] == 50_000

    later = tmp_path / "tariffs.json"
    later.write_text(json.dumps([{"effective_from": "2026-06-01", "amounts": {
        **SEED_AMOUNTS, "study": 100_000, "domestic_worker": 10_000}}]))
    monkeypatch.setenv("TARIFFS_FILE", str(later))
    from chalicelib.settings import reset_settings
    from chalicelib.wiring import reset_wiring

    reset_settings()
    reset_wiring()

    assert api.get("/v1/premiums/quote?category=study&years=1&start_date=2026-05-31").body["amount_fils"] == 50_000
    raised = api.get("/v1/premiums/quote?category=study&years=2&start_date=2026-06-01")
    assert raised.body["amount_fils"] == 200_000
    assert raised.body["tariff_effective_from"] == "2026-06-01"
    on_day = api.get("/v1/premiums/categories?on=2026-06-01").body["categories"]
    assert {c["code"]: c["yearly_fils"] for c in on_day}["domestic_worker"] == 10_000
    # The application made before keeps the amount it was reviewed with.
    stored = payer.call("GET", f"/v1/applications/{before.body['application_id']}")
    assert stored.body["review"]["amount_fils"] == 50_000
    assert stored.body["review"]["tariff_effective_from"] == "2020-01-01"
