"""Provider use cases on fakes: each test gets its own world (tests/providers/fakes.py)."""

from __future__ import annotations

import pytest

from tests.providers.fakes import World, make_world


@pytest.fixture
def world() -> World:
    return make_world()
