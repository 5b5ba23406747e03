"""How an insured person relates to the principal of a group policy: HR's files say it, cards print it."""

from __future__ import annotations

from enum import StrEnum


class Relationship(StrEnum):
    PRINCIPAL = "principal"
    SPOUSE = "spouse"
    CHILD = "child"
    PARENT = "parent"
