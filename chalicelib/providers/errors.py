"""What a provider is told when a request fails: FHIR OperationOutcomes and OAuth 2.0 errors.

Neither is the mobile app's error envelope: FHIR clients read an OperationOutcome (its issue code
says what kind of failure), OAuth clients read RFC 6749's {"error": ...}. Both are raised by the use
cases and turned into responses by the api module.
"""

from __future__ import annotations

from collections.abc import Mapping


class FhirProblem(Exception):
    """A request answered with an OperationOutcome: HTTP status, issue code, what went wrong and where."""

    def __init__(self, status: int, code: str, diagnostics: str, *, expression: str | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{status} {code}: {diagnostics}")
        self.status = status
        self.code = code
        self.diagnostics = diagnostics
        self.expression = expression
        self.headers = dict(headers or {})


def invalid(diagnostics: str, expression: str, code: str = "invalid") -> FhirProblem:
    """400: the request itself is wrong (a field missing, of the wrong type, or an identifier that can't be one)."""
    return FhirProblem(400, code, diagnostics, expression=expression)


# One answer for a person we can't answer for, whatever the reason (nobody holds the identifier, or the
# name or birth date given to confirm them does not match): telling them apart would tell a provider
# that a civil ID belongs to somebody.
NOT_FOUND_TEXT = "No insured person matches this identifier and the details given."


def not_found() -> FhirProblem:
    # 422, not 404: the request was understood and well formed; 404 reads to generic HTTP clients as
    # "no such endpoint" (FHIR uses 422 for requests that fail the server's business rules).
    return FhirProblem(422, "not-found", NOT_FOUND_TEXT, expression="CoverageEligibilityRequest.patient")


class OAuthProblem(Exception):
    """An RFC 6749 section 5.2 error response of the token endpoint."""

    def __init__(self, status: int, error: str, description: str,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{status} {error}: {description}")
        self.status = status
        self.error = error
        self.description = description
        self.headers = dict(headers or {})


class ProviderTokenRejected(Exception):
    """A bearer token that is not a valid provider access token (the authorizer denies it)."""


class ProviderNotFound(Exception):
    """The admin command named a client id that does not exist, or a change lost to another one."""


class StaleProvider(Exception):
    """A provider changed between reading it and saving the change: nothing was written."""
