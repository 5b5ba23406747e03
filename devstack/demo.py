"""Demo data for `make run`: an HR file dropped the real way, through S3."""

from __future__ import annotations

from pathlib import Path

import boto3

from devstack.provision import ROOT

DEMO_POLICY = "GP-ACME-2026"
DEMO_FILE = ROOT / "examples" / "hr" / "acme-2026.csv"


def drop_hr_file(path: Path, policy_no: str, name: str | None = None) -> str:
    """Put a CSV where HR puts it: hr/incoming/<POLICY_NO>/<name>.csv in the HR bucket."""
    from chalicelib.settings import get_settings

    key = f"hr/incoming/{policy_no}/{name or path.name}"
    boto3.client("s3").put_object(Bucket=get_settings().hr_bucket, Key=key, Body=path.read_bytes(),
                                  ContentType="text/csv")
    return key


DEMO_POLICY_FILE = ROOT / "examples" / "policies" / "GP-ACME-2026.json"


def load_demo(say) -> None:
    import json
    from datetime import UTC, datetime

    from chalicelib.enrolment.policies import create_group_policy
    from chalicelib.enrolment.store import EnrolmentStore

    policy = create_group_policy(EnrolmentStore(), json.loads(DEMO_POLICY_FILE.read_text(encoding="utf-8")),
                                 datetime.now(UTC), replace=True)
    say(f"[demo] group policy {policy['policy_no']} ({policy['employer_en']})")
    if DEMO_FILE.exists():
        key = drop_hr_file(DEMO_FILE, DEMO_POLICY)
        say(f"[demo] dropped {key} into the HR bucket")
