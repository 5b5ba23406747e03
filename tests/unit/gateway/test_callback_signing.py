"""HMAC callback signatures: good ones pass, bad, forged and old ones do not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.premiums.gateway import CallbackRejected
from chalicelib.premiums.gateway.signing import SignatureError, sign, signature, verify

SECRET = b"s3cret-for-tests"
NOW = 1_772_355_600
BODY = b'{"payment_id":"p1","status":"captured"}'


def test_a_body_signed_with_the_shared_secret_verifies_and_gives_its_timestamp():
    assert verify(BODY, sign(BODY, SECRET, NOW), SECRET, now=NOW) == NOW


def test_a_changed_body_is_rejected():
    header = sign(BODY, SECRET, NOW)
    with pytest.raises(SignatureError, match="mismatch"):
        verify(BODY.replace(b"captured", b"declined"), header, SECRET, now=NOW)


def test_a_signature_made_with_another_secret_is_rejected():
    with pytest.raises(SignatureError, match="mismatch"):
        verify(BODY, sign(BODY, b"attacker", NOW), SECRET, now=NOW)


def test_a_signature_moved_to_another_timestamp_is_rejected():
    forged = f"t={NOW + 10},v1={signature(BODY, SECRET, NOW)}"
    with pytest.raises(SignatureError, match="mismatch"):
        verify(BODY, forged, SECRET, now=NOW)


def test_a_callback_older_than_the_tolerance_is_rejected_even_if_the_signature_is_right():
    header = sign(BODY, SECRET, NOW - 301)
    with pytest.raises(SignatureError, match="tolerance"):
        verify(BODY, header, SECRET, now=NOW, tolerance_seconds=300)


def test_a_callback_exactly_at_the_tolerance_is_accepted():
    assert verify(BODY, sign(BODY, SECRET, NOW - 300), SECRET, now=NOW, tolerance_seconds=300) == NOW - 300


def test_a_callback_dated_too_far_in_the_future_is_rejected():
    with pytest.raises(SignatureError, match="tolerance"):
        verify(BODY, sign(BODY, SECRET, NOW + 301), SECRET, now=NOW, tolerance_seconds=300)


@pytest.mark.parametrize(
    "header",
    [None, "", "garbage", f"t={NOW}", "v1=abcd", f"t=x{NOW},v1=ab", f"t={NOW},t={NOW},v1=ab", "t=١٢٣,v1=ab"],
    ids=["missing", "empty", "no equals", "no v1", "no t", "bad t", "two t", "arabic digits"],
)
def test_a_missing_or_malformed_header_is_rejected(header):
    with pytest.raises(SignatureError):
        verify(BODY, header, SECRET, now=NOW)


def test_signature_errors_are_invalid_callbacks_with_a_reason():
    with pytest.raises(CallbackRejected) as caught:
        verify(BODY, None, SECRET, now=NOW)
    assert caught.value.reason == "signature header missing"


def test_during_a_rotation_the_old_and_new_secret_both_verify():
    old, new = b"old-secret", b"new-secret"
    header = sign(BODY, [new, old], NOW)
    assert verify(BODY, header, new, now=NOW) == NOW
    assert verify(BODY, header, old, now=NOW) == NOW
    assert verify(BODY, sign(BODY, old, NOW), [new, old], now=NOW) == NOW


def test_an_unknown_scheme_alone_does_not_count_as_a_signature():
    header = f"t={NOW},v0={signature(BODY, SECRET, NOW)}"
    with pytest.raises(SignatureError):
        verify(BODY, header, SECRET, now=NOW)


@given(st.binary(max_size=512), st.integers(0, 2**40))
def test_any_body_round_trips(body, timestamp):
    assert verify(body, sign(body, SECRET, timestamp), SECRET, now=timestamp) == timestamp


@given(st.binary(min_size=1, max_size=256), st.data())
def test_flipping_any_bit_of_the_body_breaks_the_signature(body, data):
    header = sign(body, SECRET, NOW)
    index = data.draw(st.integers(0, len(body) - 1))
    bit = data.draw(st.integers(0, 7))
    tampered = body[:index] + bytes([body[index] ^ (1 << bit)]) + body[index + 1 :]
    with pytest.raises(SignatureError):
        verify(tampered, header, SECRET, now=NOW)
