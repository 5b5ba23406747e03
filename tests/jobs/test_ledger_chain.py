"""The payment ledger's hash chain: an untouched ledger verifies clean; an altered amount, a deleted
middle event, a forged event and a dropped last event are each found (by the domain check, the admin
command and the scheduled job); two appends after the same head cannot both land."""

from __future__ import annotations

import io
import itertools
import json
from datetime import UTC, datetime

import pytest

from tests.fixtures_moto_server import race

STREAM = "payment#pay-chain"


def _event(kind: str, minute: int, amount: int | None = 12_000, stream: str = STREAM):
    from chalicelib.premiums.ledger import LedgerEvent

    return LedgerEvent(stream, kind, datetime(2026, 3, 1, 10, minute, tzinfo=UTC), "account:a1",
                       account_id="a1", payment_id="pay-chain", amount_fils=amount, to_status=kind)


@pytest.fixture
def store(aws):
    from chalicelib.premiums.store import PremiumStore

    store = PremiumStore()
    store.append_events([_event("payment_started", 1), _event("payment_session_attached", 2)])
    store.append_events([_event("payment_captured", 3)])
    store.append_events([_event("refund_requested", 4), _event("refund_completed", 5)])
    return store


def _dynamo():
    from chalicelib.platform.aws import client

    return client("dynamodb")


def _table() -> str:
    from chalicelib.premiums.models import LedgerRecord

    return LedgerRecord.Meta.table_name


def _events(store) -> list[dict]:
    from chalicelib.premiums.ledger import HEAD_KEY

    return [i for i in store.ledger_items(STREAM) if i["event_key"]["S"] != HEAD_KEY]


def _problems(store) -> list[str]:
    from chalicelib.premiums.ledger import verify_stream

    return [f.problem for f in verify_stream(STREAM, store.ledger_items(STREAM))]


def _admin() -> tuple[int, str]:
    from admin.ledger import verify_ledger

    out = io.StringIO()
    return verify_ledger(out), out.getvalue()


def test_an_untouched_ledger_verifies_clean(store):
    events = _events(store)
    assert [int(e["seq"]["N"]) for e in events] == [1, 2, 3, 4, 5]
    assert [e.kind for e in store.ledger(STREAM)] == [
        "payment_started", "payment_session_attached", "payment_captured", "refund_requested", "refund_completed"]
    assert events[0]["prev_hash"]["S"] == "0" * 64
    assert all(b["prev_hash"]["S"] == a["hash"]["S"] for a, b in itertools.pairwise(events))
    assert _problems(store) == []
    assert _admin() == (0, "1 stream(s) checked, 0 finding(s)\n")


def test_an_altered_amount_is_found(store):
    item = _events(store)[2]
    item["amount_fils"] = {"N": "1"}
    _dynamo().put_item(TableName=_table(), Item=item)  # PutItem overwrites: IAM can't stop this one
    assert _problems(store) == ["altered"]
    code, text = _admin()
    assert code == 1 and text.startswith(f"altered\t{STREAM}\t{item['event_key']['S']}")


def test_a_deleted_middle_event_is_found(store):
    gone = _events(store)[1]
    _dynamo().delete_item(TableName=_table(), Key={"stream": gone["stream"], "event_key": gone["event_key"]})
    assert _problems(store) == ["missing"]
    assert _admin()[0] == 1


def test_a_deleted_last_event_is_found_against_the_head(store):
    last = _events(store)[-1]
    _dynamo().delete_item(TableName=_table(), Key={"stream": last["stream"], "event_key": last["event_key"]})
    assert _problems(store) == ["missing"]


def test_a_forged_event_is_found_even_with_a_valid_hash(store):
    from chalicelib.premiums.ledger import event_hash

    # A forger who knows the scheme: a refund slipped in after event 3, linked and hashed correctly.
    third = _events(store)[2]
    forged = {**third, "event_key": {"S": third["event_key"]["S"] + "x"}, "kind": {"S": "refund_completed"},
              "seq": {"N": "4"}, "prev_hash": third["hash"]}
    forged["hash"] = {"S": event_hash(forged)}
    _dynamo().put_item(TableName=_table(), Item=forged)
    assert "forged" in _problems(store)
    assert _admin()[0] == 1


