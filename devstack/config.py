"""A stage's environment variables as Lambda sees them, for local tools (tests, `make run`, admin, bench).

`.chalice/config.json` gives the stage's own variables. What varies per account (the public base
URL, the sender email, the payment return page, the SMS sender id) is not there: the template's
parameters set it through SAM Globals at deploy time (devstack/infra/params.py, `make deploy`).
Locally those variables get the stand-in values below (example.com is reserved: nothing is sent).
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The deployed stack's values come from deploy/<stage>.json or make deploy's variables.
LOCAL_PARAMETER_VARIABLES = {
    "dev": {
        "PUBLIC_BASE_URL": "https://dev.api.example.com",
        "PAYMENT_RETURN_URL": "https://dev.app.example.com/payments/return",
        "EMAIL_SENDER": "no-reply@dev.example.com",
    },
    "prod": {
        "PUBLIC_BASE_URL": "https://api.example.com",
        "PAYMENT_RETURN_URL": "https://app.example.com/payments/return",
        "EMAIL_SENDER": "no-reply@example.com",
    },
}


def stage_variables(stage: str = "dev") -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    return {**LOCAL_PARAMETER_VARIABLES.get(stage, {}), **config.get("environment_variables", {}),
            **config["stages"][stage].get("environment_variables", {})}
