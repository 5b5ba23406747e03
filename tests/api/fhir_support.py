"""Helpers for the FHIR tests: a provider with credentials, its token, FHIR calls, FHIR validation."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

from chalicelib.kernel.civil_id import compose_civil_id

FHIR = "application/fhir+json"
FATIMA_CIVIL_ID = "287070201212"  # cards_support.FATIMA's national_id
OMAR_CIVIL_ID = compose_civil_id(date(1980, 1, 1), "4321")
OMAR = f"E3,principal,Omar Saleh Al-Ajmi,عمر صالح العجمي,1980-01-01,male,omar@acme.example,,{OMAR_CIVIL_ID},GOLD,"\
       "2026-01-01,2026-12-31,"
UNKNOWN_CIVIL_ID = compose_civil_id(date(1991, 9, 9), "2469")


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


def call(client, method: str, path: str, *, body: Any = None, headers: dict[str, str] | None = None,
         raw: bytes | str | None = None) -> Reply:
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    response = getattr(client.http, method.lower())(path, headers=headers or {}, body=data)
    text = response.body.decode() if response.body else ""
    try:
        parsed = json.loads(text) if text else {}
    except ValueError:
        parsed = {"raw": text}
    return Reply(response.status_code, parsed, dict(response.headers))


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{quote(client_id)}:{quote(secret)}".encode()).decode()


def new_provider(name: str = "Al-Amiri Hospital") -> tuple[str, str]:
    from chalicelib.providers.use_cases import create_provider
    from chalicelib.providers.wiring import provider_deps

    provider, secret = create_provider(provider_deps(), name)
    from tests.log_audit import remember

    remember("provider secret", secret)
    return provider.client_id, secret


def ask_token(client, client_id: str, secret: str, form: str = "grant_type=client_credentials") -> Reply:
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": basic(client_id, secret)}
    return call(client, "POST", "/oauth2/token", raw=form, headers=headers)


def provider_token(client, client_id: str, secret: str) -> str:
    reply = ask_token(client, client_id, secret)
    assert reply.status == 200, reply.body
    from tests.log_audit import remember

    remember("provider token", reply.body["access_token"])
    return str(reply.body["access_token"])


def eligibility_request(identifier: str, *, system: str | None = None, name: str | None = None,
                        birth_date: str | None = None, serviced: str | None = "2026-03-01") -> dict[str, Any]:
    ident: dict[str, Any] = {"value": identifier}
    if system:
        ident["system"] = system
    request: dict[str, Any] = {"resourceType": "CoverageEligibilityRequest", "status": "active",
                               "purpose": ["validation"], "created": "2026-03-01",
                               "insurer": {"display": "Gulf Mutual Health"}}
    if serviced:
        request["servicedDate"] = serviced
    if name or birth_date:
        patient: dict[str, Any] = {"resourceType": "Patient", "id": "p1", "identifier": [ident]}
        if name:
            patient["name"] = [{"text": name}]
        if birth_date:
            patient["birthDate"] = birth_date
        request["contained"] = [patient]
        request["patient"] = {"reference": "#p1"}
    else:
        request["patient"] = {"identifier": ident}
    return request


def ask_eligibility(client, token: str, request: Any, content_type: str = FHIR) -> Reply:
    return call(client, "POST", "/fhir/CoverageEligibilityRequest", body=request,
                headers={"Content-Type": content_type, "Authorization": f"Bearer {token}"})


def search(client, token: str, identifier: str) -> Reply:
    return call(client, "GET", f"/fhir/Coverage?identifier={quote(identifier, safe='')}",
                headers={"Authorization": f"Bearer {token}"})


def valid_fhir(body: dict[str, Any]) -> Any:
    """The resource parsed by fhir.resources' R4B model of its type (R4 and R4B agree on these) and by
    fhirclient's strict FHIR 4.0.1 models: either refuses anything not valid FHIR."""
    import importlib

    from fhirclient.models import fhirelementfactory

    kind = body["resourceType"]
    module = importlib.import_module(f"fhir.resources.R4B.{kind.lower()}")
    parsed = getattr(module, kind).model_validate(body)
    fhirelementfactory.FHIRElementFactory.instantiate(kind, body)  # raises FHIRValidationError (strict)
    return parsed
