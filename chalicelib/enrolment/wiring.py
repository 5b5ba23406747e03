"""Picks the adapters HR file enrolment runs on: the store, the CSV reader, the report writer."""

from __future__ import annotations

from functools import cache

from chalicelib.enrolment.ports import EnrolmentDeps
from chalicelib.platform.clock import now


@cache
def enrolment_deps() -> EnrolmentDeps:
    from chalicelib.enrolment import records
    from chalicelib.enrolment.hr_csv import open_hr_csv, resume_hr_csv
    from chalicelib.enrolment.hr_report import ReportWriter
    from chalicelib.enrolment.store import EnrolmentStore, drop_continuation
    from chalicelib.platform import messaging

    return EnrolmentDeps(store=EnrolmentStore(), records=records, enqueue=messaging.enqueue,
                         open_csv=open_hr_csv, new_report=ReportWriter, now=now,
                         resume_csv=resume_hr_csv, resume_report=ReportWriter.resumed,
                         continue_later=drop_continuation)


def forget() -> None:
    enrolment_deps.cache_clear()
