"""Dependencies point inward: api and jobs -> services -> domain; only adapters do I/O."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIB = ROOT / "chalicelib"

# layer -> packages it must not import
FORBIDDEN = {
    "domain": ("chalicelib.services", "chalicelib.adapters", "chalicelib.api", "chalicelib.jobs",
               "boto3", "botocore", "pynamodb", "chalice"),
    "services": ("chalicelib.api", "chalicelib.jobs", "boto3", "botocore", "pynamodb", "chalice"),
    "adapters": ("chalicelib.api", "chalicelib.jobs", "chalicelib.services"),
}
IO_LIBRARIES = ("boto3", "botocore", "pynamodb")


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def violations(layer: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted((LIB / layer).rglob("*.py")):
        for name in imports_of(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def test_each_layer_imports_only_inward():
    problems = [v for layer, forbidden in FORBIDDEN.items() for v in violations(layer, forbidden)]
    assert problems == []


def test_only_adapters_import_aws_libraries():
    problems = []
    for path in sorted(LIB.rglob("*.py")):
        if "adapters" in path.parts:
            continue
        for name in imports_of(path):
            if name.split(".")[0] in IO_LIBRARIES:
                problems.append(f"{path.relative_to(ROOT)} imports {name}")
    assert problems == []


def test_app_py_only_wires():
    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    defined = [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)]
    assert defined == [], "app.py registers Blueprints; views and handlers live in chalicelib"


def test_no_app_code_scans_a_table():
    import re

    pattern = re.compile(r"\.scan\(|['\"]Scan['\"]|\bscan_iter\b")
    offenders = [f"{path.relative_to(ROOT)}:{n}" for path in [ROOT / "app.py", *sorted(LIB.rglob("*.py"))]
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert offenders == []


def test_the_scan_guard_catches_a_scan_from_app_code(aws):
    import pytest

    from chalicelib.adapters.models import AccountRecord

    # Code compiled as if it lived in chalicelib/: what a careless job would look like.
    careless = compile("list(AccountRecord.scan())", str(LIB / "jobs" / "careless.py"), "exec")
    with pytest.raises(AssertionError, match="Scan"):
        exec(careless, {"AccountRecord": AccountRecord})
