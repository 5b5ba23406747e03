"""Enrol an HR file: every row applied or reported, idempotent, batched, safe against a concurrent file."""

from __future__ import annotations

import io
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal

from chalicelib.accounts import welcome_job
from chalicelib.enrolment.ports import (
    AccountRow,
    Condition,
    EnrolmentDeps,
    GroupPolicy,
    Job,
    LoginName,
    MemberRow,
    Report,
    RowWrite,
    Stored,
)
from chalicelib.enrolment.report_rules import Outcome, ReportLine, Upload, index_entry, index_key, report_keys
from chalicelib.enrolment.rules import (
    Action,
    DuplicateCheck,
    EnrolmentRow,
    FileProblem,
    HrFileError,
    RowError,
    card_fingerprint,
    member_id_candidates,
    parse_row,
    principal_member_id,
    resolve_member_id,
    row_fingerprint,
    unknown_policy_problem,
)
from chalicelib.errors import StaleState, Text
from chalicelib.logs import log_error, log_event

CHUNK = 100  # rows per round of batched reads and transactional writes
RETRIES = 3
# Principals whose account the run remembers for their dependents (HR lists a family together):
# the last ones only, so the run's memory and saved state do not grow with the file. A dependent
# of a principal further back reads the principal's member record with the rest of its chunk.
PRINCIPALS_KEPT = 1000
REVOKE_EVERY_S = 30  # a terminated member's card is on the revocation list within a minute
REVOKE_KEPT = 10_000  # members kept for another attempt after a failed revocation write


@dataclass
class FileResult:
    policy_no: str
    status: str
    totals: dict[str, int]
    report_keys: tuple[str, str]


@dataclass
class _Pending:
    line: int
    raw: dict[str, str]
    row: EnrolmentRow
    candidates: tuple[str, ...]


@dataclass
class _Outcome:
    outcome: Outcome
    member_id: str | None = None
    errors: tuple[RowError, ...] = ()


_NOT_ENROLLED = Text("There is nobody with these details to terminate.", "لا يوجد مؤمَّن بهذه البيانات لإنهاء تغطيته.")
_EMAIL_TAKEN = Text("This email already belongs to another person's account.",
                    "هذا البريد الإلكتروني مسجّل لحساب شخص آخر.")
_CIVIL_ID_TAKEN = Text(
    "Enrolled. This civil ID already signs in to another account (perhaps the person's own, made in the app), "
    "so this member signs in with the email only. If the civil ID is mistyped, correct it and upload the file again.",
    "تم التسجيل. هذا الرقم المدني يُستخدم للدخول إلى حساب آخر (ربما حساب الشخص نفسه الذي أنشأه في التطبيق)، "
    "لذلك يدخل هذا المؤمَّن بالبريد الإلكتروني فقط. إن كان الرقم المدني خاطئًا فصحّحه وأعد رفع الملف.")
_CONFLICT = Text("Another upload changed this person at the same time; upload the file again.",
                 "عدّل ملف آخر بيانات هذا الشخص في الوقت نفسه؛ أعد رفع الملف.")
_UNREADABLE = Text("The file could not be processed. Our team has been alerted; you may upload it again.",
                   "تعذّرت معالجة الملف. تم إبلاغ فريقنا؛ يمكنك رفعه مرة أخرى.")


def policy_of_key(key: str) -> str | None:
    """hr/incoming/<POLICY_NO>/<name>.csv -> POLICY_NO."""
    parts = key.split("/")
    return parts[2] if len(parts) >= 4 and parts[0] == "hr" and parts[1] == "incoming" and parts[2] else None


def upload_of(key: str, version_id: str | None, *, sequencer: str | None = None, etag: str | None = None,
              uploaded_at: datetime | None = None, now: datetime) -> Upload:
    """The upload a report is named after; without any S3 identity, a fresh one (never shared)."""
    identity = version_id or (f"sequencer:{sequencer}" if sequencer else None) \
        or (f"etag:{etag.strip(chr(34))}" if etag else None) or f"run:{uuid.uuid4().hex}"
    return Upload(key=key, uploaded_at=uploaded_at or now, identity=identity)


