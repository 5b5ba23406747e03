"""Residence policy numbers a person can read over the phone: `RH-26-4K7M-9P2Q`.

`RH`, the two-digit year the policy was issued (Kuwait time), then seven random characters and one
check character in two groups of four. The alphabet leaves out 0/O, 1/I/L (and so every pair a
listener confuses); it has 31 characters, a prime, so the check character (a weighted sum mod 31,
weights 1..9 over the year's digits and the random characters) catches every single wrong character
and every swap of two neighbours. 31**7 (27.5 billion) numbers a year make a collision rare, and
the store makes it impossible: a number is claimed by a conditional write in the transaction that
issues the policy, and a lost claim draws another number (payments._capture).

Why random and not a counter: a counter is one hot item that every issued policy would update in
its transaction (conflicts under load), and consecutive numbers tell anyone how many policies were
sold and let them guess a neighbour's number.
"""

from __future__ import annotations

import re
import secrets
from datetime import date

PREFIX = "RH"
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
RANDOM_CHARS = 7
_MODULUS = len(ALPHABET)  # 31, prime
_PATTERN = re.compile(rf"{PREFIX}-(\d\d)-([{ALPHABET}]{{4}})-([{ALPHABET}]{{4}})")


def _check_char(year: str, body: str) -> str:
    # Year digits count as their value, alphabet characters as their index: both below 31.
    values = [int(d) for d in year] + [ALPHABET.index(ch) for ch in body]
    return ALPHABET[sum(weight * value for weight, value in enumerate(values, start=1)) % _MODULUS]


def policy_number(issued_on: date, random_chars: str) -> str:
    """The number of a policy issued on `issued_on` from seven characters of the alphabet."""
    if len(random_chars) != RANDOM_CHARS or any(ch not in ALPHABET for ch in random_chars):
        raise ValueError(f"need {RANDOM_CHARS} characters of {ALPHABET}")
    year = f"{issued_on.year % 100:02d}"
    body = random_chars + _check_char(year, random_chars)
    return f"{PREFIX}-{year}-{body[:4]}-{body[4:]}"


def new_policy_number(issued_on: date) -> str:
    """A fresh random number for a policy issued on `issued_on` (uniqueness is the store's claim)."""
    return policy_number(issued_on, "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_CHARS)))


def is_policy_number(text: str) -> bool:
    """True when `text` is a well-formed number whose check character matches."""
    match = _PATTERN.fullmatch(text)
    if match is None:
        return False
    year, first, second = match.groups()
    body = first + second
    return _check_char(year, body[:-1]) == body[-1]
