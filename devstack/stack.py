"""The whole system on one machine: moto server, the API, queue pumps and the scheduler."""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack.provision import ROOT, provision

REGION = "me-south-1"
STAGE = "dev"


def local_environment(moto_port: int, api_port: int, outbox: Path) -> dict[str, str]:
    """The dev stage's variables, pointed at the embedded AWS and the local API."""
    from devstack.config import stage_variables

    env = stage_variables(STAGE)
    env.update(
        AWS_ACCESS_KEY_ID="local",
        AWS_SECRET_ACCESS_KEY="local",  # moto accepts any credentials
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{moto_port}",
        PUBLIC_BASE_URL=f"http://127.0.0.1:{api_port}",
        OUTBOX_DIR=str(outbox),
        LOCAL_MODE="true",
    )
    # The sandbox payment gateway: its page on SANDBOX_PORT (default: the API's port + 1), its
    # sessions in files that the page server and the app (and `make job`) share.
    sandbox_port = int(os.environ.get("SANDBOX_PORT") or api_port + 1)
    env.update(
        PAYMENT_GATEWAY="sandbox",
        SANDBOX_PAGE_URL=f"http://127.0.0.1:{sandbox_port}/sandbox/pay",
        PAYMENT_RETURN_URL=f"http://127.0.0.1:{sandbox_port}/sandbox/done",
        SANDBOX_DIR=str(outbox.parent / "sandbox"),
    )
    return env


def wait_for_port(port: int, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


@dataclass
class LocalStack:
    moto_port: int = 5000
    api_port: int = 8000
    outbox: Path = ROOT / ".local" / "outbox"
    say: Any = print
    stop_event: threading.Event = field(default_factory=threading.Event)

    def start(self, *, demo: bool = True) -> None:
        import logging

        from devstack.linearizable import LinearizableMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per AWS call is noise
        from devstack import moto_speedup

        moto_speedup.install()  # large HR files in local mode

        os.environ.update(local_environment(self.moto_port, self.api_port, self.outbox))
        from chalicelib.settings import get_settings, reset_settings

        reset_settings()
        # DynamoDB requests one at a time, as DynamoDB applies them: the races the app's conditional
        # writes must win are then real races locally too, not moto's interleavings.
        self.moto = LinearizableMotoServer(ip_address="127.0.0.1", port=self.moto_port, verbose=False)
        self.moto.start()
        wait_for_port(self.moto_port)
        provision(STAGE, REGION, email_sender=get_settings().email_sender)
        self.app = self._load_app()
        self._serve_api()
        self._serve_sandbox_pages()
        self._start_pumps()
        if demo:
            from devstack.demo import load_demo

            load_demo(self.say)

    def _load_app(self) -> Any:
        from app import app

        return app

    def _serve_api(self) -> None:
        from chalice.config import Config

        from devstack.local_gateway import create_envelope_server

        config = Config(chalice_stage=STAGE, config_from_disk={"app_name": "insure"})
        # chalice.local's server, whose own refusals (no token, denied, unknown path) use the envelope.
        self.api = create_envelope_server(self.app, config, "127.0.0.1", self.api_port)
        self.api_thread = threading.Thread(target=self.api.server.serve_forever, name="api", daemon=True)
        self.api_thread.start()
        wait_for_port(self.api_port)

    def _serve_sandbox_pages(self) -> None:
        from urllib.parse import urlsplit

        from chalicelib.premiums.wiring import payment_gateway
        from chalicelib.settings import get_settings
        from devstack.sandbox_pages import SandboxPages

        settings = get_settings()
        if settings.payments.gateway != "sandbox":
            return
        port = urlsplit(settings.payments.sandbox_page_url).port or 8001
        self.sandbox_pages = SandboxPages(payment_gateway(settings), port, self.say)
        self.sandbox_pages.start()
        wait_for_port(port)

    def _start_pumps(self) -> None:
        from devstack.lambdas import QueuePump, Scheduler, sqs_sources

        self.pumps = [
            QueuePump(self.app, name, source.queue, source.batch_size, REGION, self.stop_event, self.say)
            for name, source in sqs_sources(self.app).items()
        ]
        self.scheduler = Scheduler(self.app, REGION, self.stop_event, self.say)
        for thread in [*self.pumps, self.scheduler]:
            thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        for thread in [*getattr(self, "pumps", []), getattr(self, "scheduler", None)]:
            if thread is not None:
                thread.join(timeout=5)
        if getattr(self, "api", None) is not None:
            self.api.server.shutdown()
            self.api.server.server_close()
        if getattr(self, "sandbox_pages", None) is not None:
            self.sandbox_pages.stop()
        if getattr(self, "moto", None) is not None:
            self.moto.stop()
