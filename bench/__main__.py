"""`make bench`: every area's measurements in one table, each against its target."""

from __future__ import annotations

import importlib
import sys

from bench.rows import Row

# Each module has run() -> list[Row]; later areas add their module here.
MODULES = ["bench.foundation", "bench.cold_start", "bench.auth", "bench.enrolment", "bench.jobs", "bench.cards",
           "bench.premiums", "bench.renewals"]


def fmt(value: float, unit: str) -> str:
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"


def main(areas: list[str]) -> int:
    """All areas, or only those named (`python -m bench cards jobs`)."""
    chosen = [m for m in MODULES if not areas or m.split(".")[1] in areas]
    unknown = set(areas) - {m.split(".")[1] for m in MODULES}
    if unknown:
        print(f"no such bench area: {', '.join(sorted(unknown))}; areas: {', '.join(m.split('.')[1] for m in MODULES)}")
        return 2
    rows: list[Row] = []
    for name in chosen:
        rows.extend(importlib.import_module(name).run())
    width = max(len(r.what) for r in rows)
    print(f"{'area':<12} {'what':<{width}} {'value':>12} {'unit':<9} {'target':<10} ok")
    for r in rows:
        ok = "-" if r.ok is None else ("yes" if r.ok else "NO")
        print(f"{r.area:<12} {r.what:<{width}} {fmt(r.value, r.unit):>12} {r.unit:<9} {r.target:<10} {ok}")
    return 0 if all(r.ok is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
