"""Premium tariffs: the seed's schedule, plus later fee decisions read from a JSON file (data, not code).

The file (setting TARIFFS_FILE) is a list of {"effective_from": "YYYY-MM-DD",
"amounts": {"<category code>": <fils>, ...}}. A tariff only ever prices
applications made after it is added: stored applications and payments keep
the amount and the tariff date they were reviewed with.
"""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from pathlib import Path

from chalicelib.premiums.rules import DEFAULT_TARIFFS, Tariff


def parse_tariffs(text: str) -> tuple[Tariff, ...]:
    """Tariffs from their JSON form; ValueError names what is wrong."""
    entries = json.loads(text)
    if not isinstance(entries, list):
        raise ValueError("a tariffs file is a JSON list")
    tariffs = []
    for entry in entries:
        amounts = entry["amounts"]
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in amounts.values()):
            raise ValueError(f"tariff of {entry['effective_from']}: amounts are integer fils")
        tariffs.append(Tariff(date.fromisoformat(entry["effective_from"]), amounts))
    return tuple(tariffs)


@cache
def load_tariffs(path: str | None) -> tuple[Tariff, ...]:
    """The default tariffs and those of the file, if any; two tariffs of one day are refused."""
    extra = parse_tariffs(Path(path).read_text(encoding="utf-8")) if path else ()
    tariffs = (*DEFAULT_TARIFFS, *extra)
    days = [t.effective_from for t in tariffs]
    if len(days) != len(set(days)):
        raise ValueError("two tariffs take effect on the same day")
    return tariffs
