"""HR enrolment from files dropped on S3: every row applied or reported, once."""

from __future__ import annotations

import pytest

from tests.support import token_of

from .conftest import POLICY_NO, csv_rows

PRINCIPALS = ["ahmad.almutairi@acme.example", "rajesh.kumar@acme.example", "hessa.alshammari@acme.example"]


@pytest.fixture(autouse=True)
def lambdas_time(aws, monkeypatch):
    """Lambda gives hr_file_arrived 900 s; Chalice's test client gives every function a 3-second context,
    which would hand each file over after its first chunk. The test of hand-overs sets its own budget."""
    from chalicelib.enrolment import jobs
    from chalicelib.enrolment.continuation import Budget

    monkeypatch.setattr(jobs, "budget_for", lambda context: Budget(lambda: 900.0))


def members(account_id=None):
    from chalicelib.enrolment.models import MemberRecord

    if account_id:
        return list(MemberRecord.by_account.query(account_id))
    return []


def member(member_id):
    from chalicelib.enrolment.models import MemberRecord

    return MemberRecord.get(member_id)


def by_line(report):
    return {row["line"]: row for row in report["rows"]}


def test_the_example_file_enrols_everyone_with_arabic_names_kept_exactly(drop, policy, example, outbox):
    report = drop(example, "acme-2026.csv")

    assert report["status"] == "completed", report
    assert report["totals"]["rows"] == 15 and report["totals"]["errors"] == 0
    assert report["totals"]["created"] == 14 and report["totals"]["terminated"] == 1
    assert report["encoding"] in ("utf-8", "utf-8-sig") and report["unknown_columns"] == ["Department"]
    rows = by_line(report)
    fatima = member(rows[3]["member_id"])
    assert fatima.name_ar == "فاطمة علي المطيري" and fatima.relationship == "spouse"
    assert member(rows[16]["member_id"]).name_ar == "موضي محمد الشمري"
    # Every family shares its principal's account: the principal's login sees all their cards.
    ahmad = member(rows[2]["member_id"])
    assert len(members(ahmad.account_id)) == 4
    welcomed = sorted(m["to"] for m in outbox.messages(template="welcome"))
    assert "ibrahim.alkandari@acme.example" not in welcomed  # terminated on arrival: no account
    assert len(welcomed) == 5 and len(set(welcomed)) == 5


def test_the_same_file_twice_changes_nothing_and_sends_no_second_email(drop, policy, example, outbox):
    first = drop(example, "acme-2026.csv")
    welcomes = len(outbox.messages(template="welcome"))

    second = drop(example, "acme-2026 (1).csv")
    assert second["totals"]["unchanged"] == 15 and second["totals"]["created"] == 0
    assert [r["member_id"] for r in second["rows"]] == [r["member_id"] for r in first["rows"]]
    assert len(outbox.messages(template="welcome")) == welcomes


def test_a_windows_1256_file_enrols_the_same_people(drop, policy, outbox):
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "examples" / "hr"
    utf8 = drop((root / "acme-2026.csv").read_bytes(), "a.csv")
    arabic_excel = drop((root / "acme-2026-cp1256.csv").read_bytes(), "b.csv")
    assert arabic_excel["encoding"] == "cp1256"
    assert arabic_excel["totals"]["unchanged"] == 15
    assert [r["member_id"] for r in arabic_excel["rows"]] == [r["member_id"] for r in utf8["rows"]]


