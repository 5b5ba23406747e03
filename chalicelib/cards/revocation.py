"""The Card Revocation Lists of SMART Health Cards: one S3 object per signing key in the cards bucket.

    crl/<kid>.json = {"kid": <kid>, "method": "rid", "ctr": <n>, "rids": ["<rid>.<seconds>", ...]}

This is the file `GET /.well-known/crl/{kid}.json` serves as it is. Each rid carries the spec's
timestamp suffix: a card is revoked when its rid is listed *and* it was issued (nbf) before that
moment, so a person covered again later (same member id, same first day) gets cards that verify.

Several writers may revoke at once (an HR file's Lambda, a refund, a job): each change is a
conditional write on the ETag read (If-Match; If-None-Match: * for the first one), retried on a
lost race, so no rid is ever dropped and `ctr` grows by exactly one per change, as verifiers use
it to know their cached copy is stale.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from chalicelib.cards.crl import RevocationList
from chalicelib.platform.aws import client
from chalicelib.settings import get_settings

PREFIX = "crl/"
_ATTEMPTS = 8
# S3's answers to a write whose condition failed: another writer got there first.
_LOST_RACE = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}


class RevocationWriteConflict(RuntimeError):
    """Every attempt lost its race to another writer (retried by the caller's queue)."""


class S3RevocationLists:
    """The CRLs in the cards bucket, changed only by conditional writes."""

    def __init__(self, bucket: str | None = None) -> None:
        self.bucket = bucket or get_settings().cards_bucket

    def read(self, kid: str) -> RevocationList:
        """The key's current list (the initial empty one when none was written)."""
        return self._read(kid)[0]

    def add(self, kid: str, entries: Iterable[str]) -> RevocationList:
        """Add rid entries to the key's list; returns the list as stored."""
        entries = list(entries)
        s3 = client("s3")
        for _ in range(_ATTEMPTS):
            current, etag = self._read(kid)
            changed = current.with_entries(entries)
            if changed is current:
                return current
            condition = {"IfMatch": etag} if etag is not None else {"IfNoneMatch": "*"}
            try:
                s3.put_object(Bucket=self.bucket, Key=_key(kid), ContentType="application/json",
                              Body=json.dumps(changed.document(), separators=(",", ":")).encode(), **condition)
            except s3.exceptions.ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in _LOST_RACE:
                    continue  # someone else changed it since we read: read theirs and add ours again
                raise
            return changed
        raise RevocationWriteConflict(f"the CRL of {kid} kept changing under {_ATTEMPTS} attempts")

    def _read(self, kid: str) -> tuple[RevocationList, str | None]:
        s3 = client("s3")
        try:
            got = s3.get_object(Bucket=self.bucket, Key=_key(kid))
        except s3.exceptions.NoSuchKey:
            return RevocationList(kid), None
        body = json.loads(got["Body"].read())
        return RevocationList(kid, int(body["ctr"]), tuple(body["rids"])), str(got["ETag"])


def _key(kid: str) -> str:
    return f"{PREFIX}{kid}.json"