def enrol_file(deps: EnrolmentDeps, bucket: str, key: str, version_id: str | None = None, *,
               upload: Upload | None = None) -> FileResult:
    """Read the file as a stream and apply it in chunks; the report says what became of every row.

    A file-level problem part-way (bytes that are not text, a row that never ends) stops the
    reading there: the rows read before it are applied and reported like any other, and the
    report says at which row and why reading stopped. Enrolment is idempotent, so uploading the
    corrected file whole again leaves those rows unchanged and applies the rest.
    """
    received = deps.now()
    upload = upload or upload_of(key, version_id, now=received)
    policy_no = policy_of_key(key) or ""
    name = key.rsplit("/", 1)[-1]
    policy = deps.store.policy(policy_no) if policy_no else None
    report = deps.new_report(file_name=name, policy_no=policy_no, received_at=received)
    if policy is None:
        report.add_file_problem(unknown_policy_problem(policy_no))
        return _finish(deps, report, policy_no, upload)
    try:
        reader = deps.open_csv(deps.store.open_file(bucket, key, version_id))
    except HrFileError as error:
        report.add_file_problem(error.problem)
        return _finish(deps, report, policy_no, upload)
    report.encoding = reader.encoding
    report.unknown_columns = tuple(reader.unknown_columns)
    run = _Run(deps, policy, report, received.date())
    stopped, _ = run.consume(reader)
    run.finish_rows()
    if stopped is not None:
        report.add_file_problem(_stopped_after_rows(stopped) if report.totals.rows else stopped)
    return _finish(deps, report, policy_no, upload)


def _stopped_after_rows(problem: FileProblem) -> FileProblem:
    """The problem that stopped reading, telling HR that the rows before it were applied."""
    where = f"row {problem.line}" if problem.line else "this point"
    where_ar = f"الصف {problem.line}" if problem.line else "هذا الموضع"
    text = Text(
        f"{problem.text.en} Reading stopped at {where}: the rows before it were applied as listed. "
        "Upload the corrected file whole again: rows already applied come back unchanged.",
        f"{problem.text.ar} توقفت القراءة عند {where_ar}: طُبّقت الصفوف التي قبله كما هو مبيّن. "
        "أعد رفع الملف كاملًا بعد تصحيحه: الصفوف المطبّقة من قبل لن تتغير.",
    )
    return FileProblem(problem.rule, text, problem.columns, problem.line)


def _finish(deps: EnrolmentDeps, report: Report, policy_no: str, upload: Upload,
            parts: tuple[Sequence[str], Sequence[str]] = ((), ())) -> FileResult:
    """Write the report (after `parts`, the JSON and CSV of earlier invocations), then its index entry."""
    finished = deps.now()
    bodies = report.finish(finished_at=finished)
    keys = report_keys(policy_no or "unknown", upload)
    deps.store.put_report(keys[0], bodies.json, "application/json", parts[0])
    deps.store.put_report(keys[1], bodies.csv, "text/csv; charset=utf-8", parts[1])
    bodies.close()
    # Listed last: an index entry always points at reports that exist.
    entry = index_entry(upload, policy_no, keys, bodies.status, bodies.totals, finished)
    deps.store.put_report(index_key(policy_no or "unknown", upload), io.BytesIO(entry), "application/json")
    totals = bodies.totals.as_dict()
    log_event("hr_file_enrolled", key=upload.key, policy_no=policy_no, status=bodies.status, report=keys[0],
              **totals)
    return FileResult(policy_no, bodies.status, totals, keys)


def report_failed_file(deps: EnrolmentDeps, key: str, version_id: str | None = None, *,
                       upload: Upload | None = None) -> FileResult:
    """A file that kept failing (it reached the dead-letter queue): its report says so."""
    upload = upload or upload_of(key, version_id, now=deps.now())
    policy_no = policy_of_key(key) or "unknown"
    report = deps.new_report(file_name=key.rsplit("/", 1)[-1], policy_no=policy_no, received_at=deps.now())
    report.add_file_problem(FileProblem("processing_failed", _UNREADABLE))
    return _finish(deps, report, policy_no, upload)


