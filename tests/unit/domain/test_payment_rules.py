"""Payment rules as properties: periods never overlap, refunds follow the window, fingerprints are exact."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.errors import ValidationFailed
from chalicelib.kernel.kuwait_time import kuwait_today
from chalicelib.premiums.payment_rules import (
    AlreadyRefunded,
    CoveredPeriod,
    NotRefundable,
    PaymentStatus,
    RefundInProgress,
    RefundStatus,
    RefundWindowClosed,
    active_end,
    add_period,
    cancel_period,
    check_idempotency_key,
    check_refundable,
    current_span,
    request_fingerprint,
)
from chalicelib.premiums.rules import add_years

DAY0 = date(2026, 3, 1)


@given(st.lists(st.tuples(st.sampled_from(["renew", "new_after_gap", "cancel_last"]),
                          st.integers(1, 3), st.integers(0, 400)), max_size=25))
def test_coverage_periods_never_overlap_and_each_is_bought_by_one_payment(steps):
    periods: tuple[CoveredPeriod, ...] = ()
    for n, (action, years, gap) in enumerate(steps):
        end = active_end(periods)
        if action == "cancel_last":
            last = next((p for p in reversed(periods) if p.active and p.end == end), None)
            if last is not None:
                periods = cancel_period(periods, last.payment_id)
            continue
        start = end if (action == "renew" and end) else (end or DAY0) + timedelta(days=gap)
        periods = add_period(periods, CoveredPeriod(start, add_years(start, years), f"pay{n}"))

    active = sorted((p for p in periods if p.active), key=lambda p: p.start)
    for earlier, later in itertools.pairwise(active):
        assert earlier.end <= later.start
    assert len({p.payment_id for p in periods}) == len(periods)
    assert active_end(periods) == (max(p.end for p in active) if active else None)


def test_a_period_that_overlaps_coverage_or_reuses_a_payment_is_refused():
    first = CoveredPeriod(DAY0, date(2027, 3, 1), "a")
    with pytest.raises(ValueError, match="overlaps"):
        add_period((first,), CoveredPeriod(date(2027, 2, 28), date(2028, 2, 28), "b"))
    with pytest.raises(ValueError, match="already bought"):
        add_period((first,), CoveredPeriod(date(2027, 3, 1), date(2028, 3, 1), "a"))


def test_the_current_span_is_the_unbroken_coverage_that_ends_last():
    a = CoveredPeriod(date(2024, 1, 1), date(2025, 1, 1), "a")
    b = CoveredPeriod(date(2025, 3, 1), date(2026, 3, 1), "b")
    c = CoveredPeriod(date(2026, 3, 1), date(2027, 3, 1), "c")
    assert current_span((a, b, c)) == (date(2025, 3, 1), date(2027, 3, 1))
    assert current_span((a, b, cancel_period((a, b, c), "c")[2])) == (date(2025, 3, 1), date(2026, 3, 1))
    assert current_span(()) is None


def test_only_the_last_active_period_can_be_cancelled():
    periods = (CoveredPeriod(DAY0, date(2027, 3, 1), "a"), CoveredPeriod(date(2027, 3, 1), date(2028, 3, 1), "b"))
    with pytest.raises(ValueError, match="last"):
        cancel_period(periods, "a")
    left = cancel_period(periods, "b")
    assert active_end(left) == date(2027, 3, 1)
    assert active_end(cancel_period(left, "a")) is None


# A payment moves only forward and is refunded at most once: tests/premiums/test_payments_on_fakes.py
# asserts it of the use cases (this file walked a transition table that no code read).


NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


@given(captured_days_ago=st.integers(0, 60), starts_in_days=st.integers(-60, 60))
def test_a_refund_is_allowed_before_coverage_starts_or_within_the_window(captured_days_ago, starts_in_days):
    captured = NOW - timedelta(days=captured_days_ago)
    start = kuwait_today(NOW) + timedelta(days=starts_in_days)
    allowed = starts_in_days > 0 or captured_days_ago <= 14
    try:
        check_refundable(status=PaymentStatus.CAPTURED, refund_status=None, captured_at=captured, period_start=start,
                         now=NOW, window_days=14)
        assert allowed
    except RefundWindowClosed:
        assert not allowed


@pytest.mark.parametrize(("status", "refund_status", "error"), [
    (PaymentStatus.REFUNDED, RefundStatus.REFUNDED, AlreadyRefunded),
    (PaymentStatus.CAPTURED, RefundStatus.REQUESTED, RefundInProgress),
    (PaymentStatus.DECLINED, None, NotRefundable),
    (PaymentStatus.PENDING, None, NotRefundable),
])
def test_what_cannot_be_refunded(status, refund_status, error):
    with pytest.raises(error):
        check_refundable(status=status, refund_status=refund_status, captured_at=NOW, period_start=DAY0, now=NOW,
                         window_days=14)


def test_kuwait_today_turns_at_midnight_kuwait_time_not_utc():
    assert kuwait_today(datetime(2026, 3, 1, 20, 59, tzinfo=UTC)) == date(2026, 3, 1)
    assert kuwait_today(datetime(2026, 3, 1, 21, 0, tzinfo=UTC)) == date(2026, 3, 2)


@given(st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=3),
       st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=3))
def test_a_fingerprint_is_equal_exactly_when_the_request_is(first, second):
    same = request_fingerprint("pay", "app1", first) == request_fingerprint("pay", "app1", second)
    assert same == (first == second)
    assert request_fingerprint("pay", "app1", first) != request_fingerprint("pay", "app2", first)


def test_an_idempotency_key_is_required_and_printable_ascii():
    assert check_idempotency_key(" 7d1c-uuid ") == "7d1c-uuid"
    for bad in (None, "", "  ", "x" * 256, "مفتاح", "a\tb"):
        with pytest.raises(ValidationFailed) as caught:
            check_idempotency_key(bad)
        assert "Idempotency-Key" in caught.value.fields


@pytest.mark.parametrize(("window", "en", "ar"), [
    (14, "within 14 days of payment", "خلال 14 يومًا من الدفع"),
    (7, "within 7 days of payment", "خلال 7 أيام من الدفع"),
    (1, "within 1 day of payment", "خلال يوم واحد من الدفع"),
    (30, "within 30 days of payment", "خلال 30 يومًا من الدفع"),
])
def test_the_refund_window_is_said_with_its_plural_in_both_languages(window, en, ar):
    captured = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    with pytest.raises(RefundWindowClosed) as refused:
        check_refundable(status="captured", refund_status=None, captured_at=captured, period_start=date(2026, 3, 1),
                         now=captured + timedelta(days=window + 1), window_days=window)
    assert en in refused.value.text.en and ar in refused.value.text.ar
    assert refused.value.details == {"window_days": window}
