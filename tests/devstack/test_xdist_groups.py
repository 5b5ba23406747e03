"""`make test` runs on both cores with --dist loadgroup: tests of one xdist_group must share a worker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

GROUPED = '''
import os, pytest

pytestmark = pytest.mark.xdist_group("{group}")

@pytest.mark.parametrize("n", range(4))
def test_{group}(n):
    print(os.environ["PYTEST_XDIST_WORKER"])
'''


def test_the_tests_of_a_group_run_on_one_worker(tmp_path):
    for group in ("alpha", "beta"):
        (tmp_path / f"test_{group}.py").write_text(GROUPED.format(group=group), encoding="utf-8")
    (tmp_path / "test_free.py").write_text("def test_free():\n    pass\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-v", "-p",
                          "tests.xdist_groups", "-p", "no:cacheprovider", str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)})
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    workers: dict[str, set[str]] = {}
    for line in out.stdout.splitlines():
        if "PASSED" in line and ("test_alpha" in line or "test_beta" in line):
            group = "alpha" if "test_alpha" in line else "beta"
            workers.setdefault(group, set()).add(line.split("]", 1)[0].strip("["))
            # The id the scheduler grouped by (the controller prints a parametrised one with a stray "]").
            assert f"@{group}" in line, line
    assert {g: len(w) for g, w in workers.items()} == {"alpha": 1, "beta": 1}, workers
