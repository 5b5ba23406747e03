"""The wallet table's adapter: registrations written in transactions, pass update tags by conditional writes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.platform.dynamo import cancellation, connection, lost_condition
from chalicelib.wallet.models import PASS_SK, WalletItem, device_key, pass_key
from chalicelib.wallet.ports import Registration, TooManyDevices
from chalicelib.wallet.settings import MAX_DEVICES_PER_PASS


class WalletStore:
    """ports.WalletStore on DynamoDB."""

    def __init__(self, conn: Connection | None = None) -> None:
        self._conn = conn

    def register(self, device: str, pass_type: str, serial: str, push_token: str, now: datetime) -> bool:
        """Register `device` for the pass: True when new, False when it was (its push token is refreshed)."""
        state = WalletItem(pass_key(serial), PASS_SK)
        try:
            with TransactWrite(connection=self._conn or connection()) as tx:
                # The count guards the fan-out of a public route: at most MAX_DEVICES_PER_PASS devices.
                tx.update(state, actions=[WalletItem.devices.add(1)],
                          condition=WalletItem.devices.does_not_exist() | (WalletItem.devices < MAX_DEVICES_PER_PASS))
                tx.save(WalletItem(pass_key(serial), device_key(device), push_token=push_token, registered_at=now),
                        condition=WalletItem.pk.does_not_exist())
                tx.save(WalletItem(device_key(device), pass_key(serial), pass_type=pass_type, registered_at=now),
                        condition=WalletItem.pk.does_not_exist())
        except TransactWriteError as exc:
            why = cancellation(exc)
            if not why.lost_race:
                raise
            # PynamoDB sends a transaction's puts before its updates: 0 and 1 are the registration's two
            # items (already there), 2 the pass's device count (at its limit).
            if 0 in why.failed_conditions or 1 in why.failed_conditions:
                self._refresh_token(device, serial, push_token)
                return False
            if 2 in why.failed_conditions:
                raise TooManyDevices() from exc
            raise
        return True

    def _refresh_token(self, device: str, serial: str, push_token: str) -> None:
        item = WalletItem(pass_key(serial), device_key(device))
        try:
            item.update(actions=[WalletItem.push_token.set(push_token)], condition=WalletItem.pk.exists())
        except Exception as exc:
            if not lost_condition(exc):
                raise  # unregistered in between: nothing to refresh

    def unregister(self, device: str, serial: str) -> bool:
        """Forget the device for the pass: True when it was registered."""
        try:
            with TransactWrite(connection=self._conn or connection()) as tx:
                tx.update(WalletItem(pass_key(serial), PASS_SK), actions=[WalletItem.devices.add(-1)],
                          condition=WalletItem.devices > 0)
                tx.delete(WalletItem(pass_key(serial), device_key(device)), condition=WalletItem.pk.exists())
                tx.delete(WalletItem(device_key(device), pass_key(serial)), condition=WalletItem.pk.exists())
        except TransactWriteError as exc:
            if cancellation(exc).lost_race:
                return False
            raise
        return True

    def serials_of(self, device: str, pass_type: str) -> list[str]:
        """The serial numbers of the passes of `pass_type` the device is registered for."""
        prefix = "pass#"
        return [item.sk[len(prefix):] for item in WalletItem.query(device_key(device), WalletItem.sk.startswith(prefix))
                if item.pass_type == pass_type]

    def devices_of(self, serial: str) -> list[Registration]:
        """The devices registered for the pass, with their push tokens."""
        prefix = "device#"
        return [Registration(item.sk[len(prefix):], item.push_token or "")
                for item in WalletItem.query(pass_key(serial), WalletItem.sk.startswith(prefix))]

    def updated_at(self, serials: Sequence[str]) -> dict[str, int]:
        """Each pass's update tag (Unix seconds); a pass never changed since it was first handed out is absent."""
        keys = [(pass_key(s), PASS_SK) for s in dict.fromkeys(serials)]
        found: dict[str, int] = {}
        for item in WalletItem.batch_get(keys):
            if item.updated_at is not None:
                found[item.pk[len("pass#"):]] = int(item.updated_at)
        return found

    def with_holders(self, serials: Sequence[str]) -> list[str]:
        """The serials someone keeps a pass of: a device registered for it, or a Google link handed out.

        A card's change reaches only those: one BatchGetItem per 100 people instead of a write for each
        person an HR file terminated or changed, most of whom never added their card to a wallet."""
        keys = [(pass_key(s), PASS_SK) for s in dict.fromkeys(serials)]
        held = {item.pk[len("pass#"):] for item in WalletItem.batch_get(keys) if item.devices or item.google}
        return [s for s in dict.fromkeys(serials) if s in held]

    def touch(self, serials: Iterable[str], at: int) -> None:
        """Move each pass's update tag to `at` (never back: an older change arriving late changes nothing)."""
        for serial in dict.fromkeys(serials):
            try:
                WalletItem(pass_key(serial), PASS_SK).update(
                    actions=[WalletItem.updated_at.set(at)],
                    condition=WalletItem.updated_at.does_not_exist() | (WalletItem.updated_at < at))
            except Exception as exc:
                if not lost_condition(exc):
                    raise

    def mark_google(self, serial: str) -> None:
        """Remember that a Save to Google Wallet link was handed out: changes then update Google's object."""
        WalletItem(pass_key(serial), PASS_SK).update(actions=[WalletItem.google.set(True)])

    def google_saved(self, serials: Sequence[str]) -> set[str]:
        keys = [(pass_key(s), PASS_SK) for s in dict.fromkeys(serials)]
        return {item.pk[len("pass#"):] for item in WalletItem.batch_get(keys) if item.google}
