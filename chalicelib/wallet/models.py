"""The wallet table (PynamoDB): one pass's state, and each device registered for it, both ways.

    pass#<serial>   #pass            updated_at (Unix seconds: the pass's update tag), devices (count),
                                     google (a Save to Google Wallet link was handed out)
    pass#<serial>   device#<device>  push_token, registered_at     (the devices to push to)
    device#<device> pass#<serial>    pass_type, registered_at      (the passes a device asks about)

No index and no Scan: every question is one key's items.
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.platform.dynamo import TableMeta
from chalicelib.wallet.settings import wallet_table

PASS_SK = "#pass"


class WalletItem(Model):
    class Meta(TableMeta):
        table_name = wallet_table()

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    updated_at = NumberAttribute(null=True)
    devices = NumberAttribute(null=True)
    google = BooleanAttribute(null=True)
    push_token = UnicodeAttribute(null=True)
    pass_type = UnicodeAttribute(null=True)
    registered_at = UTCDateTimeAttribute(null=True)


def pass_key(serial: str) -> str:
    return f"pass#{serial}"


def device_key(device: str) -> str:
    return f"device#{device}"
