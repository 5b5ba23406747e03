"""Residence policy numbers: readable over the phone, and one wrong or swapped character is caught."""

from __future__ import annotations

import re
from datetime import date
from itertools import pairwise

from chalicelib.premiums.policy_numbers import ALPHABET, is_policy_number, new_policy_number, policy_number

ISSUED = date(2026, 3, 1)


def test_a_number_names_the_year_of_issue_in_two_groups_of_four_without_confusable_characters():
    numbers = {new_policy_number(ISSUED) for _ in range(500)}

    assert len(numbers) == 500
    for number in numbers:
        assert re.fullmatch(r"RH-26-[A-Z2-9]{4}-[A-Z2-9]{4}", number) and is_policy_number(number)
        assert not set(number[6:]) & set("01OIL")
    assert new_policy_number(date(2030, 1, 1)).startswith("RH-30-")


def test_every_single_wrong_character_is_caught():
    number = policy_number(ISSUED, "4K7M9P2")
    for i, ch in enumerate(number):
        if ch == "-" or i < 3:
            continue
        pool = "0123456789" if i in (3, 4) else ALPHABET
        for other in pool.replace(ch, ""):
            assert not is_policy_number(number[:i] + other + number[i + 1:]), (i, other)


def test_every_swap_of_two_neighbouring_characters_is_caught():
    number = policy_number(ISSUED, "4K7M9P2")
    chars = [i for i, ch in enumerate(number) if ch != "-" and i >= 3]
    for left, right in pairwise(chars):
        if number[left] == number[right]:
            continue
        swapped = list(number)
        swapped[left], swapped[right] = swapped[right], swapped[left]
        assert not is_policy_number("".join(swapped)), (left, right)


def test_what_is_not_a_policy_number():
    for text in ("", "polb9860a9addc94bceb039cd76", "RH-26-4K7M-9P2", "rh-26-4k7m-9p2q", "RH-26-4K7M-9P2O"):
        assert not is_policy_number(text)