@dataclass
class _Run:
    deps: EnrolmentDeps
    policy: GroupPolicy
    report: Report
    today: date
    family: DuplicateCheck = field(default_factory=DuplicateCheck)
    # employee_no -> the principal's account id, for their dependents: the last PRINCIPALS_KEPT
    principal_accounts: OrderedDict[str, str | None] = field(default_factory=OrderedDict)
    deferred: list[_Pending] = field(default_factory=list)
    # Members whose cards go on the revocation list (terminated, or their printed details changed),
    # each with the moment before which their cards no longer hold: sent at least every
    # REVOKE_EVERY_S and before the invocation ends (a hand-over or the end of the file).
    revoking: dict[str, datetime] = field(default_factory=dict)
    revoking_since: datetime | None = None

    def revoke_later(self, issued_before: Mapping[str, datetime]) -> None:
        if not issued_before or self.deps.revoke_cards is None:
            return
        now = self.deps.now()
        for member_id, moment in issued_before.items():
            self.revoking.pop(member_id, None)
            self.revoking[member_id] = moment  # the later change says which cards hold
        self.revoking_since = self.revoking_since or now
        if (now - self.revoking_since).total_seconds() >= REVOKE_EVERY_S:
            self.revoke_now()

    def revoke_now(self) -> None:
        """Put the pending members' cards on the revocation list; a failure is logged, never the run's.

        Verification answers from the member records, which already say terminated; the list is for
        verifiers that check offline, and the next termination's write carries these again.
        """
        if not self.revoking or self.deps.revoke_cards is None:
            return
        try:
            self.deps.revoke_cards(issued_before=self.revoking)
        except Exception as error:  # a CRL write must not undo the enrolment written
            log_error("hr_card_revocation_failed", policy_no=self.policy.policy_no,
                      members=len(self.revoking), error=type(error).__name__)
            if len(self.revoking) < REVOKE_KEPT:
                return  # kept for the next attempt
        self.revoking, self.revoking_since = {}, None

    def state(self) -> dict[str, Any]:
        """What the run knows beyond the rows applied, as JSON (see `restored`).

        Small however long the file: 12 bytes a row read (duplicates), the last principals, and
        the dependents still waiting for a principal (none when HR lists the principal first).
        """
        return {"policy_no": self.policy.policy_no, "plans": sorted(self.policy.plan_codes),
                "today": self.today.isoformat(), "family": self.family.state(),
                "principal_accounts": dict(self.principal_accounts),
                "deferred": [[p.line, p.raw] for p in self.deferred]}

    def remember_principals(self, accounts: Mapping[str, str | None]) -> None:
        """Principals enrolled (employee_no -> account id), keeping only the last PRINCIPALS_KEPT."""
        known = self.principal_accounts
        for employee_no, account_id in accounts.items():
            known[employee_no] = account_id
            known.move_to_end(employee_no)
        while len(known) > PRINCIPALS_KEPT:
            known.popitem(last=False)

    @classmethod
    def restored(cls, deps: EnrolmentDeps, report: Report, state: Mapping[str, Any]) -> _Run:
        """The run an earlier invocation saved with `state()`, going on where it stopped."""
        policy = GroupPolicy(state["policy_no"], frozenset(state["plans"]))
        run = cls(deps, policy, report, date.fromisoformat(state["today"]),
                  family=DuplicateCheck.restored(state["family"]))
        run.remember_principals(state["principal_accounts"])
        for line, raw in state["deferred"]:
            parsed = parse_row(line, raw, plans=policy.plan_codes, today=run.today)
            assert isinstance(parsed, EnrolmentRow)  # it was valid when deferred
            run.deferred.append(_Pending(line, raw, parsed, member_id_candidates(policy.policy_no, parsed)))
        return run

    def consume(self, rows: Iterable[tuple[int, dict[str, str]]],
                stop: Callable[[], bool] | None = None) -> tuple[FileProblem | None, bool]:
        """Apply the rows read: (the problem that stopped reading early, if one did; whether `stop` paused it).

        `stop` is asked after each chunk: when it says so, every row read so far is applied and
        reported, and the rest is left unread for a fresh invocation. Then `finish_rows` at the end.
        """
        plans = self.policy.plan_codes
        chunk: list[_Pending] = []
        stopped: FileProblem | None = None
        try:
            for line, raw in rows:
                parsed = parse_row(line, raw, plans=plans, today=self.today)
                if not isinstance(parsed, EnrolmentRow):
                    self._report(line, raw, None, _Outcome(Outcome.ERROR, errors=parsed))
                    continue
                duplicate = self.family.add(parsed)
                if duplicate is not None:
                    self._report(line, raw, parsed, _Outcome(Outcome.ERROR, errors=(duplicate,)))
                    continue
                chunk.append(_Pending(line, raw, parsed, member_id_candidates(self.policy.policy_no, parsed)))
                if len(chunk) == CHUNK:
                    self._apply(chunk)
                    chunk = []
                    if stop is not None and stop():
                        self.revoke_now()
                        return None, True
        except HrFileError as error:
            # The rows read so far are as good as any: they are applied below, not dropped
            # with the unread rest (which used to lose up to a chunk of rows silently).
            stopped = error.problem
        if chunk:
            self._apply(chunk)
        self.revoke_now()
        return stopped, False

    def finish_rows(self) -> None:
        """At the end of the file: dependents listed before their principal (who may have come later)."""
        waiting, self.deferred = self.deferred, []
        if not waiting:
            return
        # Their principal came later in the file (or was enrolled meanwhile): its member record
        # says so, whether or not it is among the principals the run still remembers.
        policy_no = self.policy.policy_no
        asked = {principal_member_id(policy_no, p.row.employee_no): p.row.employee_no for p in waiting
                 if p.row.employee_no not in self.principal_accounts}
        enrolled = {asked[m] for m in self.deps.store.members(asked)} | set(self.principal_accounts)
        for p in waiting:
            if p.row.employee_no not in enrolled:
                self._principal_missing(p)
        ready = [p for p in waiting if p.row.employee_no in enrolled]
        for start in range(0, len(ready), CHUNK):
            self._apply(ready[start:start + CHUNK])
        # Not one row lost: a principal that was there when asked and is not when applied (never
        # seen) would leave its dependent waiting again.
        waiting, self.deferred = self.deferred, []
        for p in waiting:
            self._principal_missing(p)

    def _principal_missing(self, p: _Pending) -> None:
        missing = RowError(p.line, "employee_no", "principal_missing", Text(
            f"No principal with employee_no {p.row.employee_no} in this file or enrolled before.",
            f"لا يوجد موظف أساسي برقم {p.row.employee_no} في هذا الملف أو مسجّل من قبل."))
        self._report(p.line, p.raw, p.row, _Outcome(Outcome.ERROR, errors=(missing,)))

    def _report(self, line: int, raw: dict[str, str], row: EnrolmentRow | None, outcome: _Outcome) -> None:
        if outcome.outcome is Outcome.ERROR:
            self.report.add(ReportLine.rejected(line, raw, outcome.errors))
            return
        assert row is not None
        # A row applied may carry a note (e.g. its civil ID not made a login): listed as its errors,
        # while the outcome says it was applied and the file's status does not count it as an error.
        self.report.add(ReportLine(line=line, employee_no=row.employee_no, relationship=row.relationship.value,
                                   member_id=outcome.member_id, outcome=outcome.outcome, errors=outcome.errors,
                                   name=row.name_en))

    def _apply(self, chunk: list[_Pending]) -> None:
        """Read what the chunk touches, decide each row, write it all in transactions; retry on a race."""
        for attempt in range(RETRIES):
            plan = _ChunkPlan(self, chunk)
            try:
                plan.decide()
                self.deps.store.write([w for w in plan.writes if len(w)])
            except StaleState:
                if attempt < RETRIES - 1:
                    continue  # another file changed one of these people: read again and redo
                self._row_by_row(chunk)
                return
            plan.done()
            return

    def _row_by_row(self, chunk: list[_Pending]) -> None:
        """Last resort after repeated races: each row alone, so only the contested ones fail."""
        for pending in chunk:
            plan = _ChunkPlan(self, [pending])
            try:
                plan.decide()
                self.deps.store.write([w for w in plan.writes if len(w)])
            except StaleState:
                conflict = RowError(pending.line, "employee_no", "concurrent_change", _CONFLICT)
                self._report(pending.line, pending.raw, pending.row, _Outcome(Outcome.ERROR, errors=(conflict,)))
                continue
            plan.done()


