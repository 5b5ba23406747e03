"""How pushes and Google calls leave: over the network (HTTP/2 to APNs, HTTPS to Google), or into the outbox.

`make run` and the tests use `OutboxSenders`: each request is written down as JSON in the outbox
folder (where local emails go) and answered as the service would answer a good request, so a person
can watch a card's change reach its registered devices without Apple or Google.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import ssl
import time
import urllib.error
import urllib.request
from pathlib import Path

from chalicelib.wallet.ports import HttpCall, Push

_sequence = itertools.count()


class H2Sender:
    """One HTTP/2 connection per push (pushes are few: one card's change, a few devices)."""

    def __init__(self, port: int = 443, context: ssl.SSLContext | None = None, timeout: float = 10.0) -> None:
        self.port, self.timeout = port, timeout
        self.context = context or ssl.create_default_context()
        self.context.set_alpn_protocols(["h2"])

    def __call__(self, push: Push, /) -> int:
        import h2.config
        import h2.connection
        import h2.events

        with socket.create_connection((push.host, self.port), timeout=self.timeout) as raw, \
                self.context.wrap_socket(raw, server_hostname=push.host) as tls:
            if tls.selected_alpn_protocol() != "h2":
                raise ConnectionError(f"{push.host} did not agree to HTTP/2")
            conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
            conn.initiate_connection()
            stream = conn.get_next_available_stream_id()
            conn.send_headers(stream, [(":method", "POST"), (":scheme", "https"), (":authority", push.host),
                                       (":path", push.path), *push.headers.items(),
                                       ("content-length", str(len(push.body)))])
            conn.send_data(stream, push.body, end_stream=True)
            tls.sendall(conn.data_to_send())
            status = 0
            while data := tls.recv(65536):
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.ResponseReceived) and event.stream_id == stream:
                        status = int(dict(event.headers)[b":status"])
                    elif isinstance(event, h2.events.StreamEnded | h2.events.StreamReset) and event.stream_id == stream:
                        conn.close_connection()
                        with contextlib.suppress(OSError):  # the answer is in: a peer gone first changes nothing
                            tls.sendall(conn.data_to_send())
                        return status
                if pending := conn.data_to_send():
                    tls.sendall(pending)
            return status


class UrllibSender:
    """HTTPS with the standard library (HTTP/1.1 is what Google's REST endpoints speak)."""

    def __init__(self, timeout: float = 10.0) -> None:
        self.timeout = timeout

    def __call__(self, call: HttpCall, /) -> tuple[int, bytes]:
        if not call.url.startswith("https://"):
            raise ValueError("Google is called over https only")
        request = urllib.request.Request(call.url, data=call.body, headers=dict(call.headers),  # noqa: S310
                                         method=call.method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310 - https only
                return int(answer.status), bytes(answer.read(1 << 20))
        except urllib.error.HTTPError as error:
            return int(error.code), bytes(error.read(1 << 20))


class OutboxSenders:
    """Local mode: pushes and Google calls written to the outbox, answered 200 (a token call: a token)."""

    def __init__(self, outbox: str) -> None:
        self.outbox = Path(outbox) / "wallet"  # beside the messages, not among them

    def push(self, push: Push, /) -> int:
        # The provider token is a credential: the outbox shows that one was sent, not what it was.
        headers = {k: ("bearer …" if k == "authorization" else v) for k, v in push.headers.items()}
        self._write("apns", {"host": push.host, "path": push.path, "headers": headers,
                             "body": push.body.decode()})
        return 200

    def http(self, call: HttpCall, /) -> tuple[int, bytes]:
        if call.url.startswith("https://oauth2.googleapis.com/"):
            self._write("google-token", {"method": call.method, "url": call.url})
            return 200, json.dumps({"access_token": "local-outbox-token", "expires_in": 3600}).encode()
        self._write("google-wallet", {"method": call.method, "url": call.url,
                                      "body": json.loads(call.body) if call.body else None})
        return 200, b"{}"

    def _write(self, kind: str, record: dict[str, object]) -> None:
        self.outbox.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        path = self.outbox / f"{stamp}-{next(_sequence):06d}-wallet-{kind}.json"
        path.write_text(json.dumps({"channel": "wallet", "kind": kind, **record}, ensure_ascii=False, indent=1),
                        encoding="utf-8")
