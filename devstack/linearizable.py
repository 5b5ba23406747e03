"""An embedded AWS whose DynamoDB is linearizable: moto's server, DynamoDB requests applied one at a time.

moto applies a DynamoDB request in several Python steps: UpdateItem reads the item, checks its
condition, then writes; TransactWriteItems checks every item, then writes, restoring tables from
a copy when one write fails. A threaded moto server runs two requests in two threads, so two
conditional UpdateItems on one item can both pass their condition and both "win" (5 of 50 pairs
did), where DynamoDB lets exactly one win. That makes every race test pass by luck or fail by
luck, and local mode unable to show the guarantees the app relies on.

`LinearizableMotoServer` is moto's `ThreadedMotoServer` with one lock around every DynamoDB
request, held until the response is fully built: each request is applied atomically, in the
order the lock is granted, which is DynamoDB's own per-request atomicity. Callers still race
freely between their requests (a read, then a conditional write), which is exactly the race the
app's conditions must win.

Only DynamoDB (and moto's own /moto-api, whose reset must not tear a table out from under a
request) is serialised, not every service: SQS ReceiveMessage long-polls for up to 20 s and the
local stack's queue pumps hold one open all the time, and S3 moves whole HR files; serialising
them would stall every DynamoDB call behind a poll. Their requests run concurrently, as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

Environ = dict[str, Any]
WsgiApp = Callable[[Environ, Callable[..., Any]], Iterable[bytes]]


def is_dynamodb_request(environ: Environ) -> bool:
    """A DynamoDB (or DynamoDB Streams) API call, or a moto control call such as /moto-api/reset.

    Every DynamoDB operation is a JSON POST naming itself in X-Amz-Target ("DynamoDB_20120810.UpdateItem");
    the SigV4 credential scope names the service too, for a client that would not send the target.
    """
    target = environ.get("HTTP_X_AMZ_TARGET") or ""
    if target.startswith(("DynamoDB_", "DynamoDBStreams_")):
        return True
    if "/dynamodb/aws4_request" in (environ.get("HTTP_AUTHORIZATION") or ""):
        return True
    return (environ.get("PATH_INFO") or "").startswith("/moto-api")


def one_at_a_time(app: WsgiApp, lock: threading.Lock, serialise: Callable[[Environ], bool]) -> WsgiApp:
    """`app` with the requests `serialise` picks applied under `lock`, one after another.

    The response body is drawn inside the lock: moto builds it from the backend's state, and a
    lazily iterated body read after another request's write would not be this request's answer.
    """

    def wrapped(environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not serialise(environ):
            return app(environ, start_response)
        with lock:
            body = app(environ, start_response)
            try:
                return list(body)
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()

    return wrapped


class LinearizableMotoServer(ThreadedMotoServer):
    """moto's threaded server whose DynamoDB requests are applied one at a time (see the module's text).

    `lock` is exposed so a test can hold it to prove that no DynamoDB request gets in meanwhile.
    """

    def __init__(self, ip_address: str = "127.0.0.1", port: int = 5000, verbose: bool = False,
                 serialise: Callable[[Environ], bool] = is_dynamodb_request) -> None:
        super().__init__(ip_address=ip_address, port=port, verbose=verbose)
        self.lock = threading.Lock()
        self.serialise = serialise

    def _server_entry(self) -> None:
        # ThreadedMotoServer._server_entry with the app wrapped; nothing else differs.
        app = one_at_a_time(DomainDispatcherApplication(create_backend_app), self.lock, self.serialise)
        self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()
