"""Idempotency-Key: required, the same key gives the same payment, another request with it is 422,
and twenty concurrent requests (threads, against a moto server) make exactly one payment."""

from __future__ import annotations

from tests.api import premium_support
from tests.api.premium_support import application_body, gateway, ledger
from tests.fixtures_moto_server import race

payer = premium_support.payer


def test_paying_without_an_idempotency_key_is_refused_naming_the_header(payer):
    application_id = payer.confirmed_application()

    for key in (None, "", "   ", "x" * 256, "clé"):
        answer = payer.pay(application_id, key)
        assert answer.status == 422, (key, answer.body)
        assert "Idempotency-Key" in answer.body["error"]["fields"]
    assert payer.call("GET", "/v1/payments").body["payments"] == []


def test_the_same_key_and_application_return_the_same_payment(payer):
    application_id = payer.confirmed_application()

    first = payer.pay(application_id, "k-1")
    again = payer.pay(application_id, "k-1")

    assert first.status == 201 and again.status == 200
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.body == first.body
    assert len(payer.call("GET", "/v1/payments").body["payments"]) == 1
    assert len(gateway().store.sessions) == 1


def test_the_same_key_with_anything_else_is_a_422(payer):
    first_application = payer.confirmed_application()
    payer.pay(first_application, "k-1")
    other_application = payer.confirmed_application(insured_civil_id=premium_support.SECOND_INSURED)

    other_target = payer.pay(other_application, "k-1")
    other_body = payer.pay(first_application, "k-1", body={"note": "something else"})

    for answer in (other_target, other_body):
        assert answer.status == 422
        assert answer.body["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert len(payer.call("GET", "/v1/payments").body["payments"]) == 1


def test_keys_are_per_account(payer, api):
    from tests.api.premium_support import make_payer

    mine = payer.pay(payer.confirmed_application(), "shared-key")
    other = make_payer(api, account_id="acct-other", email="o@example.com", phone="+96550000001")
    theirs = other.pay(other.confirmed_application(insured_civil_id=premium_support.SECOND_INSURED), "shared-key")

    assert mine.status == theirs.status == 201
    assert mine.body["payment_id"] != theirs.body["payment_id"]


def test_a_gateway_that_cannot_open_a_session_charges_nothing_and_frees_the_key(payer, monkeypatch):
    from chalicelib.premiums.gateway import GatewayError

    application_id = payer.confirmed_application()
    real = gateway().create_session

    def unreachable(*args, **kwargs):
        raise GatewayError("connection refused")

    monkeypatch.setattr(gateway(), "create_session", unreachable)
    failed = payer.pay(application_id, "k-1")
    monkeypatch.setattr(gateway(), "create_session", real)
    retried = payer.pay(application_id, "k-1")

    assert failed.status == 502 and failed.body["error"]["code"] == "GATEWAY_UNAVAILABLE"
    assert retried.status == 201 and retried.body["status"] == "pending"
    statuses = sorted(p["status"] for p in payer.call("GET", "/v1/payments").body["payments"])
    assert statuses == ["expired", "pending"]


# --- concurrency against a moto server (tests/fixtures_moto_server.py: linearizable for DynamoDB) ---


def _confirmed_application(deps, account_id: str) -> str:
    from chalicelib.premiums import applications as premiums

    created = premiums.create_application(deps, account_id, application_body())
    premiums.confirm_application(deps, account_id, created["application_id"], {"accept": True})
    # Warm containers: clients made before the race, as twenty warm Lambdas would have them.
    deps.gateway, deps.store.idempotency("warm"), deps.store.payment("warm"), deps.store.policy("warm")
    return created["application_id"]


def test_twenty_concurrent_requests_with_one_key_make_exactly_one_payment(moto_server):
    from chalicelib.premiums import payments
    from chalicelib.premiums.wiring import premium_deps

    deps = premium_deps()
    application_id = _confirmed_application(deps, "acct-race")

    outcomes = race(20, lambda _: payments.start_payment(
        deps, account_id="acct-race", application_id=application_id, idempotency_key="one-key", body={}, lang="en"))

    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert errors == []
    assert len({view["payment_id"] for view, _ in outcomes}) == 1
    assert sum(created for _, created in outcomes) == 1
    assert all(view["payment_url"] for view, _ in outcomes)
    assert len(deps.store.payments_of("acct-race")) == 1
    assert len(deps.gateway.store.sessions) == 1
    payment_id = outcomes[0][0]["payment_id"]
    assert [e.kind for e in ledger(f"payment#{payment_id}")] == ["payment_started", "payment_session_opened"]


def test_twenty_concurrent_requests_with_twenty_keys_still_make_one_payment(moto_server):
    from chalicelib.premiums import payments
    from chalicelib.premiums.payment_rules import PaymentInProgress
    from chalicelib.premiums.wiring import premium_deps

    deps = premium_deps()
    application_id = _confirmed_application(deps, "acct-race")

    outcomes = race(20, lambda i: payments.start_payment(
        deps, account_id="acct-race", application_id=application_id, idempotency_key=f"key-{i}", body={},
        lang="en"))

    made = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(made) == 1 and made[0][1] is True
    assert all(isinstance(o, PaymentInProgress) for o in refused), refused
    assert len(deps.store.payments_of("acct-race")) == 1
