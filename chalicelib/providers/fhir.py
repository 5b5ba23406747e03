"""The FHIR R4 resources providers read: Coverage, CoverageEligibilityResponse, Bundle, OperationOutcome and
the CapabilityStatement, built from `Cover` values (what a provider may learn: no name, no contact, no civil ID).

Every answer is valid R4 (tests/api/test_fhir_*.py validate each with fhir.resources). Coverage follows the
shape of the cards' CARIN bundle (cards/fhir_bundle.py): the member id as an MB identifier, the plan and
the group as `class`, the insurer as `payor`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from chalicelib.providers.errors import FhirProblem
from chalicelib.providers.rules import CIVIL_ID_SYSTEM, CIVIL_ID_TYPE, MEMBER_ID_SYSTEM, MEMBER_ID_TYPE, Cover, PersonId

FHIR_JSON = "application/fhir+json"
_CLASS_SYSTEM = "http://terminology.hl7.org/CodeSystem/coverage-class"
_RELATIONSHIP_SYSTEM = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
_RELATIONSHIP_CODE = {"principal": "self", "spouse": "spouse", "child": "child", "parent": "parent"}
_BENEFIT_CATEGORY = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/ex-benefitcategory",
                                 "code": "30", "display": "Health Benefit Plan Coverage"}]}
LOOKUP_SYSTEM = "https://fhir.insure.example/sid/eligibility-lookup"


def _instant(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def member_identifier(member_id: str) -> dict[str, Any]:
    return {"type": MEMBER_ID_TYPE, "system": MEMBER_ID_SYSTEM, "value": member_id}


def patient_reference(person: PersonId) -> dict[str, Any]:
    """The patient as the provider named them (their identifier, nothing more)."""
    if person.kind == "civil":
        return {"type": "Patient", "identifier": {"type": CIVIL_ID_TYPE, "system": CIVIL_ID_SYSTEM,
                                                  "value": person.value}}
    return {"type": "Patient", "identifier": member_identifier(person.value)}


def coverage(cover: Cover, insurer: str, on: date) -> dict[str, Any]:
    """The Coverage of one insured person (status cancelled once HR ended it or the premium was refunded)."""
    classes: list[dict[str, Any]] = [{"type": {"coding": [{"system": _CLASS_SYSTEM, "code": "plan"}]},
                                      "value": cover.plan_code, "name": cover.plan_en or cover.plan_code}]
    if cover.policy_number:
        group: dict[str, Any] = {"type": {"coding": [{"system": _CLASS_SYSTEM, "code": "group"}]},
                                 "value": cover.policy_number}
        if cover.employer_en:
            group["name"] = cover.employer_en
        classes.append(group)
    beneficiary = {"type": "Patient", "identifier": member_identifier(cover.member_id)}
    resource: dict[str, Any] = {
        "resourceType": "Coverage",
        "id": cover.member_id,
        "identifier": [member_identifier(cover.member_id)],
        "status": "cancelled" if cover.ended else "active",
        "beneficiary": beneficiary,
        "relationship": {"coding": [{"system": _RELATIONSHIP_SYSTEM,
                                     "code": _RELATIONSHIP_CODE.get(cover.relationship, "other")}]},
        "period": {"start": cover.valid_from.isoformat(), "end": cover.valid_to.isoformat()},
        "payor": [{"display": insurer}],
        "class": classes,
        # Not FHIR's words but a provider's question: is it in force on the day asked (or today)?
        "extension": [{"url": "https://fhir.insure.example/StructureDefinition/in-force-on",
                       "extension": [{"url": "date", "valueDate": on.isoformat()},
                                     {"url": "inForce", "valueBoolean": cover.in_force(on)}]}],
    }
    if cover.relationship == "principal":
        resource["subscriber"] = beneficiary
        resource["subscriberId"] = cover.member_id
    if cover.kind == "group" and cover.employer_en:
        resource["policyHolder"] = {"display": cover.employer_en}
    return resource


def eligibility_response(*, lookup_id: str, created: datetime, person: PersonId, serviced: date,
                         covers: list[Cover], insurer: str, base_url: str,
                         request_identifier: dict[str, Any] | None = None) -> dict[str, Any]:
    """A complete CoverageEligibilityResponse: one insurance entry per coverage, in force on `serviced` or not."""
    insurance = []
    for cover in covers:
        item = {"category": _BENEFIT_CATEGORY, "name": cover.plan_en or cover.plan_code,
                "description": f"Network: {cover.network_en}"}
        insurance.append({
            "coverage": {"reference": f"{base_url}/fhir/Coverage/{cover.member_id}",
                         "identifier": member_identifier(cover.member_id)},
            "inforce": cover.in_force(serviced),
            "benefitPeriod": {"start": cover.valid_from.isoformat(), "end": cover.valid_to.isoformat()},
            "item": [item],
        })
    in_force = any(c.in_force(serviced) for c in covers)
    request: dict[str, Any] = {"type": "CoverageEligibilityRequest",
                               "identifier": request_identifier or {"system": LOOKUP_SYSTEM, "value": lookup_id}}
    return {
        "resourceType": "CoverageEligibilityResponse",
        "id": lookup_id,
        "identifier": [{"system": LOOKUP_SYSTEM, "value": lookup_id}],
        "status": "active",
        "purpose": ["validation"],
        "patient": patient_reference(person),
        "servicedDate": serviced.isoformat(),
        "created": _instant(created),
        "request": request,
        "outcome": "complete",
        "disposition": "Covered on the service date." if in_force else "Not covered on the service date.",
        "insurer": {"display": insurer},
        "insurance": insurance,
    }


def search_bundle(*, covers: list[Cover], insurer: str, on: date, base_url: str, self_url: str,
                  not_found: str | None = None) -> dict[str, Any]:
    """A searchset Bundle of Coverages; none found carries an OperationOutcome saying so (search mode outcome)."""
    entries: list[dict[str, Any]] = [
        {"fullUrl": f"{base_url}/fhir/Coverage/{c.member_id}", "resource": coverage(c, insurer, on),
         "search": {"mode": "match"}} for c in covers]
    if not_found is not None:
        entries.append({"resource": operation_outcome(FhirProblem(200, "not-found", not_found), severity="warning"),
                        "search": {"mode": "outcome"}})
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": len(covers),
                              "link": [{"relation": "self", "url": self_url}]}
    if entries:
        bundle["entry"] = entries
    return bundle


def operation_outcome(problem: FhirProblem, severity: str = "error") -> dict[str, Any]:
    issue: dict[str, Any] = {"severity": severity, "code": problem.code, "diagnostics": problem.diagnostics}
    if problem.expression:
        issue["expression"] = [problem.expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def capability_statement(*, base_url: str, version: str, published: date, insurer: str) -> dict[str, Any]:
    """What this server answers: eligibility validation and coverage search by identifier, JSON only."""
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": published.isoformat(),
        "publisher": insurer,
        "kind": "instance",
        "software": {"name": "insure", "version": version},
        "implementation": {"description": f"{insurer}: coverage eligibility for healthcare providers",
                           "url": f"{base_url}/fhir"},
        "fhirVersion": "4.0.1",
        "format": [FHIR_JSON, "json"],
        "rest": [{
            "mode": "server",
            "documentation": "Providers authenticate with OAuth 2.0 client credentials (HTTP Basic) at "
                             f"{base_url}/oauth2/token, scope coverage.read, and send the token as a Bearer token.",
            "security": {
                "cors": False,
                "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                         "code": "OAuth"}]}],
                "extension": [{"url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                               "extension": [{"url": "token", "valueUri": f"{base_url}/oauth2/token"}]}],
            },
            "resource": [
                {"type": "Coverage", "interaction": [{"code": "read"}, {"code": "search-type"}],
                 "searchParam": [{"name": "identifier", "type": "token",
                                  "documentation": f"a member id ({MEMBER_ID_SYSTEM}) or a civil ID "
                                                   f"({CIVIL_ID_SYSTEM}); system|value or the value alone"}]},
                {"type": "CoverageEligibilityRequest", "interaction": [{"code": "create"}],
                 "documentation": "purpose validation only; the patient by identifier (a logical reference, or a "
                                  "contained Patient with name and birthDate to confirm); answers a "
                                  "CoverageEligibilityResponse, not a stored resource"},
            ],
        }],
    }
