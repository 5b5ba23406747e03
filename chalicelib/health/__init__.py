"""The service itself: health check and the OpenAPI document of every capability.

Other capabilities import from here only; the names resolve on first use (PEP 562), so
importing the package costs nothing a route or job does not use."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.health.api import health

_SURFACE = {
    "health": "chalicelib.health.api",
}

__all__ = [
    "health",
]


def __getattr__(name: str) -> Any:
    if name not in _SURFACE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_SURFACE[name]), name)
