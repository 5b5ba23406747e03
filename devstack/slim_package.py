"""Drops from the Lambda zip the botocore models of AWS services the app never calls, Babel's data of
locales the app never loads, and stray bytecode, then adds bytecode compiled here for the runtime's
Python, reproducibly.

botocore ships a JSON model for every AWS service (about 440, most of the package's size);
a client loads only its own service's model, so the others are dead weight in Lambda. The
services kept are the ones the code creates clients for, plus those botocore itself needs.
tests/packaging checks that the slimmed zip still imports the app and builds every client.

Babel (CLDR plural rules: chalicelib/kernel/plurals.py) ships a pickle for each of about 1,100
locales (35 MB unpacked); the app loads `ar` and `en`, each merged over `root`, and nothing else.
tests/packaging/test_locale_data.py checks that the slimmed zip still counts in Arabic.

Lambda can't write bytecode into /var/task, so without `.pyc` files in the zip every cold start
compiles every module it imports (about a second for this app). Each `.py` gets its
`__pycache__/<name>.cpython-313.pyc`, compiled by this interpreter (the packaging Python is the
runtime's: python3.13) as an unchecked-hash pyc: no mtime inside, and the runtime trusts it without
reading the source again. Entries are written in name order with one fixed timestamp, so two
packagings of one commit give the same bytes.
"""

from __future__ import annotations

import json
import py_compile
import sys
import tempfile
import warnings
import zipfile
from pathlib import Path

# dynamodb: PynamoDB; s3, ses, sns, sqs, secretsmanager: chalicelib/adapters; sts: credentials.
SERVICES_USED = ("dynamodb", "s3", "ses", "sns", "sqs", "secretsmanager", "sts")
# The locales chalicelib/kernel/plurals.py loads, and `root`, which every locale's data is merged over.
LOCALES_USED = ("root", "en", "ar")


def keep(name: str) -> bool:
    parts = name.split("/")
    if "__pycache__" in parts or name.endswith(".pyc"):
        # Stray bytecode chalice copies from the working tree (whatever interpreter ran the tests
        # last): it makes two builds of one commit differ, and Lambda compiles what it imports.
        return False
    if parts[0] == "fontTools" and name.endswith((".so", ".c")):
        # Cython accelerators (and their C sources) of modules fontTools ships as Python too: without
        # them it imports the .py. fpdf2 only subsets the card's two small fonts; they were 3.3 MB.
        return False
    if parts[:2] == ["babel", "locale-data"] and name.endswith(".dat"):
        return parts[2].removesuffix(".dat") in LOCALES_USED
    if parts[:2] != ["botocore", "data"] or len(parts) < 4:
        return True  # not a service model (the top-level endpoints and partitions stay)
    return parts[2] in SERVICES_USED


FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # what chalice gives every entry
PYC_MODE = 0o100644 << 16  # a regular file, rw-r--r--


def pyc_name(source_name: str) -> str:
    """pkg/mod.py -> pkg/__pycache__/mod.cpython-313.pyc (this interpreter's cache tag)."""
    folder, _, file = source_name.rpartition("/")
    return f"{folder + '/' if folder else ''}__pycache__/{file[:-3]}.{sys.implementation.cache_tag}.pyc"


def compile_source(name: str, source: bytes, scratch: Path) -> bytes | None:
    """The unchecked-hash bytecode of one module (no mtime: the same source gives the same bytes);
    None for a file this Python can't compile (none in today's zip; the runtime would fail on it too)."""
    src, out = scratch / "module.py", scratch / "module.pyc"
    src.write_bytes(source)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escape sequences in dependencies: theirs, not ours
        try:
            py_compile.compile(str(src), cfile=str(out), dfile=name, doraise=True,
                               invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        except py_compile.PyCompileError:
            return None
    return out.read_bytes()


def check_runtime(zip_path: Path) -> None:
    """The template next to the zip names this interpreter's version as every function's runtime."""
    template = zip_path.parent / "sam.json"
    if not template.exists():
        return
    resources = json.loads(template.read_text(encoding="utf-8")).get("Resources", {})
    runtimes = {r["Properties"].get("Runtime") for r in resources.values() if r["Type"] == "AWS::Serverless::Function"}
    ours = f"python{sys.version_info.major}.{sys.version_info.minor}"
    if runtimes - {ours}:
        raise SystemExit(f"the template's runtimes {sorted(runtimes)} are not {ours}, which would compile the .pyc")


def slim(zip_path: Path) -> tuple[int, int]:
    """Rewrite the zip in place without unused service models, with bytecode; returns (bytes before, after)."""
    check_runtime(zip_path)
    before = zip_path.stat().st_size
    with (tempfile.TemporaryDirectory() as scratch,
          tempfile.NamedTemporaryFile(dir=zip_path.parent, suffix=".zip", delete=False) as tmp,
          zipfile.ZipFile(zip_path) as source, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as target):
        entries: dict[str, tuple[int, bytes]] = {}  # name -> (external_attr, content)
        for info in source.infolist():
            if info.is_dir() or not keep(info.filename):
                continue
            data = source.read(info)
            # The same attributes (executable bits of native libraries included).
            entries[info.filename] = (info.external_attr, data)
            if info.filename.endswith(".py"):
                bytecode = compile_source(info.filename, data, Path(scratch))
                if bytecode is not None:
                    entries[pyc_name(info.filename)] = (PYC_MODE, bytecode)
        for name in sorted(entries):
            attributes, data = entries[name]
            entry = zipfile.ZipInfo(name, FIXED_TIME)
            entry.external_attr = attributes
            entry.create_system = 3  # unix, whatever machine packs
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, data, compresslevel=6)
    Path(tmp.name).replace(zip_path)
    return before, zip_path.stat().st_size


if __name__ == "__main__":
    path = Path(sys.argv[1])
    old, new = slim(path)
    print(f"{path}: {old / 1024 / 1024:.1f} MB -> {new / 1024 / 1024:.1f} MB"
          " (unused botocore models and Babel locales dropped, bytecode added)")
