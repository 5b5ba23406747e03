"""Helpers for the premium and payment tests: a signed-in payer without argon2, applications, the sandbox page.

The payer's account is stored directly and given an access token, which is all the
authorizer checks: registration and login have their own tests, and hashing a password
for every payment test would cost most of the suite's time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import pytest

from chalicelib.kernel.civil_id import compose_civil_id
from tests.support import Answer, Api


def civil_id_born(born: date, start: int = 0) -> str:
    for n in range(start, 10000):
        try:
            return compose_civil_id(born, f"{n:04d}")
        except ValueError:
            continue
    raise AssertionError("no serial")


INSURED = civil_id_born(date(1990, 5, 17))
SPONSOR = civil_id_born(date(1970, 1, 2))
SECOND_INSURED = civil_id_born(date(1988, 8, 8), 100)


def application_body(**overrides) -> dict:
    body = {
        "insured_civil_id": INSURED, "insured_name": "Ahmed Ali", "category": "private_sector_employee",
        "sponsor_name": "Gulf Trading Co", "sponsor_civil_id": SPONSOR, "kind": "new",
        "passport_expiry": "2031-01-01", "years": 1,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


@dataclass
class Payer:
    """A signed-in account that pays premiums, driving the API as the mobile app does."""

    api: Api
    account_id: str
    email: str
    phone: str
    language: str | None = "en"

    @property
    def token(self) -> str:
        # A fresh access token each call: tests move the clock by days, past a token's 15 minutes.
        from chalicelib.accounts.jwt_tokens import issue_access_token
        from chalicelib.platform.clock import now

        return issue_access_token(self.account_id, f"session-{self.account_id}", now(), self.language)

    def call(self, method: str, path: str, body: dict | None = None, headers: dict | None = None,
             lang: str | None = None) -> Answer:
        all_headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}", **(headers or {})}
        if lang:
            all_headers["Accept-Language"] = lang
        raw = json.dumps(body) if body is not None else None
        response = getattr(self.api.client.http, method.lower())(path, headers=all_headers, body=raw)
        text = response.body.decode() if response.body else ""
        try:
            parsed = json.loads(text) if text else {}
        except ValueError:
            parsed = {"raw": text}
        return Answer(response.status_code, parsed, dict(response.headers))

    def apply(self, **overrides) -> Answer:
        return self.call("POST", "/v1/applications", application_body(**overrides))

    def confirm(self, application_id: str, **body) -> Answer:
        return self.call("POST", f"/v1/applications/{application_id}/confirm", {"accept": True, **body})

    def pay(self, application_id: str, key: str | None = "key-1", body: dict | None = None) -> Answer:
        headers = {"Idempotency-Key": key} if key is not None else {}
        return self.call("POST", f"/v1/applications/{application_id}/pay", body or {}, headers=headers)

    def confirmed_application(self, **overrides) -> str:
        applied = self.apply(**overrides)
        assert applied.status == 201, applied.body
        confirmed = self.confirm(applied.body["application_id"])
        assert confirmed.status == 200, confirmed.body
        return applied.body["application_id"]

    def started_payment(self, key: str = "key-1", **overrides) -> dict:
        paid = self.pay(self.confirmed_application(**overrides), key)
        assert paid.status == 201, paid.body
        return paid.body

    def refund(self, payment_id: str, reason: str | None = "Visa cancelled") -> Answer:
        return self.call("POST", f"/v1/payments/{payment_id}/refund", {"reason": reason} if reason else {})


def make_payer(api: Api, *, account_id: str = "acct-payer", email: str = "sara@example.com",
               phone: str = "+96551234567", language: str | None = "en") -> Payer:
    from chalicelib.accounts.wiring import auth_deps
    from chalicelib.platform.clock import now

    deps = auth_deps()
    record = deps.store.new_account(account_id=account_id, status="active", source="self", civil_id=None,
                                    email=email, phone=phone, name="Sara Ahmed", language=language,
                                    password_history=[], created_at=now(), updated_at=now())
    deps.store.create_account(record, {"email": email})
    return Payer(api, account_id, email, phone, language)


def gateway():
    from chalicelib.premiums.wiring import premium_deps

    return premium_deps().gateway


def choose_on_page(api: Api, payment: dict, result: str) -> Answer | None:
    """What a person does on the sandbox page; the sandbox then posts its signed callback to the app."""
    outcome = gateway().complete(payment_ref(payment), {"result": result})
    if outcome.callback is None:
        return None  # a timeout: no callback comes
    return post_callback(api, outcome.callback.body, dict(outcome.callback.headers))


def payment_ref(payment: dict) -> str:
    return payment["payment_url"].rsplit("/", 1)[-1]


def post_callback(api: Api, body: bytes, headers: dict) -> Answer:
    response = api.client.http.post("/v1/payments/callback", headers=headers, body=body)
    text = response.body.decode() if response.body else ""
    try:
        parsed = json.loads(text) if text else {}
    except ValueError:
        parsed = {"raw": text}
    return Answer(response.status_code, parsed, dict(response.headers))


def policy_stream(civil_id: str = INSURED) -> str:
    """The ledger stream of a person's policy: named by the internal policy id, which no response shows."""
    from chalicelib.premiums.models import ResidencePolicyRecord

    return f"policy#{ResidencePolicyRecord.get(civil_id).policy_id}"


def ledger(stream: str) -> list:
    from chalicelib.premiums.wiring import premium_deps

    return premium_deps().store.ledger(stream)


@pytest.fixture
def payer(api, clock) -> Payer:
    return make_payer(api)
