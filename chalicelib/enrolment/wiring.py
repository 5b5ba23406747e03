"""Picks the adapters HR file enrolment runs on: the store, the file reader (CSV or workbook), the report writer."""

from __future__ import annotations

from functools import cache

from chalicelib.enrolment.ports import EnrolmentDeps
from chalicelib.platform.clock import now


@cache
def enrolment_deps() -> EnrolmentDeps:
    from chalicelib.cards import revoke_cards
    from chalicelib.enrolment import records
    from chalicelib.enrolment.hr_report import ReportWriter
    from chalicelib.enrolment.hr_xlsx import open_hr_file, resume_hr_file
    from chalicelib.enrolment.store import EnrolmentStore, drop_continuation
    from chalicelib.platform import messaging

    return EnrolmentDeps(store=EnrolmentStore(), records=records, enqueue=messaging.enqueue,
                         open_csv=open_hr_file, new_report=ReportWriter, now=now,
                         resume_csv=resume_hr_file, resume_report=ReportWriter.resumed,
                         continue_later=drop_continuation, revoke_cards=revoke_cards)


def forget() -> None:
    enrolment_deps.cache_clear()
