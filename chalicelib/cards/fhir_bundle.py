"""The FHIR R4 bundle inside a card's SMART Health Card: Patient, Coverage and Organizations as CARIN C4DIC.

Built from the `CardContent` the card prints (nothing else), and read back by `/v1/verify`.

Minimisation. The SMART Health Cards spec asks QR-bound bundles to drop `Resource.id`, narratives
(`text`), `CodeableConcept.text`, `Coding.display`, and to use `resource:N` fullUrls and references;
all of that is done here. It also says `Resource.meta` should be absent (or carry `security` only),
while the CARIN Digital Insurance Card profiles (C4DIC STU 1.1 and STU 2) make `meta` 1..1 with
`meta.profile` 1..* (the profile's own URL) and `meta.lastUpdated` 1..1 on Coverage, Patient and
Organization. SHC has no insurance-card content of its own: the profile URLs are what tell a verifier
that this bundle is an insurance card and which rules it follows, so each resource keeps
`meta.profile` and nothing else of meta. That departs from SHC's QR minimisation on one point (the
spec's own validator, health-cards-dev-tools, warns about meta, it does not reject it) and costs
about 57 compressed bytes, under one QR version. `meta.lastUpdated` is left out: the JWS's `nbf` is
the issue time of the whole card, and four copies of it would cost bytes for nothing.

Only what the card prints, and what the QR must stay small for: the plan is its English name
(`Coverage.class`; /v1/verify adds the Arabic on record, as for EC1 cards), the network is left out,
and the Patient has no gender or address (US Core wants gender; the card does not print it).

Languages. FHIR strings carry one language; the Arabic of a name goes where FHIR puts a second
spelling: the Patient gets a second `HumanName` marked with the standard `language` extension (the
English one is `use: official`), and Organizations list the Arabic name in `alias`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from chalicelib.cards.card import CardContent, GroupCover
from chalicelib.errors import Text
from chalicelib.kernel.relationship import Relationship

C4DIC = "http://hl7.org/fhir/us/insurance-card/StructureDefinition/"
COVERAGE_PROFILE = C4DIC + "C4DIC-Coverage"
PATIENT_PROFILE = C4DIC + "C4DIC-Patient"
ORGANIZATION_PROFILE = C4DIC + "C4DIC-Organization"

LANGUAGE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/language"
MEMBER_ID_TYPE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MB"}]}
_CLASS_SYSTEM = "http://terminology.hl7.org/CodeSystem/coverage-class"
_RELATIONSHIP_SYSTEM = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
_RELATIONSHIP_CODE = {
    Relationship.PRINCIPAL: "self",
    Relationship.SPOUSE: "spouse",
    Relationship.CHILD: "child",
    Relationship.PARENT: "parent",
}

# Fixed positions: a reader finds each resource by its fullUrl, not by counting.
PATIENT, COVERAGE, INSURER, EMPLOYER = (f"resource:{n}" for n in range(4))


class BundleUnreadable(ValueError):
    """A signed bundle that does not hold the card's facts where this module puts them."""


@dataclass(frozen=True)
class BundleFacts:
    """What `/v1/verify` reads back from a card's bundle."""

    member_id: str
    name: Text
    plan_en: str
    valid_from: date
    valid_to: date


def card_bundle(content: CardContent, issued_at: datetime) -> dict[str, Any]:
    """The minimised FHIR R4 collection Bundle of one card, as the JWS payload carries it."""
    meta = _meta
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "meta": meta(PATIENT_PROFILE),
        "identifier": [{"type": MEMBER_ID_TYPE, "value": content.member_id}],
        "name": _names(content.name),
        "birthDate": content.date_of_birth.isoformat(),
    }
    group = content.cover if isinstance(content.cover, GroupCover) else None
    classes = [{"type": _class_type("plan"), "value": content.plan.en or content.plan.ar,
                "name": content.plan.en or content.plan.ar}]
    if content.cover.policy_number:
        classes.append({"type": _class_type("group"), "value": content.cover.policy_number})
    coverage: dict[str, Any] = {
        "resourceType": "Coverage",
        "meta": meta(COVERAGE_PROFILE),
        "identifier": [{"type": MEMBER_ID_TYPE, "value": content.member_id}],
        # Cards are only drawn for cover that has not ended; the status now is asked online.
        "status": "active",
        # A group policy is held by the employer; a residence policy by the insured person.
        "policyHolder": {"reference": EMPLOYER if group is not None else PATIENT},
        **({"subscriber": {"reference": PATIENT}} if content.relationship is Relationship.PRINCIPAL else {}),
        "beneficiary": {"reference": PATIENT},
        "relationship": {"coding": [{"system": _RELATIONSHIP_SYSTEM,
                                     "code": _RELATIONSHIP_CODE[content.relationship]}]},
        "period": {"start": content.valid_from.isoformat(), "end": content.valid_to.isoformat()},
        "payor": [{"reference": INSURER}],
        "class": classes,
    }
    entries = [(PATIENT, patient), (COVERAGE, coverage), (INSURER, _organization(content.insurer, meta))]
    if group is not None:
        entries.append((EMPLOYER, _organization(group.employer, meta)))
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"fullUrl": url, "resource": resource} for url, resource in entries]}


def bundle_facts(bundle: Any) -> BundleFacts:
    """The member id, names, plan and dates of a bundle made by `card_bundle`, or BundleUnreadable."""
    try:
        resources = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
        patient, coverage = resources[PATIENT], resources[COVERAGE]
        if patient["resourceType"] != "Patient" or coverage["resourceType"] != "Coverage":
            raise BundleUnreadable("unexpected resource types")
        (member_id,) = [i["value"] for i in coverage["identifier"] if i.get("type") == MEMBER_ID_TYPE]
        plan = next(c for c in coverage["class"] if c["type"] == _class_type("plan"))
        return BundleFacts(
            member_id=str(member_id),
            name=_read_names(patient.get("name", [])),
            plan_en=str(plan.get("name", plan["value"])),
            valid_from=date.fromisoformat(coverage["period"]["start"]),
            valid_to=date.fromisoformat(coverage["period"]["end"]),
        )
    except (KeyError, TypeError, ValueError, StopIteration, AttributeError) as exc:
        raise BundleUnreadable(str(exc)) from exc


def _meta(profile: str) -> dict[str, Any]:
    return {"profile": [profile]}


def _names(name: Text) -> list[dict[str, Any]]:
    names: list[dict[str, Any]] = []
    if name.en:
        names.append({"use": "official", "text": name.en})
    if name.ar:
        names.append({"extension": [{"url": LANGUAGE_EXTENSION, "valueCode": "ar"}], "text": name.ar})
    return names


def _read_names(names: list[dict[str, Any]]) -> Text:
    english, arabic = "", ""
    for name in names:
        languages = [e.get("valueCode") for e in name.get("extension", []) if e.get("url") == LANGUAGE_EXTENSION]
        if "ar" in languages:
            arabic = arabic or str(name.get("text", ""))
        elif name.get("use") == "official":
            english = english or str(name.get("text", ""))
    return Text(english, arabic)


def _organization(name: Text, meta: Any) -> dict[str, Any]:
    return {"resourceType": "Organization", "meta": meta(ORGANIZATION_PROFILE),
            "name": name.en or name.ar, **({"alias": [name.ar]} if name.en and name.ar else {})}


def _class_type(code: str) -> dict[str, Any]:
    return {"coding": [{"system": _CLASS_SYSTEM, "code": code}]}
