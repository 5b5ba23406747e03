"""Common passwords, from the list the zxcvbn package carries (30,000 from breached-password dumps).

zxcvbn (dwolfhub/zxcvbn-python, MIT, about 0.4 MB installed as a wheel) is the
maintained Python port of Dropbox's strength estimator; its `frequency_lists.py`
holds the "passwords" list ordered by frequency. Django ships a similar list but
weighs 8 MB, too much for the Lambda zip.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

PACKAGE = "zxcvbn"
LIST_FILE = "frequency_lists.py"
LIST_NAME = "passwords"


def is_common_password(password: str) -> bool:
    """Whether `password`, ignoring case, is on the common-password list."""
    return password.casefold() in common_passwords()


@cache
def common_passwords() -> frozenset[str]:
    """The list, lower-cased, loaded on first use and kept for the container's life."""
    # Not `from zxcvbn.frequency_lists import ...`: that runs zxcvbn/__init__, which
    # builds ranked dictionaries of all five word lists (50 to 150 ms, 14 MB kept).
    # Executing the one data file without registering it takes about 17 ms (22 ms
    # with no .pyc) and keeps only the set: about 4 MB, 11 MB at peak while loading.
    module = _load_data_module()
    words = getattr(module, "FREQUENCY_LISTS", {}).get(LIST_NAME)
    if not words:
        raise RuntimeError(f"{PACKAGE} no longer carries a {LIST_NAME!r} list in {LIST_FILE}")
    return frozenset(word.casefold() for word in words)


def _load_data_module() -> object:
    package = importlib.util.find_spec(PACKAGE)  # a top-level name: finds without importing
    if package is None or not package.submodule_search_locations:
        raise RuntimeError(f"the {PACKAGE} package is not installed")
    path = Path(next(iter(package.submodule_search_locations))) / LIST_FILE
    spec = importlib.util.spec_from_file_location(f"_{PACKAGE}_{LIST_NAME}", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
