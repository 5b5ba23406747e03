"""HR files of any size: enrolment stops before its invocation's time runs out and goes on in a fresh one.

One run per upload, kept in a checkpoint (`hr/runs/<POLICY_NO>/<report id>/checkpoint.json`) that
only ever changes by a conditional write on its version tag:

- `seq`: how many invocations handed over; the token that starts the next one carries it.
- `lease_until`: the invocation working on it, until when (its own deadline). Another message for
  the run meanwhile (a redelivery, a duplicate token) finds the lease and leaves; a message after
  an invocation died (SQS redelivers only after the visibility timeout, past any deadline) finds it
  expired and takes over from the last hand-over.
- `state`: the run object holding where reading stopped (a CSV: line, byte offset of the next unread
  row, encoding and header; a workbook, `kind: "xlsx"`: the last sheet row read and the header),
  the report's totals so far and the rows the rest of the file needs (duplicates, principals,
  dependents waiting for theirs).
- `parts`: the report's JSON and CSV written by each invocation before, in order.

A claim per stored object (`hr/runs/<POLICY_NO>/uploads/<digest>.json`, by its key and S3 identity, not
the notification's time) names the object's one run while it runs: the same upload told twice starts one.

An invocation that runs out of budget applies and reports every row it read, stores its report
part and state, advances the checkpoint (conditional: an invocation that lost its lease cannot
advance it, so no row is applied twice by two hand-overs), then drops the token that starts the
next invocation. The last one writes the one report (the parts, then its own rows and the totals)
and marks the run finished; a message for a finished run changes nothing.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.enrolment.ports import EnrolmentDeps, HrRows, Report
from chalicelib.enrolment.report_rules import Upload, run_folder
from chalicelib.enrolment.rules import HrFileError, unknown_policy_problem
from chalicelib.enrolment.use_cases import FileResult, _finish, _Run, _stopped_after_rows, policy_of_key
from chalicelib.logs import log_event

CHECKPOINT = "checkpoint.json"
# One claim per stored object (its key and S3 identity, not the notification's time), so that two
# notifications of one upload start one run: see `_claim_upload`.
UPLOADS_FOLDER = "uploads/"
# Stop with this much time left: the report part and state go to S3 (a few MB), the checkpoint
# advances and the next token is dropped; a chunk of 100 rows takes well under a second.
STOP_MARGIN_S = 60.0


@dataclass(frozen=True)
class Budget:
    """The time an invocation may still use: `remaining_s()` (Lambda: the context's remaining time)."""

    remaining_s: Callable[[], float]
    margin_s: float = STOP_MARGIN_S

    def spent(self) -> bool:
        return self.remaining_s() < self.margin_s

    def deadline(self, now: datetime) -> datetime:
        return now + timedelta(seconds=max(self.remaining_s(), 0.0))


def checkpoint_key(policy_no: str, upload: Upload) -> str:
    return run_folder(policy_no, upload) + CHECKPOINT


def start_file(deps: EnrolmentDeps, bucket: str, key: str, version_id: str | None, upload: Upload,
               budget: Budget) -> FileResult | None:
    """A dropped file: start its run, or (a redelivered notification) go on with it; None if not finished here.

    A second notification of the same stored object under another event time (moto tells a multipart
    upload twice, as ObjectCreated:Put and :CompleteMultipartUpload, 1 ms apart) finds the object's
    claim naming the first run and changes nothing: before, it started a second run of the whole file
    that trailed the first, re-read every row (all unchanged, four batched reads a chunk, no write)
    and queued every invited principal's welcome again.
    """
    ckey = checkpoint_key(policy_of_key(key) or "", upload)
    if not _claim_upload(deps, ckey, upload):
        return None
    now = deps.now()
    body: dict[str, Any] = {
        "bucket": bucket, "key": key, "version_id": version_id,
        "upload": {"key": upload.key, "uploaded_at": upload.uploaded_at.isoformat(), "identity": upload.identity},
        "received_at": now.isoformat(), "seq": 0, "status": "running",
        "lease_until": budget.deadline(now).isoformat(), "state": None, "parts": [], "objects": [], "continued": True,
    }
    # Created first, read only when it exists: S3 answers a read of a missing key with 403 to a role
    # that may not list the bucket.
    tag = deps.store.save_checkpoint(ckey, body, None)
    if tag is None:  # a redelivered notification: the run exists
        found = deps.store.load_checkpoint(ckey)
        return _go_on(deps, ckey, found, None, budget) if found is not None else None
    return _work(deps, ckey, body, tag, budget)


def _claim_key(ckey: str, upload: Upload) -> str:
    """hr/runs/<POLICY_NO>/uploads/<digest of the object's key and identity>.json"""
    digest = hashlib.sha256(f"{upload.key}\0{upload.identity}".encode()).hexdigest()[:32]
    return "/".join(ckey.split("/")[:3]) + "/" + UPLOADS_FOLDER + digest + ".json"


def _claim_upload(deps: EnrolmentDeps, ckey: str, upload: Upload) -> bool:
    """Whether this notification's run (`ckey`) is the stored object's one run; False: another one has it.

    The claim is created first (a conditional write) and names the run. A redelivery of the same
    notification names the same run and goes on as before. Another run's claim means the same
    object told twice (a version id or sequencer names one upload), unless the identity is only the
    ETag (a notification with neither: it names the content) and that run has finished: then this is
    the same bytes uploaded again, which gets a run and report of its own, and the claim moves to it.
    """
    store, key = deps.store, _claim_key(ckey, upload)
    claim = {"checkpoint": ckey}
    if store.save_checkpoint(key, claim, None) is not None:
        return True
    found = store.load_checkpoint(key)
    if found is None:  # gone meanwhile (expired): claim it again
        return store.save_checkpoint(key, claim, None) is not None
    body, tag = found
    other = str(body.get("checkpoint"))
    if other == ckey:
        return True
    if upload.identity.startswith("etag:"):
        run = store.load_checkpoint(other)
        if run is not None and run[0].get("status") == "finished":
            return store.save_checkpoint(key, claim, tag) is not None
    log_event("hr_file_notified_twice", key=upload.key, checkpoint=other, ignored=ckey)
    return False


def _release_claim(deps: EnrolmentDeps, ckey: str, upload: Upload) -> None:
    """The run is finished: its claim goes. A redelivered notification finds the checkpoint finished; one
    of the same object under another time (a second upload of the same bytes, or moto's second event for
    a file enrolled in one invocation) starts a run of its own, whose rows all come back unchanged."""
    key = _claim_key(ckey, upload)
    found = deps.store.load_checkpoint(key)
    if found is not None and found[0].get("checkpoint") == ckey:
        deps.store.delete_run_objects([key])


def continue_file(deps: EnrolmentDeps, ckey: str, seq: int, budget: Budget) -> FileResult | None:
    """The token of invocation `seq` of a run: go on with it, unless it is stale, taken or done."""
    found = deps.store.load_checkpoint(ckey)
    if found is None:
        log_event("hr_file_run_unknown", checkpoint=ckey, seq=seq)
        return None
    return _go_on(deps, ckey, found, seq, budget)


def continue_from_token(deps: EnrolmentDeps, bucket: str, key: str, budget: Budget) -> FileResult | None:
    """A token dropped by a hand-over: go on with the run it names, then delete it."""
    token = deps.store.continuation_token(bucket, key)
    if token is None:  # gone (a redelivery after it was used) or not a token: nothing to go on with
        log_event("hr_file_token_unreadable", key=key)
        return None
    result = continue_file(deps, token[0], token[1], budget)
    deps.store.delete_continuation_token(bucket, key)
    return result


def fail_run(deps: EnrolmentDeps, bucket: str, key: str) -> FileResult | None:
    """A token that failed every retry (dead-lettered): its run ends with the one report of its upload.

    The report holds the rows the invocations before applied (their parts and totals) and says that
    processing failed after them; HR uploads the file again and the rows applied come back unchanged.
    """
    from chalicelib.enrolment.rules import FileProblem
    from chalicelib.enrolment.use_cases import _UNREADABLE

    token = deps.store.continuation_token(bucket, key)
    found = deps.store.load_checkpoint(token[0]) if token is not None else None
    if token is None or found is None or found[0]["status"] == "finished":
        log_event("hr_file_failed_token_without_run", key=key)
        return None
    ckey, tag = token[0], found[1]
    body: dict[str, Any] = dict(found[0])
    policy_no = policy_of_key(body["key"]) or ""
    parts = ([p[0] for p in body["parts"]], [p[1] for p in body["parts"]])
    if body["state"] is not None and deps.resume_report is not None:
        state = _saved_state(deps, body["state"])
        report = deps.resume_report(state["report"])
        line = int(state["reader"]["line"]) + 1  # the position holds the last line read
    else:
        report = deps.new_report(file_name=body["key"].rsplit("/", 1)[-1], policy_no=policy_no,
                                 received_at=datetime.fromisoformat(body["received_at"]))
        line = 0
    report.add_file_problem(_stopped_after_rows(FileProblem("processing_failed", _UNREADABLE, line=line or None)))
    result = _done(deps, ckey, body, tag, report, policy_no, _upload(body), parts)
    deps.store.delete_continuation_token(bucket, key)
    return result


def _go_on(deps: EnrolmentDeps, ckey: str, found: tuple[dict[str, Any], str], seq: int | None,
           budget: Budget) -> FileResult | None:
    body, tag = found
    now = deps.now()
    if body["status"] == "finished":
        log_event("hr_file_run_done_before", checkpoint=ckey, seq=seq)
        return None
    leased = body["lease_until"] is not None and datetime.fromisoformat(body["lease_until"]) > now
    if leased:
        # Another invocation is working on it (two messages at once): it hands over or finishes.
        log_event("hr_file_run_busy", checkpoint=ckey, seq=seq, holder_seq=body["seq"])
        return None
    if not body["continued"]:
        # The invocation before handed over but died before the next token was dropped.
        _hand_on(deps, ckey, body, tag)
        return None
    if seq is not None and seq != body["seq"]:
        log_event("hr_file_run_stale_token", checkpoint=ckey, seq=seq, current_seq=body["seq"])
        return None
    body = {**body, "lease_until": budget.deadline(now).isoformat()}
    claimed = deps.store.save_checkpoint(ckey, body, tag)
    if claimed is None:
        log_event("hr_file_run_busy", checkpoint=ckey, seq=seq, holder_seq=body["seq"])
        return None
    return _work(deps, ckey, body, claimed, budget)


def _saved_state(deps: EnrolmentDeps, key: str) -> dict[str, Any]:
    """The state the last hand-over saved: reader position, report and run (gzipped JSON)."""
    state: dict[str, Any] = json.loads(gzip.decompress(deps.store.run_object(key)))
    return state


def _upload(body: dict[str, Any]) -> Upload:
    u = body["upload"]
    return Upload(key=u["key"], uploaded_at=datetime.fromisoformat(u["uploaded_at"]), identity=u["identity"])


def _work(deps: EnrolmentDeps, ckey: str, body: dict[str, Any], tag: str, budget: Budget) -> FileResult | None:
    """Enrol from the checkpoint on, until the file ends (the report) or the budget does (a hand-over)."""
    store, upload = deps.store, _upload(body)
    key = body["key"]
    policy_no = policy_of_key(key) or ""
    parts = ([p[0] for p in body["parts"]], [p[1] for p in body["parts"]])
    reader: HrRows
    if body["state"] is None:
        received = datetime.fromisoformat(body["received_at"])
        report: Report = deps.new_report(file_name=key.rsplit("/", 1)[-1], policy_no=policy_no, received_at=received)
        policy = store.policy(policy_no) if policy_no else None
        if policy is None:
            report.add_file_problem(unknown_policy_problem(policy_no))
            return _done(deps, ckey, body, tag, report, policy_no, upload, parts)
        try:
            reader = deps.open_csv(store.open_file(body["bucket"], key, body["version_id"]))
        except HrFileError as error:
            report.add_file_problem(error.problem)
            return _done(deps, ckey, body, tag, report, policy_no, upload, parts)
        report.encoding = reader.encoding
        report.unknown_columns = tuple(reader.unknown_columns)
        run = _Run(deps, policy, report, received.date())
    else:
        if deps.resume_csv is None or deps.resume_report is None:
            raise RuntimeError("this wiring cannot resume a file read in several invocations")
        state = _saved_state(deps, body["state"])
        position, report_state, run_state = state.pop("reader"), state.pop("report"), state.pop("run")
        # A CSV goes on from the byte after the last row read (a ranged read); a workbook, a zip, is read
        # whole again and skips the rows read (its position's offset is 0). `resume_csv` picks the reader
        # by the position's kind.
        reader = deps.resume_csv(store.open_file(body["bucket"], key, body["version_id"],
                                                 int(position.get("offset", 0))), position)
        report = deps.resume_report(report_state)
        run = _Run.restored(deps, report, run_state)
        del run_state  # the run holds its own copy: the JSON form is not kept for the whole invocation
    stopped, paused = run.consume(reader, stop=budget.spent)
    if paused:
        _hand_over(deps, ckey, body, tag, reader, report, run)
        return None
    run.finish_rows()
    if stopped is not None:
        report.add_file_problem(_stopped_after_rows(stopped) if report.totals.rows else stopped)
    return _done(deps, ckey, body, tag, report, policy_no, upload, parts)


def _hand_over(deps: EnrolmentDeps, ckey: str, body: dict[str, Any], tag: str, reader: HrRows, report: Report,
               run: _Run) -> None:
    """Save the report part and the state, advance the checkpoint, start the next invocation."""
    store = deps.store
    seq = body["seq"] + 1
    folder = ckey.removesuffix(CHECKPOINT)
    # Named by who wrote them too: objects of an invocation that lost its lease are never referenced.
    stem = f"{folder}{seq:04d}-{uuid.uuid4().hex[:8]}"
    part_json, part_csv = report.take_part()
    keys = (f"{stem}.part.json", f"{stem}.part.csv", f"{stem}.state.json.gz")
    try:
        store.put_run_object(keys[0], part_json)
        store.put_run_object(keys[1], part_csv)
    finally:
        part_json.close()
        part_csv.close()
    position = reader.position()
    state = {"reader": position, "report": report.state(), "run": run.state()}
    packed = gzip.compress(json.dumps(state, ensure_ascii=False).encode(), 6)
    del state
    store.put_run_object(keys[2], io.BytesIO(packed))
    advanced = {**body, "seq": seq, "lease_until": None, "state": keys[2], "parts": [*body["parts"], keys[:2]],
                "objects": [*body["objects"], *keys], "continued": False}
    new_tag = store.save_checkpoint(ckey, advanced, tag)
    if new_tag is None:
        # Only after this invocation's lease ran out and another took over: its work stands, not ours.
        log_event("hr_file_run_lost", checkpoint=ckey, seq=seq)
        store.delete_run_objects(keys)
        return
    if body["state"] is not None:
        store.delete_run_objects([body["state"]])  # superseded: only the latest state is ever read
    totals = report.totals.as_dict()
    log_event("hr_file_handed_over", key=body["key"], checkpoint=ckey, seq=seq, line=position["line"],
              offset=position.get("offset"), kind=position.get("kind", "csv"), state_bytes=len(packed), **totals)
    _hand_on(deps, ckey, advanced, new_tag)


def _hand_on(deps: EnrolmentDeps, ckey: str, body: dict[str, Any], tag: str) -> None:
    """Drop the token of invocation `seq`, then note that it went (a redelivery drops it again otherwise)."""
    if deps.continue_later is None:
        raise RuntimeError("this wiring cannot start another invocation")
    deps.continue_later(ckey, body["seq"])
    deps.store.save_checkpoint(ckey, {**body, "continued": True}, tag)


def _done(deps: EnrolmentDeps, ckey: str, body: dict[str, Any], tag: str, report: Report, policy_no: str,
          upload: Upload, parts: tuple[list[str], list[str]]) -> FileResult:
    result = _finish(deps, report, policy_no, upload, parts)
    finished = {**body, "status": "finished", "lease_until": None, "state": None, "parts": [], "objects": [],
                "finished_at": deps.now().isoformat(), "totals": result.totals, "invocations": body["seq"] + 1}
    if deps.store.save_checkpoint(ckey, finished, tag) is not None:
        deps.store.delete_run_objects(body["objects"])
        _release_claim(deps, ckey, upload)
    if body["seq"]:
        log_event("hr_file_run_finished", key=body["key"], checkpoint=ckey, invocations=body["seq"] + 1)
    return result
