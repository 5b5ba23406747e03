"""Kuwait's calendar: coverage dates are Kuwaiti dates (UTC+3, no daylight saving); times are stored in UTC."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

KUWAIT = timezone(timedelta(hours=3), "Asia/Kuwait")


def kuwait_today(now: datetime) -> date:
    """The calendar day in Kuwait at the instant `now`."""
    return now.astimezone(KUWAIT).date()
