"""Login and hashing cost, and DynamoDB requests per login, refresh and authorized request."""

from __future__ import annotations

import json
import statistics
import time
from datetime import date

from bench.environment import in_process_environment
from bench.rows import Row

RUNS = 9
PASSWORD = "Copper-Lantern-Road-8"


def run() -> list[Row]:
    in_process_environment()
    from chalice.test import Client
    from moto import mock_aws

    from app import app
    from chalicelib.accounts.credentials import set_new_password
    from chalicelib.accounts.hashing import default_hasher
    from chalicelib.accounts.wiring import auth_deps
    from chalicelib.kernel.civil_id import compose_civil_id
    from chalicelib.platform.clock import now
    from devstack.counting import count_aws_calls
    from devstack.provision import provision

    hasher = default_hasher()
    hash_times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        hasher.hash(PASSWORD)
        hash_times.append(time.perf_counter() - started)

    with mock_aws():
        provision("dev", "me-south-1")
        deps = auth_deps()
        civil_id = compose_civil_id(date(1985, 1, 2), "4321")
        account = deps.store.new_account(account_id="bench", status="active", source="self", civil_id=civil_id,
                                         email="bench@example.com", password_history=[], created_at=now(),
                                         updated_at=now(), language="en")
        set_new_password(deps, account, PASSWORD, now())
        deps.store.create_account(account, {"civil_id": civil_id, "email": "bench@example.com"})
        body = json.dumps({"username": civil_id, "password": PASSWORD, "device_id": "bench"})
        headers = {"Content-Type": "application/json"}
        with Client(app) as client:
            login_times, login_calls, refresh_calls, authorized_calls = [], [], [], []
            for _ in range(RUNS):
                with count_aws_calls() as calls:
                    started = time.perf_counter()
                    tokens = json.loads(client.http.post("/v1/auth/login", body=body, headers=headers).body)
                    login_times.append(time.perf_counter() - started)
                login_calls.append(calls.of("dynamodb"))
                with count_aws_calls() as calls:
                    client.http.post("/v1/auth/refresh", headers=headers,
                                     body=json.dumps({"refresh_token": tokens["refresh_token"]}))
                refresh_calls.append(calls.of("dynamodb"))
                with count_aws_calls() as calls:
                    # /v1/health behind the authorizer would read nothing; the sessions listing is one query
                    # (/v1/me now also lists the people the account covers, so its own reads vary).
                    client.http.get("/v1/auth/sessions",
                                    headers={"Authorization": f"Bearer {tokens['access_token']}"})
                authorized_calls.append(calls.of("dynamodb") - 1)
    hash_ms = statistics.median(hash_times) * 1000
    login_ms = statistics.median(login_times) * 1000
    return [
        Row("auth", "argon2id hash (median)", hash_ms, "ms", "20 to 150", 20 <= hash_ms <= 150),
        Row("auth", "login through the API on moto (median)", login_ms, "ms", "", None),
        # Conditional writes reserve the password check before argon2 and give it back after (so the
        # lockout holds under parallel requests): 1 + 1, or 2 + 1 when a window is already open, as in
        # this loop; then 2 reads find the name and the account, and 1 write stores the session.
        Row("auth", "DynamoDB requests per login", max(login_calls), "requests", "<= 6", max(login_calls) <= 6),
        Row("auth", "DynamoDB requests per refresh", max(refresh_calls), "requests", "<= 2", max(refresh_calls) <= 2),
        Row("auth", "DynamoDB requests of the authorizer", max(authorized_calls), "requests", "0",
            max(authorized_calls) == 0),
    ]
