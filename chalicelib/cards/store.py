"""Drawn cards in the private cards bucket: is one there, store one, and a short-lived signed URL to it.

Keys are content-addressed (`CardContent.object_key`), so an object, once written, never
changes: a change to the person gives a new key, and the old object is simply never asked
for again. S3 cannot expire objects "not read for N days", so the bucket's lifecycle rule
expires everything under `cards/` N days after it was *written* (see CARD_OBJECT_DAYS and
devstack/infra/storage.py). A card still in use is kept alive by `ready()`: when the object
it finds is close to that age it copies the object onto itself, which restarts the clock
without drawing again. So a card is drawn once, and superseded ones (a change, a termination,
a rotated key) disappear within N days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.platform.aws import client
from chalicelib.settings import get_settings

PREFIX = "cards/"
# The lifecycle rule's age. Short enough that cards of people no longer insured (personal
# data) do not linger; long enough that an active card is refreshed about once a month.
CARD_OBJECT_DAYS = 30
# Refresh a day before the rule may act: lifecycle deletions run asynchronously from
# midnight UTC after the object turns N days old, so an object younger than N - 1 days
# cannot vanish within the 5 minutes its signed URL lives.
REFRESH_AFTER = timedelta(days=CARD_OBJECT_DAYS - 1)
URL_SECONDS = 5 * 60

CONTENT_TYPES = {"png": "image/png", "pdf": "application/pdf"}


@dataclass(frozen=True)
class SignedUrl:
    url: str
    expires_at: datetime


class CardStore:
    """S3 reads and writes of drawn cards; signing URLs is local (no request to S3)."""

    def __init__(self, bucket: str | None = None) -> None:
        self.bucket = bucket or get_settings().cards_bucket

    def ready(self, key: str, now: datetime) -> bool:
        """True when the object is stored and will outlive a URL signed now (one HEAD request)."""
        s3 = client("s3")
        try:
            head = s3.head_object(Bucket=self.bucket, Key=key)
        except s3.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        written = head.get("LastModified")
        if written is not None and now - written > REFRESH_AFTER:
            # Copying an object onto itself needs a change: replacing the metadata is one,
            # and it gives the object a new LastModified, restarting the lifecycle's count.
            s3.copy_object(Bucket=self.bucket, Key=key, CopySource={"Bucket": self.bucket, "Key": key},
                           MetadataDirective="REPLACE", ContentType=head.get("ContentType") or _type_of(key),
                           Metadata={**head.get("Metadata", {}), "refreshed": now.isoformat()})
        return True

    def put(self, key: str, body: bytes, metadata: dict[str, str] | None = None) -> None:
        """Store a drawn card (the bucket encrypts it; nothing in it is public)."""
        client("s3").put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=_type_of(key),
                                Metadata=metadata or {})

    def get(self, key: str) -> bytes:
        """The stored bytes (tests and tools; the app hands out URLs instead)."""
        body: bytes = client("s3").get_object(Bucket=self.bucket, Key=key)["Body"].read()  # boto3 is untyped
        return body

    def signed_url(self, key: str, now: datetime, filename: str, seconds: int = URL_SECONDS) -> SignedUrl:
        """A GET URL valid `seconds` from now, computed locally from the Lambda's credentials."""
        url = client("s3").generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key,
                    # The app saves the file under a name a person recognises.
                    "ResponseContentDisposition": f'inline; filename="{filename}"',
                    "ResponseContentType": _type_of(key)},
            ExpiresIn=seconds,
        )
        return SignedUrl(url, now + timedelta(seconds=seconds))


def _type_of(key: str) -> str:
    return CONTENT_TYPES.get(key.rsplit(".", 1)[-1], "application/octet-stream")
