"""Every dependency is locked: pinned with its hashes, transitive ones included, one resolution for all.

Each requirements*.in names direct dependencies with their pins and reasons; `make lock` compiles it
into the requirements*.txt beside it. requirements.txt (what chalice package installs in the Lambda)
is the part of requirements-dev.txt's resolution that requirements.in needs, so the tests run the
versions the Lambda ships. These checks read the files and this venv's metadata: no network.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(ROOT.glob("requirements*.in"))
LOCKS = sorted(ROOT.glob("requirements*.txt"))
PIN = re.compile(r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[A-Za-z0-9.!+_-]+)(?P<options>(?:\s.*)?)")
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")


def logical_lines(path: Path) -> list[str]:
    """The file's lines without comments, a trailing backslash joining a line to the next."""
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    lines = (re.sub(r"(^|\s)#.*", "", line).strip() for line in text.splitlines())
    return [line for line in lines if line]


def parse_lock(path: Path) -> tuple[dict[str, tuple[str, frozenset[str]]], list[str]]:
    """{name: (version, hashes)} and the lines that are not a hashed pin."""
    pins, bad = {}, []
    for line in logical_lines(path):
        match = PIN.fullmatch(line)
        hashes = HASH.findall(line)
        if not match or not hashes or HASH.sub("", match["options"]).strip():
            bad.append(line)
            continue
        pins[canonicalize_name(match["name"])] = (match["version"], frozenset(hashes))
    return pins, bad


def direct(path: Path) -> list[Requirement]:
    """The requirements an .in file names, those of the files it includes (-r) first."""
    found = []
    for line in logical_lines(path):
        if line.startswith(("-r ", "--requirement ")):
            found += direct(path.parent / line.split(None, 1)[1])
        else:
            found.append(Requirement(line))
    return found


def lock_of(source: Path) -> Path:
    return source.with_suffix(".txt")


def test_every_lock_has_its_source_and_every_source_its_lock():
    assert {p.name for p in LOCKS} == {lock_of(p).name for p in SOURCES}
    assert {"requirements.in", "requirements-dev.in", "requirements-checkov.in"} <= {p.name for p in SOURCES}


@pytest.mark.parametrize("lock", LOCKS, ids=lambda p: p.name)
def test_every_line_of_a_lock_is_a_pin_with_hashes(lock):
    pins, bad = parse_lock(lock)
    assert not bad, f"{lock.name}: lines that are not name==version with --hash (run make lock): {bad}"
    assert pins


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_every_direct_dependency_is_pinned_in_its_source_and_locked_at_that_version(source):
    pins, _ = parse_lock(lock_of(source))
    for requirement in direct(source):
        name = canonicalize_name(requirement.name)
        specs = list(requirement.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"{source.name}: pin {requirement} with =="
        assert name in pins, f"{requirement.name} is in {source.name} but not in {lock_of(source).name}: make lock"
        assert pins[name][0] == specs[0].version, (
            f"{source.name} pins {requirement}, {lock_of(source).name} has {pins[name][0]}: make lock")


def test_the_lambda_lock_is_part_of_the_dev_lock():
    """Same version and same files for each package the Lambda ships: the tests run what the Lambda runs."""
    lam, _ = parse_lock(ROOT / "requirements.txt")
    dev, _ = parse_lock(ROOT / "requirements-dev.txt")
    assert not lam.keys() - dev.keys(), "in requirements.txt, not in requirements-dev.txt: make lock"
    disagree = {name: (lam[name][0], dev[name][0]) for name in lam if lam[name] != dev[name]}
    assert not disagree, f"requirements.txt and requirements-dev.txt differ (version or hashes): {disagree}"


def test_this_venv_runs_the_dev_lock():
    dev, _ = parse_lock(ROOT / "requirements-dev.txt")
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    wrong = {name: (version, installed.get(name)) for name, (version, _) in dev.items()
             if installed.get(name) != version}
    assert not wrong, f"locked vs installed (make venv installs the lock): {wrong}"


def closure(requirements: list[Requirement]) -> set[str]:
    """Every distribution those requirements need here, by the installed packages' metadata, extras followed."""
    environment = default_environment()
    seen: set[tuple[str, str]] = set()
    names: set[str] = set()
    todo = [(r, "") for r in requirements]
    while todo:
        requirement, extra = todo.pop()
        if requirement.marker and not requirement.marker.evaluate({**environment, "extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        names.add(name)
        for wanted in {"", *requirement.extras}:
            if (name, wanted) in seen:
                continue
            seen.add((name, wanted))
            for line in metadata.distribution(name).requires or ():
                todo.append((Requirement(line), wanted))
    return names


@pytest.mark.parametrize("source", ["requirements.in", "requirements-dev.in"])
def test_a_lock_holds_every_transitive_dependency(source):
    pins, _ = parse_lock(lock_of(ROOT / source))
    missing = closure(direct(ROOT / source)) - pins.keys()
    assert not missing, f"needed by {source}'s packages, missing from {lock_of(ROOT / source).name}: {missing}"


def test_the_makefile_installs_the_locks_in_hash_checking_mode():
    installs = [line for line in (ROOT / "Makefile").read_text(encoding="utf-8").splitlines()
                if re.search(r"pip install .*-r requirements", line)]
    assert installs
    assert all("--require-hashes" in line for line in installs), installs
