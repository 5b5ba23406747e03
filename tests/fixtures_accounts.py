"""Account fixtures shared by every test folder (loaded as a plugin by tests/conftest.py)."""

from __future__ import annotations

from datetime import date

import pytest

from chalicelib.kernel.civil_id import compose_civil_id
from tests.support import NEW_PASSWORD, Api


@pytest.fixture
def api(client):
    return Api(client)


@pytest.fixture
def civil_id():
    return compose_civil_id(date(1990, 5, 17), "1234")


@pytest.fixture
def registration_body(civil_id):
    return {"civil_id": civil_id, "name": "Sara Ahmed", "phone": "5123 4567", "email": "Sara@Example.com",
            "gender": "female", "language": "ar", "city": "Hawalli"}


@pytest.fixture
def invite(aws, outbox):
    """Enrol someone as HR does: an invited account, and the welcome link the sender emailed."""
    from chalicelib.accounts.passwords import invite as invite_account
    from chalicelib.accounts.wiring import auth_deps

    def make(email: str = "omar.k@acme.example", name: str = "Omar Khalid"):
        account = invite_account(auth_deps(), email=email, name=name)
        return account, outbox.last(to=email, template="welcome")["links"][0]

    return make


@pytest.fixture
def resident(api, outbox, registration_body):
    """A self-registered resident who finished the first login (password NEW_PASSWORD)."""
    started = api.post("/v1/auth/register", registration_body)
    assert started.status == 201, started.body
    code = outbox.last(template="registration_code")["vars"]["code"]
    verified = api.post("/v1/auth/register/verify", {"registration_id": started.body["registration_id"], "code": code})
    assert verified.status == 201, verified.body
    temporary = outbox.last(template="temporary_password")["vars"]["password"]
    tokens = api.signed_in(registration_body["civil_id"], NEW_PASSWORD, temporary=temporary)
    return {"civil_id": registration_body["civil_id"], "email": "sara@example.com", "tokens": tokens,
            "account_id": verified.body["account_id"]}