def test_a_stream_without_a_head_is_found_by_the_admin_scan(store):
    from chalicelib.premiums.store import PremiumStore

    PremiumStore().append_events([_event("payment_started", 1, stream="payment#other")])
    _dynamo().delete_item(TableName=_table(), Key={"stream": {"S": "payment#other"}, "event_key": {"S": "#head"}})
    code, text = _admin()
    assert code == 1 and text.startswith("head\tpayment#other")


def test_the_scheduled_check_logs_each_find_at_error_level(store, capsys):
    from chalicelib.premiums.ledger_check import check_ledger

    assert check_ledger(store) == {"streams": 1, "findings": 0, "complete": 1}
    item = _events(store)[0]
    item["actor"] = {"S": "account:someone-else"}
    _dynamo().put_item(TableName=_table(), Item=item)
    capsys.readouterr()
    assert check_ledger(store) == {"streams": 1, "findings": 1, "complete": 1}
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    found = [line for line in lines if line.get("event") == "ledger_chain_broken"]
    assert found and found[0]["level"] == "ERROR" and found[0]["problem"] == "altered"


def test_the_scheduled_check_stops_in_time_and_says_so(store, capsys):
    from chalicelib.premiums.ledger_check import check_ledger

    assert check_ledger(store, out_of_time=lambda: True)["complete"] == 0
    assert "ledger_check_incomplete" in capsys.readouterr().out


def test_two_appends_after_the_same_head_cannot_both_land(store, monkeypatch):
    from chalicelib.premiums import store as premium_store
    from chalicelib.premiums.store import LEDGER_HEAD, LostRace, _chained, _transact_once

    # Both writers read the head of event 5 and chain their event as event 6.
    first, _ = _chained([_event("policy_extended", 6)], datetime.now(UTC), {})
    second, _ = _chained([_event("policy_cancelled", 6)], datetime.now(UTC), {})
    _transact_once(first)
    with pytest.raises(LostRace) as lost:
        _transact_once(second)
    assert lost.value.failed == {LEDGER_HEAD}
    # Through the store the loser reads the new head and appends after it: one chain, no fork.
    store.append_events([_event("policy_cancelled", 7)])
    assert [int(e["seq"]["N"]) for e in _events(store)] == [1, 2, 3, 4, 5, 6, 7]
    assert _problems(store) == []
    assert premium_store.HEAD_RETRIES > 1


def test_a_reordered_key_is_found(store):
    from chalicelib.premiums.ledger import event_hash, verify_stream

    items = store.ledger_items(STREAM)
    events = [i for i in items if i["event_key"]["S"] != "#head"]
    # Event 5 re-keyed (and re-hashed) to sort before event 4.
    moved = {**events[4], "event_key": {"S": events[3]["event_key"]["S"][:-1] + "!"}}
    moved["hash"] = {"S": event_hash(moved)}
    problems = [f.problem for f in verify_stream(STREAM, [*items[:-1], moved])]
    assert "reordered" in problems


def test_concurrent_appends_to_one_stream_make_one_chain(moto_server):
    from chalicelib.premiums.ledger import verify_stream
    from chalicelib.premiums.store import PremiumStore

    store = PremiumStore()
    store.append_events([_event("payment_started", 1)])
    results = race(8, lambda i: store.append_events([_event(f"note_{i}", 2 + i)]))
    landed = [r for r in results if not isinstance(r, Exception)]
    items = store.ledger_items(STREAM)
    events = [i for i in items if i["event_key"]["S"] != "#head"]
    # Every append that returned is in the chain exactly once, in seq order; none forked it.
    assert len(events) == 1 + len(landed) and len(landed) >= 1
    assert sorted(int(e["seq"]["N"]) for e in events) == list(range(1, len(events) + 1))
    assert verify_stream(STREAM, items) == []


def test_a_stale_head_this_container_remembers_costs_a_retry_never_a_fork(store):
    from chalicelib.premiums import store as premium_store

    store.append_events([_event("policy_extended", 6)])  # remembered as the head: event 6
    stale = premium_store._known_heads[STREAM]
    store.append_events([_event("policy_cancelled", 7)])
    premium_store._known_heads[STREAM] = stale  # another container appended event 7 meanwhile

    store.append_events([_event("policy_extended", 8)])

    assert [int(e["seq"]["N"]) for e in _events(store)] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert _problems(store) == []
