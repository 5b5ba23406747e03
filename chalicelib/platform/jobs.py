"""The one way scheduled work runs: items read from sparse due indexes, a time margin, one summary line.

Every scheduled function (the account expiry jobs, payment reconciliation, the ledger check)
gets a `JobRun` from `platform.schedule.scheduled`, walks what is due with `run_due` (or its
own loop asking `run.out_of_time()` and counting with `run.count`), and the runner logs one
`job_summary` line. Work left when time runs short stays due: the next run picks it up.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from dataclasses import dataclass, field
from datetime import datetime
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


# Writes a job keeps in flight at once (`run_due(..., workers=WORKERS)`). DynamoDB answers a single-item
# write in single-digit ms from Lambda in-region, so 8 at a time turn ~8 ms per item into ~1 ms, and
# stay under the 10 pooled connections of PynamoDB's and boto3's clients (no request waits for a socket).
WORKERS = 8


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
    # The time the run is as of: its invocation's (EventBridge's scheduled time, or `make job AT=...`).
    # A job that reads it instead of the wall clock can be run as of any day.
    at: datetime | None = None

    def count(self, outcome: str, n: int = 1) -> None:
        """Add to an outcome of the job's own (also kept in `extra`)."""
        self.extra[outcome] = self.extra.get(outcome, 0) + n

    def summary(self) -> dict[str, Any]:
        return {"job": self.name, "due": self.due, "done": self.done, "skipped": self.skipped,
                "failed": self.failed, "stopped_early": self.stopped_early, **self.extra}



# SQS's SendMessageBatch takes ten messages a request.
SQS_BATCH = 10


class QueuedMessages:
    """Sender jobs a run makes on its threads (reminders), queued ten to a request after their writes.

    Only up to nine wait for company; the run calls `flush` before it ends (also when it stops early).
    A batch that cannot be queued is logged and counted as `reminders_not_queued`, never raised: its
    writes are done and will not be repeated.
    """

    def __init__(self, enqueue: Callable[[list[dict[str, Any]]], object], run: JobRun) -> None:
        self._enqueue, self._run = enqueue, run
        self._jobs: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def add(self, *jobs: dict[str, Any]) -> None:
        with self._lock:
            self._jobs.extend(jobs)
            full = len(self._jobs) >= SQS_BATCH
        if full:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            jobs, self._jobs = self._jobs, []
        if not jobs:
            return
        try:
            self._enqueue(jobs)
        except Exception:
            log_error("job_messages_not_queued", job=self._run.name, messages=len(jobs))
            with self._lock:
                self._run.count("reminders_not_queued", len(jobs))


def run_due(run: JobRun, due: Callable[[str], Iterable[Any]], act: Callable[[Any], bool], *,
            workers: int = 1) -> JobRun:
    """Walk every shard's due items (read lazily, a page at a time); `act` is False when nothing was needed.

    With `workers` > 1 the items are taken `CHUNK` at a time (a page of the due index) and their
    writes run on a small thread pool, `workers` at once; the next items are read once the chunk's
    writes are all done, so a read never runs beside a write of the same run. Each write keeps its
    own condition, so running them side by side changes nothing of what two runs at once may do.
    The time is checked before each item is taken; when it runs short the items taken are finished
    and the rest stays due. Counting happens here, on the calling thread: `act` never touches the run.
    """
    if workers <= 1:
        for chunk in _chunks(run, due, 1):
            _record(run, _outcome(run.name, act, chunk[0]))
        return run
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=run.name) as pool:
        for chunk in _chunks(run, due, CHUNK):
            # Each item runs in a copy of this thread's context: its log lines carry the invocation's request id.
            futures = [pool.submit(copy_context().run, _outcome, run.name, act, item) for item in chunk]
            for future in futures:
                _record(run, future.result())
    return run


# Items a job takes at once when it writes side by side: one page of the due index (JOB_PAGE_SIZE).
CHUNK = 100


def _chunks(run: JobRun, due: Callable[[str], Iterable[Any]], size: int) -> Iterator[list[Any]]:
    """Due items `size` at a time, shard by shard; the time is checked before each item is taken.

    A generator: nothing more is read while the caller works on the chunk it was given.
    """
    for shard in all_shards():
        chunk: list[Any] = []
        for item in due(shard):
            if run.out_of_time():
                # The rest stays due: the next run starts where this one stopped.
                run.stopped_early = True
                if chunk:
                    yield chunk
                return
            run.due += 1
            chunk.append(item)
            if len(chunk) == size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def _outcome(job: str, act: Callable[[Any], bool], item: Any) -> str:
    """What became of one item: done, skipped (nothing needed, or another run changed it first) or failed."""
    try:
        return "done" if act(item) else "skipped"
    except StaleState:
        return "skipped"  # another run (or the person) changed it first
    except Exception:
        log_error("job_item_failed", job=job)  # one item's failure never stops the others
        return "failed"


def _record(run: JobRun, outcome: str) -> None:
    if outcome == "done":
        run.done += 1
    elif outcome == "skipped":
        run.skipped += 1
    else:
        run.failed += 1
