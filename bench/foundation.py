"""Cold start and package size: what every Lambda of the app pays."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.rows import Row

ROOT = Path(__file__).resolve().parent.parent
RUNS = 9

_TIMED_IMPORT = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
_MINIMAL_APP = "import boto3, chalice, pynamodb.models\napp = chalice.Chalice(app_name='minimal')\n"


def _import_seconds(module: str, cwd: Path, env: dict[str, str]) -> float:
    out = subprocess.run([sys.executable, "-c", _TIMED_IMPORT.format(module=module)], cwd=cwd, env=env,
                         check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def cold_import() -> tuple[float, float]:
    """Median import time of app.py and of the minimal app, interleaved so load hits both alike."""
    env = {**os.environ, "AWS_DEFAULT_REGION": "me-south-1", "PYTHONDONTWRITEBYTECODE": "0"}
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "minimal_app.py").write_text(_MINIMAL_APP)
        ours, floor = [], []
        for _ in range(RUNS):
            ours.append(_import_seconds("app", ROOT, env))
            floor.append(_import_seconds("minimal_app", Path(tmp), env))
    return statistics.median(ours), statistics.median(floor)


def run() -> list[Row]:
    ours, floor = cold_import()
    ratio = ours / floor
    rows = [
        Row("foundation", "cold import of app.py", ours * 1000, "ms", "", None),
        Row("foundation", "cold import of chalice+boto3+pynamodb (floor)", floor * 1000, "ms", "", None),
        Row("foundation", "cold import ratio app.py / floor", ratio, "ratio", "<= 1.3", ratio <= 1.3),
    ]
    package = ROOT / "build" / "deployment.zip"
    if package.exists():
        size_mb = package.stat().st_size / 1024 / 1024
        rows.append(Row("foundation", "deployment package (zipped)", size_mb, "MB", "< 30", size_mb < 30))
    return rows
