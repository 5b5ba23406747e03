"""README.md's "The API by example" section, run as written against the app: a changed API fails here.

How the section is written (and read here):
- Every ```sh block in the section is run in order. Lines ending in `\\` continue on the next one;
  `#` comments and blank lines are skipped.
- `NAME=value` sets a shell variable. A value the reader gets from somewhere other than an answer
  (an SMS code from the outbox, the QR code of a downloaded card) is named in OUT_OF_BAND below,
  with a word the README's command must mention; the test takes the value from the same place.
- `curl ...` is one request: -X, -H, -d/--data/--data-urlencode, -o, -s/-S/-i and the URL are understood
  (-d without a Content-Type header is a form post, as with curl). `$NAME` and `${NAME}` are replaced
  by the variable's value. http://127.0.0.1:8000 is the app (Chalice's test client on moto); the
  sandbox gateway's page ($PAYMENT_URL) and a card's presigned S3 URL ($CARD_URL) are served as
  `make run` serves them.
- After a block that ends with a curl, the answer: a line starting with `→` and the status in
  backticks, optionally more backticked headers (`Retry-After` must be there; `Retry-After: 60` must
  be that value); then, optionally, a ```json block of the answer's key parts. In it, "$NAME" takes
  the value into NAME for later commands, "..." is any value, an object lists only some of the keys,
  a list's items are matched from the first; anything else must be equal.

`make run` loads a demo (the policy GP-ACME-2026 and examples/hr/acme-2026.csv, dropped through S3):
the test loads the same demo first, with the clock frozen at the fixtures' 2026-03-01 09:00 UTC.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from tests.support import Answer

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## The API by example"
APP = "http://127.0.0.1:8000"
HR_EMAIL = "ahmad.almutairi@acme.example"  # the demo's first principal
RESIDENT_PHONE = "+96551234567"  # the phone the README's resident registers


@dataclass
class Step:
    line: int
    assignments: list[tuple[str, str]] = field(default_factory=list)
    curl: list[str] | None = None
    status: int | None = None
    headers: list[str] = field(default_factory=list)
    expected: object = None


def section_lines() -> list[tuple[int, str]]:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = next(n for n, line in enumerate(lines) if line.strip() == SECTION)
    end = next((n for n in range(start + 1, len(lines)) if lines[n].startswith("## ")), len(lines))
    return [(n + 1, lines[n]) for n in range(start + 1, end)]


def examples() -> list[Step]:
    steps: list[Step] = []
    lines = section_lines()
    i = 0
    while i < len(lines):
        number, text = lines[i]
        fence = text.strip()
        if fence.startswith("```") and fence != "```":
            kind = fence[3:].strip()
            body: list[str] = []
            i += 1
            while lines[i][1].strip() != "```":
                body.append(lines[i][1])
                i += 1
            if kind == "sh":
                steps.append(shell_step(number, body))
            elif kind == "json" and steps and steps[-1].curl is not None and steps[-1].status is not None:
                assert steps[-1].expected is None, f"README line {number}: two answers for one request"
                steps[-1].expected = json.loads("\n".join(body))
        elif text.startswith("→"):
            # The status and the headers right after it; backticks further on are prose.
            lead = re.match(r"→\s*((?:`[^`]+`\s*)+)", text)
            marks = re.findall(r"`([^`]+)`", lead.group(1)) if lead else []
            assert steps and steps[-1].curl is not None and marks and marks[0].isdigit(), \
                f"README line {number}: an answer with no request before it, or no status"
            steps[-1].status, steps[-1].headers = int(marks[0]), marks[1:]
        i += 1
    return steps


def shell_step(number: int, body: list[str]) -> Step:
    step = Step(number)
    for line in logical_lines(body):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        assignment = re.match(r"([A-Z_][A-Z0-9_]*)=(.*)", stripped)
        if assignment:
            step.assignments.append((assignment.group(1), assignment.group(2)))
        else:
            assert stripped.startswith("curl "), f"README line {number}: only curl and NAME=value are run"
            assert step.curl is None, f"README line {number}: one curl per block, its answer after it"
            step.curl = shlex.split(stripped, comments=True)
    return step


def logical_lines(body: list[str]) -> list[str]:
    """The block's commands: a line ending in a backslash goes on, and so does a quote left open."""
    found, pending = [], ""
    for line in "\n".join(body).replace("\\\n", " ").splitlines():
        pending = f"{pending}\n{line}" if pending else line
        try:
            shlex.split(pending, comments=True)
        except ValueError:
            continue
        found.append(pending)
        pending = ""
    assert not pending, f"a quote never closed: {pending}"
    return found


