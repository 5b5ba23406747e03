"""A card's change reaching its wallet passes: queued by the cards feature, done by the outbound sender."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from chalicelib.platform.clock import now
from chalicelib.platform.outbound import builds

KIND = "wallet_passes_changed"
PER_JOB = 100  # member ids per queued job: one SQS message stays far below its 256 KB


def passes_changed(member_ids: Sequence[str]) -> int:
    """Queue the update of these people's wallet passes (their cards changed now); returns jobs queued."""
    from chalicelib.platform import messaging

    ids = list(dict.fromkeys(m for m in member_ids if m))
    at = now().isoformat()
    return messaging.enqueue({"kind": KIND, "member_ids": ids[i:i + PER_JOB], "at": at}
                             for i in range(0, len(ids), PER_JOB))


@builds(KIND)
def _update_passes(job: dict[str, Any]) -> None:
    """Push to each registered device, update Google's objects; sends no message of its own."""
    from chalicelib.wallet.use_cases import passes_changed as update
    from chalicelib.wallet.wiring import wallet_deps

    update(wallet_deps(), [str(m) for m in job.get("member_ids", [])], datetime.fromisoformat(str(job["at"])))
