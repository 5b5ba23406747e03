"""Renewal races on the linearizable moto server: ten taps on "renew" at once open one renewal application."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tests.api.premium_support import SPONSOR, application_body, civil_id_born
from tests.fixtures_moto_server import race

ROUNDS = 10


def _paid_policy_number(deps: Any, account_id: str, insured: str) -> str:
    from chalicelib.premiums import applications, payments

    created = applications.create_application(deps, account_id, application_body(insured_civil_id=insured,
                                                                                  sponsor_civil_id=SPONSOR))
    applications.confirm_application(deps, account_id, created["application_id"], {"accept": True})
    view, _ = payments.start_payment(deps, account_id=account_id, application_id=created["application_id"],
                                     idempotency_key="pay", body={}, lang="en")
    callback = deps.gateway.complete(view["payment_url"].rsplit("/", 1)[-1], {"result": "approved"}).callback
    payments.handle_callback(deps, callback.body, dict(callback.headers))
    [policy] = payments.list_policies(deps, account_id)
    return str(policy["policy_number"])


def test_ten_concurrent_renewals_of_one_policy_open_one_application_in_every_round(moto_server):
    from chalicelib.premiums import renewals
    from chalicelib.premiums.wiring import premium_deps

    deps = premium_deps()
    _ = deps.gateway
    for round_no in range(ROUNDS):
        account_id = f"acct-renew-{round_no}"
        insured = civil_id_born(date(1975, 1, 1) + timedelta(days=97 * round_no))
        number = _paid_policy_number(deps, account_id, insured)

        outcomes = race(10, lambda _, account_id=account_id, number=number: renewals.renew_policy(
            deps, account_id, number, {}))

        assert [o for o in outcomes if isinstance(o, Exception)] == [], (round_no, outcomes)
        assert len({view["application_id"] for view, _ in outcomes}) == 1, round_no
        assert sum(created for _, created in outcomes) == 1, round_no
        policy = deps.store.policy(insured)
        assert policy.renewal_application_id == outcomes[0][0]["application_id"], round_no
