"""The end-of-suite log audit finds what it is meant to find, and not the masked forms the app logs."""

from __future__ import annotations

from tests.log_audit import leaks


def test_the_audit_finds_civil_ids_tokens_and_remembered_secrets():
    lines = [
        '{"event":"x","who":"290051712348"}',
        '{"event":"x","auth":"eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhYmMifQ.sig"}',
        '{"event":"x","t":"0123456789abcdef0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}',
        '{"event":"x","pw":"Abcd-efgh-2345-mnpq"}',
        '{"event":"sms","text":"code 482913 sent"}',
    ]
    found = leaks(lines, {"482913": "SMS code"})
    assert [kind for kind, _ in found] == ["civil ID", "JWT", "refresh token", "temporary password", "SMS code"]


def test_the_audit_passes_masked_numbers_ids_and_timings():
    lines = [
        '{"event":"login","civil_id":"[redacted]","phone":"****4567","request_id":"a482913b0c"}',
        '{"event":"http_request","duration_ms":482.9,"timestamp":"2026-12-01 21:34:55,037+0000"}',
    ]
    assert leaks(lines, {"482913": "SMS code"}) == []
