"""Standing check: schemathesis drives every operation of /v1/openapi.json against the running app.

Bounded and repeatable: a fixed number of examples per operation, derandomized (the same inputs on
every run), no shrinking (failures are collected, not raised one at a time). The app is served over
real HTTP by devstack.local_gateway with moto in-process, signed in as a payer. It holds the app to
its own document: no 5xx, every status and content type documented, every body valid by its schema.
"""

from __future__ import annotations

import json
import os
from collections import Counter

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.premium_support import application_body, make_payer
from tests.served import served

# Per operation and mode: about a minute for the whole document on 2 cores. A deeper run by hand:
# SCHEMATHESIS_EXAMPLES=200 pytest tests/api/test_schemathesis.py
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "12"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def run_operation(operation, mode: GenerationMode, base_url: str, headers: dict, seen: Counter,
                  failures: dict, known: dict[str, str] | None = None) -> None:
    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, print_blob=False,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=known))
    def examples(case) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        seen[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as group:  # kept, not raised: every operation runs, and nothing shrinks
            ids = "known ids" if known else "generated ids"
            for failure in group.exceptions:
                key = (operation.label, mode.value, ids, response.status_code, str(failure).splitlines()[0][:120])
                failures.setdefault(key, f"{str(failure)[:600]}\nbody: {response.text[:300]}")

    examples()


def existing_ids(base_url: str, headers: dict) -> dict[str, str]:
    """A confirmed application with a payment started: ids the generated requests can act on."""
    def post(path: str, body: dict, extra: dict | None = None) -> dict:
        response = requests.post(f"{base_url}{path}", json=body, headers={**headers, **(extra or {})}, timeout=30)
        assert response.status_code in (200, 201), response.text
        return response.json()

    application_id = post("/v1/applications", application_body())["application_id"]
    post(f"/v1/applications/{application_id}/confirm", {"accept": True})
    payment = post(f"/v1/applications/{application_id}/pay", {}, {"Idempotency-Key": "schemathesis-1"})
    return {"application_id": application_id, "payment_id": payment["payment_id"]}


# The document's operations in two halves, one test each: xdist runs them on both workers at once.
HALVES = 2


@pytest.mark.parametrize("half", range(HALVES))
def test_the_app_answers_every_operation_as_its_openapi_document_says(app, clock, half):
    from tests.support import Api

    with served(app) as base_url:
        document = requests.get(f"{base_url}/v1/openapi.json", timeout=10).json()
        schema = schemathesis.openapi.from_dict(document)
        payer = make_payer(Api(None))
        headers = {"Authorization": f"Bearer {payer.token}"}
        known = existing_ids(base_url, headers)
        seen: Counter = Counter()
        failures: dict = {}
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) > 50  # the whole document is walked, half here and half in the other test
        for operation in operations[half::HALVES]:
            names = {parameter.name for parameter in operation.path_parameters}
            fixed = {name: known[name] for name in names if name in known}
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                run_operation(operation, mode, base_url, headers, seen, failures)
                if fixed:  # random ids only ever find nothing: also go past the lookup, on real ones
                    run_operation(operation, mode, base_url, headers, seen, failures, fixed)

    print(f"schemathesis: {sum(seen.values())} requests, statuses {dict(sorted(seen.items()))}")
    summary = "\n".join(" | ".join(map(str, key)) for key in failures)
    details = json.dumps({" ".join(map(str, k)): v for k, v in failures.items()}, indent=1, ensure_ascii=False)
    assert not failures, f"{len(failures)} kinds of failure:\n{summary}\n\n{details[:20000]}"
