"""Counts in words: CLDR's plural categories (checked against Babel's own rules) and the phrases chosen for them."""

from __future__ import annotations

import pytest
from babel import Locale

from chalicelib.kernel.plurals import DAYS, HOURS, MINUTES, SECONDS, TRIES_LEFT, category, plural, wait_of

ARABIC_COUNTS = (0, 1, 2, 3, 10, 11, 100, 101)


@pytest.mark.parametrize("count", ARABIC_COUNTS)
def test_the_arabic_category_of_a_count_is_babels_own(count):
    assert category(count, "ar") == Locale("ar").plural_form(count)


def test_the_arabic_categories_are_the_six_of_cldr():
    assert [category(n, "ar") for n in ARABIC_COUNTS] == [
        "zero", "one", "two", "few", "few", "many", "other", "other"]


@pytest.mark.parametrize("count", (0, 1, 2, 11))
def test_english_has_one_and_other(count):
    assert category(count, "en") == Locale("en").plural_form(count) == ("one" if count == 1 else "other")


@pytest.mark.parametrize(("count", "arabic", "english"), [
    (0, "0 يوم", "0 days"),
    (1, "يوم واحد", "1 day"),
    (2, "يومين", "2 days"),
    (3, "3 أيام", "3 days"),
    (7, "7 أيام", "7 days"),
    (10, "10 أيام", "10 days"),
    (11, "11 يومًا", "11 days"),
    (14, "14 يومًا", "14 days"),
    (100, "100 يوم", "100 days"),
    (101, "101 يوم", "101 days"),
])
def test_days_read_right_in_both_languages(count, arabic, english):
    assert DAYS.of(count).ar == arabic
    assert DAYS.of(count).en == english


@pytest.mark.parametrize(("count", "arabic"), [
    (0, "0 دقيقة"), (1, "دقيقة واحدة"), (2, "دقيقتين"), (3, "3 دقائق"), (10, "10 دقائق"), (11, "11 دقيقة"),
    (15, "15 دقيقة"), (100, "100 دقيقة"), (101, "101 دقيقة"),
])
def test_minutes_read_right_in_arabic(count, arabic):
    assert MINUTES.of(count).ar == arabic


def test_hours_seconds_and_tries_follow_the_same_categories():
    assert [HOURS.of(n).ar for n in (1, 2, 3, 24)] == ["ساعة واحدة", "ساعتين", "3 ساعات", "24 ساعة"]
    assert [SECONDS.of(n).ar for n in (1, 2, 5, 45)] == ["ثانية واحدة", "ثانيتين", "5 ثوانٍ", "45 ثانية"]
    assert [TRIES_LEFT.of(n).ar for n in (0, 1, 2, 4)] == [
        "لم تتبقَّ أي محاولة", "تبقّت محاولة واحدة", "تبقّت محاولتان", "تبقّت 4 محاولات"]
    assert [TRIES_LEFT.of(n).en for n in (1, 4)] == ["1 try left", "4 tries left"]


def test_a_wait_is_rounded_up_to_what_a_person_says():
    assert wait_of(899).en == "15 minutes" and wait_of(899).ar == "15 دقيقة"
    assert wait_of(900).en == "15 minutes"
    assert wait_of(61).en == "2 minutes" and wait_of(61).ar == "دقيقتين"
    assert wait_of(59.2).en == "1 minute" and wait_of(30).en == "30 seconds"
    assert wait_of(0).en == "1 second"
    assert wait_of(3 * 3600).en == "3 hours" and wait_of(3 * 3600).ar == "3 ساعات"


def test_forms_without_other_or_with_an_unknown_category_are_refused():
    with pytest.raises(ValueError, match="other"):
        plural(1, "en", {"one": "{n} day"})
    with pytest.raises(ValueError, match="plenty"):
        plural(1, "en", {"plenty": "x", "other": "y"})