class Run:
    """The variables, files and answers of one reading of the section."""

    def __init__(self, api, outbox) -> None:
        self.api, self.outbox = api, outbox
        self.vars: dict[str, str] = {}
        self.files: dict[str, bytes] = {}

    def expand(self, text: str) -> str:
        def value(match: re.Match) -> str:
            name = match.group(1) or match.group(2)
            assert name in self.vars, f"${name} is used before any answer or assignment gave it"
            return self.vars[name]

        return re.sub(r"\$\{([A-Z_][A-Z0-9_]*)\}|\$([A-Z_][A-Z0-9_]*)", value, text)

    # Values a reader takes from the outbox or a file, not from an answer: (a word the command names, how).
    def out_of_band(self, name: str, command: str) -> str:
        sources = {
            "CODE": ("registration_code", lambda: self.outbox.last(template="registration_code")["vars"]["code"]),
            "TEMP_PASSWORD": ("temporary_password", lambda: self.outbox.last(
                to=RESIDENT_PHONE, template="temporary_password")["vars"]["password"]),
            "WELCOME_TOKEN": ("welcome", lambda: self.outbox.last(to=HR_EMAIL, template="welcome")["links"][0]
                              .split("token=", 1)[1]),
            "HR_TEMP_PASSWORD": ("temporary_password", lambda: self.outbox.last(
                to=HR_EMAIL, template="temporary_password")["vars"]["password"]),
            "QR": ("card.png", lambda: qr_of(self.files["card.png"])),
        }
        word, take = sources[name]
        assert word in command, f"{name}: the README's command should read it from {word}"
        return take()

    def assign(self, name: str, raw: str) -> None:
        if raw.startswith("$("):
            self.vars[name] = self.out_of_band(name, raw)
        else:
            self.vars[name] = self.expand(shlex.split(raw)[0]) if raw else ""

    def request(self, argv: list[str]) -> Answer:
        method, url, data, out = None, None, None, None
        headers: dict[str, str] = {}
        args = iter(argv[1:])
        for arg in args:
            if arg == "-X":
                method = next(args)
            elif arg == "-H":
                name, _, value = self.expand(next(args)).partition(":")
                headers[name.strip()] = value.strip()
            elif arg in ("-d", "--data", "--data-urlencode"):
                data = self.expand(next(args))
                headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
            elif arg == "-o":
                out = next(args)
            elif arg in ("-s", "-S", "-sS", "-i", "-si"):
                continue
            else:
                assert not arg.startswith("-"), f"curl option {arg} is not understood here"
                url = self.expand(arg)
        assert url, argv
        method = method or ("POST" if data is not None else "GET")
        if url.startswith(APP + "/"):
            answer = self.app(method, url[len(APP):], headers, data)
        elif "/sandbox/pay/" in url:
            answer = self.sandbox_page(url, data or "")
        else:
            answer = self.s3(url)
        if out:
            self.files[out] = answer.body["raw_bytes"]
        return answer

    def app(self, method: str, path: str, headers: dict, data: str | None) -> Answer:
        response = getattr(self.api.client.http, method.lower())(path, headers=headers, body=data)
        text = response.body.decode() if response.body else ""
        body: dict = {"raw_bytes": response.body}
        if response.headers.get("Content-Type", "").startswith("application/json") and text:
            body = json.loads(text)
        return Answer(response.status_code, body, dict(response.headers))

    def sandbox_page(self, url: str, form: str) -> Answer:
        """What `make run`'s page server does on a POST (devstack/sandbox_pages.py): the choice, the signed
        callback to the app, then 303 to the return URL."""
        from urllib.parse import parse_qsl

        from chalicelib.premiums.wiring import premium_deps
        from tests.api.premium_support import post_callback

        ref = urlparse(url).path.rsplit("/", 1)[-1]
        outcome = premium_deps().gateway.complete(ref, dict(parse_qsl(form)))
        if outcome.callback is not None:
            ack = post_callback(self.api, outcome.callback.body, dict(outcome.callback.headers))
            assert ack.status == 200, ack.body
        return Answer(303, {"raw_bytes": b""}, {"Location": outcome.redirect_url})

    def s3(self, url: str) -> Answer:
        """A card's presigned URL, read from moto's S3 (make run's embedded AWS on :5000)."""
        from tests.api.cards_support import stored

        assert url.startswith("http") and "X-Amz-Signature=" in url, url
        data, _ = stored(url)
        return Answer(200, {"raw_bytes": data}, {})

    def check(self, step: Step, answer: Answer) -> None:
        where = f"README line {step.line}"
        shown = {k: v for k, v in answer.body.items() if k != "raw_bytes"}
        assert answer.status == step.status, f"{where}: {answer.status} {shown}"
        for header in step.headers:
            name, _, value = header.partition(":")
            assert name.strip() in answer.headers, f"{where}: no {name} header in {answer.headers}"
            if value.strip():
                assert answer.headers[name.strip()] == value.strip(), f"{where}: {answer.headers}"
        if step.expected is not None:
            self.match(step.expected, answer.body, where)

    def match(self, expected: object, actual: object, where: str) -> None:
        if isinstance(expected, str) and re.fullmatch(r"\$[A-Z_][A-Z0-9_]*", expected):
            assert actual is not None, f"{where}: nothing for {expected}"
            self.vars[expected[1:]] = str(actual)
        elif expected == "...":
            return
        elif isinstance(expected, dict):
            assert isinstance(actual, dict), f"{where}: {actual!r} is not an object"
            for key, value in expected.items():
                assert key in actual, f"{where}: no {key!r} in {actual}"
                self.match(value, actual[key], f"{where} {key}")
        elif isinstance(expected, list):
            assert isinstance(actual, list) and len(actual) >= len(expected), f"{where}: {actual!r}"
            for item, got in zip(expected, actual, strict=False):
                self.match(item, got, where)
        else:
            assert actual == expected, f"{where}: {actual!r}, the README says {expected!r}"


