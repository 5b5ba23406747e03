"""Revoking SMART Health Cards: the CRL's rules, revoke_cards on fakes, and the S3 list's conditional writes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.cards.crl import RevocationList
from chalicelib.cards.ports import CardDeps, ShcIssuer
from chalicelib.cards.revocation import S3RevocationLists
from chalicelib.cards.shc import revocation_id
from chalicelib.cards.use_cases import issuer_keys, revocation_list, revoke_cards
from chalicelib.errors import NotFound
from chalicelib.platform.signing_keys import derive_es256_key
from tests.cards.fakes import FakePeople

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
CURRENT, PREVIOUS = derive_es256_key("current-" + "c" * 40), derive_es256_key("previous-" + "p" * 40)


class FakeRevocationLists:
    """ports.RevocationLists in memory, with the S3 list's rules (RevocationList.with_entries)."""

    def __init__(self) -> None:
        self.lists: dict[str, RevocationList] = {}

    def read(self, kid: str) -> RevocationList:
        return self.lists.get(kid, RevocationList(kid))

    def add(self, kid: str, entries: Iterable[str]) -> RevocationList:
        self.lists[kid] = self.read(kid).with_entries(entries)
        return self.lists[kid]


@pytest.fixture
def world():
    people, lists = FakePeople(), FakeRevocationLists()
    keys = {k.kid: k for k in (CURRENT, PREVIOUS)}
    shc = ShcIssuer(iss="https://api.example", signing_key=lambda: CURRENT, key=keys.get,
                    all_keys=lambda: [CURRENT, PREVIOUS], revocations=lists)
    deps = CardDeps(people=people, objects=None, render=None, signing_key=None, public_key=None,  # type: ignore[arg-type]
                    public_keys=None, now=lambda: NOW, shc=shc)  # type: ignore[arg-type]
    return deps, people, lists


def test_a_listed_rid_revokes_cards_issued_before_its_timestamp_only():
    crl = RevocationList("k", 2, ("AAAAAAAAAAA.1000", "BBBBBBBBBBB"))

    assert crl.revokes("AAAAAAAAAAA", 999) and not crl.revokes("AAAAAAAAAAA", 1000)
    assert crl.revokes("BBBBBBBBBBB", 10**12)  # no timestamp: every card with that rid
    assert not crl.revokes("CCCCCCCCCCC", 1)
    assert crl.document() == {"kid": "k", "method": "rid", "ctr": 2, "rids": ["AAAAAAAAAAA.1000", "BBBBBBBBBBB"]}


def test_each_change_bumps_ctr_once_and_an_entry_revoking_nothing_new_changes_nothing():
    empty = RevocationList("k")
    once = empty.with_entries(["AAAAAAAAAAA.1000", "BBBBBBBBBBB.1000"])

    assert (empty.ctr, once.ctr) == (1, 2)
    assert once.with_entries(["AAAAAAAAAAA.900", "BBBBBBBBBBB.1000"]) is once  # an earlier stamp revokes less
    later = once.with_entries(["AAAAAAAAAAA.2000"])
    assert later.ctr == 3 and later.rids == ("AAAAAAAAAAA.2000", "BBBBBBBBBBB.1000")
    assert later.with_entries(["BBBBBBBBBBB"]).rids == ("AAAAAAAAAAA.2000", "BBBBBBBBBBB")  # no stamp: every card


def test_revoking_a_member_lists_their_rid_under_every_key_and_bumps_each_crl_version(world):
    deps, _, lists = world

    result = revoke_cards(deps, ["M1", "M1", ""])

    assert result == {"revoked": ["M1"]}
    until = int(NOW.timestamp()) + 1
    for key in (CURRENT, PREVIOUS):
        rid = revocation_id(key.rid_key, "M1")
        assert revocation_list(deps, key.kid)["rids"] == [f"{rid}.{until}"]
        assert lists.read(key.kid).revokes(rid, int(NOW.timestamp()))  # a card drawn this very second
        assert not lists.read(key.kid).revokes(rid, until)  # a card drawn after: cover restored
    assert {k["kid"]: k["crlVersion"] for k in issuer_keys(deps)["keys"]} == {CURRENT.kid: 2, PREVIOUS.kid: 2}