def test_each_bad_row_is_reported_with_its_column_and_rule_and_the_rest_enrolled(drop, policy):
    body = csv_rows(
        "E1,principal,Good Person,شخص جيد,1980-01-01,male,good@acme.example,,,GOLD,2026-01-01,2026-12-31,",
        "E2,principal,No Email,بلا بريد,1980-01-01,male,,,,GOLD,2026-01-01,2026-12-31,",
        "E3,principal,Future Born,مستقبل,2999-01-01,male,f@acme.example,,,GOLD,2026-01-01,2026-12-31,",
        "E4,principal,Bad Dates,تواريخ,1980-02-30,male,d@acme.example,,,GOLD,2026-01-01,2026-12-31,",
        "E5,principal,Wrong Plan,برنامج,1980-01-01,male,p@acme.example,,,PLATINUM,2026-01-01,2026-12-31,",
        "E6,principal,Backwards,عكس,1980-01-01,male,b@acme.example,,,GOLD,2026-12-31,2026-01-01,",
        "E7,cousin,Odd Relation,قريب,1980-01-01,male,,,,GOLD,2026-01-01,2026-12-31,",
        "E8,child,Orphan Row,يتيم,2015-01-01,female,,,,GOLD,2026-01-01,2026-12-31,",
        "E1,principal,Good Person,شخص جيد,1980-01-01,male,good@acme.example,,,GOLD,2026-01-01,2026-12-31,",
    )
    report = drop(body, "bad.csv")
    rows = by_line(report)
    assert rows[2]["outcome"] == "created"
    problems = {line: {(e["column"], e["rule"]) for e in rows[line]["errors"]} for line in range(3, 11)}
    assert ("email", "required") in problems[3]
    assert ("date_of_birth", "future") in {(c, r) for c, r in problems[4]} or any(c == "date_of_birth"
                                                                                  for c, _ in problems[4])
    assert any(c == "date_of_birth" for c, _ in problems[5])
    assert any(c == "plan" for c, _ in problems[6])
    assert any(c == "coverage_end" for c, _ in problems[7])
    assert any(c == "relationship" for c, _ in problems[8])
    assert problems[9] == {("employee_no", "principal_missing")}
    assert any(r == "duplicate" for _, r in problems[10])
    assert report["totals"] == {"rows": 9, "created": 1, "updated": 0, "unchanged": 0, "terminated": 0,
                                "errors": 8}
    csv_report = drop.csv_report("bad.csv")
    assert "principal_missing" in csv_report and "PLATINUM" not in csv_report.splitlines()[0]


def test_a_missing_required_column_rejects_the_file_naming_it(drop, policy):
    report = drop("employee_no,relationship,name_en\nE1,principal,X\n", "short.csv")
    assert report["status"] == "rejected"
    assert report["file_errors"][0]["rule"] == "missing_columns"
    assert "date_of_birth" in report["file_errors"][0]["columns"]


def test_a_file_under_an_unknown_policy_is_rejected_whole_with_a_report(drop, aws, example):
    report = drop(example, "acme.csv", policy_no="GP-NOBODY")
    assert report["status"] == "rejected" and report["totals"]["rows"] == 0
    assert report["file_errors"][0]["rule"] == "unknown_policy"


def test_a_file_named_with_spaces_and_arabic_is_found_through_the_queue(drop, policy, example):
    report = drop(example, "موظفين مارس 2026.csv")
    assert report["file"] == "موظفين مارس 2026.csv" and report["totals"]["created"] == 14


def test_welcome_goes_only_to_people_never_registered(drop, policy, api, resident, outbox):
    body = csv_rows(
        f"E9,principal,Sara Ahmed,سارة أحمد,1990-05-17,female,{resident['email'].upper()},,,GOLD,"
        "2026-01-01,2026-12-31,",
        "E10,principal,New Person,شخص جديد,1985-01-01,male,new@acme.example,,,GOLD,2026-01-01,2026-12-31,",
    )
    report = drop(body, "mixed.csv")
    assert report["totals"]["created"] == 2
    assert [m["to"] for m in outbox.messages(template="welcome")] == ["new@acme.example"]
    # The resident's own login now sees the card HR gave her.
    assert [m.employee_no for m in members(resident["account_id"])] == ["E9"]


def test_a_corrected_email_of_a_never_registered_person_gets_the_welcome_and_the_old_link_dies(
        drop, policy, client, outbox):
    row = "E1,principal,Omar Ali,عمر علي,1980-01-01,male,{},,,GOLD,2026-01-01,2026-12-31,"
    drop(csv_rows(row.format("omar@wrong.example")), "v1.csv")
    old_link = outbox.last(to="omar@wrong.example", template="welcome")["links"][0]

    report = drop(csv_rows(row.format("omar@acme.example")), "v2.csv")
    assert report["totals"]["updated"] == 1
    new_link = outbox.last(to="omar@acme.example", template="welcome")["links"][0]
    assert client.http.get(f"/activate?token={token_of(old_link)}").status_code == 404
    assert client.http.get(f"/activate?token={token_of(new_link)}").status_code == 200


