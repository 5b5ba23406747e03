"""Residence premiums: DynamoDB requests per quote, application, pay and callback; the pay-then-callback time."""

from __future__ import annotations

import json
import statistics
import time
from datetime import date

from bench.environment import in_process_environment
from bench.rows import Row

RUNS = 9


def run() -> list[Row]:
    in_process_environment()
    from chalice.test import Client
    from moto import mock_aws

    from app import app
    from chalicelib.accounts.jwt_tokens import issue_access_token
    from chalicelib.accounts.wiring import auth_deps
    from chalicelib.kernel.civil_id import compose_civil_id
    from chalicelib.platform.clock import now
    from chalicelib.premiums.wiring import premium_deps
    from chalicelib.settings import reset_settings
    from chalicelib.wiring import reset_wiring
    from devstack.counting import count_aws_calls
    from devstack.provision import provision

    reset_settings()
    reset_wiring()
    with mock_aws():
        provision("dev", "me-south-1")
        store = auth_deps().store
        account = store.new_account(account_id="bench-payer", status="active", source="self", email="payer@example.com",
                                    phone="+96551234567", name="Bench Payer", language="en", password_history=[],
                                    created_at=now(), updated_at=now())
        store.create_account(account, {"email": "payer@example.com"})
        token = issue_access_token("bench-payer", "bench-session", now(), "en")
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        sponsor = compose_civil_id(date(1970, 1, 2), "0001")
        quote_calls, apply_calls, pay_calls, callback_calls, path_times = [], [], [], [], []
        with Client(app) as client:
            for run_no in range(RUNS):
                with count_aws_calls() as calls:
                    client.http.get("/v1/premiums/quote?category=study&years=2", headers=headers)
                quote_calls.append(calls.of("dynamodb"))
                insured = next(c for n in range(100 * run_no, 100 * run_no + 100)
                               if (c := _civil_id(date(1990, 5, 17), n)))
                body = {"insured_civil_id": insured, "insured_name": "Bench Person", "category": "study",
                        "sponsor_name": "Sponsor", "sponsor_civil_id": sponsor, "kind": "new",
                        "passport_expiry": "2035-01-01", "years": 1}
                with count_aws_calls() as calls:
                    created = json.loads(client.http.post("/v1/applications", headers=headers,
                                                          body=json.dumps(body)).body)
                apply_calls.append(calls.of("dynamodb"))
                application_id = created["application_id"]
                client.http.post(f"/v1/applications/{application_id}/confirm", headers=headers,
                                 body=json.dumps({"accept": True}))
                started = time.perf_counter()
                with count_aws_calls() as calls:
                    payment = json.loads(client.http.post(
                        f"/v1/applications/{application_id}/pay", body="{}",
                        headers={**headers, "Idempotency-Key": f"bench-{run_no}"}).body)
                pay_calls.append(calls.of("dynamodb"))
                outcome = premium_deps().gateway.complete(payment["payment_url"].rsplit("/", 1)[-1],
                                                          {"result": "approved"})
                with count_aws_calls() as calls:
                    answer = client.http.post("/v1/payments/callback", body=outcome.callback.body,
                                              headers=dict(outcome.callback.headers))
                callback_calls.append(calls.of("dynamodb"))
                path_times.append(time.perf_counter() - started)
                assert answer.status_code == 200, answer.body
    reset_wiring()
    path_ms = statistics.median(path_times) * 1000
    return [
        Row("premiums", "DynamoDB requests per quote", max(quote_calls), "requests", "0", max(quote_calls) == 0),
        Row("premiums", "DynamoDB requests per application", max(apply_calls), "requests", "<= 2",
            max(apply_calls) <= 2),
        Row("premiums", "DynamoDB requests per pay (start payment)", max(pay_calls), "requests", "<= 4",
            max(pay_calls) <= 4),
        Row("premiums", "DynamoDB requests per approved callback", max(callback_calls), "requests", "<= 4",
            max(callback_calls) <= 4),
        Row("premiums", "pay then approved callback on moto (median)", path_ms, "ms", "", None),
    ]


def _civil_id(born: date, serial: int) -> str | None:
    from chalicelib.kernel.civil_id import compose_civil_id

    try:
        return compose_civil_id(born, f"{serial:04d}")
    except ValueError:
        return None
