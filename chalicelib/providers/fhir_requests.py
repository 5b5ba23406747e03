"""What a provider's CoverageEligibilityRequest asks, read and checked field by field.

Only what the answer depends on is read; every problem is a 400 OperationOutcome whose `expression`
names the field (FHIRPath), never a 500 whatever the JSON holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from chalicelib.providers.errors import FhirProblem, invalid
from chalicelib.providers.rules import PersonId, parse_identifier

ROOT = "CoverageEligibilityRequest"
MAX_NAME_CHARS = 200
MAX_CONTAINED = 10


@dataclass(frozen=True, repr=False)
class EligibilityQuestion:
    """Is this person covered on this day? With, optionally, a name and birth date that must match."""

    person: PersonId
    serviced: date
    name: str | None = None
    birth_date: date | None = None
    request_identifier: dict[str, Any] | None = None  # the provider's own id of its request, echoed back

    def __repr__(self) -> str:
        return f"EligibilityQuestion({self.person!r}, {self.serviced})"


def _date(value: object, expression: str) -> date:
    if not isinstance(value, str) or len(value) != 10:
        raise invalid("A date is text as YYYY-MM-DD.", expression)
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise invalid("A date is text as YYYY-MM-DD.", expression) from exc
    if not 1900 <= day.year <= 2199:
        raise invalid("The date is out of range.", expression)
    return day


def _object(value: object, expression: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid("This must be a JSON object.", expression)
    return value


def _list(value: object, expression: str) -> list[Any]:
    if not isinstance(value, list):
        raise invalid("This must be a JSON array.", expression)
    return value


def _identifier(value: object, expression: str, today: date) -> PersonId:
    identifier = _object(value, expression)
    return parse_identifier(identifier.get("system"), identifier.get("value"), today=today, expression=expression)


def _human_name(value: object, expression: str) -> str | None:
    names = _list(value, expression)
    if not names:
        return None
    name = _object(names[0], f"{expression}[0]")
    text = name.get("text")
    if text is not None:
        if not isinstance(text, str):
            raise invalid("A name's text is a string.", f"{expression}[0].text")
    else:
        given = name.get("given", [])
        family = name.get("family", "")
        if not isinstance(given, list) or not all(isinstance(g, str) for g in given):
            raise invalid("given is an array of strings.", f"{expression}[0].given")
        if not isinstance(family, str):
            raise invalid("family is a string.", f"{expression}[0].family")
        text = " ".join([*given, family])
    if len(text) > MAX_NAME_CHARS:
        raise invalid("The name is too long.", f"{expression}[0]")
    return text.strip() or None


def read_eligibility_request(body: object, *, today: date) -> EligibilityQuestion:
    """The question a CoverageEligibilityRequest (purpose validation) asks, or a 400 naming the field."""
    request = _object(body, ROOT)
    if request.get("resourceType") != ROOT:
        raise invalid("The body must be a CoverageEligibilityRequest resource.", f"{ROOT}.resourceType", "structure")
    if "purpose" not in request:
        raise invalid("purpose is required: [\"validation\"].", f"{ROOT}.purpose", "required")
    purposes = _list(request["purpose"], f"{ROOT}.purpose")
    if not purposes or not all(isinstance(p, str) for p in purposes):
        raise invalid("purpose is a non-empty array of codes.", f"{ROOT}.purpose")
    if set(purposes) != {"validation"}:
        raise FhirProblem(400, "not-supported", "Only purpose \"validation\" is answered (is the coverage in force).",
                          expression=f"{ROOT}.purpose")
    serviced = _date(request["servicedDate"], f"{ROOT}.servicedDate") if "servicedDate" in request else today
    if "servicedPeriod" in request:
        raise FhirProblem(400, "not-supported", "Give servicedDate, one day.", expression=f"{ROOT}.servicedPeriod")
    if "patient" not in request:
        raise invalid("patient is required.", f"{ROOT}.patient", "required")
    person, name, birth_date = _patient(request, _object(request["patient"], f"{ROOT}.patient"), today)
    return EligibilityQuestion(person=person, serviced=serviced, name=name, birth_date=birth_date,
                               request_identifier=_echo(request.get("identifier")))


def _patient(request: dict[str, Any], patient: dict[str, Any],
             today: date) -> tuple[PersonId, str | None, date | None]:
    """Who the request names: patient.identifier, or a contained Patient (#id) whose name and birthDate confirm."""
    reference = patient.get("reference")
    if reference is None:
        if "identifier" not in patient:
            raise invalid("patient needs an identifier (a member id or a civil ID).", f"{ROOT}.patient.identifier",
                          "required")
        return _identifier(patient["identifier"], f"{ROOT}.patient.identifier", today), None, None
    if not isinstance(reference, str) or not reference.startswith("#"):
        raise invalid("patient.reference must point at a contained Patient (\"#id\"), or give patient.identifier.",
                      f"{ROOT}.patient.reference")
    contained = _list(request.get("contained", []), f"{ROOT}.contained")
    if len(contained) > MAX_CONTAINED:
        raise invalid("Too many contained resources.", f"{ROOT}.contained")
    found = [(n, r) for n, r in enumerate(contained)
             if isinstance(r, dict) and r.get("resourceType") == "Patient" and r.get("id") == reference[1:]]
    if len(found) != 1:
        raise invalid("patient.reference names no contained Patient.", f"{ROOT}.patient.reference")
    n, resource = found[0]
    where = f"{ROOT}.contained[{n}]"
    identifiers = _list(resource.get("identifier"), f"{where}.identifier")
    if len(identifiers) != 1:
        raise invalid("The Patient needs exactly one identifier: a member id or a civil ID.", f"{where}.identifier",
                      "required" if not identifiers else "invalid")
    person = _identifier(identifiers[0], f"{where}.identifier[0]", today)
    name = _human_name(resource["name"], f"{where}.name") if "name" in resource else None
    birth_date = _date(resource["birthDate"], f"{where}.birthDate") if "birthDate" in resource else None
    return person, name, birth_date


def _echo(value: object) -> dict[str, Any] | None:
    """The provider's own identifier of its request, when it is a small plain one (echoed in the answer)."""
    if not isinstance(value, list) or not value or not isinstance(value[0], dict):
        return None
    first = value[0]
    system, text = first.get("system"), first.get("value")
    if not isinstance(text, str) or not text or len(text) > 128:
        return None
    echoed: dict[str, Any] = {"value": text}
    if isinstance(system, str) and 0 < len(system) <= 256:
        echoed["system"] = system
    return echoed
