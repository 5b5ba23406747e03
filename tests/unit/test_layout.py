"""The code is shaped by capability: one folder each, layers inside, a small public surface between them.

chalicelib/<capability>/ holds its rules, use cases, adapters, entry points (HTTP and jobs) and
wiring; capabilities use each other only through `chalicelib.<capability>` (its __init__);
platform/ (shared machinery) and kernel/ (pure shared values) know no capability. Inside a
capability dependencies point inward: entry -> use cases -> rules; adapters implement the
ports the use cases declare; only the wiring picks adapters. Every module is classified
below, so a new file is placed on purpose (this test names it until it is).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIB = ROOT / "chalicelib"

CAPABILITIES = ("accounts", "enrolment", "cards", "premiums", "providers", "wallet", "health")
SHARED = ("platform", "kernel")
TOP_LEVEL = ("settings", "errors", "logs", "wiring")

# Each capability's modules by role (a package like premiums/gateway/ is classified by its folder).
RULES, PORTS, USE_CASES, ADAPTERS, ENTRY, WIRING = "rules", "ports", "use cases", "adapters", "entry", "wiring"
ROLES: dict[str, dict[str, str]] = {
    "accounts": {
        "errors": RULES, "rules": RULES, "password_policy": RULES, "tokens": RULES, "messages": RULES,
        "values": RULES, "settings": RULES,
        "ports": PORTS,
        "credentials": USE_CASES, "passwords": USE_CASES, "registration": USE_CASES, "sessions": USE_CASES,
        "expiry": USE_CASES,
        "store": ADAPTERS, "models": ADAPTERS, "hashing": ADAPTERS, "common_passwords": ADAPTERS,
        "jwt_tokens": ADAPTERS, "hmac_keys": ADAPTERS,
        "api": ENTRY, "links": ENTRY, "pages": ENTRY, "jobs": ENTRY,
        "wiring": WIRING, "functions": RULES,
    },
    "enrolment": {
        "rules": RULES, "report_rules": RULES,
        "ports": PORTS,
        "use_cases": USE_CASES, "policies": USE_CASES, "continuation": USE_CASES,
        "hr_csv": ADAPTERS, "hr_xlsx": ADAPTERS, "hr_report": ADAPTERS, "models": ADAPTERS, "records": ADAPTERS,
        "store": ADAPTERS,
        "jobs": ENTRY,
        "wiring": WIRING, "functions": RULES,
    },
    "cards": {
        "card": RULES, "payload": RULES, "insured": RULES, "shc": RULES, "fhir_bundle": RULES, "crl": RULES,
        "ports": PORTS,
        "use_cases": USE_CASES,
        "render": ADAPTERS, "store": ADAPTERS, "keys": ADAPTERS, "people": ADAPTERS, "revocation": ADAPTERS,
        "api": ENTRY, "openapi": ENTRY, "provider_page": ENTRY,
        "wiring": WIRING, "functions": RULES,
    },
    "premiums": {
        "rules": RULES, "payment_rules": RULES, "ledger": RULES, "messages": RULES, "settings": RULES,
        "policy_numbers": RULES, "renewal_rules": RULES,
        "ports": PORTS,
        "applications": USE_CASES, "payments": USE_CASES, "refunds": USE_CASES, "ledger_check": USE_CASES,
        "renewals": USE_CASES, "baskets": USE_CASES,
        "models": ADAPTERS, "store": ADAPTERS, "tariff_source": ADAPTERS, "payment_secrets": ADAPTERS,
        "gateway": ADAPTERS,
        "api": ENTRY, "openapi": ENTRY, "jobs": ENTRY, "ledger_job": ENTRY,
        "wiring": WIRING, "functions": RULES,
    },
    "providers": {
        "rules": RULES, "errors": RULES, "settings": RULES, "fhir": RULES, "fhir_requests": RULES,
        "ports": PORTS,
        "use_cases": USE_CASES,
        "models": ADAPTERS, "store": ADAPTERS, "tokens": ADAPTERS,
        "api": ENTRY, "openapi": ENTRY,
        "wiring": WIRING, "functions": RULES,
    },
    "wallet": {
        "passes": RULES, "settings": RULES,
        "ports": PORTS,
        "use_cases": USE_CASES, "apns": USE_CASES, "google_api": USE_CASES,
        "models": ADAPTERS, "store": ADAPTERS, "keys": ADAPTERS, "pkpass": ADAPTERS, "images": ADAPTERS,
        "senders": ADAPTERS,
        "api": ENTRY, "openapi": ENTRY, "jobs": ENTRY,
        "wiring": WIRING, "functions": RULES,
    },
    "health": {"api": ENTRY, "openapi": ENTRY},
}
# Inside a capability: the roles a module of each role may import.
MAY_IMPORT = {
    RULES: {RULES},
    PORTS: {RULES, PORTS},
    USE_CASES: {RULES, PORTS, USE_CASES},
    ADAPTERS: {RULES, PORTS, ADAPTERS},
    ENTRY: {RULES, PORTS, USE_CASES, ENTRY, WIRING},
    WIRING: {RULES, PORTS, USE_CASES, ADAPTERS, WIRING},
}
IO_LIBRARIES = ("boto3", "botocore", "pynamodb")
# Pure code (rules, ports, use cases, kernel) does no I/O and knows no web framework.
PURE_FORBIDDEN = (*IO_LIBRARIES, "chalice", "requests", "urllib.request")
# What pure code may use of platform/: values, not machinery.
# (functions: what each Lambda may call, pure data the IAM generator reads.)
PURE_PLATFORM = ("chalicelib.platform.messages", "chalicelib.platform.jobs", "chalicelib.platform.functions")


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, relative imports resolved; `from pkg import name` also yields pkg.name."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def modules() -> list[Path]:
    return sorted(p for p in LIB.rglob("*.py") if "__pycache__" not in p.parts)


def place(path: Path) -> tuple[str, str | None]:
    """(top folder or module, role inside a capability)."""
    parts = path.relative_to(LIB).with_suffix("").parts
    top = parts[0]
    if top in ROLES and len(parts) > 1 and parts[1] != "__init__":
        return top, ROLES[top].get(parts[1])
    return top, None


def role_of_module(name: str) -> tuple[str, str | None] | None:
    """For a chalicelib module name: (capability, role), None outside capabilities."""
    parts = name.split(".")
    if len(parts) < 3 or parts[0] != "chalicelib" or parts[1] not in ROLES:
        return None
    return parts[1], ROLES[parts[1]].get(parts[2])


def test_every_file_lives_in_a_capability_or_the_shared_folders():
    stray = []
    for path in modules():
        parts = path.relative_to(LIB).with_suffix("").parts
        if len(parts) == 1:
            ok = parts[0] in (*TOP_LEVEL, "__init__")
        else:
            ok = parts[0] in (*CAPABILITIES, *SHARED)
        if not ok:
            stray.append(str(path.relative_to(ROOT)))
    assert stray == [], "chalicelib/ holds capabilities, platform/, kernel/ and settings, errors, logs, wiring"


def test_every_module_of_a_capability_has_a_role():
    unclassified = []
    for path in modules():
        top, role = place(path)
        if top in ROLES and role is None and path.relative_to(LIB).parts[1] != "__init__.py":
            unclassified.append(str(path.relative_to(ROOT)))
    assert unclassified == [], "name each new module's role in ROLES (tests/unit/test_layout.py)"


def test_capabilities_use_each_other_only_through_their_public_surface():
    problems = []
    for path in modules():
        top, _ = place(path)
        for name in imports_of(path):
            parts = name.split(".")
            # `from chalicelib.cards import people_of_account` yields chalicelib.cards.people_of_account:
            # fine when that is a name of the surface, not a module inside the capability.
            if (len(parts) >= 3 and parts[0] == "chalicelib" and parts[1] in CAPABILITIES and parts[1] != top
                    and top != "wiring"  # the composition root resets every capability's wiring
                    and ((LIB / parts[1] / f"{parts[2]}.py").exists() or (LIB / parts[1] / parts[2]).is_dir())):
                problems.append(f"{path.relative_to(ROOT)} imports {name}")
    assert problems == []


def test_the_public_surfaces_name_what_they_export():
    import importlib

    for capability in CAPABILITIES:
        package = importlib.import_module(f"chalicelib.{capability}")
        for name in package.__all__:
            assert getattr(package, name) is not None, f"chalicelib.{capability}.{name}"
        with pytest.raises(AttributeError):
            _ = package.no_such_name


def test_platform_and_kernel_know_no_capability():
    problems = []
    for path in modules():
        top, _ = place(path)
        if top not in SHARED:
            continue
        for name in imports_of(path):
            parts = name.split(".")
            if len(parts) >= 2 and parts[0] == "chalicelib" and parts[1] in CAPABILITIES:
                problems.append(f"{path.relative_to(ROOT)} imports {name}")
            if top == "kernel" and (name.split(".")[0] in PURE_FORBIDDEN or name.startswith("chalicelib.platform")):
                problems.append(f"{path.relative_to(ROOT)} imports {name} (kernel/ is pure values)")
    assert problems == []


def test_dependencies_point_inward_inside_each_capability():
    problems = []
    for path in modules():
        top, role = place(path)
        if role is None:
            continue
        for name in imports_of(path):
            target = role_of_module(name)
            if target is None or target[0] != top or target[1] is None:
                continue
            if target[1] not in MAY_IMPORT[role]:
                problems.append(f"{path.relative_to(ROOT)} ({role}) imports {name} ({target[1]})")
    assert problems == []


def test_rules_ports_and_use_cases_do_no_io():
    problems = []
    for path in modules():
        _, role = place(path)
        if role not in (RULES, PORTS, USE_CASES):
            continue
        for name in imports_of(path):
            io = name.split(".")[0] in PURE_FORBIDDEN or name in PURE_FORBIDDEN
            machinery = name.startswith("chalicelib.platform.") and not name.startswith(PURE_PLATFORM)
            if io or machinery:
                problems.append(f"{path.relative_to(ROOT)} ({role}) imports {name}")
    assert problems == []


def test_only_adapters_wiring_and_platform_import_aws_libraries():
    problems = []
    for path in modules():
        top, role = place(path)
        if top == "platform" or role in (ADAPTERS, WIRING):
            continue
        for name in imports_of(path):
            if name.split(".")[0] in IO_LIBRARIES:
                problems.append(f"{path.relative_to(ROOT)} imports {name}")
    assert problems == []


def test_app_py_only_wires():
    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    defined = [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)]
    assert defined == [], "app.py registers Blueprints; views and handlers live in chalicelib"
    imported = {node.module for node in tree.body if isinstance(node, ast.ImportFrom)}
    deep = [m for m in imported if m and m.split(".")[1:2] and m.split(".")[1] in CAPABILITIES and m.count(".") > 1]
    assert deep == [], "app.py takes each capability's Blueprints from its public surface"


def test_no_app_code_scans_a_table():
    import re

    pattern = re.compile(r"\.scan\(|['\"]Scan['\"]|\bscan_iter\b")
    offenders = [f"{path.relative_to(ROOT)}:{n}" for path in [ROOT / "app.py", *modules()]
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert offenders == []


def test_the_layout_rules_catch_a_use_case_that_imports_an_adapter(tmp_path, monkeypatch):
    # A use case reaching for the store directly: what these rules exist to stop.
    fake_lib = tmp_path / "chalicelib"
    (fake_lib / "premiums").mkdir(parents=True)
    careless = fake_lib / "premiums" / "refunds.py"
    careless.write_text("from chalicelib.premiums.store import PremiumStore\nimport boto3\n", encoding="utf-8")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    monkeypatch.setitem(globals(), "LIB", fake_lib)
    with pytest.raises(AssertionError, match=r"refunds\.py"):
        test_dependencies_point_inward_inside_each_capability()
    with pytest.raises(AssertionError, match="boto3"):
        test_rules_ports_and_use_cases_do_no_io()


def test_the_scan_guard_catches_a_scan_from_app_code(aws):
    from chalicelib.accounts.models import AccountRecord

    # Code compiled as if it lived in chalicelib/: what a careless job would look like.
    careless = compile("list(AccountRecord.scan())", str(LIB / "accounts" / "careless.py"), "exec")
    with pytest.raises(AssertionError, match="Scan"):
        exec(careless, {"AccountRecord": AccountRecord})
