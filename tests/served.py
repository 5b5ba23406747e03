"""The app served over real HTTP as `make run` serves it (devstack.local_gateway), on a free port in a thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from chalice import Chalice


@contextmanager
def served(app: Chalice) -> Iterator[str]:
    """The base URL of the app, served until the block ends; AWS is whatever the caller mocked (moto)."""
    from chalice.config import Config

    from devstack.local_gateway import create_envelope_server

    config = Config(chalice_stage="dev", config_from_disk={"app_name": "insure"})
    original_class = app.__class__  # the server swaps it for a thread-safe subclass: put it back after
    server = create_envelope_server(app, config, "127.0.0.1", 0)  # 0: the system picks a free port
    thread = threading.Thread(target=server.server.serve_forever, name="served-api", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server.server_address[1]}"
    finally:
        server.shutdown()
        server.server.server_close()
        thread.join(timeout=5)
        app.__class__ = original_class
