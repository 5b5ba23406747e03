"""What the account use cases need from the outside world, as one value the wiring fills."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from chalicelib.platform.messages import Message
from chalicelib.settings import Settings


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, stored_hash: str, password: str) -> bool: ...
    def needs_rehash(self, stored_hash: str) -> bool: ...
    def burn_dummy_verify(self, password: str) -> None: ...


@dataclass
class AuthDeps:
    settings: Settings
    store: Any  # chalicelib.accounts.store.AccountStore or a fake with its methods
    hasher: PasswordHasher
    is_common_password: Callable[[str], bool]
    send: Callable[[Message], object]
    enqueue: Callable[[list[dict[str, Any]]], object]
    now: Callable[[], datetime]
    issue_access_token: Callable[[str, str, datetime, str | None], str]
    # The server's HMAC keys (Secrets Manager), the signing one first: SMS codes, refresh successors.
    hmac_keys: Callable[[], list[bytes]]
