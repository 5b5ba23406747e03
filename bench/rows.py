"""One line of the `make bench` table."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    area: str  # e.g. "foundation", "cards"
    what: str  # what was measured, in words
    value: float
    unit: str  # "s", "ms", "MB", "ratio", "requests", "rows/s", "bytes"
    target: str  # the target in words, e.g. "<= 1.3"
    ok: bool | None  # None when the row has no pass/fail target
