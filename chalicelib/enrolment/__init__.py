"""Enrolment: HR files dropped on S3 become members, accounts and welcome emails; group policies.

Other capabilities import from here only; the names resolve on first use (PEP 562), so
importing the package costs nothing a route or job does not use."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.enrolment.jobs import hr_files
    from chalicelib.enrolment.models import GroupPolicyRecord, MemberRecord

_SURFACE = {
    "hr_files": "chalicelib.enrolment.jobs",
    "GroupPolicyRecord": "chalicelib.enrolment.models",
    "MemberRecord": "chalicelib.enrolment.models",
}

__all__ = [
    "GroupPolicyRecord",
    "MemberRecord",
    "hr_files",
]


def __getattr__(name: str) -> Any:
    if name not in _SURFACE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_SURFACE[name]), name)
