"""The wallet's settings: its table, and how many devices one pass may be registered on."""

from __future__ import annotations

import os

# A pass is one person's card: their phone, a watch, a new phone before the old one is wiped. The
# web service is public (the pass's token is its only key), so a holder can't register it on
# thousands of made-up devices and have every change pushed to each.
MAX_DEVICES_PER_PASS = 10


def wallet_table() -> str:
    stage = os.environ.get("STAGE", "dev")
    return os.environ.get("WALLET_TABLE", f"insure-{stage}-wallet")
