"""Logs, alarms and tracing: what an operator watches."""

from __future__ import annotations


def resources() -> dict:
    return {}
