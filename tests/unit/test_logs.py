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


def test_a_lambda_that_imports_the_app_prints_each_event_once_and_only_as_scrubbed_json():
    # As Lambda runs it: a fresh interpreter imports the app, then logs (an error naming a civil ID too).
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import app\n"
        "from chalicelib.logs import log_event, log_error\n"
        "log_event('card_rendered', civil_id='290010112345')\n"
        "try:\n"
        "    raise ValueError('no policy for civil id 290010112345')\n"
        "except ValueError:\n"
        "    log_error('unexpected_error', password='Sup3r-secret!')\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=60,
                         check=True)
    lines = out.stdout.splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["card_rendered", "unexpected_error"], lines
    assert "Sup3r-secret!" not in out.stdout + out.stderr
    assert "290010112345" not in out.stdout + out.stderr
