"""What the premium and payment use cases need from the outside world, as one value the wiring fills."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from chalicelib.platform.messages import Message
from chalicelib.premiums.rules import Tariff
from chalicelib.settings import Settings


@dataclass(frozen=True)
class Contact:
    """Where an account's receipts go."""

    email: str | None
    phone: str | None
    language: str | None


def new_id(prefix: str) -> str:
    # Letters and digits only: KNET track ids allow nothing else.
    return f"{prefix}{uuid.uuid4().hex[:24]}"


@dataclass
class PremiumDeps:
    settings: Settings
    store: Any  # chalicelib.premiums.store.PremiumStore or a fake with its methods
    # Built on first use: quotes and applications never touch the gateway or its secret.
    make_gateway: Callable[[], Any]  # -> chalicelib.premiums.gateway.PaymentGateway
    contact: Callable[[str], Contact | None]
    send: Callable[[Message], object]
    now: Callable[[], datetime]
    tariffs: tuple[Tariff, ...]
    # The gateway's exceptions, named here because services may not import adapters:
    gateway_errors: tuple[type[Exception], ...] = ()  # it could not answer: the outcome is unknown
    callback_errors: tuple[type[Exception], ...] = ()  # a callback that is forged, garbled or stale
    new_id: Callable[[str], str] = new_id
    sleep: Callable[[float], None] = field(default=time.sleep)

    @cached_property
    def gateway(self) -> Any:
        return self.make_gateway()