class _ChunkPlan:
    """The decisions for one chunk, made from one batched read of everything it touches."""

    def __init__(self, run: _Run, chunk: list[_Pending]) -> None:
        self.run, self.chunk = run, chunk
        self.store, self.records, self.now = run.deps.store, run.deps.records, run.deps.now()
        self.writes: list[RowWrite] = []
        self.outcomes: list[tuple[_Pending, _Outcome]] = []
        self.jobs: list[Job] = []
        self.linked: dict[str, str | None] = {}
        # Login names this plan claims or releases: one transaction may touch an item only once,
        # and a name one row releases is not another row's to claim until that is written.
        self.touched: set[str] = set()
        self.notes: dict[int, RowError] = {}  # line -> a note on a row applied
        self.account_written: set[int] = set()  # lines whose account changed, whatever their member did
        self.accounts_saved: set[str] = set()  # one write per account and plan (a transaction takes an item once)
        # member id -> the moment before which their cards no longer hold (terminated, or reissued)
        self.revokes: dict[str, datetime] = {}

    def decide(self) -> None:
        policy_no = self.run.policy.policy_no
        wanted = {c for p in self.chunk for c in p.candidates}
        # Principals of dependents not seen in this file: are they enrolled already?
        wanted |= {principal_member_id(policy_no, p.row.employee_no) for p in self.chunk
                   if not p.row.is_principal and p.row.employee_no not in self.run.principal_accounts}
        members = self.store.members(wanted)
        emails = {p.row.email for p in self.chunk if p.row.is_principal and p.row.email}
        civil_ids = {p.row.national_id for p in self.chunk if p.row.is_principal and p.row.national_id
                     and p.row.action is not Action.TERMINATE}
        names = dict(self.store.login_names(emails | civil_ids))
        account_ids = {m.account_id for m in members.values() if m.account_id and m.relationship == "principal"}
        account_ids |= {n.account_id for e in emails if (n := names.get(e)) is not None and n.account_id}
        accounts = self.store.accounts(account_ids)
        # The civil IDs these accounts log in with now, when HR's differ: a move releases them.
        held = {c for a in accounts.values() for source, c, _ in [self.records.login_details(a)]
                if source == "hr" and c and c not in civil_ids}
        names.update(self.store.login_names(held) if held else {})
        for pending in self.chunk:
            self._decide_row(pending, members, names, accounts)

    def _decide_row(self, p: _Pending, members: Mapping[str, MemberRow], names: Mapping[str, LoginName],
                    accounts: Mapping[str, AccountRow]) -> None:
        row = p.row
        member_id = resolve_member_id(p.candidates, members)
        existing = members.get(member_id)
        fingerprint = row_fingerprint(row)
        printed = card_fingerprint(self.run.policy.policy_no, row)
        if row.action is Action.TERMINATE:
            # Only this action ends coverage. Someone HR terminates whom we never had is recorded
            # as terminated too (their card verifies as terminated); no account, no welcome.
            if existing is not None and existing.status == "terminated" and existing.fingerprint == fingerprint:
                self.outcomes.append((p, _Outcome(Outcome.UNCHANGED, member_id)))
                return
            account_id = existing.account_id if existing is not None else self._known_account(row, members)
            record = self.records.member(existing, member_id, self.run.policy.policy_no, row, fingerprint,
                                         account_id, self.now, card_fingerprint=printed,
                                         card_since=self.now if existing is None else None, terminated=True)
            self._row_write().saves.append((record, self.records.new_condition() if existing is None else None))
            if row.is_principal:
                self._link(row, account_id)
            self.outcomes.append((p, _Outcome(Outcome.TERMINATED, member_id)))
            # Every card drawn up to now, this very second included (no card is drawn once terminated).
            self.revokes[member_id] = self.now + timedelta(seconds=1)
            return
        if row.is_principal:
            principal_account = self._principal_account(p, existing, names, accounts)
            if principal_account is False:
                return
            account_id = principal_account
        elif row.employee_no in self.run.principal_accounts or row.employee_no in self.linked:
            account_id = self._known_account(row, members)
        else:
            principal = members.get(principal_member_id(self.run.policy.policy_no, row.employee_no))
            if principal is None:
                self.run.deferred.append(p)  # maybe later in the file
                return
            account_id = principal.account_id
        if existing is not None and existing.fingerprint == fingerprint and existing.status == "active" \
                and existing.account_id == account_id:
            # The member is as HR says; their account may have just gained its civil ID login or phone.
            changed = p.line in self.account_written
            self.outcomes.append((p, _Outcome(Outcome.UPDATED if changed else Outcome.UNCHANGED, member_id)))
            return
        # A new card starts for a new member, cover restored, or printed details changed; in the last case
        # the cards drawn before no longer hold: revoked, from this second on (a card drawn after the
        # change, this same second included, holds; it is a new object: its key carries `card_since`).
        was_active = existing is not None and existing.status == "active"
        anew = existing is None or not was_active or existing.card_fingerprint != printed
        record = self.records.member(existing, member_id, self.run.policy.policy_no, row, fingerprint, account_id,
                                     self.now, card_fingerprint=printed, card_since=self.now if anew else None)
        if anew and was_active:
            self.revokes[member_id] = self.now
        self._row_write().saves.append((record, self.records.new_condition() if existing is None else None))
        self.outcomes.append((p, _Outcome(Outcome.CREATED if existing is None else Outcome.UPDATED, member_id)))

    def _known_account(self, row: EnrolmentRow, members: Mapping[str, MemberRow]) -> str | None:
        if row.employee_no in self.linked:
            return self.linked[row.employee_no]
        if row.employee_no in self.run.principal_accounts:
            return self.run.principal_accounts[row.employee_no]
        principal = members.get(principal_member_id(self.run.policy.policy_no, row.employee_no))
        return principal.account_id if principal is not None else None

    def _row_write(self) -> RowWrite:
        write = RowWrite()
        self.writes.append(write)
        return write

    def _principal_account(self, p: _Pending, existing: MemberRow | None, names: Mapping[str, LoginName],
                           accounts: Mapping[str, AccountRow]) -> str | Literal[False] | None:
        """The account this principal logs in with: existing, re-addressed, or new (invited); False: refused."""
        row = p.row
        email = row.email
        if email is None:
            raise ValueError(f"row {p.line}: a principal without an email passed validation")  # parse_row requires it
        owner = names.get(email)
        owner_id = owner.account_id if owner is not None else None
        current_id = existing.account_id if existing is not None else None
        name_ar = row.name_ar or ""
        if current_id is None:
            if owner_id:
                account = accounts.get(owner_id)
                if account is not None and account.status in ("invited", "invite_expired") \
                        and account.welcome_delivered_generation != account.welcome_generation:
                    self.jobs.append(welcome_job(account, name_ar))  # never sent (a crash earlier): send now
                if account is not None:
                    self._save_logins(p, account, names)
                return self._link(row, owner_id)
            account = self.records.invited_account(uuid.uuid4().hex, email, row.name_en, self.now)
            write = self._row_write()
            changed, claims, _ = self._logins(p, account, names)
            account = changed if changed is not None else account
            write.saves.append((account, self.records.new_account_condition()))
            write.saves.append((self.records.username(email, account.account_id), self.records.free_name()))
            write.saves.extend(claims)  # in the account's own transaction, on the same "free name" condition
            self.jobs.append(welcome_job(account, name_ar))
            return self._link(row, account.account_id)
        account = accounts.get(current_id)
        if account is None or account.email == email:
            if account is not None and account.status in ("invited", "invite_expired") \
                    and account.welcome_delivered_generation != account.welcome_generation:
                self.jobs.append(welcome_job(account, name_ar))
            if account is not None:
                self._save_logins(p, account, names)
            return self._link(row, current_id)
        if owner_id and owner_id != current_id:
            error = RowError(p.line, "email", "email_taken", _EMAIL_TAKEN)
            self.outcomes.append((p, _Outcome(Outcome.ERROR, errors=(error,))))
            return False
        # HR changed the email of someone with an account.
        old_email = account.email
        write = self._row_write()
        # Never registered: the welcome goes to the new address and the old link dies.
        never_registered = account.status in ("invited", "invite_expired")
        account = self.records.readdressed(account, email, self.now, reinvite=never_registered)
        changed, claims, releases = self._logins(p, account, names)
        account = changed if changed is not None else account
        self.accounts_saved.add(current_id)
        if never_registered:
            self.jobs.append(welcome_job(account, name_ar))
        elif old_email:
            # Registered: the login email changes, and both addresses are told.
            self.jobs.extend(self.records.email_changed_messages(old_email, email, account.name or row.name_en))
        write.saves.append((account, None))
        if old_email:
            write.deletes.append((self.records.username(old_email, current_id), self.records.owned_by(current_id)))
        write.saves.append((self.records.username(email, current_id), self.records.free_name()))
        write.saves.extend(claims)
        write.deletes.extend(releases)
        return self._link(row, current_id)

    def _save_logins(self, p: _Pending, account: AccountRow, names: Mapping[str, LoginName]) -> None:
        """An existing account's civil ID login and phone brought in line with the row, if they differ."""
        changed, claims, releases = self._logins(p, account, names)
        if changed is None:
            return
        write = self._row_write()
        write.saves.append((changed, None))  # on the version read: a concurrent change re-reads
        write.saves.extend(claims)
        write.deletes.extend(releases)
        self.account_written.add(p.line)

    def _logins(self, p: _Pending, account: AccountRow, names: Mapping[str, LoginName]) -> tuple[
            AccountRow | None, list[tuple[Stored, Condition]], list[tuple[Stored, Condition]]]:
        """The account with the civil ID HR sent as its second login name and the phone HR gave.

        Only accounts HR made (source "hr"): a resident's own civil ID login and proven phone are
        never HR's to change. A blank cell changes nothing. A civil ID that already opens another
        account is not claimed: the row is applied, the member keeps the email login, and the
        report notes it; a civil ID HR replaced is released (HR no longer vouches for it, and its
        holder may want it). Returns (account changed, or None when nothing changes; the login
        names to claim, each on the "free name" condition; those to release, owned by this account).
        """
        claims: list[tuple[Stored, Condition]] = []
        releases: list[tuple[Stored, Condition]] = []
        source, held, phone = self.records.login_details(account)
        if source != "hr" or account.account_id in self.accounts_saved:
            return None, claims, releases  # a second row of one account in a chunk: the next upload's
        account_id, wanted = account.account_id, p.row.national_id
        civil_id, new_phone = held, p.row.mobile or phone
        if wanted and wanted != held:
            owner = names.get(wanted)
            owner_id = owner.account_id if owner is not None else None
            if owner_id == account_id:
                civil_id = wanted
            elif owner_id or wanted in self.touched:
                civil_id = None  # never another person's login: the email stays this member's way in
                self.notes[p.line] = RowError(p.line, "national_id", "civil_id_login_taken", _CIVIL_ID_TAKEN)
            else:
                claims.append((self.records.username(wanted, account_id), self.records.free_name()))
                self.touched.add(wanted)
                civil_id = wanted
            previous = names.get(held) if held else None
            if held and previous is not None and previous.account_id == account_id and held not in self.touched:
                releases.append((self.records.username(held, account_id), self.records.owned_by(account_id)))
                self.touched.add(held)
        if civil_id == held and new_phone == phone:
            return None, claims, releases
        self.accounts_saved.add(account_id)
        return self.records.with_login_details(account, civil_id, new_phone, self.now), claims, releases

    def _link(self, row: EnrolmentRow, account_id: str | None) -> str | None:
        self.linked[row.employee_no] = account_id
        return account_id

    def done(self) -> None:
        """After the writes committed: remember principals, report rows, queue the emails."""
        self.run.remember_principals(self.linked)
        for pending, decided in self.outcomes:
            note = self.notes.get(pending.line)
            outcome = decided if note is None or decided.outcome is Outcome.ERROR \
                else replace(decided, errors=(note,))
            if outcome is not decided:
                # No civil ID in the log: HR's report names the row.
                log_event("hr_civil_id_login_not_claimed", policy_no=self.run.policy.policy_no, line=pending.line)
            self.run._report(pending.line, pending.raw, pending.row, outcome)
        if self.jobs:
            self.run.deps.enqueue(self.jobs)
        self.run.revoke_later(self.revokes)

