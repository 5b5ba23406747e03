"""Money as integer fils: 1 KWD = 1000 fils, three decimals, never a float.

Floats cannot hold 0.1 exactly, and a premium that is off by one fils is a
complaint; so every amount in storage, the API, emails and gateway messages is
an `int` of fils, and text is made from integers only.
"""

from __future__ import annotations

import re

CURRENCY = "KWD"
FILS_PER_KWD = 1000

# What a person reads after the amount, per language.
CURRENCY_LABELS = {"en": "KWD", "ar": "د.ك"}

_DECIMAL = re.compile(r"(?P<sign>-?)(?P<whole>\d+)(?:\.(?P<fraction>\d{1,3}))?")


def ensure_fils(value: object) -> int:
    """Return `value` if it is an integer amount of fils, else raise TypeError."""
    # bool is an int subclass: True fils is a bug, not one fils.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"amounts are integer fils, got {type(value).__name__}")
    return value


def fils_from_kwd(whole_dinars: int) -> int:
    """Fils in a whole number of dinars (50 -> 50000)."""
    return ensure_fils(whole_dinars) * FILS_PER_KWD


def parse_kwd(text: str) -> int:
    """Fils in a decimal dinar string such as "20.550" or "5", exactly, without floats."""
    match = _DECIMAL.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a KWD amount with at most 3 decimals: {text!r}")
    fraction = (match["fraction"] or "").ljust(3, "0")
    fils = int(match["whole"]) * FILS_PER_KWD + int(fraction or "0")
    return -fils if match["sign"] else fils


def kwd_decimal(fils: int) -> str:
    """The amount as a plain 3-decimal dinar string ("50.000"), as gateways expect it."""
    fils = ensure_fils(fils)
    sign = "-" if fils < 0 else ""
    whole, fraction = divmod(abs(fils), FILS_PER_KWD)
    return f"{sign}{whole}.{fraction:03d}"


def format_amount(fils: int, lang: str = "en") -> str:
    """The amount for a receipt: "1,250.000 KWD" in English, "1,250.000 د.ك" in Arabic."""
    fils = ensure_fils(fils)
    sign = "-" if fils < 0 else ""
    whole, fraction = divmod(abs(fils), FILS_PER_KWD)
    # Western digits in both languages: receipts are compared with bank statements.
    label = CURRENCY_LABELS["ar" if lang == "ar" else "en"]
    return f"{sign}{whole:,}.{fraction:03d} {label}"
