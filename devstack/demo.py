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


def load_demo(say) -> None:
    if DEMO_FILE.exists():
        key = drop_hr_file(DEMO_FILE, DEMO_POLICY)
        say(f"[demo] dropped {key} into the HR bucket")
