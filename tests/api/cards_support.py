"""Helpers for the e-card tests: HR enrols a family, its principal asks for cards, renders are counted.

The principal is given an access token directly (all the authorizer checks): enrolment,
activation and login have their own tests, and argon2 for every card test would cost most
of the suite's time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from tests.support import Answer, Api

ROOT = Path(__file__).resolve().parents[2]
POLICY_NO = "GP-ACME-2026"
HEADER = ("employee_no,relationship,name_en,name_ar,date_of_birth,gender,email,mobile,national_id,plan,"
          "coverage_start,coverage_end,action\n")

COVER_2026 = "2026-01-01,2026-12-31,"
AHMAD = "E1,principal,Ahmad Khalid Al-Mutairi,أحمد خالد المطيري,1984-03-12,male,ahmad@acme.example,,,GOLD," + COVER_2026
FATIMA = "E1,spouse,Fatima Ali Al-Mutairi,فاطمة علي المطيري,1987-07-02,female,,,287070201212,GOLD," + COVER_2026
# Turns 16 on 2 March 2026: the day after the tests' clock starts (1 March, Kuwait time).
YOUSEF = "E1,child,Yousef Ahmad Al-Mutairi,يوسف أحمد المطيري,2010-03-02,male,,,310030212841,GOLD,2026-01-01,2026-12-31,"
JOHN = "E2,principal,John Smith,جون سميث,1979-11-30,male,john@acme.example,,,SILVER,2026-01-01,2026-12-31,"


def csv_rows(*rows: str) -> str:
    return HEADER + "".join(r + "\n" for r in rows)


def create_policy() -> None:
    from datetime import UTC, datetime

    from chalicelib.enrolment.policies import create_group_policy
    from chalicelib.enrolment.store import EnrolmentStore

    data = json.loads((ROOT / "examples" / "policies" / f"{POLICY_NO}.json").read_text(encoding="utf-8"))
    create_group_policy(EnrolmentStore(), data, datetime.now(UTC))


_files = iter(range(1, 10**6))


def hr_upload(body: str) -> dict[str, str]:
    """HR drops a file (applied as the S3 notification's handler would): member id by line's name_en."""
    from chalicelib.enrolment.use_cases import enrol_file
    from chalicelib.enrolment.wiring import enrolment_deps
    from chalicelib.platform.aws import client as aws_client
    from chalicelib.settings import get_settings

    bucket = get_settings().hr_bucket
    key = f"hr/incoming/{POLICY_NO}/upload-{next(_files)}.csv"
    s3 = aws_client("s3")
    s3.put_object(Bucket=bucket, Key=key, Body=body.encode("utf-8"))
    result = enrol_file(enrolment_deps(), bucket, key)
    report = json.loads(s3.get_object(Bucket=bucket, Key=result.report_keys[0])["Body"].read())
    assert report["totals"]["errors"] == 0, report
    by_line = {r["line"]: r["member_id"] for r in report["rows"]}
    return {line.split(",")[2]: by_line[n] for n, line in enumerate(body.splitlines()[1:], start=2)}


def account_of(member_id: str) -> str:
    from chalicelib.enrolment.models import MemberRecord

    account_id = MemberRecord.get(member_id).account_id
    assert account_id
    return account_id


@dataclass
class Holder:
    """A signed-in account holder driving the card routes as the app does."""

    api: Api
    account_id: str
    members: dict[str, str] = field(default_factory=dict)

    @property
    def token(self) -> str:
        # Fresh each call: tests move the clock by days, past a token's 15 minutes.
        from chalicelib.accounts.jwt_tokens import issue_access_token
        from chalicelib.platform.clock import now

        return issue_access_token(self.account_id, f"session-{self.account_id}", now(), "en")

    def get(self, path: str, lang: str | None = None) -> Answer:
        return self.api.get(path, token=self.token, lang=lang)

    def cards(self) -> list[dict]:
        answer = self.get("/v1/cards")
        assert answer.status == 200, answer.body
        return answer.body["cards"]

    def card(self, member_id: str, fmt: str | None = "png") -> Answer:
        return self.get(f"/v1/cards/{member_id}" + (f"?format={fmt}" if fmt else ""))


def enrol_family(api: Api, *rows: str) -> Holder:
    members = hr_upload(csv_rows(*rows))
    return Holder(api, account_of(next(iter(members.values()))), members)


def object_key(url: str) -> str:
    """The S3 key a presigned URL points at (path style: /<bucket>/<key>)."""
    path = unquote(urlparse(url).path).lstrip("/")
    from chalicelib.settings import get_settings

    bucket = get_settings().cards_bucket
    return path[len(bucket) + 1:] if path.startswith(bucket + "/") else path


def url_query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def stored(url: str) -> tuple[bytes, dict]:
    """The object behind a presigned URL, read from moto's S3, and its HEAD."""
    from chalicelib.platform.aws import client as aws_client
    from chalicelib.settings import get_settings

    s3 = aws_client("s3")
    got = s3.get_object(Bucket=get_settings().cards_bucket, Key=object_key(url))
    return got["Body"].read(), got


class Renders:
    """Counts the cards drawn (wraps the renderer the wiring calls) and keeps what each printed."""

    def __init__(self, monkeypatch) -> None:
        from chalicelib.cards import render as card_render

        self.drawn: list[tuple[str, object, str]] = []  # (format, content, qr_text)
        for fmt in ("png", "pdf"):
            original = getattr(card_render, f"render_{fmt}")

            def spy(content, qr_text, _fmt=fmt, _original=original):
                self.drawn.append((_fmt, content, qr_text))
                return _original(content, qr_text)

            monkeypatch.setattr(card_render, f"render_{fmt}", spy)

    def __len__(self) -> int:
        return len(self.drawn)


def qr_of_png(png: bytes) -> str:
    """The text of the one QR code in a PNG, read by a real decoder (zxing-cpp)."""
    import io

    import zxingcpp
    from PIL import Image

    # QR codes only, as a verifier scans: in the dense symbol of a SMART Health Card, zxing-cpp
    # looking for every format now and then also finds an EAN-13 (about one card in 60).
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode)
    assert [b.format for b in found] == [zxingcpp.BarcodeFormat.QRCode]
    return found[0].text
