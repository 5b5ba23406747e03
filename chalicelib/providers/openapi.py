"""The providers' part of the OpenAPI document (merged by chalicelib/health/openapi.py).

The FHIR routes answer FHIR resources (application/fhir+json) and OperationOutcomes, and the token
endpoint RFC 6749's errors; the edge's own refusals (a token the authorizer denies, a body of
another media type) are the envelope, as on every route.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

FHIR = "application/fhir+json"
ERROR = {"$ref": "#/components/responses/Error"}


def _fhir(description: str, resource: str) -> dict[str, Any]:
    return {"description": description, "content": {FHIR: {"schema": {
        "type": "object", "required": ["resourceType"],
        "properties": {"resourceType": {"type": "string", "enum": [resource]}},
        "description": f"a FHIR R4 {resource} (https://hl7.org/fhir/R4/{resource.lower()}.html)"}}}}


def _outcome(description: str) -> dict[str, Any]:
    return _fhir(description, "OperationOutcome")


def openapi_paths(op: Callable[..., dict[str, Any]], s: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """Paths of /oauth2/token, /fhir/* and /v1/me/access-log, built with openapi.py's helpers."""
    oauth_error = {"description": "RFC 6749 5.2 error", "content": {"application/json": {"schema": s(
        error={"type": "string", "enum": ["invalid_request", "invalid_client", "invalid_grant",
                                          "unsupported_grant_type", "invalid_scope", "temporarily_unavailable"]},
        error_description="string")}}}
    token = op("OAuth 2.0 client credentials for providers (HTTP Basic client id and secret); "
               "a 10-minute Bearer token of scope coverage.read",
               body={**s(grant_type={"type": "string", "enum": ["client_credentials"]},
                         scope={"type": "string", "enum": ["coverage.read"]})},
               required=("grant_type",), content="application/x-www-form-urlencoded",
               out=s(access_token="string", token_type={"type": "string", "enum": ["Bearer"]},
                     expires_in="integer", scope="string"), errors=())
    token["security"] = [{"clientBasic": []}]
    token["responses"].update({"400": oauth_error, "401": oauth_error, "429": oauth_error})
    token["responses"]["500"] = oauth_error

    metadata = op("The FHIR CapabilityStatement: what this FHIR server answers", errors=())
    metadata["responses"]["200"] = _fhir("CapabilityStatement", "CapabilityStatement")
    metadata["responses"]["500"] = _outcome("a fault of ours")

    eligibility = op("Is the patient (member id or civil ID; name and birthDate to confirm) covered on "
                     "servicedDate? purpose validation; every lookup is logged for the insured person",
                     body={**s(resourceType={"type": "string", "enum": ["CoverageEligibilityRequest"]},
                               purpose={"type": "array", "items": {"type": "string", "enum": ["validation"]}},
                               patient=s(reference="string", identifier=s(system="string", value="string")),
                               servicedDate={"type": "string", "format": "date"},
                               contained={"type": "array", "items": {"type": "object"}}),
                           "description": "a FHIR R4 CoverageEligibilityRequest"},
                     required=("resourceType", "purpose", "patient"), content=FHIR, auth=True, errors=())
    eligibility["responses"].update({
        "200": _fhir("complete: insurance[].inforce on servicedDate for each coverage (a terminated one: false)",
                     "CoverageEligibilityResponse"),
        "400": _outcome("invalid (an identifier that can't be one), required, structure or not-supported, "
                        "expression naming the field"),
        "413": _outcome("too-costly: the body is too large"),
        "422": _outcome("not-found: nobody we insure matches the identifier and the details given (the same "
                        "answer whichever it is)"),
        "429": _outcome("throttled: the provider's lookups a minute are spent (Retry-After)"),
        "500": _outcome("exception: a fault of ours"),
    })
    eligibility["responses"]["401"] = ERROR

    search = op("The coverages (group and residence) of the person an identifier names",
                params=[{"name": "identifier", "in": "query", "required": True, "schema": {"type": "string"},
                         "description": "[system|]value: a member id or a civil ID"}], auth=True, errors=())
    search["responses"].update({
        "200": _fhir("a searchset Bundle of Coverage; none found: total 0 and an OperationOutcome not-found "
                     "(search mode outcome)", "Bundle"),
        "400": _outcome("invalid or required: the identifier"),
        "429": _outcome("throttled (Retry-After)"),
        "500": _outcome("exception: a fault of ours"),
    })

    read = op("One Coverage by its id (the member id), as the other answers' references name it",
              params=[{"name": "coverage_id", "in": "path", "required": True, "schema": {"type": "string"}}],
              auth=True, errors=())
    read["responses"].update({
        "200": _fhir("the Coverage", "Coverage"),
        "400": _outcome("invalid: not a member id"),
        "404": _outcome("not-found: no coverage has this id"),
        "429": _outcome("throttled (Retry-After)"),
        "500": _outcome("exception: a fault of ours"),
    })

    entry = s(looked_up_at={"type": "string", "format": "date-time", "description": "UTC"},
              provider={**s(name="string"), "description": "who looked up: its name (never its client id)"},
              member_id={"type": "string", "nullable": True},
              name={**s(en="string", ar="string"), "nullable": True},
              relationship={"type": "string", "nullable": True},
              interaction={"type": "string", "enum": ["eligibility", "coverage_search", "coverage_read"]},
              purpose={"type": "string", "enum": ["validation", "search", "read"]},
              service_date={"type": "string", "format": "date", "nullable": True},
              outcome={"type": "string", "enum": ["in_force", "not_in_force", "listed", "details_mismatch"],
                       "description": "details_mismatch: the provider's name or birth date did not match, and it "
                                      "was told nobody matched"})
    log = op("Which provider looked up whose coverage, and when: the account's own people, newest first",
             params=[{"name": "limit", "in": "query", "required": False,
                      "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}},
                     {"name": "cursor", "in": "query", "required": False,
                      "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,400}$"},
                      "description": "next_cursor of the previous page, as given (opaque): the next page starts "
                                     "right after its last entry; anything else is 422 naming cursor"},
                     {"name": "before", "in": "query", "required": False,
                      "schema": {"type": "string", "format": "date-time"},
                      "description": "only entries looked up before this moment (ISO 8601 with any offset, "
                                     "compared in UTC)"}],
             out=s(entries={"type": "array", "items": entry},
                   next_cursor={"type": "string", "nullable": True,
                                "description": "the cursor of the next page; null on the last"}),
             auth=True, errors=("422",))
    return {"/oauth2/token": {"post": token}, "/fhir/metadata": {"get": metadata},
            "/fhir/CoverageEligibilityRequest": {"post": eligibility}, "/fhir/Coverage": {"get": search},
            "/fhir/Coverage/{coverage_id}": {"get": read},
            "/v1/me/access-log": {"get": log}}
