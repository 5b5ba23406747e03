"""The welcome and temporary-password emails greet in Arabic with the Arabic name HR sent, in English with
the Latin one."""

from __future__ import annotations

from tests.jobs.conftest import csv_rows
from tests.support import token_of

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _sections(message: dict) -> tuple[str, str]:
    arabic, english = message["text"].split("————————")
    return arabic, english


def test_the_arabic_part_of_the_welcome_greets_with_the_arabic_name_from_the_hr_file(drop, policy, outbox):
    drop(csv_rows("E1,principal,Omar Ali,عمر علي,1980-01-01,male,omar@acme.example,,,GOLD,2026-01-01,2026-12-31,"))
    welcome = outbox.last(to="omar@acme.example", template="welcome")
    arabic, english = _sections(welcome)
    assert arabic.strip().startswith("مرحبًا عمر علي") and "Omar" not in arabic
    assert english.strip().startswith("Welcome, Omar Ali")
    assert 'lang="ar"' in welcome["html"] and "مرحبًا عمر علي" in welcome["html"]


def test_the_temporary_password_email_greets_with_the_arabic_name_too(drop, policy, client, outbox):
    drop(csv_rows("E1,principal,Omar Ali,عمر علي,1980-01-01,male,omar@acme.example,,,GOLD,2026-01-01,2026-12-31,"))
    link = outbox.last(to="omar@acme.example", template="welcome")["links"][0]
    assert client.http.post("/activate", body=f"token={token_of(link)}", headers=FORM).status_code == 200
    arabic, english = _sections(outbox.last(to="omar@acme.example", template="temporary_password"))
    assert arabic.strip().startswith("مرحبًا عمر علي") and english.strip().startswith("Hello, Omar Ali")


def test_without_an_arabic_name_the_arabic_part_greets_with_the_latin_one(drop, policy, outbox):
    drop(csv_rows("E2,principal,Sara Lee,,1990-01-01,female,sara@acme.example,,,GOLD,2026-01-01,2026-12-31,"))
    arabic, _ = _sections(outbox.last(to="sara@acme.example", template="welcome"))
    assert arabic.strip().startswith("مرحبًا Sara Lee")
