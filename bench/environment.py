"""The environment of in-process benches: the dev stage's names on moto in this process."""

from __future__ import annotations

import os

from devstack.config import stage_variables


def in_process_environment() -> None:
    os.environ.update(stage_variables("dev"))
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="me-south-1",
                      AWS_REGION="me-south-1")
    for name in ("AWS_ENDPOINT_URL", "OUTBOX_DIR"):
        os.environ.pop(name, None)