def qr_of(png: bytes) -> str:
    from tests.api.cards_support import qr_of_png

    return qr_of_png(png)


def load_demo(api) -> None:
    """What `make run` does on a clean start: the demo policy, and its HR file dropped into S3 and handled."""
    from chalicelib.platform.aws import client as aws_client
    from chalicelib.settings import get_settings
    from devstack.demo import load_demo as demo

    demo(lambda said: None)
    sqs = aws_client("sqs")
    queue = get_settings().hr_queue
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    notifications = [m["Body"] for m in messages if "Records" in json.loads(m["Body"])]
    assert notifications, "the demo file's S3 notification did not reach the HR queue"
    api.client.lambda_.invoke("hr_file_arrived", api.client.events.generate_sqs_event(
        message_bodies=notifications, queue_name=queue))
    from chalicelib.enrolment.store import EnrolmentStore

    (entry,) = EnrolmentStore().report_index("GP-ACME-2026")
    assert entry["status"] != "failed" and entry["totals"]["errors"] == 0, entry


def test_the_section_has_requests_with_answers():
    steps = examples()
    requests = [s for s in steps if s.curl is not None]
    assert len(requests) >= 25
    assert all(s.status is not None for s in requests), [s.line for s in requests if s.status is None]


def test_the_readme_api_examples_run_as_written(api, outbox, clock):
    load_demo(api)
    run = Run(api, outbox)
    for step in examples():
        for name, raw in step.assignments:
            run.assign(name, raw)
        if step.curl is not None:
            run.check(step, run.request(step.curl))
