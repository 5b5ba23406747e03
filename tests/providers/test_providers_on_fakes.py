"""Provider credentials, the token endpoint, eligibility, throttles and the lookup log, on fakes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.kernel.civil_id import compose_civil_id
from chalicelib.providers import use_cases as uc
from chalicelib.providers.errors import FhirProblem, OAuthProblem, StaleProvider
from chalicelib.providers.fhir_requests import EligibilityQuestion
from chalicelib.providers.rules import PersonId, civil_id_hmac, decode_cursor, name_matches, secret_hash
from tests.providers.fakes import World, cover

CIVIL_ID = compose_civil_id(date(1984, 3, 12), "1234")
UNKNOWN_CIVIL_ID = compose_civil_id(date(1990, 1, 2), "5678")


def provider_with_secret(world: World, name: str = "Al-Amiri Hospital"):
    return uc.create_provider(world.deps, name)


def token(world: World, client_id: str | None, secret: str | None, grant: str | None = "client_credentials",
          scope: str | None = None) -> dict:
    return uc.token_for_client(world.deps, client_id, secret, grant, scope)


def ask(world: World, provider, person: PersonId, **kw) -> dict:
    serviced = kw.pop("serviced", date(2026, 3, 1))
    return uc.check_eligibility(world.deps, provider, EligibilityQuestion(person=person, serviced=serviced, **kw))


# --- credentials and tokens --------------------------------------------------------------------------------

def test_a_new_provider_gets_a_secret_of_which_only_a_hash_is_stored(world):
    provider, secret = provider_with_secret(world)

    stored = world.providers.get(provider.client_id)
    assert stored is not None and stored.active
    assert stored.secret_hash == secret_hash(secret) and secret not in stored.secret_hash
    assert len(secret) >= 43  # 256 bits


def test_the_right_client_secret_gets_a_short_lived_coverage_read_token(world):
    provider, secret = provider_with_secret(world)

    answer = token(world, provider.client_id, secret)

    assert answer == {"access_token": "token-1", "token_type": "Bearer", "expires_in": 600, "scope": "coverage.read"}
    assert token(world, provider.client_id, secret, scope="coverage.read")["scope"] == "coverage.read"


@pytest.mark.parametrize("who", ["wrong_secret", "unknown_client", "no_credentials", "disabled"])
def test_bad_client_authentication_is_401_invalid_client_with_a_basic_challenge(world, who):
    provider, secret = provider_with_secret(world)
    client_id, given = provider.client_id, secret
    if who == "wrong_secret":
        given = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    elif who == "unknown_client":
        client_id = "prv-0000000000000000"
    elif who == "no_credentials":
        client_id, given = None, None
    else:
        uc.disable_provider(world.deps, provider.client_id)

    with pytest.raises(OAuthProblem) as problem:
        token(world, client_id, given)

    assert (problem.value.status, problem.value.error) == (401, "invalid_client")
    assert problem.value.headers["WWW-Authenticate"].startswith("Basic")
    assert world.issued == []


@pytest.mark.parametrize(("grant", "scope", "error"), [
    (None, None, "invalid_request"), ("password", None, "unsupported_grant_type"),
    ("client_credentials", "coverage.write", "invalid_scope"),
])
def test_a_wrong_grant_or_scope_is_an_rfc_6749_error(world, grant, scope, error):
    provider, secret = provider_with_secret(world)

    with pytest.raises(OAuthProblem) as problem:
        token(world, provider.client_id, secret, grant, scope)

    assert (problem.value.status, problem.value.error) == (400, error)


def test_the_right_secret_always_gets_a_token_and_only_failures_are_counted_and_throttled(world):
    provider, secret = provider_with_secret(world)
    for _ in range(10):
        with pytest.raises(OAuthProblem) as failed:
            token(world, provider.client_id, "guess")
        assert failed.value.status == 401

    # Anyone can send failures for a client id it saw: the hospital holding the secret is never locked out.
    assert token(world, provider.client_id, secret)["token_type"] == "Bearer"
    with pytest.raises(OAuthProblem) as problem:
        token(world, provider.client_id, "guess")  # the 11th failure in the window
    assert (problem.value.status, problem.value.error) == (429, "temporarily_unavailable")
    assert 0 < int(problem.value.headers["Retry-After"]) <= 900
    assert token(world, provider.client_id, secret)["token_type"] == "Bearer"
    assert len(world.issued) == 2

    world.clock.shift(timedelta(minutes=15))
    with pytest.raises(OAuthProblem) as forgiven:
        token(world, provider.client_id, "guess")
    assert forgiven.value.status == 401


def test_successes_spend_no_failure_budget(world):
    provider, secret = provider_with_secret(world)
    for _ in range(20):
        token(world, provider.client_id, secret)

    with pytest.raises(OAuthProblem) as problem:
        token(world, provider.client_id, "guess")
    assert problem.value.status == 401
    assert sum(world.counters.counts.values()) == 1


def test_a_disabled_provider_gets_no_token_even_with_the_right_secret_and_is_counted_as_a_failure(world):
    provider, secret = provider_with_secret(world)
    uc.disable_provider(world.deps, provider.client_id)
    for _ in range(10):
        with pytest.raises(OAuthProblem):
            token(world, provider.client_id, secret)

    with pytest.raises(OAuthProblem) as problem:
        token(world, provider.client_id, secret)
    assert problem.value.status == 429 and world.issued == []


def test_rotating_the_secret_ends_the_old_secret_and_the_tokens_issued_with_it(world):
    provider, old = provider_with_secret(world)
    claims = {"client_id": provider.client_id, "secret_version": "1"}
    assert uc.provider_of_token(world.deps, claims).client_id == provider.client_id

    rotated, new = uc.rotate_provider_secret(world.deps, provider.client_id)

    assert new != old and rotated.secret_version == 2
    with pytest.raises(OAuthProblem):
        token(world, provider.client_id, old)
    assert token(world, provider.client_id, new)["token_type"] == "Bearer"
    with pytest.raises(FhirProblem) as problem:
        uc.provider_of_token(world.deps, claims)
    assert (problem.value.status, problem.value.code) == (401, "login")
    assert uc.provider_of_token(world.deps, {**claims, "secret_version": "2"}).secret_version == 2


def test_a_disabled_provider_s_tokens_stop_working_at_its_next_request(world):
    provider, _ = provider_with_secret(world)
    uc.disable_provider(world.deps, provider.client_id)

    with pytest.raises(FhirProblem) as problem:
        uc.provider_of_token(world.deps, {"client_id": provider.client_id, "secret_version": "1"})
    assert problem.value.status == 401


def test_a_change_saved_over_another_is_refused(world):
    provider, _ = provider_with_secret(world)
    stale = world.providers.get(provider.client_id)
    uc.disable_provider(world.deps, provider.client_id)

    with pytest.raises(StaleProvider):
        world.providers.save(replace(stale, name="renamed"))


# --- eligibility ----------------------------------------------------------------------------------------------

@pytest.fixture
def provider(world):
    return provider_with_secret(world)[0]


def test_a_member_in_force_on_the_service_date_is_answered_in_force_with_the_coverage(world, provider):
    world.insured.add(cover(), civil_id=CIVIL_ID)

    answer = ask(world, provider, PersonId("member", "ABCDEFGHJKMN0"))

    assert answer["outcome"] == "complete"
    (insurance,) = answer["insurance"]
    assert insurance["inforce"] is True
    assert insurance["coverage"]["reference"].endswith("/fhir/Coverage/ABCDEFGHJKMN0")
    assert insurance["item"][0]["name"] == "Gold"
    (entry,) = world.log.entries
    assert (entry.member_id, entry.account_id, entry.outcome, entry.provider_id) == (
        "ABCDEFGHJKMN0", "acct-1", "in_force", provider.client_id)
    assert entry.expires_at == world.clock() + timedelta(days=730)


def test_cover_out_of_its_dates_or_terminated_is_answered_not_in_force_not_as_an_error(world, provider):
    world.insured.add(cover(), civil_id=CIVIL_ID)
    world.insured.add(cover("TERM0000000000"[:13], ended=True, account_id="acct-2"))

    later = ask(world, provider, PersonId("member", "ABCDEFGHJKMN0"), serviced=date(2027, 1, 1))
    ended = ask(world, provider, PersonId("member", "TERM000000000"))

    assert later["insurance"][0]["inforce"] is False
    assert ended["insurance"][0]["inforce"] is False and ended["outcome"] == "complete"
    assert [e.outcome for e in world.log.entries] == ["not_in_force", "not_in_force"]


def test_a_civil_id_lists_every_coverage_of_that_person(world, provider):
    world.insured.add(cover(), civil_id=CIVIL_ID)
    world.insured.add(cover(f"R-{CIVIL_ID}", kind="residence", valid_to=date(2026, 2, 1)), civil_id=CIVIL_ID)

    answer = ask(world, provider, PersonId("civil", CIVIL_ID))

    assert [i["inforce"] for i in answer["insurance"]] == [True, False]


def _problem(call) -> FhirProblem:
    with pytest.raises(FhirProblem) as raised:
        call()
    return raised.value


def test_unknown_person_wrong_name_and_wrong_birth_date_get_the_very_same_answer(world, provider):
    world.insured.add(cover(), civil_id=CIVIL_ID)

    unknown = _problem(lambda: ask(world, provider, PersonId("civil", UNKNOWN_CIVIL_ID)))
    wrong_name = _problem(lambda: ask(world, provider, PersonId("civil", CIVIL_ID), name="Omar Saleh"))
    wrong_birth = _problem(lambda: ask(world, provider, PersonId("civil", CIVIL_ID), birth_date=date(1985, 3, 12)))

    answers = {(p.status, p.code, p.diagnostics, p.expression) for p in (unknown, wrong_name, wrong_birth)}
    assert answers == {(422, "not-found", unknown.diagnostics, "CoverageEligibilityRequest.patient")}


def test_an_unknown_civil_id_is_logged_only_as_its_hmac_and_a_mismatch_shows_to_the_person(world, provider):
    world.insured.add(cover(), civil_id=CIVIL_ID)
    _problem(lambda: ask(world, provider, PersonId("civil", UNKNOWN_CIVIL_ID)))
    _problem(lambda: ask(world, provider, PersonId("civil", CIVIL_ID), name="Omar Saleh"))

    unknown, mismatch = world.log.entries
    assert unknown.subject == f"civil:{civil_id_hmac(b'k' * 32, UNKNOWN_CIVIL_ID)}"
    assert UNKNOWN_CIVIL_ID not in repr(unknown) and unknown.account_id is None and unknown.member_id is None
    assert (mismatch.outcome, mismatch.account_id) == ("details_mismatch", "acct-1")


def test_an_unknown_residence_member_id_is_logged_as_its_civil_id_s_hmac_never_as_given(world, provider):
    # R-<civil ID> is a residence policy's member id: for nobody's, the civil ID in it is kept as for the bare form.
    _problem(lambda: ask(world, provider, PersonId("member", f"R-{UNKNOWN_CIVIL_ID}")))
    uc.search_coverage(world.deps, provider, PersonId("member", f"R-{UNKNOWN_CIVIL_ID}"), "self")
    _problem(lambda: uc.read_coverage(world.deps, provider, PersonId("member", f"R-{UNKNOWN_CIVIL_ID}")))
    _problem(lambda: ask(world, provider, PersonId("member", "ZZZZZZZZZZZZZ")))

    *residence, group = world.log.entries
    hmac_subject = f"civil:{civil_id_hmac(b'k' * 32, UNKNOWN_CIVIL_ID)}"
    assert [e.subject for e in residence] == [hmac_subject] * 3
    assert UNKNOWN_CIVIL_ID not in repr(world.log.entries)
    assert group.subject == "member:ZZZZZZZZZZZZZ"  # a group member id names no person: kept as given


def test_matching_details_confirm_whatever_the_spelling(world, provider):
    world.insured.add(cover(), civil_id=CIVIL_ID)

    answer = ask(world, provider, PersonId("civil", CIVIL_ID), name="ahmad AL MUTAIRI", birth_date=date(1984, 3, 12))

    assert answer["insurance"][0]["inforce"] is True


@pytest.mark.parametrize(("given", "matches"), [
    ("Ahmad Khalid Al-Mutairi", True), ("al-mutairi ahmad", True), ("Ahmad Almutairi", True),
    ("أحمد المطيري", True), ("احمد المطيري", True), ("Ahmad Smith", False), ("", False), ("  ", False),
])
def test_names_match_by_their_words(given, matches):
    assert name_matches(given, cover()) is matches


def test_a_provider_s_lookups_are_rate_limited_per_minute(world, provider):
    world.insured.add(cover())
    other, _ = provider_with_secret(world, "Another Clinic")
    for _ in range(60):
        ask(world, provider, PersonId("member", "ABCDEFGHJKMN0"))

    throttled = _problem(lambda: ask(world, provider, PersonId("member", "ABCDEFGHJKMN0")))
    assert (throttled.status, throttled.code) == (429, "throttled")
    assert ask(world, other, PersonId("member", "ABCDEFGHJKMN0"))["outcome"] == "complete"  # per provider
    world.clock.shift(timedelta(minutes=1))
    assert ask(world, provider, PersonId("member", "ABCDEFGHJKMN0"))["outcome"] == "complete"


def test_a_coverage_search_lists_the_person_s_coverages_or_says_none_matched(world, provider):
    world.insured.add(cover(), civil_id=CIVIL_ID)

    found = uc.search_coverage(world.deps, provider, PersonId("civil", CIVIL_ID), "self")
    none = uc.search_coverage(world.deps, provider, PersonId("civil", UNKNOWN_CIVIL_ID), "self")

    assert found["total"] == 1 and found["entry"][0]["resource"]["id"] == "ABCDEFGHJKMN0"
    assert none["total"] == 0
    assert none["entry"][0]["resource"]["issue"][0]["code"] == "not-found"
    assert [e.outcome for e in world.log.entries] == ["listed", "not_found"]


# --- the access log ------------------------------------------------------------------------------------------

def test_the_access_log_lists_the_account_s_people_only_newest_first_page_by_page(world, provider):
    world.insured.add(cover())
    world.insured.add(cover("CHILD00000000", name_en="Yousef Ahmad", relationship="child"))
    world.insured.add(cover("STRANGER00000", account_id="acct-9", name_en="Someone Else"))
    for member_id in ("ABCDEFGHJKMN0", "STRANGER00000", "CHILD00000000"):
        ask(world, provider, PersonId("member", member_id))
        world.clock.shift(timedelta(minutes=5))

    first = uc.access_log(world.deps, "acct-1", limit=1)
    second = uc.access_log(world.deps, "acct-1", limit=1, after=decode_cursor(first["next_cursor"]))

    (newest,) = first["entries"]
    assert (newest["member_id"], newest["name"]["en"], newest["relationship"]) == ("CHILD00000000", "Yousef Ahmad",
                                                                                    "child")
    assert newest["provider"] == {"name": "Al-Amiri Hospital"}
    assert provider.client_id not in repr(first)  # every member reads it: a client id there is anyone's
    assert newest["outcome"] == "in_force" and newest["purpose"] == "validation"
    assert first["next_cursor"] is not None
    assert [e["member_id"] for e in second["entries"]] == ["ABCDEFGHJKMN0"] and second["next_cursor"] is None


def _all_pages(world: World, limit: int, **kw) -> list[dict]:
    seen: list[dict] = []
    page = uc.access_log(world.deps, "acct-1", limit=limit, **kw)
    seen += page["entries"]
    while page["next_cursor"] is not None:
        page = uc.access_log(world.deps, "acct-1", limit=limit, after=decode_cursor(page["next_cursor"]), **kw)
        seen += page["entries"]
        assert len(seen) < 100
    return seen


def test_lines_of_one_moment_are_each_listed_once_whatever_the_page_size(world, provider):
    # One lookup by civil ID writes a line per coverage, all at the same time; two more lookups at that time too.
    for n in range(3):
        world.insured.add(cover(f"MEMBER{n:07d}"), civil_id=CIVIL_ID)
    ask(world, provider, PersonId("civil", CIVIL_ID))
    uc.search_coverage(world.deps, provider, PersonId("civil", CIVIL_ID), "self")
    world.clock.shift(timedelta(seconds=-1))
    ask(world, provider, PersonId("member", "MEMBER0000000"))  # older

    lines = {(e.lookup_id, e.subject) for e in world.log.entries}
    assert len(lines) == 7
    for limit in (1, 2, 3, 4, 6, 7, 50):
        listed = _all_pages(world, limit)
        assert len(listed) == 7, limit
        assert [e["interaction"] for e in listed][-1] == "eligibility"
        assert [e["looked_up_at"] for e in listed] == sorted((e["looked_up_at"] for e in listed), reverse=True)


def test_before_is_a_moment_whatever_its_offset(world, provider):
    world.insured.add(cover())
    ask(world, provider, PersonId("member", "ABCDEFGHJKMN0"))  # 09:00 UTC
    world.clock.shift(timedelta(hours=1))
    ask(world, provider, PersonId("member", "ABCDEFGHJKMN0"))  # 10:00 UTC

    kuwait = timezone(timedelta(hours=3))
    listed = _all_pages(world, 1, before=datetime(2026, 3, 1, 12, 30, tzinfo=kuwait))  # 09:30 UTC

    assert [e["looked_up_at"] for e in listed] == ["2026-03-01T09:00:00+00:00"]
