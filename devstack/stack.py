"""The whole system on one machine: moto server, the API, queue pumps and the scheduler."""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack.provision import ROOT, provision

REGION = "me-south-1"
STAGE = "dev"


def local_dir() -> Path:
    """`make run`'s files (outbox, sandbox sessions, stack.json): .local/, or LOCAL_DIR (the tests' tmp paths)."""
    return Path(os.environ.get("LOCAL_DIR") or ROOT / ".local").resolve()


class StackError(SystemExit):
    """A clear one-line refusal for the person at the console (exit status 1)."""


# --- .local/stack.json: where the running `make run` listens, for make job/drop/policy -------------------------

def stack_file(where: Path | None = None) -> Path:
    return (where or local_dir()) / "stack.json"


def read_stack(where: Path | None = None) -> dict | None:
    try:
        return json.loads(stack_file(where).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _listens(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def running_stack(where: Path | None = None) -> dict:
    """The running `make run`'s stack.json, or a clear refusal when there is none or it is stale."""
    path = stack_file(where)
    stack = read_stack(where)
    if stack is None:
        raise StackError(f"no make run is running (no {path}): start one with `make run` in another terminal")
    if not _pid_alive(int(stack["pid"])) or not _listens(int(stack["moto_port"])):
        raise StackError(f"no make run is running: {path} names pid {stack['pid']} with the embedded AWS on "
                         f":{stack['moto_port']}, but nothing listens there any more (a make run that was killed); "
                         f"start one with `make run`")
    return stack


# --- Who holds a port: `make run` (stack.json) or any process (/proc/net/tcp and /proc/*/fd) ---------------------

def port_free(port: int) -> bool:
    """Whether our servers can listen on 127.0.0.1:port (they set SO_REUSEADDR, so TIME_WAIT doesn't count)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(inode)
    return inodes


def _process(pid: int) -> str:
    try:
        command = " ".join(Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split())
    except OSError:
        command = ""
    if len(command) > 100:
        command = command[:99] + "…"
    return f"pid {pid}" + (f" ({command})" if command else "")


def port_holder(port: int) -> str | None:
    """Who listens on a port, as far as this machine tells: a `make run` by its stack.json, else by /proc."""
    stack = read_stack()
    if stack and _pid_alive(int(stack["pid"])) and port in stack.get("ports", {}).values():
        return f"a make run, {_process(int(stack['pid']))}, started {stack.get('started', '?')}"
    sockets = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    if not sockets:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) in sockets:
                    return _process(int(proc.name))
        except OSError:
            continue  # another user's process, or gone meanwhile
    return None


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


# --- The embedded AWS's state across restarts: .local/state/aws.pickle, `make reset` to start clean --------------

# The services the template's resources live in (tables, buckets, queues, secrets, SES's configuration set).
PERSISTED_SERVICES = ("dynamodb", "s3", "sqs", "secretsmanager", "ses", "sesv2", "sns")


def state_file(where: Path | None = None) -> Path:
    return (where or local_dir()) / "state" / "aws.pickle"


def _resources_digest() -> str:
    import hashlib

    return hashlib.sha256((ROOT / "resources.json").read_bytes()).hexdigest()


def _lock_anew(_lock: Any) -> tuple[Any, tuple[()]]:
    return threading.Lock, ()


def _rlock_anew(_lock: Any) -> tuple[Any, tuple[()]]:
    return threading.RLock, ()


def save_state(path: Path) -> None:
    """moto's backends as they are (its locks made anew on load), with the resources.json they were made from."""
    import copyreg
    import io
    import pickle

    from moto.backends import get_backend

    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer)
    pickler.dispatch_table = {**copyreg.dispatch_table, type(threading.Lock()): _lock_anew,
                              type(threading.RLock()): _rlock_anew}
    pickler.dump({"resources": _resources_digest(),
                  "backends": {name: dict(get_backend(name)) for name in PERSISTED_SERVICES}})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(path)


def restore_state(path: Path, say: Any) -> bool:
    """Load what the last `make run` left; False (start clean) when there is none or it no longer fits."""
    import pickle

    from moto.backends import get_backend

    if not path.exists():
        return False
    try:
        # Our own file, written by save_state on this machine: .local/ is this checkout's, never downloaded.
        saved = pickle.loads(path.read_bytes())  # noqa: S301
    except Exception as error:
        say(f"[state] could not read {path} ({type(error).__name__}: {error}): starting clean")
        return False
    if saved.get("resources") != _resources_digest():
        say(f"[state] resources.json changed since {path} was saved: starting clean (the old state is replaced)")
        return False
    for name, backends in saved["backends"].items():
        live = get_backend(name)
        live.clear()
        live.update(backends)
    return True


@dataclass
class LocalStack:
    moto_port: int = 5000
    api_port: int = 8000
    outbox: Path = field(default_factory=lambda: local_dir() / "outbox")
    say: Any = print
    stop_event: threading.Event = field(default_factory=threading.Event)
    persist: bool = False  # keep the embedded AWS's state in .local/state/ across runs (make run does)
    restored: bool = False

    def ports(self) -> dict[str, int]:
        from urllib.parse import urlsplit

        sandbox = urlsplit(local_environment(self.moto_port, self.api_port, self.outbox)["SANDBOX_PAGE_URL"]).port
        return {"moto_port": self.moto_port, "api_port": self.api_port, "sandbox_port": sandbox or 8001}

    def check_ports(self) -> None:
        """Fail at once, naming the port and what holds it, rather than wait on someone else's server."""
        here = self.outbox.parent
        stack = read_stack(here)
        if stack and stack.get("pid") != os.getpid() and _pid_alive(int(stack["pid"])) \
                and _listens(int(stack["moto_port"])):
            raise StackError(f"a make run is already running ({_process(int(stack['pid']))}, embedded AWS on "
                             f":{stack['moto_port']}, API on :{stack['api_port']}; {stack_file(here)}): "
                             f"stop it with Ctrl-C first (a second one needs its own LOCAL_DIR and ports)")
        for name, port in self.ports().items():
            if not port_free(port):
                holder = port_holder(port)
                variable = name.upper()
                raise StackError(f"port {port} ({variable}) is taken"
                                 + (f" by {holder}" if holder else " (by a process this user cannot see)")
                                 + f": stop it, or choose another port: {variable}=<port> make run")

    def clear_outbox(self) -> None:
        """Each run starts with an empty outbox: no dead links from an earlier run."""
        shutil.rmtree(self.outbox, ignore_errors=True)
        self.outbox.mkdir(parents=True, exist_ok=True)

    def write_stack_file(self) -> Path:
        path = stack_file(self.outbox.parent)
        stack = {"pid": os.getpid(), **self.ports(), "ports": self.ports(),
                 "endpoint": f"http://127.0.0.1:{self.moto_port}", "api": f"http://127.0.0.1:{self.api_port}",
                 "outbox": str(self.outbox), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(stack, indent=2), encoding="utf-8")
        tmp.replace(path)
        return path

    def remove_stack_file(self) -> None:
        stack = read_stack(self.outbox.parent)
        if stack and stack.get("pid") == os.getpid():
            stack_file(self.outbox.parent).unlink(missing_ok=True)

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
        state = state_file(self.outbox.parent)
        self.restored = self.persist and restore_state(state, self.say)
        if self.restored:
            self.say(f"[state] the embedded AWS is as the last make run left it ({state}); `make reset` starts clean")
        else:
            provision(STAGE, REGION, email_sender=get_settings().email_sender)
        self.app = self._load_app()
        self._serve_api()
        self._serve_sandbox_pages()
        self._start_pumps()
        self.write_stack_file()
        if demo and not self.restored:
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
            # Saved once nothing runs any more: the next make run carries on from here.
            if self.persist and getattr(self, "app", None) is not None:
                path = state_file(self.outbox.parent)
                try:
                    save_state(path)
                    self.say(f"[state] the embedded AWS's state is saved in {path} (`make reset` forgets it)")
                except Exception as error:
                    self.say(f"[state] could not save it ({type(error).__name__}: {error}): the next make run "
                             f"starts clean")
                    path.unlink(missing_ok=True)
