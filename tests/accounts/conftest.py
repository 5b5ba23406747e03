"""Account use cases on fakes: each test gets its own world (tests/accounts/fakes.py)."""

from __future__ import annotations

import pytest

from tests.accounts.fakes import World, make_world


@pytest.fixture
def world() -> World:
    return make_world()
