"""Counts AWS API calls by service and operation (tests and make bench): counts are exact, seconds are not."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from botocore.client import BaseClient


class CallCounter(Counter):
    def of(self, service: str) -> int:
        return sum(n for (svc, _), n in self.items() if svc == service)


@contextmanager
def count_aws_calls() -> Iterator[CallCounter]:
    """Every botocore call made inside the block, PynamoDB's included, as (service, operation) -> count.

    Counted under a lock: calls made from a thread pool (the jobs' writes) are all counted."""
    calls = CallCounter()
    lock = threading.Lock()
    original = BaseClient._make_api_call

    def counting(self, operation_name, api_params):
        with lock:
            calls[(self.meta.service_model.service_name, operation_name)] += 1
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = counting
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original