def test_an_active_persons_email_change_moves_the_login_and_tells_both_addresses(drop, policy, api, outbox):
    from tests.support import NEW_PASSWORD

    row = "E1,principal,Omar Ali,عمر علي,1980-01-01,male,{},,,GOLD,2026-01-01,2026-12-31,"
    drop(csv_rows(row.format("omar@old.example")), "v1.csv")
    link = outbox.last(to="omar@old.example", template="welcome")["links"][0]
    api.client.http.post("/activate", body=f"token={token_of(link)}",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    temporary = outbox.last(to="omar@old.example", template="temporary_password")["vars"]["password"]
    api.signed_in("omar@old.example", NEW_PASSWORD, temporary=temporary)

    drop(csv_rows(row.format("omar@new.example")), "v2.csv")
    told = sorted(m["to"] for m in outbox.messages(template="email_changed"))
    assert told == ["omar@new.example", "omar@old.example"]
    assert api.login("omar@new.example", NEW_PASSWORD).status == 200
    assert api.login("omar@old.example", NEW_PASSWORD).status == 401


def test_only_a_terminate_row_ends_coverage(drop, policy):
    first = drop(csv_rows(
        "E1,principal,Omar Ali,عمر علي,1980-01-01,male,omar@acme.example,,,GOLD,2026-01-01,2026-12-31,",
        "E2,principal,Mona Ali,منى علي,1982-01-01,female,mona@acme.example,,,GOLD,2026-01-01,2026-12-31,",
    ), "v1.csv")
    omar, mona = (r["member_id"] for r in first["rows"])

    report = drop(csv_rows(
        "E1,principal,Omar Ali,عمر علي,1980-01-01,male,omar@acme.example,,,GOLD,2026-01-01,2026-06-30,terminate",
    ), "v2.csv")
    assert report["rows"][0]["outcome"] == "terminated"
    assert member(omar).status == "terminated" and member(omar).coverage_end == "2026-06-30"
    assert member(mona).status == "active"  # merely missing from the file: left as is


def test_a_dead_lettered_file_is_reported_never_dropped(client, policy):
    import json

    import boto3

    from chalicelib.settings import get_settings

    key = f"hr/incoming/{POLICY_NO}/broken.csv"
    notification = json.dumps({"Records": [{"eventName": "ObjectCreated:Put", "s3": {
        "bucket": {"name": get_settings().hr_bucket}, "object": {"key": key, "size": 10}}}]})
    event = client.events.generate_sqs_event(message_bodies=[notification],
                                             queue_name=get_settings().hr_dead_letter_queue)
    client.lambda_.invoke("hr_file_failed", event)

    from chalicelib.enrolment.store import EnrolmentStore

    (entry,) = EnrolmentStore().report_index(POLICY_NO)
    assert entry["file"] == "broken.csv" and entry["status"] == "rejected"
    body = boto3.client("s3").get_object(Bucket=get_settings().hr_bucket, Key=entry["report_json"])["Body"].read()
    report = json.loads(body)
    assert report["status"] == "rejected" and report["file_errors"][0]["rule"] == "processing_failed"


def test_two_files_enrolling_one_person_at_once_make_one_account_and_one_welcome(drop, policy, outbox, monkeypatch):
    from chalicelib.accounts.models import AccountRecord, UsernameRecord
    from chalicelib.enrolment.store import EnrolmentStore

    row = "E1,principal,Omar Ali,عمر علي,1980-01-01,male,omar@acme.example,{mobile},,GOLD,2026-01-01,2026-12-31,"
    original = EnrolmentStore.write
    interleaved = []

    def write_after_the_other_file(self, rows):
        if not interleaved:
            interleaved.append(True)
            # File B runs completely between file A's reads and A's write.
            drop(csv_rows(row.format(mobile="+96550000001")), "b.csv")
        return original(self, rows)

    monkeypatch.setattr(EnrolmentStore, "write", write_after_the_other_file)
    report_a = drop(csv_rows(row.format(mobile="+96560000002")), "a.csv")

    # A's first write lost the race (B claimed the email first); A read again and applied on top.
    assert report_a["rows"][0]["outcome"] == "updated"
    owner = UsernameRecord.get("omar@acme.example").account_id
    assert AccountRecord.get(owner).email == "omar@acme.example"
    assert member(report_a["rows"][0]["member_id"]).mobile == "+96560000002"
    assert member(report_a["rows"][0]["member_id"]).account_id == owner
    assert len(outbox.messages(template="welcome")) == 1


def good_row(n: int) -> str:
    return (f"E{n},principal,Person {chr(65 + n % 26)},شخص,1980-01-01,male,p{n}@acme.example,,,GOLD,"
            "2026-01-01,2026-12-31,")


def test_the_same_file_name_in_two_folders_gets_two_reports_both_in_the_policys_index(drop, policy):
    first = drop(csv_rows(good_row(1)), "march/staff.csv")
    second = drop(csv_rows(good_row(2), "E3,cousin,X,س,1980-01-01,male,,,,GOLD,2026-01-01,2026-12-31,"),
                  "april/staff.csv")
    again = drop(csv_rows(good_row(1)), "march/staff.csv")  # the same key uploaded once more

    entries = drop.index()
    assert [e["key"] for e in entries].count(f"hr/incoming/{POLICY_NO}/march/staff.csv") == 2
    assert len({e["report_json"] for e in entries}) == 3
    assert all(e["report_json"].startswith(f"hr/reports/{POLICY_NO}/") for e in entries)
    # Each report still says what its own upload did: none replaced another.
    assert first["totals"]["created"] == 1 and again["totals"]["unchanged"] == 1
    assert second["totals"]["errors"] == 1
    by_report = {e["report_json"]: e for e in entries}
    assert sorted(e["status"] for e in by_report.values()) == ["completed", "completed", "completed_with_errors"]


def test_a_key_climbing_out_with_dot_dot_keeps_its_report_in_the_policys_folder(drop, policy):
    import boto3

    from chalicelib.settings import get_settings

    report = drop(csv_rows(good_row(1)), "../../reports/GP-ACME-2026/x\u202e.csv")

    (entry,) = drop.index()
    assert entry["report_json"].startswith(f"hr/reports/{POLICY_NO}/") and ".." not in entry["report_json"]
    assert report["totals"]["created"] == 1
    listed = boto3.client("s3").list_objects_v2(Bucket=get_settings().hr_bucket, Prefix="hr/")["Contents"]
    # The run's finished checkpoint is filed by the policy and the upload's id, as the report is.
    assert all(o["Key"].startswith(("hr/incoming/", f"hr/reports/{POLICY_NO}/", f"hr/runs/{POLICY_NO}/"))
               for o in listed)


def test_rows_before_a_file_error_are_applied_and_reported_and_the_fixed_file_applies_the_rest(drop, policy):
    good = [good_row(n) for n in range(1, 151)]  # one and a half chunks of 100 rows
    bad = "E151,principal,Bad Byte,بايت,1980-01-01,male,bad@acme.example,,,GOLD,2026-01-01,2026-12-31,"
    later = [good_row(n) for n in range(152, 160)]
    body = csv_rows(*good).encode() + (bad + "\n").encode("cp1256") + "".join(r + "\n" for r in later).encode()

    report = drop(body, "staff.csv")

    assert report["status"] == "completed_with_errors"
    assert [r["line"] for r in report["rows"]] == list(range(2, 152))
    assert {r["outcome"] for r in report["rows"]} == {"created"}
    assert all(member(r["member_id"]).status == "active" for r in report["rows"])
    (stopped,) = report["file_errors"]
    assert stopped["rule"] == "undecodable" and stopped["line"] == 152
    assert "Reading stopped at row 152" in stopped["reason"]["en"] and "unchanged" in stopped["reason"]["en"]
    assert "الصف 152" in stopped["reason"]["ar"] and "طُبّقت" in stopped["reason"]["ar"]

    fixed = drop(csv_rows(*good, bad, *later), "staff.csv")
    assert fixed["status"] == "completed" and fixed["totals"]["unchanged"] == 150
    assert fixed["totals"]["created"] == 1 + len(later)


def test_a_shift_jis_file_is_rejected_naming_the_accepted_encodings_and_nobody_is_stored(drop, policy):
    from chalicelib.enrolment.models import MemberRecord
    from chalicelib.enrolment.rules import principal_member_id

    body = csv_rows(*[f"E{n},principal,Tanaka Taro,{name},1980-01-01,male,t{n}@acme.example,,,GOLD,"
                      "2026-01-01,2026-12-31," for n, name in enumerate(["田中太郎", "山田花子", "佐藤健"])])

    report = drop(body.encode("shift_jis"), "sjis.csv")

    assert report["status"] == "rejected" and report["rows"] == []
    (problem,) = report["file_errors"]
    assert problem["rule"] == "unsupported_encoding"
    for text in problem["reason"].values():
        assert "UTF-8" in text and "Windows-1256" in text
    for n in range(3):
        with pytest.raises(MemberRecord.DoesNotExist):
            MemberRecord.get(principal_member_id(POLICY_NO, f"E{n}"))
    assert drop.csv_report("sjis.csv").count("file_error") == 1


def test_a_name_with_a_right_to_left_override_is_a_row_error_and_the_row_is_not_stored(drop, policy):
    body = csv_rows(
        "E1,principal,Omar \u202eilA,عمر علي,1980-01-01,male,omar@acme.example,,,GOLD,2026-01-01,2026-12-31,",
        "E2,principal,Mona Ali,منى\u200bعلي,1982-01-01,female,mona@acme.example,,,GOLD,2026-01-01,2026-12-31,",
        "E3,principal,Sara O'Neil-Ali,سارة علي,1982-01-01,female,sara@acme.example,,,GOLD,2026-01-01,2026-12-31,",
    )

    report = drop(body, "names.csv")

    rows = by_line(report)
    assert [(e["column"], e["rule"]) for e in rows[2]["errors"]] == [("name_en", "name_characters")]
    assert [(e["column"], e["rule"]) for e in rows[3]["errors"]] == [("name_ar", "name_characters")]
    assert "U+202E" in rows[2]["errors"][0]["reason"]["en"] and "U+202E" in rows[2]["errors"][0]["reason"]["ar"]
    assert "U+200B" in rows[3]["errors"][0]["reason"]["ar"]
    assert rows[4]["outcome"] == "created" and member(rows[4]["member_id"]).name_en == "Sara O'Neil-Ali"
    assert rows[2]["member_id"] is None and rows[3]["member_id"] is None


def test_a_40000_character_line_in_a_dropped_file_is_a_row_error_and_the_rows_after_it_enrolled(drop, policy):
    body = csv_rows(good_row(1), "E2,principal," + "A" * 40_000, good_row(3))

    report = drop(body, "long.csv")

    rows = by_line(report)
    assert rows[2]["outcome"] == "created" and rows[4]["outcome"] == "created"
    assert [(e["column"], e["rule"]) for e in rows[3]["errors"]] == [("name_en", "too_long")]
    assert rows[3]["employee_no"] == "E2"


def chunks_per_invocation(chunks: int):
    """An invocation's budget that runs out after `chunks` chunks of 100 rows (asked once each), no waiting."""
    import itertools

    from chalicelib.enrolment.continuation import Budget

    def budget_for(context):
        asked = itertools.count()  # the first question is the claim's deadline, then one per chunk
        return Budget(lambda: float(chunks - next(asked)), margin_s=0.5)

    return budget_for


def test_a_file_too_big_for_one_invocation_is_handed_over_and_finished_with_one_report_every_row_once(
        client, policy, monkeypatch):
    import json

    from moto.dynamodb.models import DynamoDBBackend

    from chalicelib.accounts.models import AccountRecord
    from chalicelib.enrolment import jobs
    from chalicelib.enrolment.store import EnrolmentStore
    from chalicelib.platform.aws import client as aws_client
    from chalicelib.settings import get_settings
    from devstack import moto_speedup

    monkeypatch.setattr(jobs, "budget_for", chunks_per_invocation(2))
    # moto's own TransactWriteItems deep-copies the whole table once per item: over 500 rows that was half
    # this test's time. What is tested here is the hand-over; tests/devstack/test_moto_speedup.py holds the
    # faster one (make run's and the bench's) to moto's outcomes, refusals and all.
    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", moto_speedup.transact_write_items)
    settings, s3, sqs = get_settings(), aws_client("s3"), aws_client("sqs")
    families = 250  # 500 rows: a principal and a child each; 200 rows an invocation
    rows = [line for n in range(families) for line in (
        good_row(n), f"E{n},child,Omar {chr(65 + n % 26)},عمر,2015-05-05,male,,,,GOLD,2026-01-01,2026-12-31,")]
    s3.put_object(Bucket=settings.hr_bucket, Key=f"hr/incoming/{POLICY_NO}/big.csv", Body=csv_rows(*rows).encode())
    url = sqs.get_queue_url(QueueName=settings.hr_queue)["QueueUrl"]
    bodies: list[str] = []
    invocations = 0
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            if "Records" not in json.loads(message["Body"]):
                continue  # S3's test event
            bodies.append(message["Body"])
            client.lambda_.invoke("hr_file_arrived", client.events.generate_sqs_event(
                message_bodies=[message["Body"]], queue_name=settings.hr_queue))
            invocations += 1

    assert invocations >= 3
    (entry,) = EnrolmentStore().report_index(POLICY_NO)  # one report
    report = json.loads(s3.get_object(Bucket=settings.hr_bucket, Key=entry["report_json"])["Body"].read())
    assert report["status"] == "completed"
    assert report["totals"] == entry["totals"] == {"rows": 500, "created": 500, "updated": 0, "unchanged": 0,
                                                   "terminated": 0, "errors": 0}
    assert [r["line"] for r in report["rows"]] == list(range(2, 502))  # every row once: none lost, none twice
    assert len({r["member_id"] for r in report["rows"]}) == 500
    csv_report = s3.get_object(Bucket=settings.hr_bucket, Key=entry["report_csv"])["Body"].read()
    assert len([line for line in csv_report.decode("utf-8-sig").splitlines() if line[:1].isdigit()]) == 500
    assert sum(1 for _ in AccountRecord.scan()) == families
    # The run's objects are gone, and so are the tokens that started each invocation.
    left = s3.list_objects_v2(Bucket=settings.hr_bucket, Prefix="hr/runs/").get("Contents", [])
    assert [o["Key"] for o in left] == [k for k in (o["Key"] for o in left) if k.endswith("checkpoint.json")]
    assert s3.list_objects_v2(Bucket=settings.hr_bucket, Prefix=f"hr/incoming/{POLICY_NO}/_continue/").get(
        "KeyCount") == 0

    # Every message delivered again (SQS is at least once): nothing is applied twice, no second report.
    versions = {r["member_id"]: member(r["member_id"]).version for r in report["rows"][::50]}
    for body in bodies:
        client.lambda_.invoke("hr_file_arrived", client.events.generate_sqs_event(
            message_bodies=[body], queue_name=settings.hr_queue))
    assert EnrolmentStore().report_index(POLICY_NO) == [entry]
    assert {m: member(m).version for m in versions} == versions


def test_a_run_whose_next_invocation_keeps_failing_ends_with_one_report_of_the_rows_applied(
        client, policy, monkeypatch):
    import json

    from chalicelib.enrolment import jobs
    from chalicelib.enrolment.store import EnrolmentStore
    from chalicelib.platform.aws import client as aws_client
    from chalicelib.settings import get_settings

    monkeypatch.setattr(jobs, "budget_for", chunks_per_invocation(2))  # 200 rows, then a hand-over
    settings, s3, sqs = get_settings(), aws_client("s3"), aws_client("sqs")
    rows = [good_row(n) for n in range(300)]
    s3.put_object(Bucket=settings.hr_bucket, Key=f"hr/incoming/{POLICY_NO}/staff.csv", Body=csv_rows(*rows).encode())
    url = sqs.get_queue_url(QueueName=settings.hr_queue)["QueueUrl"]

    def take() -> list[str]:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        for m in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return [m["Body"] for m in messages if "Records" in json.loads(m["Body"])]

    (upload_message,) = take()
    client.lambda_.invoke("hr_file_arrived", client.events.generate_sqs_event(
        message_bodies=[upload_message], queue_name=settings.hr_queue))
    (token_message,) = take()  # the hand-over's token: the invocation it starts fails every retry
    assert "%2F_continue%2F" in json.loads(token_message)["Records"][0]["s3"]["object"]["key"]  # URL-encoded
    client.lambda_.invoke("hr_file_failed", client.events.generate_sqs_event(
        message_bodies=[token_message], queue_name=settings.hr_dead_letter_queue))

    (entry,) = EnrolmentStore().report_index(POLICY_NO)  # one report, the upload's, not the token's
    assert entry["file"] == "staff.csv"
    report = json.loads(s3.get_object(Bucket=settings.hr_bucket, Key=entry["report_json"])["Body"].read())
    assert [r["line"] for r in report["rows"]] == list(range(2, 202))  # what the first invocation applied
    assert report["totals"]["created"] == 200
    assert report["status"] == "completed_with_errors"
    (problem,) = report["file_errors"]
    assert (problem["rule"], problem["line"]) == ("processing_failed", 202)
    assert "upload" in problem["reason"]["en"].lower()
    # The run is over: a late copy of the token changes nothing, and no token is left to start one.
    client.lambda_.invoke("hr_file_arrived", client.events.generate_sqs_event(
        message_bodies=[token_message], queue_name=settings.hr_queue))
    assert EnrolmentStore().report_index(POLICY_NO) == [entry]
    assert s3.list_objects_v2(Bucket=settings.hr_bucket, Prefix=f"hr/incoming/{POLICY_NO}/_continue/").get(
        "KeyCount") == 0
