"""Provider use cases: credentials (admin), the token endpoint, eligibility and coverage lookups, the access log."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from chalicelib.logs import log_event
from chalicelib.providers.errors import FhirProblem, OAuthProblem, ProviderNotFound, not_found
from chalicelib.providers.fhir import coverage, eligibility_response, search_bundle
from chalicelib.providers.fhir_requests import EligibilityQuestion
from chalicelib.providers.ports import ProviderDeps
from chalicelib.providers.rules import (
    DETAILS_MISMATCH,
    ELIGIBILITY,
    IN_FORCE,
    LISTED,
    NOT_FOUND,
    NOT_IN_FORCE,
    READ,
    SCOPE,
    SEARCH,
    Cover,
    LogPosition,
    LookupEntry,
    PersonId,
    Provider,
    civil_id_hmac,
    civil_id_in,
    encode_cursor,
    failed_auth_key,
    name_matches,
    new_client_id,
    new_client_secret,
    new_lookup_id,
    position_of,
    retention,
    same_secret,
    secret_hash,
    utc,
)

MAX_PROVIDER_NAME = 120


# --- credentials (the admin commands) -------------------------------------------------------------

def create_provider(deps: ProviderDeps, name: str) -> tuple[Provider, str]:
    """A new active provider and its secret, shown this once (only its hash is stored)."""
    name = " ".join(name.split())
    if not name or len(name) > MAX_PROVIDER_NAME:
        raise ValueError(f"a provider's name is 1 to {MAX_PROVIDER_NAME} characters")
    secret = new_client_secret()
    provider = Provider(client_id=new_client_id(), name=name, secret_hash=secret_hash(secret), status="active",
                        secret_version=1, created_at=deps.now())
    deps.providers.create(provider)
    log_event("provider_created", client_id=provider.client_id)
    return provider, secret


def disable_provider(deps: ProviderDeps, client_id: str) -> Provider:
    """The provider gets no new token, and the tokens it holds stop working at its next request."""
    provider = _existing(deps, client_id)
    saved = deps.providers.save(replace(provider, status="disabled"))
    log_event("provider_disabled", client_id=client_id)
    return saved


def rotate_provider_secret(deps: ProviderDeps, client_id: str) -> tuple[Provider, str]:
    """A new secret replaces the old one at once; tokens issued with the old one stop working too."""
    provider = _existing(deps, client_id)
    secret = new_client_secret()
    saved = deps.providers.save(replace(provider, secret_hash=secret_hash(secret),
                                        secret_version=provider.secret_version + 1))
    log_event("provider_secret_rotated", client_id=client_id)
    return saved, secret


def _existing(deps: ProviderDeps, client_id: str) -> Provider:
    provider = deps.providers.get(client_id)
    if provider is None:
        raise ProviderNotFound(client_id)
    return provider


# --- the token endpoint (RFC 6749 section 4.4) -------------------------------------------------------

def _basic_challenge() -> dict[str, str]:
    return {"WWW-Authenticate": 'Basic realm="fhir", charset="UTF-8"'}


def token_for_client(deps: ProviderDeps, client_id: str | None, client_secret: str | None,
                     grant_type: str | None, scope: str | None) -> dict[str, Any]:
    """An access token for a provider authenticated by its client id and secret (client_credentials)."""
    if not client_id or client_secret is None:
        raise OAuthProblem(401, "invalid_client", "Authenticate the client with HTTP Basic (client id and secret).",
                           _basic_challenge())
    now = deps.now()
    settings = deps.settings
    # The secret is checked first and the right one always gets a token: it is 256 random bits, so guessing
    # is no risk, and a client id is no secret (anyone who saw one could otherwise lock the hospital out).
    # Only failures are counted (hashed client id, a fixed window); past the limit they are 429, not 401.
    provider = deps.providers.get(client_id)
    if provider is None or not same_secret(provider.secret_hash, client_secret) or not provider.active:
        window = timedelta(seconds=settings.failed_auth_window_s)
        if not deps.counters.take(failed_auth_key(client_id), settings.failed_auth_limit, window, now):
            log_event("provider_auth_throttled", known=provider is not None)
            raise OAuthProblem(429, "temporarily_unavailable", "Too many failed authentications; try again later.",
                               {"Retry-After": str(_seconds_left(now, window))})
        log_event("provider_auth_failed", known=provider is not None)
        raise OAuthProblem(401, "invalid_client", "Client authentication failed.", _basic_challenge())
    if not grant_type:
        raise OAuthProblem(400, "invalid_request", "grant_type is required (client_credentials).")
    if grant_type != "client_credentials":
        raise OAuthProblem(400, "unsupported_grant_type", "Only grant_type client_credentials is supported.")
    if scope is not None and set(scope.split()) - {SCOPE}:
        raise OAuthProblem(400, "invalid_scope", f"The only scope is {SCOPE}.")
    token = deps.issue_token(provider, now, settings.token_lifetime_s)
    log_event("provider_token_issued", client_id=provider.client_id)
    return {"access_token": token, "token_type": "Bearer", "expires_in": settings.token_lifetime_s, "scope": SCOPE}


def _seconds_left(now: datetime, window: timedelta) -> int:
    length = int(window.total_seconds())
    return length - int(now.timestamp()) % length


# --- lookups ----------------------------------------------------------------------------------------

def provider_of_token(deps: ProviderDeps, claims: dict[str, str]) -> Provider:
    """The provider a verified token speaks for, if it is still active and its secret not rotated since."""
    provider = deps.providers.get(claims.get("client_id") or "")
    if provider is None or not provider.active or str(provider.secret_version) != claims.get("secret_version"):
        raise FhirProblem(401, "login", "This access token is no longer valid; get a new one at /oauth2/token.",
                          headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return provider


def _throttle(deps: ProviderDeps, provider: Provider, now: datetime) -> None:
    window = timedelta(minutes=1)
    if not deps.counters.take(f"fhir#{provider.client_id}", deps.settings.lookups_per_minute, window, now):
        log_event("provider_throttled", client_id=provider.client_id)
        raise FhirProblem(429, "throttled", f"At most {deps.settings.lookups_per_minute} lookups a minute; "
                          "try again shortly.", headers={"Retry-After": str(_seconds_left(now, window))})


def _covers_of(deps: ProviderDeps, person: PersonId) -> list[Cover]:
    if person.kind == "civil":
        return deps.insured.by_civil_id(person.value)
    cover = deps.insured.by_member_id(person.value)
    return [cover] if cover is not None else []


def _entry(base: LookupEntry, outcome: str, cover: Cover | None) -> LookupEntry:
    if cover is None:
        return replace(base, outcome=outcome)
    return replace(base, outcome=outcome, subject=cover.member_id, member_id=cover.member_id,
                   account_id=cover.account_id)


def _nobody(deps: ProviderDeps, person: PersonId) -> str:
    # An identifier nobody holds: a civil ID, bare or in a residence member id (R-<civil ID>), is kept only as
    # its HMAC (it may be a real person's number the provider mistyped; both forms give the same value); a
    # group member id as given (it names no person).
    civil_id = civil_id_in(person)
    if civil_id is not None:
        return f"civil:{civil_id_hmac(deps.civil_id_hmac_key(), civil_id)}"
    return f"member:{person.value}"


def check_eligibility(deps: ProviderDeps, provider: Provider, question: EligibilityQuestion) -> dict[str, Any]:
    """Whether the person the provider names is covered on the service date: a CoverageEligibilityResponse.

    Logged whatever the answer. A name or birth date that doesn't match is answered exactly as an
    identifier nobody holds (the provider learns nothing), and shows in the person's access log.
    """
    now = deps.now()
    _throttle(deps, provider, now)
    lookup_id = new_lookup_id(now)
    base = LookupEntry(lookup_id=lookup_id, subject="",
                       provider_id=provider.client_id, provider_name=provider.name, looked_up_at=now,
                       interaction=ELIGIBILITY, purpose="validation", outcome=NOT_FOUND,
                       service_date=question.serviced,
                       expires_at=retention(now, deps.settings.lookup_retention_days))
    covers = _covers_of(deps, question.person)
    confirmed = [c for c in covers
                 if (question.birth_date is None or c.birth_date == question.birth_date)
                 and (question.name is None or name_matches(question.name, c))]
    if not confirmed:
        entries = [_entry(base, DETAILS_MISMATCH, c) for c in covers] or \
            [replace(base, subject=_nobody(deps, question.person))]
        deps.log.append(entries)
        log_event("eligibility_checked", client_id=provider.client_id, outcome=NOT_FOUND, lookup_id=lookup_id)
        raise not_found()
    deps.log.append([_entry(base, IN_FORCE if c.in_force(question.serviced) else NOT_IN_FORCE, c)
                     for c in confirmed])
    log_event("eligibility_checked", client_id=provider.client_id, outcome="complete", lookup_id=lookup_id,
              covers=len(confirmed))
    return eligibility_response(lookup_id=lookup_id, created=now, person=question.person,
                                serviced=question.serviced, covers=confirmed, insurer=deps.insurer,
                                base_url=deps.base_url, request_identifier=question.request_identifier)


def search_coverage(deps: ProviderDeps, provider: Provider, person: PersonId, self_url: str) -> dict[str, Any]:
    """The person's coverages as a searchset Bundle (none: an empty Bundle whose outcome says not-found)."""
    now = deps.now()
    _throttle(deps, provider, now)
    lookup_id = new_lookup_id(now)
    base = LookupEntry(lookup_id=lookup_id, subject="", provider_id=provider.client_id,
                       provider_name=provider.name, looked_up_at=now, interaction=SEARCH, purpose="search",
                       outcome=NOT_FOUND, expires_at=retention(now, deps.settings.lookup_retention_days))
    covers = _covers_of(deps, person)
    deps.log.append([_entry(base, LISTED, c) for c in covers]
                    or [replace(base, subject=_nobody(deps, person))])
    log_event("coverage_searched", client_id=provider.client_id, found=len(covers), lookup_id=lookup_id)
    return search_bundle(covers=covers, insurer=deps.insurer, on=deps.today(now), base_url=deps.base_url,
                         self_url=self_url, not_found=None if covers else "No coverage matches this identifier.")


