"""The one way scheduled work runs: items read from sparse due indexes, a time margin, one summary line.

Every scheduled function (the account expiry jobs, payment reconciliation, the ledger check)
gets a `JobRun` from `platform.schedule.scheduled`, walks what is due with `run_due` (or its
own loop asking `run.out_of_time()` and counting with `run.count`), and the runner logs one
`job_summary` line. Work left when time runs short stays due: the next run picks it up.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.errors import StaleState
from chalicelib.logs import log_error

# One day's due items spread over this many partition keys: a job reads each shard's due
# range, so no single key grows hot however many items fall due at the same moment.
SHARDS = 8


def shard_of(key: str, shards: int = SHARDS) -> str:
    """The due-index shard of an item, stable for its key."""
    return str(int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % shards)


def all_shards() -> list[str]:
    return [str(n) for n in range(SHARDS)]


@dataclass
class JobRun:
    """A job's counts, and when it must stop to leave the next run the rest."""

    name: str
    out_of_time: Callable[[], bool]
    due: int = 0
    done: int = 0
    skipped: int = 0
    failed: int = 0
    stopped_early: bool = False
    # Counts a job keeps besides the four (reconciliation's outcomes, the ledger's streams).
    extra: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str, n: int = 1) -> None:
        """Add to an outcome of the job's own (also kept in `extra`)."""
        self.extra[outcome] = self.extra.get(outcome, 0) + n

    def summary(self) -> dict[str, Any]:
        return {"job": self.name, "due": self.due, "done": self.done, "skipped": self.skipped,
                "failed": self.failed, "stopped_early": self.stopped_early, **self.extra}


def run_due(run: JobRun, due: Callable[[str], Iterable[Any]], act: Callable[[Any], bool]) -> JobRun:
    """Walk every shard's due items (read lazily, a page at a time); `act` is False when nothing was needed."""
    for shard in all_shards():
        for item in due(shard):
            if run.out_of_time():
                # The rest stays due: the next run starts where this one stopped.
                run.stopped_early = True
                return run
            run.due += 1
            try:
                if act(item):
                    run.done += 1
                else:
                    run.skipped += 1
            except StaleState:
                run.skipped += 1  # another run (or the person) changed it first
            except Exception:
                run.failed += 1  # one item's failure never stops the others
                log_error("job_item_failed", job=run.name)
    return run
