"""Log lines are structured JSON and never carry a secret or a personal number."""

from __future__ import annotations

import json

from chalicelib.logs import log_event


def logged_lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def test_a_log_line_is_one_json_object_with_the_event_and_request_id(capsys):
    log_event("card_rendered", member_id_count=2)

    (line,) = logged_lines(capsys)
    assert line["event"] == "card_rendered"
    assert line["request_id"] == "-"
    assert line["member_id_count"] == 2


def test_secrets_are_dropped_and_long_numbers_masked(capsys):
    log_event(
        "login_attempt",
        password="Sup3r-secret!",
        refresh_token="rt_abcdef",
        civil_id="290010112345",
        note="called from +96550123456 about civil id 290010112345",
        headers={"Authorization": "Bearer eyJhbGciOi.payload.sig"},
    )

    raw = capsys.readouterr().out
    for secret in ("Sup3r-secret!", "rt_abcdef", "290010112345", "96550123456", "eyJhbGciOi"):
        assert secret not in raw
    line = json.loads(raw.splitlines()[-1])
    assert line["note"] == "called from +****3456 about civil id ****2345"


def test_ids_that_merely_contain_digits_are_kept_whole(capsys):
    log_event("x", request_id_copy="d197370451034d4db217eaaffe2e6a9e", member_id="M12345678")

    line = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert line["request_id_copy"] == "d197370451034d4db217eaaffe2e6a9e"
    assert line["member_id"] == "M12345678"
