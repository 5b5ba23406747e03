"""Providers ask the insurer directly: FHIR R4 eligibility and coverage search with provider credentials,
and the insured person's access log, through the API as a provider's system and the app call it.

Every FHIR answer is validated by fhir.resources (R4B models) and fhirclient (strict FHIR 4.0.1).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from urllib.parse import quote, urlparse

import pytest

from tests.api.cards_support import AHMAD, FATIMA, create_policy, csv_rows, enrol_family, hr_upload
from tests.api.fhir_support import (
    FATIMA_CIVIL_ID,
    OMAR,
    OMAR_CIVIL_ID,
    UNKNOWN_CIVIL_ID,
    ask_eligibility,
    call,
    eligibility_request,
    new_provider,
    provider_token,
    search,
    valid_fhir,
)
from tests.served import served

CIVIL_SYSTEM = "https://fhir.insure.example/sid/kw-civil-id"


@pytest.fixture
def family(aws, api, clock):
    create_policy()
    return enrol_family(api, AHMAD, FATIMA)


@pytest.fixture
def omar(family):
    """A member HR enrolled and then terminated."""
    member_id = hr_upload(csv_rows(OMAR))["Omar Saleh Al-Ajmi"]
    hr_upload(csv_rows(OMAR[:-1] + ",terminate"))
    return member_id


@pytest.fixture
def token(client, family):
    return provider_token(client, *new_provider())


def test_a_member_in_force_is_answered_in_force_with_the_coverage_and_plan(client, family, token):
    ahmad = family.members["Ahmad Khalid Al-Mutairi"]

    reply = ask_eligibility(client, token, eligibility_request(ahmad))

    assert reply.status == 200, reply.body
    assert reply.headers["Content-Type"].startswith("application/fhir+json")
    assert reply.headers["Cache-Control"] == "no-store"
    response = valid_fhir(reply.body)
    assert response.outcome == "complete" and response.purpose == ["validation"]
    (insurance,) = response.insurance
    assert insurance.inforce is True
    assert insurance.coverage.reference.endswith(f"/fhir/Coverage/{ahmad}")
    assert insurance.item[0].name == "Gold"


def test_a_terminated_member_is_answered_not_in_force_not_an_error(client, omar, token):
    reply = ask_eligibility(client, token, eligibility_request(omar))

    assert reply.status == 200, reply.body
    response = valid_fhir(reply.body)
    assert response.outcome == "complete" and response.insurance[0].inforce is False


def test_a_terminated_member_was_in_force_for_a_visit_before_the_termination_day(client, omar, token, clock):
    # Omar was terminated on 2026-03-01 (the clock's day); his dates run the whole year.
    before = valid_fhir(ask_eligibility(client, token, eligibility_request(omar, serviced="2026-02-28")).body)
    on_the_day = valid_fhir(ask_eligibility(client, token, eligibility_request(omar, serviced="2026-03-01")).body)
    after = valid_fhir(ask_eligibility(client, token, eligibility_request(omar, serviced="2026-06-01")).body)

    assert [r.insurance[0].inforce for r in (before, on_the_day, after)] == [True, False, False]


def test_a_refunded_residence_premium_is_never_in_force():
    from datetime import date

    from tests.providers.fakes import cover

    refunded = cover(kind="residence", ended=True, ended_on=None)
    assert not any(refunded.in_force(date(2026, month, 15)) for month in range(1, 13))


def test_a_civil_id_with_the_right_name_and_birth_date_is_confirmed(client, family, token):
    reply = ask_eligibility(client, token, eligibility_request(FATIMA_CIVIL_ID, system=CIVIL_SYSTEM,
                                                               name="fatima al-mutairi", birth_date="1987-07-02"))

    assert reply.status == 200, reply.body
    response = valid_fhir(reply.body)
    assert response.insurance[0].inforce is True
    assert response.insurance[0].coverage.identifier.value == family.members["Fatima Ali Al-Mutairi"]


def test_unknown_civil_id_and_wrong_name_answer_alike_and_differ_from_terminated_and_bad_ids(client, omar, token):
    unknown = ask_eligibility(client, token, eligibility_request(UNKNOWN_CIVIL_ID))
    wrong_name = ask_eligibility(client, token, eligibility_request(FATIMA_CIVIL_ID, name="Mary Smith"))
    wrong_birth = ask_eligibility(client, token, eligibility_request(FATIMA_CIVIL_ID, birth_date="1987-07-03"))
    terminated = ask_eligibility(client, token, eligibility_request(OMAR_CIVIL_ID))
    bad = ask_eligibility(client, token, eligibility_request(FATIMA_CIVIL_ID[:-1] + "3"))  # wrong check digit

    assert unknown.status == wrong_name.status == wrong_birth.status == 422
    assert unknown.body == wrong_name.body == wrong_birth.body  # not a byte that tells them apart
    assert valid_fhir(unknown.body).issue[0].code == "not-found"
    assert terminated.status == 200 and valid_fhir(terminated.body).insurance[0].inforce is False
    assert bad.status == 400 and valid_fhir(bad.body).issue[0].code == "invalid"
    assert bad.body["issue"][0]["expression"] == ["CoverageEligibilityRequest.patient.identifier.value"]


def test_the_coverage_search_lists_a_person_s_coverages_as_a_searchset(client, family, token):
    reply = search(client, token, f"{CIVIL_SYSTEM}|{FATIMA_CIVIL_ID}")

    assert reply.status == 200, reply.body
    bundle = valid_fhir(reply.body)
    assert bundle.type == "searchset" and bundle.total == 1
    coverage = bundle.entry[0].resource
    assert coverage.id == family.members["Fatima Ali Al-Mutairi"] and coverage.status == "active"
    assert {c.type.coding[0].code for c in coverage.class_fhir} == {"plan", "group"}


def test_the_coverage_a_response_references_can_be_read(client, family, token):
    ahmad = family.members["Ahmad Khalid Al-Mutairi"]
    reference = ask_eligibility(client, token, eligibility_request(ahmad)).body["insurance"][0]["coverage"]["reference"]

    read = call(client, "GET", urlparse(reference).path, headers={"Authorization": f"Bearer {token}"})
    nobody = call(client, "GET", "/fhir/Coverage/ZZZZZZZZZZZZZ", headers={"Authorization": f"Bearer {token}"})
    bad = call(client, "GET", "/fhir/Coverage/not-an-id", headers={"Authorization": f"Bearer {token}"})

    assert read.status == 200, read.body
    coverage = valid_fhir(read.body)
    assert coverage.id == ahmad and coverage.subscriberId == ahmad and coverage.status == "active"
    assert nobody.status == 404 and valid_fhir(nobody.body).issue[0].code == "not-found"
    assert bad.status == 400 and valid_fhir(bad.body).issue[0].code == "invalid"


def test_a_search_for_nobody_is_an_empty_bundle_saying_not_found_and_a_bad_identifier_is_invalid(client, family,
                                                                                                     token):
    nobody = search(client, token, UNKNOWN_CIVIL_ID)
    bad = search(client, token, "not an id")
    missing = call(client, "GET", "/fhir/Coverage", headers={"Authorization": f"Bearer {token}"})

    assert nobody.status == 200 and valid_fhir(nobody.body).total == 0
    assert nobody.body["entry"][0]["resource"]["issue"][0]["code"] == "not-found"
    assert bad.status == 400 and valid_fhir(bad.body).issue[0].code == "invalid"
    assert missing.status == 400 and valid_fhir(missing.body).issue[0].code == "required"


def test_the_capability_statement_says_what_is_supported(client, aws):
    reply = call(client, "GET", "/fhir/metadata")

    assert reply.status == 200
    statement = valid_fhir(reply.body)
    assert statement.fhirVersion == "4.0.1"
    assert {r.type for r in statement.rest[0].resource} == {"Coverage", "CoverageEligibilityRequest"}


def test_a_member_token_on_fhir_and_a_provider_token_on_the_app_are_both_refused(client, family, token):
    member = family.token

    on_fhir = ask_eligibility(client, member, eligibility_request(family.members["Ahmad Khalid Al-Mutairi"]))
    on_me = call(client, "GET", "/v1/me", headers={"Authorization": f"Bearer {token}"})
    on_log = call(client, "GET", "/v1/me/access-log", headers={"Authorization": f"Bearer {token}"})

    # chalice.test answers the authorizer's deny 403 (AccessDeniedException); the deployed gateway and
    # make run answer it 401 (devstack/local_gateway.py), checked over HTTP below.
    assert {on_fhir.status, on_me.status, on_log.status} == {403}
    assert call(client, "GET", "/v1/me", headers={"Authorization": f"Bearer {member}"}).status == 200


def test_over_http_as_make_run_serves_it_both_cross_uses_are_401(app, family, client):
    import requests

    token = provider_token(client, *new_provider())
    with served(app) as url:
        on_fhir = requests.post(f"{url}/fhir/CoverageEligibilityRequest", timeout=10,
                                json=eligibility_request(family.members["Ahmad Khalid Al-Mutairi"]),
                                headers={"Authorization": f"Bearer {family.token}"})
        on_me = requests.get(f"{url}/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        fine = requests.get(f"{url}/fhir/Coverage", params={"identifier": FATIMA_CIVIL_ID},
                            headers={"Authorization": f"Bearer {token}"}, timeout=10)

    assert (on_fhir.status_code, on_me.status_code, fine.status_code) == (401, 401, 200)


def test_the_member_s_access_log_lists_the_provider_s_lookups_of_the_family(client, family, token, clock):
    ahmad, fatima = family.members["Ahmad Khalid Al-Mutairi"], family.members["Fatima Ali Al-Mutairi"]
    ask_eligibility(client, token, eligibility_request(ahmad))
    clock.shift(timedelta(minutes=1))
    search(client, token, FATIMA_CIVIL_ID)
    clock.shift(timedelta(minutes=1))
    ask_eligibility(client, token, eligibility_request(FATIMA_CIVIL_ID, name="Someone Else"))
    ask_eligibility(client, token, eligibility_request(UNKNOWN_CIVIL_ID))  # nobody's: in no one's log

    reply = family.get("/v1/me/access-log")

    assert reply.status == 200, reply.body
    entries = reply.body["entries"]
    assert [(e["member_id"], e["interaction"], e["outcome"]) for e in entries] == [
        (fatima, "eligibility", "details_mismatch"), (fatima, "coverage_search", "listed"),
        (ahmad, "eligibility", "in_force")]
    assert entries[0]["provider"] == {"name": "Al-Amiri Hospital"}  # never the client id: every member reads it
    assert entries[2]["name"] == {"en": "Ahmad Khalid Al-Mutairi", "ar": "أحمد خالد المطيري"}
    assert entries[2]["relationship"] == "principal" and entries[2]["service_date"] == "2026-03-01"


def _access_log_pages(family, query: str) -> list[dict]:
    entries: list[dict] = []
    reply = family.get(f"/v1/me/access-log?{query}")
    while True:
        assert reply.status == 200, reply.body
        entries += reply.body["entries"]
        cursor = reply.body["next_cursor"]
        if cursor is None:
            return entries
        assert len(entries) < 50
        reply = family.get(f"/v1/me/access-log?{query}&cursor={quote(cursor, safe='')}")


def test_the_access_log_pages_through_lines_of_one_moment_each_once(client, family, token, clock):
    ahmad, fatima = family.members["Ahmad Khalid Al-Mutairi"], family.members["Fatima Ali Al-Mutairi"]
    for person in (ahmad, fatima, ahmad, fatima, ahmad):  # the clock stands still: five lines of one moment
        assert ask_eligibility(client, token, eligibility_request(person)).status == 200

    for limit in (1, 2, 4):
        entries = _access_log_pages(family, f"limit={limit}")
        assert len(entries) == 5, limit
        assert sorted(e["member_id"] for e in entries) == sorted([ahmad, fatima, ahmad, fatima, ahmad])
        assert {e["looked_up_at"] for e in entries} == {"2026-03-01T09:00:00+00:00"}


def test_the_access_log_s_before_is_a_moment_whatever_its_offset(client, family, token, clock):
    ahmad = family.members["Ahmad Khalid Al-Mutairi"]
    ask_eligibility(client, token, eligibility_request(ahmad))  # 09:00 UTC
    clock.shift(timedelta(hours=1))
    ask_eligibility(client, token, eligibility_request(ahmad))  # 10:00 UTC

    entries = _access_log_pages(family, "limit=1&before=" + quote("2026-03-01T12:30:00+03:00", safe=""))

    assert [e["looked_up_at"] for e in entries] == ["2026-03-01T09:00:00+00:00"]


@pytest.mark.parametrize("query", [
    "cursor=", "cursor=not-a-cursor", "cursor=%25%25%25", "cursor=" + "A" * 2000,
    "cursor=" + base64.urlsafe_b64encode(b"[1, 2]").decode().rstrip("="),
    "cursor=" + base64.urlsafe_b64encode(b'{"t": "2026-03-01T09:00:00+00:00", "l": 7, "s": "M"}').decode(),
    "cursor=" + base64.urlsafe_b64encode(b'{"t": "yesterday", "l": "000000000000000000000000", "s": "M"}').decode(),
    "cursor=" + base64.urlsafe_b64encode(b'{"t": "2026-03-01T09:00:00", "l": "000000000000000000000000", '
                                         b'"s": "M"}').decode(),
    "cursor=" + base64.urlsafe_b64encode(b'{"t": "0001-01-01T00:00:00+14:00", "l": "000000000000000000000000", '
                                         b'"s": "M"}').decode(),
    "cursor=" + base64.urlsafe_b64encode(b'{"t": "2026-03-01T09:00:00+00:00", "l": "000000000000000000000000", '
                                         b'"s": ""}').decode(),
    "cursor=" + base64.urlsafe_b64encode(b'\xff\xfe').decode(),
])
def test_a_cursor_that_is_not_one_we_gave_is_422_naming_it_never_500(client, family, token, query):
    reply = family.get(f"/v1/me/access-log?{query}")

    assert reply.status == 422, reply.body
    assert "cursor" in json.dumps(reply.body)


@pytest.mark.parametrize("before", ["yesterday", "2026-03-01T09:00:00", "0001-01-01T00:00:00+14:00",
                                    "9999-12-31T23:59:59-14:00"])
def test_a_before_that_is_not_a_moment_is_422_naming_it_never_500(client, family, token, before):
    reply = family.get(f"/v1/me/access-log?before={quote(before, safe='')}")

    assert reply.status == 422, reply.body
    assert "before" in json.dumps(reply.body)


def test_the_lookup_log_keeps_no_civil_id_and_is_kept_two_years(client, family, token):
    from chalicelib.providers.models import LookupRecord

    residence_id = f"R-{UNKNOWN_CIVIL_ID}"  # the member id a residence policy of that civil ID would have
    assert ask_eligibility(client, token, eligibility_request(UNKNOWN_CIVIL_ID)).status == 422
    assert ask_eligibility(client, token, eligibility_request(FATIMA_CIVIL_ID)).status == 200
    assert ask_eligibility(client, token, eligibility_request(residence_id)).status == 422
    assert search(client, token, residence_id).body["total"] == 0
    assert call(client, "GET", f"/fhir/Coverage/{residence_id}",
                headers={"Authorization": f"Bearer {token}"}).status == 404

    rows = list(LookupRecord.scan())
    stored = repr([row.attribute_values for row in rows])
    assert UNKNOWN_CIVIL_ID not in stored and FATIMA_CIVIL_ID not in stored
    unknown = [r for r in rows if r.account_id is None]
    assert len(unknown) == 4
    # The bare civil ID and R-<civil ID>, by eligibility, search or read: one keyed hash, so repeats still show.
    assert len({r.subject for r in unknown}) == 1
    assert unknown[0].subject.startswith("civil:") and len(unknown[0].subject) == len("civil:") + 64
    for row in rows:
        kept = row.expires_ttl - datetime.fromisoformat(row.looked_up_at)
        assert timedelta(days=729, hours=23) < kept <= timedelta(days=730)


def test_a_provider_s_lookups_are_rate_limited(client, family, token, monkeypatch):
    from chalicelib.providers import wiring

    deps = wiring.provider_deps()
    monkeypatch.setattr(deps, "settings", type(deps.settings)(**{**deps.settings.__dict__, "lookups_per_minute": 3}))
    ahmad = family.members["Ahmad Khalid Al-Mutairi"]
    statuses = [ask_eligibility(client, token, eligibility_request(ahmad)).status for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    reply = search(client, token, ahmad)
    assert reply.status == 429 and valid_fhir(reply.body).issue[0].code == "throttled"
    assert 0 < int(reply.headers["Retry-After"]) <= 60


def test_a_disabled_provider_is_refused_at_once(client, aws, family):
    from chalicelib.providers.use_cases import disable_provider
    from chalicelib.providers.wiring import provider_deps

    client_id, secret = new_provider()
    token = provider_token(client, client_id, secret)
    disable_provider(provider_deps(), client_id)

    reply = search(client, token, FATIMA_CIVIL_ID)

    assert reply.status == 401 and valid_fhir(reply.body).issue[0].code == "login"


@pytest.mark.parametrize(("body", "where"), [
    ("[1, 2]", "CoverageEligibilityRequest"),
    ('{"resourceType": "Patient"}', "CoverageEligibilityRequest.resourceType"),
    ('{"resourceType": "CoverageEligibilityRequest", "purpose": "validation", "patient": {}}',
     "CoverageEligibilityRequest.purpose"),
    ('{"resourceType": "CoverageEligibilityRequest", "purpose": ["benefits"], "patient": {}}',
     "CoverageEligibilityRequest.purpose"),
    ('{"resourceType": "CoverageEligibilityRequest", "purpose": ["validation"], "patient": []}',
     "CoverageEligibilityRequest.patient"),
    ('{"resourceType": "CoverageEligibilityRequest", "purpose": ["validation"], "patient": {"identifier": 7}}',
     "CoverageEligibilityRequest.patient.identifier"),
    ('{"resourceType": "CoverageEligibilityRequest", "purpose": ["validation"], '
     '"patient": {"identifier": {"value": 287070201212}}}', "CoverageEligibilityRequest.patient.identifier.value"),
    ('{"resourceType": "CoverageEligibilityRequest", "purpose": ["validation"], "servicedDate": "tomorrow", '
     '"patient": {"identifier": {"value": "287070201212"}}}', "CoverageEligibilityRequest.servicedDate"),
    ('{"resourceType": "CoverageEligibilityRequest", "purpose": ["validation"], "patient": {"reference": "#x"}, '
     '"contained": {"a": 1}}', "CoverageEligibilityRequest.contained"),
    ('{"resourceType": "CoverageEligibilityRequest", "purpose": ["validation"], "patient": {"reference": "#p"}, '
     '"contained": [{"resourceType": "Patient", "id": "p", "identifier": [{"value": "287070201212"}], '
     '"name": [{"given": "Fatima"}]}]}', "CoverageEligibilityRequest.contained[0].name[0].given"),
    ("[" * 5000 + "]" * 5000, "CoverageEligibilityRequest"),
    ('{"a": 1, "a": 2}', "CoverageEligibilityRequest"),
    ("not json", "CoverageEligibilityRequest"),
])
def test_hostile_or_wrong_bodies_are_400_naming_the_field_never_500(client, family, token, body, where):
    reply = call(client, "POST", "/fhir/CoverageEligibilityRequest", raw=body,
                 headers={"Content-Type": "application/fhir+json", "Authorization": f"Bearer {token}"})

    assert reply.status == 400, reply.body
    outcome = valid_fhir(reply.body)
    assert outcome.issue[0].expression == [where]


def test_a_huge_body_is_refused_before_it_is_read(client, family, token):
    reply = call(client, "POST", "/fhir/CoverageEligibilityRequest", raw='{"x": "' + "a" * 70000 + '"}',
                 headers={"Content-Type": "application/fhir+json", "Authorization": f"Bearer {token}"})

    assert reply.status == 413 and valid_fhir(reply.body).issue[0].code == "too-costly"


def test_a_paid_residence_policy_is_found_by_civil_id_and_its_payer_sees_the_lookup(client, api, clock):
    from tests.api.premium_support import INSURED, choose_on_page, make_payer

    payer = make_payer(api)
    choose_on_page(api, payer.started_payment(key="first"), "approved")
    token = provider_token(client, *new_provider("Mubarak Al-Kabeer Hospital"))

    reply = ask_eligibility(client, token, eligibility_request(INSURED, name="Ahmed Ali"))

    assert reply.status == 200, reply.body
    (insurance,) = valid_fhir(reply.body).insurance
    assert insurance.coverage.identifier.value == f"R-{INSURED}" and insurance.inforce is True
    clock.shift(timedelta(seconds=1))
    read = call(client, "GET", f"/fhir/Coverage/R-{INSURED}", headers={"Authorization": f"Bearer {token}"})
    assert valid_fhir(read.body).class_fhir[0].value == "RESIDENCE"
    log = payer.call("GET", "/v1/me/access-log").body["entries"]
    assert [(e["member_id"], e["interaction"], e["provider"]["name"]) for e in log] == [
        (f"R-{INSURED}", "coverage_read", "Mubarak Al-Kabeer Hospital"),
        (f"R-{INSURED}", "eligibility", "Mubarak Al-Kabeer Hospital")]


@pytest.mark.parametrize("content_type", ["application/fhir+json; charset=utf-8",
                                          "application/fhir+json;fhirVersion=4.0", "application/json"])
def test_fhir_json_is_taken_with_its_parameters_and_plain_json_too(client, family, token, content_type):
    reply = ask_eligibility(client, token, eligibility_request(family.members["Ahmad Khalid Al-Mutairi"]),
                            content_type)

    assert reply.status == 200, reply.body