def test_revoking_again_later_moves_the_stamp_forward_so_cards_drawn_in_between_are_revoked_too(world):
    deps, _, lists = world
    revoke_cards(deps, ["M1"])
    restored_card_drawn = int(NOW.timestamp()) + 3600  # HR restored the cover; a card was drawn
    deps.now = lambda: NOW + timedelta(days=1)  # then HR ended it again

    revoke_cards(deps, ["M1"])

    rid = revocation_id(CURRENT.rid_key, "M1")
    crl = lists.read(CURRENT.kid)
    assert crl.ctr == 3 and len(crl.rids) == 1
    assert crl.revokes(rid, restored_card_drawn)


def test_the_crl_of_a_key_we_do_not_have_is_not_found(world):
    deps, _, _ = world

    with pytest.raises(NotFound):
        revocation_list(deps, "not-our-kid")
    assert revocation_list(deps, CURRENT.kid) == {"kid": CURRENT.kid, "method": "rid", "ctr": 1, "rids": []}


def test_the_s3_list_starts_at_ctr_1_and_each_change_is_one_conditional_write(aws):
    lists = S3RevocationLists()

    assert lists.read("kid1") == RevocationList("kid1")
    first = lists.add("kid1", ["AAAAAAAAAAA.1000"])
    same = lists.add("kid1", ["AAAAAAAAAAA.900"])
    second = lists.add("kid1", ["BBBBBBBBBBB.1000"])

    assert (first.ctr, same.ctr, second.ctr) == (2, 2, 3)
    assert lists.read("kid1") == second
    assert lists.read("kid2").ctr == 1


def test_a_writer_that_loses_the_race_reads_the_winners_list_and_adds_to_it(aws, monkeypatch):
    lists, rival = S3RevocationLists(), S3RevocationLists()
    lists.add("kid1", ["AAAAAAAAAAA.1000"])
    real_read = S3RevocationLists._read
    raced = []

    def read_then_lose_the_race(self, kid):
        seen = real_read(self, kid)
        if self is lists and not raced:  # between our read and our write, another Lambda adds its rid
            raced.append(rival.add(kid, ["CCCCCCCCCCC.1000"]))
        return seen

    monkeypatch.setattr(S3RevocationLists, "_read", read_then_lose_the_race)
    stored = lists.add("kid1", ["BBBBBBBBBBB.1000"])

    assert raced[0].ctr == 3 and stored.ctr == 4
    assert sorted(lists.read("kid1").rids) == ["AAAAAAAAAAA.1000", "BBBBBBBBBBB.1000", "CCCCCCCCCCC.1000"]


def test_the_first_write_of_two_racing_writers_does_not_overwrite_the_other(aws, monkeypatch):
    lists, rival = S3RevocationLists(), S3RevocationLists()
    real_read = S3RevocationLists._read
    raced = []

    def read_then_lose_the_race(self, kid):
        seen = real_read(self, kid)
        if self is lists and not raced:
            raced.append(rival.add(kid, ["CCCCCCCCCCC.1000"]))
        return seen

    monkeypatch.setattr(S3RevocationLists, "_read", read_then_lose_the_race)
    stored = lists.add("kid9", ["BBBBBBBBBBB.1000"])  # both saw no list: If-None-Match stops the second

    assert stored.ctr == 3 and sorted(stored.rids) == ["BBBBBBBBBBB.1000", "CCCCCCCCCCC.1000"]


def test_a_card_drawn_after_the_revocation_is_not_revoked(world):
    deps, _, lists = world
    later = NOW + timedelta(hours=1)

    revoke_cards(deps, ["M1"])

    rid = revocation_id(CURRENT.rid_key, "M1")
    assert not lists.read(CURRENT.kid).revokes(rid, int(later.timestamp()))
