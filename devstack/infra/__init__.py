"""The CloudFormation resources merged into Chalice's template, one module per concern.

`devstack/gen_resources.py` composes them into resources.json and the IAM policy files; each
module's `resources()` returns its part. Kept as code so shared settings are written once.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def sub(text: str) -> dict:
    return {"Fn::Sub": text}
