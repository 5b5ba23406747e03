"""Enrolling an HR file, on the in-memory store: what HR's report says, who is stored, which emails go out."""

from __future__ import annotations

from chalicelib.enrolment.ports import RowWrite
from chalicelib.enrolment.use_cases import enrol_file
from chalicelib.errors import StaleState
from tests.enrolment.fakes import FakeEnrolmentStore, FakeName
from tests.enrolment.support import KEY, POLICY_NO, dependent_line, enrolment_on_fakes, principal_line


def rows_of(store: FakeEnrolmentStore, result) -> list[dict]:
    return store.report(result.report_keys[0])["rows"]  # type: ignore[return-value]


def test_a_family_is_enrolled_under_its_principals_one_invited_account():
    deps, store, queue = enrolment_on_fakes(principal_line("E1", "a@acme.example"),
                                            dependent_line("E1", "spouse", "Sara Ali", "1985-02-02"),
                                            dependent_line("E1", "child", "Omar Ali"))

    result = enrol_file(deps, store.bucket, KEY)

    assert result.status == "completed" and result.totals["created"] == 3
    (account,) = store.account_rows.values()
    assert account.status == "invited" and account.email == "a@acme.example"
    assert {m.account_id for m in store.member_rows.values()} == {account.account_id}
    assert store.name_rows["a@acme.example"].account_id == account.account_id
    # The welcome greets in Arabic with the Arabic name of the row (principal_line: أحمد علي).
    assert queue.jobs == [{"kind": "welcome", "account_id": account.account_id, "generation": 1, "name_ar": "أحمد علي"}]


def test_the_same_file_again_changes_nothing_and_sends_no_second_welcome():
    deps, store, queue = enrolment_on_fakes(principal_line("E1", "a@acme.example"))
    first = enrol_file(deps, store.bucket, KEY)
    for account in store.account_rows.values():
        account.welcome_delivered_generation = account.welcome_generation  # what the sender records

    again = enrol_file(deps, store.bucket, KEY)

    assert again.totals["unchanged"] == 1 and again.totals["created"] == 0
    assert [r["member_id"] for r in rows_of(store, again)] == [r["member_id"] for r in rows_of(store, first)]
    assert len(queue.jobs) == 1


def test_a_dependent_listed_before_the_principal_is_enrolled_with_the_family():
    deps, store, _ = enrolment_on_fakes(dependent_line("E1", "child", "Omar Ali"),
                                        principal_line("E1", "a@acme.example"))

    result = enrol_file(deps, store.bucket, KEY)

    assert result.totals["created"] == 2 and result.totals["errors"] == 0
    assert len({m.account_id for m in store.member_rows.values()}) == 1


def test_a_terminate_row_ends_cover_and_invites_nobody():
    deps, store, queue = enrolment_on_fakes(principal_line("E9", "gone@acme.example", action="terminate"))

    result = enrol_file(deps, store.bucket, KEY)

    assert result.totals["terminated"] == 1
    (member,) = store.member_rows.values()
    assert member.status == "terminated" and member.terminated_at is not None and member.account_id is None
    assert queue.jobs == [] and store.account_rows == {}


def test_a_new_email_for_a_principal_never_signed_in_moves_the_login_and_sends_a_new_welcome():
    deps, store, queue = enrolment_on_fakes(principal_line("E1", "old@acme.example"))
    enrol_file(deps, store.bucket, KEY)
    deps, store, queue = enrolment_on_fakes(principal_line("E1", "new@acme.example"), store=store)

    result = enrol_file(deps, store.bucket, KEY)

    assert result.totals["updated"] == 1
    (account,) = store.account_rows.values()
    assert account.email == "new@acme.example" and account.welcome_generation == 2
    assert sorted(store.name_rows) == ["new@acme.example"]
    assert queue.jobs == [{"kind": "welcome", "account_id": account.account_id, "generation": 2, "name_ar": "أحمد علي"}]


def test_a_file_for_a_policy_we_do_not_have_is_rejected_with_a_report():
    deps, store, _ = enrolment_on_fakes(principal_line("E1", "a@acme.example"),
                                        key="hr/incoming/GP-NOBODY-2026/staff.csv")

    result = enrol_file(deps, store.bucket, "hr/incoming/GP-NOBODY-2026/staff.csv")

    assert result.status == "rejected" and store.member_rows == {}
    assert store.report_index("GP-NOBODY-2026")[0]["status"] == "rejected"


class AlwaysRacingStore(FakeEnrolmentStore):
    """Another file changes these people every time: each write loses."""

    def write(self, rows: list[RowWrite]) -> None:  # type: ignore[override]
        raise StaleState()


def test_rows_that_lose_every_retry_to_another_file_are_reported_as_a_concurrent_change():
    deps, store, queue = enrolment_on_fakes(principal_line("E1", "a@acme.example"), store=AlwaysRacingStore())

    result = enrol_file(deps, store.bucket, KEY)

    (line,) = rows_of(store, result)
    assert line["outcome"] == "error" and line["errors"][0]["rule"] == "concurrent_change"
    assert result.status == "completed_with_errors" and queue.jobs == []
    assert POLICY_NO in result.report_keys[0]


# --- an HR member's civil ID login --------------------------------------------------------------
CIVIL_ID = "280010100012"  # compose_civil_id(date(1980, 1, 1), "0001")


def with_civil_id(line: str, civil_id: str = CIVIL_ID, mobile: str = "+96599887766") -> str:
    cells = line.split(",")
    cells[7], cells[8] = mobile, civil_id
    return ",".join(cells)


def test_a_principals_civil_id_is_claimed_with_the_account_in_one_transaction():
    deps, store, _ = enrolment_on_fakes(with_civil_id(principal_line("E1", "a@acme.example")))

    result = enrol_file(deps, store.bucket, KEY)

    (account,) = store.account_rows.values()
    assert result.totals["created"] == 1 and store.transactions == 1
    assert account.civil_id == CIVIL_ID and account.phone == "+96599887766"
    assert {n: r.account_id for n, r in store.name_rows.items()} == {"a@acme.example": account.account_id,
                                                                     CIVIL_ID: account.account_id}
    assert rows_of(store, result)[0]["name"] == "Ahmad Ali"


class ResidentRegistersMeanwhile(FakeEnrolmentStore):
    """A resident's registration claims the civil ID between the file's read and its first write."""

    def write(self, rows: list[RowWrite]) -> None:  # type: ignore[override]
        self.name_rows.setdefault(CIVIL_ID, FakeName(CIVIL_ID, "resident-account"))
        super().write(rows)


def test_a_civil_id_claimed_by_a_resident_meanwhile_is_left_to_her_and_the_row_enrolled_on_the_retry():
    deps, store, queue = enrolment_on_fakes(with_civil_id(principal_line("E1", "a@acme.example")),
                                            store=ResidentRegistersMeanwhile())

    result = enrol_file(deps, store.bucket, KEY)

    (line,) = rows_of(store, result)
    assert line["outcome"] == "created" and [e["rule"] for e in line["errors"]] == ["civil_id_login_taken"]
    assert result.status == "completed"
    assert store.name_rows[CIVIL_ID].account_id == "resident-account"
    (account,) = store.account_rows.values()
    assert account.civil_id is None and len(queue.jobs) == 1
