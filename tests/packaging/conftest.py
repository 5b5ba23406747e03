"""The `chalice package` builds from the working tree, made once per test run and shared by every xdist worker.

Each module used to package on its own (and two workers could run the dependency install of
`chalice package` at once, racing on .chalice/deployments). Now the first worker that asks builds,
under a file lock, into the run's shared temporary folder; the others wait for it and read the result.
So the packaging tests need no xdist_group: they spread over both workers, and whichever asks first
builds (test_package.py's build for this machine's architecture is shared the same way).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
STAGES = ("dev", "prod")


def chalice_package(project: Path, stage: str, out: Path) -> Path:
    env = {**os.environ, "AWS_DEFAULT_REGION": "me-south-1"}
    subprocess.run([str(BIN / "chalice"), "--project-dir", str(project), "package", "--stage", stage,
                    "--merge-template", "resources.json", str(out)],
                   cwd=project, env=env, check=True, capture_output=True, timeout=600)
    return out


def built_once(folder: Path, build) -> Path:
    """`build(folder)` run by whichever worker comes first; the others wait on the lock and reuse it."""
    folder.mkdir(parents=True, exist_ok=True)
    done = folder / "done"
    with (folder / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            build(folder)
            done.touch()
    return folder


def _stage_builds(shared: Path) -> None:
    """The prod package as `make package` makes it (slimmed zip and sam.json) in shared/prod, and the
    dev one's sam.json in shared/dev."""
    # Back to back: chalice keys its dependency cache on the project's files (chalicelib's
    # __pycache__ included), so the second build reuses the first's install.
    for stage in STAGES:
        shutil.rmtree(shared / stage, ignore_errors=True)  # what a failed attempt left
        (shared / stage).mkdir()
        chalice_package(ROOT, stage, shared / stage)
    # As make package does, in a process of its own (see chalice_package in test_package.py).
    subprocess.run([sys.executable, "-m", "devstack.slim_package", str(shared / "prod" / "deployment.zip")],
                   cwd=ROOT, check=True, capture_output=True, timeout=600)


def start_shared_builds(shared: Path) -> threading.Thread:
    """The xdist controller (idle while its workers test) starts the shared build as the run begins.

    Otherwise the first packaging test builds it for 40 s while the other worker, come to a packaging
    test too, waits on the lock with nothing to do. The controller takes the same lock, so a worker
    asking before the build is done still waits for it, and one asking after reads it.
    """
    build = threading.Thread(target=built_once, args=(shared / "shared-packages", _stage_builds),
                             name="shared-packages", daemon=True)
    build.start()
    return build


@pytest.fixture(scope="session")
def shared_folder(tmp_path_factory, worker_id) -> Path:
    """A folder every xdist worker of this run sees (each worker's basetemp is a folder of the run's one)."""
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


@pytest.fixture(scope="session")
def shared_builds(shared_folder) -> Path:
    return built_once(shared_folder / "shared-packages", _stage_builds)


@pytest.fixture(scope="session")
def package(shared_builds) -> Path:
    """deployment.zip (slimmed) and sam.json of `chalice package --stage prod` from the working tree."""
    return shared_builds / "prod"


@pytest.fixture(scope="session")
def stage_template(shared_builds):
    """stage -> the sam.json `chalice package --stage <stage> --merge-template resources.json` writes
    (slim rewrites only the zip, so prod's is the one next to the slimmed zip)."""
    def get(stage: str) -> dict:
        return json.loads((shared_builds / stage / "sam.json").read_text(encoding="utf-8"))

    return get
