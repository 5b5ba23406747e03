"""The residence-premium part of the OpenAPI document (merged by chalicelib/health/openapi.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# A policy number RH-YY-XXXX-XXXC: its 31-letter alphabet (premiums/policy_numbers.py), no 0, O, 1, I or L.
NUMBER_PART = "[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}"

FILS = {"type": "integer", "description": "integer fils (1 KWD = 1000 fils)"}
KWD = {"type": "string", "enum": ["KWD"]}
DATE = {"type": "string", "format": "date"}
# Sponsor name and civil ID may be left out when the insured sponsors themselves.
APPLICATION_REQUIRED = ("insured_civil_id", "insured_name", "category", "kind", "passport_expiry", "years")


def openapi_paths(op: Callable[..., dict[str, Any]], s: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """Paths of premiums, applications, payments and policies, built with openapi.py's helpers."""
    label = s(en="string", ar="string")
    period = s(start_date=DATE, end_date={**DATE, "description": "first day no longer covered"}, last_day=DATE)
    application_body = s(
        insured_civil_id={"type": "string", "description": "12 digits with a valid check digit"},
        insured_name={"type": "string", "description": "the name in Latin letters, as in the passport"},
        insured_name_ar={"type": "string", "maxLength": 100,
                         "description": "optional: the name in Arabic letters, printed in the card's Arabic slot "
                                        "(without it the card prints the name once)"},
        category={"type": "string", "description": "a code from /v1/premiums/categories"},
        sponsor_name={"type": "string", "description": "optional when self_sponsored"},
        sponsor_civil_id={"type": "string", "description": "another person's, unless self_sponsored"},
        kind={"type": "string", "enum": ["new", "renewal"]},
        passport_expiry={**DATE, "description": "must not be before the last covered day"},
        years={"type": "integer", "minimum": 1, "description": "1 to PREMIUM_MAX_YEARS (3)"},
    )
    application = s(
        application_id="string",
        status={"type": "string", "enum": ["awaiting_confirmation", "confirmed", "payment_pending", "paid"]},
        revision={"type": "integer", "description": "goes up on every change; a change needs a new confirmation"},
        review=s(insured_civil_id="string", insured_name="string",
                 insured_name_ar={"type": "string", "nullable": True}, category=s(code="string", label=label),
                 sponsor_civil_id="string", sponsor_name="string", kind="string", passport_expiry=DATE,
                 years="integer", period=period, yearly_fils=FILS, amount_fils=FILS, currency=KWD,
                 tariff_effective_from=DATE),
        confirmation=s(confirmed="boolean", confirmed_at={"type": "string", "format": "date-time", "nullable": True}),
        payment_id={"type": "string", "nullable": True}, created_at="string", updated_at="string",
    )
    insured = s(civil_id="string", name="string", name_ar={"type": "string", "nullable": True})
    refund = s(status={"type": "string", "enum": ["requested", "refunded", "failed"]}, amount_fils=FILS,
               currency=KWD, reason="string", requested_at="string", completed_at={"type": "string", "nullable": True})
    payment = s(
        payment_id="string",
        status={"type": "string", "enum": ["pending", "captured", "declined", "expired", "refunded"]},
        application_id="string", amount_fils=FILS, currency=KWD,
        payment_url={"type": "string", "nullable": True, "description": "the gateway's page, while pending"},
        insured=insured, category="string", kind="string", period=period,
        gateway="string", transaction_id={"type": "string", "nullable": True}, created_at="string",
        captured_at={"type": "string", "nullable": True}, refunded_fils=FILS,
        refund_status={"type": "string", "nullable": True}, refunds={"type": "array", "items": refund},
        application_ids={"type": "array", "items": {"type": "string"}, "nullable": True,
                         "description": "a family basket's applications; null for a payment of one"},
        lines={"type": "array", "nullable": True, "items": s(
            application_id="string", insured=insured, category="string", kind="string", amount_fils=FILS,
            currency=KWD, period=period, refund_status={"type": "string", "nullable": True})},
    )
    policy = s(
        policy_number={"type": "string", "nullable": True,
                       "description": "RH-YY-XXXX-XXXX (no 0, O, 1, I or L; the last character checks the rest); "
                                      "null for a policy issued before numbers existed, until its next payment"},
        status={"type": "string", "enum": ["active", "upcoming", "expired", "cancelled"]},
        insured=insured, category="string",
        start_date={**DATE, "nullable": True, "description": "of the active periods; null once all are refunded"},
        end_date={**DATE, "nullable": True}, last_day={**DATE, "nullable": True},
        periods={"type": "array", "items": s(start_date=DATE, end_date=DATE, last_day=DATE, payment_id="string",
                                              status={"type": "string", "enum": ["active", "cancelled"]},
                                              category="string", amount_fils=FILS, currency=KWD)},
    )

    def path_param(name: str) -> list[dict[str, Any]]:
        return [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}]

    def query(name: str, schema: dict[str, Any], required: bool = False, description: str = "") -> dict[str, Any]:
        return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}

    application_id = path_param("application_id")
    payment_id = path_param("payment_id")
    idempotency = {"name": "Idempotency-Key", "in": "header", "required": True, "schema": {
        "type": "string", "maxLength": 255},
        "description": "One per payment attempt (a UUID). The same key and application return the same "
                       "payment; the same key with anything else is 422 IDEMPOTENCY_KEY_REUSED."}
    refund_op = op(
        "Refund a captured payment in full, before its coverage starts or within 14 days of payment; the "
        "period it bought is cancelled. 202 while the gateway's answer is unknown",
        params=payment_id, body=s(reason="string", application_id={
            "type": "string", "description": "a family basket: refund this application's share only"}),
        out=payment, auth=True, errors=("404", "409", "422", "502"),
        required=("reason",))
    refund_op["responses"]["202"] = {"description": "Refund requested; the gateway's answer is not in yet",
                                     "content": {"application/json": {"schema": payment}}}
    renew_op = op(
        "A renewal application prefilled from the policy's last one (category, sponsor, insured), checked "
        "and priced by today's rules and tariff, from the old end; it awaits review and confirmation like "
        "any application. One per period: calling again answers the open one (200). policy_id is the "
        "policy number; passport_expiry and years may be given anew",
        params=[{"name": "policy_id", "in": "path", "required": True, "description": "the policy number",
                 "schema": {"type": "string", "pattern": f"^RH-[0-9]{{2}}-{NUMBER_PART}-{NUMBER_PART}$"}}],
        body=s(passport_expiry={**DATE, "description": "optional: a renewed passport's expiry"},
               years={"type": "integer", "minimum": 1, "description": "optional: default the last one's"}),
        ok=("201", "The renewal application to review"), out=application, auth=True,
        errors=("400", "404", "409", "422"))
    renew_op["responses"]["200"] = {"description": "The renewal application already open for this period",
                                    "content": {"application/json": {"schema": application}}}
    return {
        "/v1/premiums/categories": {"get": op(
            "Residence categories offered online, in Arabic and English, with the yearly premium in fils",
            params=[query("on", DATE, description="the tariff in force on this day (default today)")],
            out=s(on=DATE, currency=KWD, max_years="integer", categories={"type": "array", "items": s(
                code="string", label=label, yearly_fils=FILS, currency=KWD, tariff_effective_from=DATE,
                min_age_exclusive={"type": "integer", "nullable": True}, sponsor_must_differ="boolean")},
                not_offered_online={"type": "array", "items": s(category={"type": "string", "nullable": True},
                                                                 rule="string", message=label)}),
            errors=("422",))},
        "/v1/premiums/quote": {"get": op(
            "Yearly amount x years, from the tariff in force on the coverage start date",
            params=[query("category", {"type": "string"}, True), query("years", {"type": "integer"}, True),
                    query("start_date", DATE, description="default today")],
            out=s(category="string", label=label, years="integer", yearly_fils=FILS, amount_fils=FILS, currency=KWD,
                  tariff_effective_from=DATE, period=period), errors=("422",))},
        "/v1/applications": {"post": op(
            "A new or renewal application for the account holder or a dependent: checked, priced, awaiting review",
            body=application_body, ok=("201", "The review to confirm"), out=application, auth=True,
            errors=("400", "422"), required=APPLICATION_REQUIRED)},
        "/v1/applications/{application_id}": {
            "get": op("An application and its review", params=application_id, out=application, auth=True,
                      errors=("404",)),
            "put": op("Change an unpaid application (all fields again): a new revision that needs a new "
                      "confirmation", params=application_id, body=application_body, out=application, auth=True,
                      errors=("400", "404", "409", "422"), required=APPLICATION_REQUIRED),
        },
        "/v1/applications/{application_id}/confirm": {"post": op(
            "Confirm the review (accept must be true); recorded with its time. Optional revision: the one reviewed",
            params=application_id, body=s(accept={"type": "boolean", "enum": [True]}, revision="integer"),
            out=application, auth=True, errors=("400", "404", "409", "422"), required=("accept",))},
        "/v1/applications/{application_id}/pay": {"post": op(
            "Start paying a confirmed application: one payment per Idempotency-Key, and the gateway's payment_url",
            params=[*application_id, idempotency], body=s(), ok=("201", "Payment started"), out=payment,
            auth=True, errors=("400", "404", "409", "422", "502"))},
        "/v1/payments/callback": {"post": op(
            "The payment gateway's signed result (sandbox: JSON with X-Signature; KNET: form-encoded trandata, "
            "confirmed by inquiry). A repeated result changes nothing",
            body={"type": "object"}, out={"type": "string"}, produces="text/plain", errors=("400",))},
        "/v1/payments": {
            "get": op("The account's payments, newest first, with their statuses and refunds", auth=True, errors=(),
                      out=s(payments={"type": "array", "items": payment})),
            "post": op(
                "One payment for a family: 1 to 10 confirmed applications of this account, for their sum, per "
                "Idempotency-Key; its capture makes or extends every policy at once, or none. The answer lists "
                "each application's share (lines)",
                params=[idempotency],
                body=s(application_ids={"type": "array", "minItems": 1, "maxItems": 10, "items": {
                    "type": "string", "pattern": "^[A-Za-z0-9]{1,64}$"},
                    "description": "confirmed applications, one per insured person (ids of another shape: 422 "
                                   "naming application_ids, rule id); 409 APPLICATION_OUTDATED when a person is "
                                   "now covered by another payment, COVERAGE_CHANGE_IN_PROGRESS while one is in "
                                   "flight"}),
                ok=("201", "Payment started"), out=payment, auth=True, errors=("400", "404", "409", "422", "502"),
                required=("application_ids",)),
        },
        "/v1/payments/{payment_id}": {"get": op(
            "One payment's status", params=payment_id, out=payment, auth=True, errors=("404",))},
        "/v1/payments/{payment_id}/refund": {"post": refund_op},
        "/v1/policies/{policy_id}/renew": {"post": renew_op},
        "/v1/policies": {"get": op(
            "The account's residence policies with their periods", auth=True, errors=(),
            out=s(policies={"type": "array", "items": policy}))},
    }
