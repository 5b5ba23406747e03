"""Use cases: one function each, dependencies passed in (see chalicelib/wiring.py)."""