def read_coverage(deps: ProviderDeps, provider: Provider, member_id: PersonId) -> dict[str, Any]:
    """One Coverage by its id (the member id), as the references of the other answers name it."""
    now = deps.now()
    _throttle(deps, provider, now)
    lookup_id = new_lookup_id(now)
    base = LookupEntry(lookup_id=lookup_id, subject="", provider_id=provider.client_id,
                       provider_name=provider.name, looked_up_at=now, interaction=READ, purpose="read",
                       outcome=NOT_FOUND, expires_at=retention(now, deps.settings.lookup_retention_days))
    cover = deps.insured.by_member_id(member_id.value)
    found = _entry(base, LISTED, cover) if cover is not None else replace(base, subject=_nobody(deps, member_id))
    deps.log.append([found])
    log_event("coverage_read", client_id=provider.client_id, found=cover is not None, lookup_id=lookup_id)
    if cover is None:
        raise FhirProblem(404, "not-found", "No coverage has this id.", expression="Coverage.id")
    return coverage(cover, deps.insurer, deps.today(now))


# --- the insured person's view ------------------------------------------------------------------------

def access_log(deps: ProviderDeps, account_id: str, limit: int = 50, before: datetime | None = None,
               after: LogPosition | None = None) -> dict[str, Any]:
    """Which provider looked up which of the account's people, when, why and what it was told; newest first.

    A page goes on from `after` (the position next_cursor carries) and/or holds only lines before `before`.
    The provider is shown by its name only: its client id is a credential's half, not for every member to read.
    """
    entries = deps.log.of_account(account_id, limit + 1, before, after)
    people = deps.people_of_account(account_id) if entries else {}
    shown = entries[:limit]
    items = []
    for entry in shown:
        name_en, name_ar, relationship = people.get(entry.member_id or "", ("", "", ""))
        items.append({
            "looked_up_at": utc(entry.looked_up_at).isoformat(),
            "provider": {"name": entry.provider_name},
            "member_id": entry.member_id,
            "name": {"en": name_en, "ar": name_ar} if name_en or name_ar else None,
            "relationship": relationship or None,
            "interaction": entry.interaction,
            "purpose": entry.purpose,
            "service_date": entry.service_date.isoformat() if entry.service_date else None,
            "outcome": entry.outcome,
        })
    more = len(entries) > limit
    return {"entries": items, "next_cursor": encode_cursor(position_of(shown[-1])) if more and shown else None}
