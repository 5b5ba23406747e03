"""`make package` gives a template CloudFormation accepts and a zip the Lambda runtime can load."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from devstack import gen_resources
from devstack.provision import Resolver
from devstack.slim_package import SERVICES_USED, pyc_name
from tests.packaging.conftest import built_once

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
NAME_VARIABLES = {
    "ACCOUNTS_TABLE": "AccountsTable", "USERNAMES_TABLE": "UsernamesTable", "TOKENS_TABLE": "TokensTable",
    "SESSIONS_TABLE": "SessionsTable", "THROTTLES_TABLE": "ThrottlesTable", "HR_BUCKET": "HrBucket",
    "CARDS_BUCKET": "CardsBucket", "HR_QUEUE": "HrQueue", "POLICIES_TABLE": "PoliciesTable",
    "MEMBERS_TABLE": "MembersTable", "HR_DEAD_LETTER_QUEUE": "HrDeadLetterQueue", "OUTBOUND_QUEUE": "OutboundQueue",
    "APPLICATIONS_TABLE": "ApplicationsTable", "PAYMENTS_TABLE": "PaymentsTable",
    "RESIDENCE_POLICIES_TABLE": "ResidencePoliciesTable", "PAYMENT_LEDGER_TABLE": "PaymentLedgerTable",
    "IDEMPOTENCY_TABLE": "IdempotencyKeysTable", "PROVIDERS_TABLE": "ProvidersTable",
    "PROVIDER_LOOKUPS_TABLE": "ProviderLookupsTable",
}


# Lambda's runtime is named after the interpreter that packages (Chalice maps python3.13 to cp313 wheels),
# and the architecture comes from .chalice/config.json: arm64 (Graviton), whose wheels are aarch64.
RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
ARCHITECTURE = CONFIG.get("lambda_architecture", "x86_64")
ELF_MACHINE = {"x86_64": 62, "arm64": 183}  # e_machine: EM_X86_64, EM_AARCH64
WHEEL_MACHINE = {"x86_64": "x86_64", "arm64": "aarch64"}
RUNTIME_GLIBC = (2, 34)  # python3.13 runs on Amazon Linux 2023
HOST_ARCHITECTURE = {"x86_64": "x86_64", "AMD64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}[platform.machine()]


def chalice_package(project: Path, out: Path) -> Path:
    env = {**os.environ, "AWS_DEFAULT_REGION": "me-south-1"}
    subprocess.run([str(BIN / "chalice"), "--project-dir", str(project), "package", "--stage", "prod",
                    "--merge-template", "resources.json", str(out)],
                   cwd=project, env=env, check=True, capture_output=True, timeout=600)
    # As make package does: in a process of its own, since the bytecode slim compiles depends on what the
    # compiling interpreter has imported (marshal), and the builds compared here come from different workers.
    subprocess.run([sys.executable, "-m", "devstack.slim_package", str(out / "deployment.zip")],
                   cwd=ROOT, check=True, capture_output=True, timeout=600)
    return out


# `package` (conftest.py): the prod package from the working tree, built once per run for every module.


NATIVE = re.compile(r"\.so(\.|$)|\.libs/")  # shared objects and the libraries wheels bundle beside them


def native_dists(zip_path: Path) -> dict[str, tuple[str, list[str]]]:
    """dist-info folder -> (version, its native files) for each distribution in the zip that ships native code."""
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
        found = {}
        for record in (n for n in names if n.endswith(".dist-info/RECORD")):
            files = [line.split(",")[0] for line in zf.read(record).decode().splitlines() if line]
            native = [f for f in files if NATIVE.search(f)]
            if native:
                folder = record.removesuffix("/RECORD")
                found[folder] = (folder.removesuffix(".dist-info").rsplit("-", 1)[1], native)
    return found


def module_stem(name: str) -> str:
    """A native file named without its machine: pkg/mod.cpython-313-aarch64-linux-gnu.so -> pkg/mod;
    a bundled library (pillow.libs/libjpeg-<hash>.so.62, the hash differing by machine) -> its folder."""
    folder, _, file = name.rpartition("/")
    return folder if folder.endswith(".libs") else f"{folder}/{file.split('.', 1)[0]}"


def installed(dist_info: str) -> importlib.metadata.Distribution:
    return importlib.metadata.distribution(dist_info.removesuffix(".dist-info").rsplit("-", 1)[0])


@pytest.fixture(scope="session")
def host_package(package, shared_folder):
    """The Lambda zip with this machine's native libraries in place of arm64's, so it can be loaded here.

    An arm64 zip's .so files can't load on an x86_64 machine. The distributions with native code are
    installed here from the same lock (same versions, hashes checked): their .so files and bundled
    libraries replace the zip's, and everything else stays as packaged and slimmed.
    test_the_host_zip_is_the_lambda_zip_with_this_machines_native_libraries checks that the rest of
    those distributions is byte for byte what is installed here. Made once per run (conftest.py's lock).
    """
    if HOST_ARCHITECTURE == ARCHITECTURE:
        return package

    def build(folder: Path) -> None:
        shutil.rmtree(folder / "build", ignore_errors=True)  # what a failed attempt left
        (folder / "build").mkdir()
        swaps = native_dists(package / "deployment.zip")
        with zipfile.ZipFile(package / "deployment.zip") as lambda_zip, \
                zipfile.ZipFile(folder / "build" / "deployment.zip", "w", zipfile.ZIP_DEFLATED) as host_zip:
            for info in lambda_zip.infolist():
                if not NATIVE.search(info.filename):
                    host_zip.writestr(info, lambda_zip.read(info))
            shipped = {module_stem(n) for n in lambda_zip.namelist() if NATIVE.search(n)}
            for dist_info, (version, _) in swaps.items():
                dist = installed(dist_info)
                assert dist.version == version, (dist_info, dist.version)
                for file in dist.files or []:
                    # Only what the Lambda zip ships for its own machine (slimming drops some accelerators).
                    if NATIVE.search(str(file)) and module_stem(str(file)) in shipped:
                        host_zip.write(dist.locate_file(file), str(file))

    return built_once(shared_folder / "host-package", build) / "build"


def copy_project(project: Path, architecture: str) -> Path:
    """What chalice packages, copied (fresh mtimes, no __pycache__), for the given architecture."""
    for name in ("app.py", "requirements.txt", "resources.json"):
        shutil.copy2(ROOT / name, project / name)
    shutil.copytree(ROOT / "chalicelib", project / "chalicelib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / ".chalice", project / ".chalice", ignore=shutil.ignore_patterns("deployments", "venv"))
    config = dict(CONFIG, lambda_architecture=architecture)
    (project / ".chalice" / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    return project


def elf_machines(zip_path: Path) -> dict[str, int]:
    """Every ELF file in the zip (by its magic, whatever its name) and its e_machine."""
    machines = {}
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            with zf.open(info) as f:
                head = f.read(20)
            if head[:4] == b"\x7fELF":
                assert head[4] == 2 and head[5] == 1, info.filename  # 64-bit, little-endian
                machines[info.filename] = int.from_bytes(head[18:20], "little")
    return machines


def test_the_committed_template_and_policies_are_what_the_generator_writes():
    assert json.loads((ROOT / "resources.json").read_text()) == gen_resources.template()
    for stage in ("dev", "prod"):
        committed = json.loads((ROOT / ".chalice" / f"policy-{stage}.json").read_text())
        assert committed == gen_resources.iam_policy(stage)


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_each_stage_names_the_resources_its_template_creates(stage):
    variables = CONFIG["stages"][stage]["environment_variables"]
    resolve = Resolver(stage, "me-south-1")
    for variable, logical_id in NAME_VARIABLES.items():
        assert variables[variable] == resolve.name_of(logical_id), variable
    assert set(NAME_VARIABLES) <= set(variables)


def test_cfn_lint_accepts_the_generated_template(package):
    result = subprocess.run([str(BIN / "cfn-lint"), str(package / "sam.json")], check=False,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_function_runs_on_the_packaging_python_and_the_configured_architecture(package):
    assert RUNTIME == "python3.13"  # make picks 3.13 for the venv; Lambda python3.13 is Amazon Linux 2023
    resources = json.loads((package / "sam.json").read_text())["Resources"]
    functions = {name: r["Properties"] for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    assert len(functions) >= 10
    for name, properties in functions.items():
        assert properties["Runtime"] == RUNTIME, name
        assert properties.get("Architectures", ["x86_64"]) == [ARCHITECTURE], name


def test_every_native_library_is_built_for_the_lambda_architecture_and_its_glibc(package):
    machines = elf_machines(package / "deployment.zip")
    # Pillow's codecs and bundled libraries, cryptography's Rust core, cffi, argon2, the bidi engine.
    assert any(n.startswith("PIL/_imaging.") for n in machines)
    assert any(n.startswith("pillow.libs/libfreetype") for n in machines)
    assert any(n.startswith("cryptography/") for n in machines)
    assert any(n.startswith("_cffi_backend.") for n in machines)
    assert any(n.startswith("bidi/") for n in machines)
    assert any(n.startswith("_argon2_cffi_bindings/") for n in machines)
    wrong = {n: m for n, m in machines.items() if m != ELF_MACHINE[ARCHITECTURE]}
    assert wrong == {}, f"not {ARCHITECTURE}: {wrong}"
    other_arch = "x86_64" if ARCHITECTURE == "arm64" else "aarch64"
    assert not any(other_arch in n for n in machines)
    # The newest glibc symbol version any of them names is within the runtime's.
    with zipfile.ZipFile(package / "deployment.zip") as zf:
        needed = {n: max((tuple(map(int, v)) for v in re.findall(rb"GLIBC_(\d+)\.(\d+)", zf.read(n))),
                         default=(0, 0)) for n in machines}
    assert {n: v for n, v in needed.items() if v > RUNTIME_GLIBC} == {}


def test_every_native_library_in_the_zip_comes_from_a_wheel_lambda_accepts(package):
    with zipfile.ZipFile(package / "deployment.zip") as zf:
        names = zf.namelist()
        wheels = {n.split("/")[0]: zf.read(n).decode() for n in names if n.endswith(".dist-info/WHEEL")}
        unzipped = sum(info.file_size for info in zf.infolist())
    # A wheel built from source here is tagged linux_<machine>: its .so files may not load on Lambda.
    # Every other wheel is pure, or manylinux for the Lambda architecture with a glibc the runtime has,
    # and for CPython 3.13 or the stable ABI.
    # (abi3 wheels built for an older CPython 3 load on this one: cp310 to cp313.)
    python_tags = {"py3", "py2.py3", *(f"cp3{minor}" for minor in range(10, sys.version_info.minor + 1))}
    not_for_lambda = {}
    for dist, text in wheels.items():
        for tag in (line.removeprefix("Tag: ") for line in text.splitlines() if line.startswith("Tag:")):
            interpreter, abi, platform_tag = tag.split("-")
            if platform_tag == "any":
                continue
            manylinux = re.fullmatch(r"manylinux_(\d+)_(\d+)_(\w+)", platform_tag) or re.fullmatch(
                r"manylinux2014_(\w+)", platform_tag)
            glibc = (int(manylinux[1]), int(manylinux[2])) if manylinux and manylinux.re.groups == 3 else (2, 17)
            if (not manylinux or manylinux[manylinux.re.groups] != WHEEL_MACHINE[ARCHITECTURE]
                    or glibc > RUNTIME_GLIBC or interpreter not in python_tags
                    or abi not in ("abi3", "none", f"cp{sys.version_info.major}{sys.version_info.minor}")):
                not_for_lambda[dist] = tag
    assert not_for_lambda == {}
    # chalice leaves out, with only a warning, a dependency it found no Lambda wheel for.
    packaged = {d.removesuffix(".dist-info").rsplit("-", 1)[0].lower().replace("_", "-") for d in wheels}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        requirement = line.split("#")[0].strip()
        if requirement and not requirement.startswith("--"):  # the lock: "name==version \" lines, then its --hash lines
            assert requirement.split("==")[0].lower().replace("_", "-") in packaged, requirement
    assert any(n.startswith("chalicelib/") for n in names)
    assert not any(n.startswith(("devstack/", "tests/")) for n in names)
    assert unzipped < 250 * 1024 * 1024  # Lambda's limit for an unzipped package


def test_the_template_wires_the_hr_drop_through_sqs_with_a_dead_letter_queue(package):
    template = json.loads((package / "sam.json").read_text())
    resources = template["Resources"]
    notification = resources["HrBucket"]["Properties"]["NotificationConfiguration"]["QueueConfigurations"][0]
    assert notification["Queue"] == {"Fn::GetAtt": ["HrQueue", "Arn"]}
    assert "deadLetterTargetArn" in resources["HrQueue"]["Properties"]["RedrivePolicy"]
    events = resources["HrFileArrived"]["Properties"]["Events"]
    assert any(e["Type"] == "SQS" for e in events.values())
    assert "HrQueue" in resources["HrFileArrived"]["DependsOn"]  # the queue exists before its event source


def test_api_gateway_answers_in_the_error_envelope_too(package):
    api = json.loads((package / "sam.json").read_text())["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    responses = api["x-amazon-apigateway-gateway-responses"]
    assert responses["ACCESS_DENIED"]["statusCode"] == "401"
    template = json.loads(responses["UNAUTHORIZED"]["responseTemplates"]["application/json"])
    assert template["error"]["code"] == "UNAUTHORIZED"
    assert "paths" in api  # chalice's own routes are still there after the merge


SMOKE = """
import json, os, sys
sys.path.insert(0, sys.argv[1])
os.environ.update(json.loads(sys.argv[2]))
import app  # every handler module, as Lambda imports them
import boto3
for service in {services!r}:
    boto3.client(service)
from chalicelib.accounts.models import AccountRecord
AccountRecord._get_connection().connection.client  # PynamoDB's own client
# Every native library loads: Pillow's codecs and FreeType, cryptography, argon2, the bidi engine.
import io, pathlib
from PIL import Image, ImageFont
font = next(pathlib.Path(sys.argv[1], "chalicelib", "assets", "fonts").glob("*.ttf"))
ImageFont.truetype(str(font), 20)
for kind in ("PNG", "JPEG", "PDF"):
    Image.new("RGB", (8, 8)).save(io.BytesIO(), kind)
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
Ed25519PrivateKey.generate().sign(b"x")
import argon2, bidi.algorithm
argon2.PasswordHasher().hash("x")
bidi.algorithm.get_display("abc")
# A card's PDF: fpdf2 subsets the fonts with fontTools' Python modules (slimming drops its accelerators).
from datetime import date
from chalicelib.cards.card import CardContent, GroupCover, IdNote
from chalicelib.cards.render import render_pdf
from chalicelib.errors import Text
from chalicelib.kernel.relationship import Relationship
pdf = render_pdf(CardContent(
    insurer=Text("Gulf Mutual Health", "الخليج للتأمين الصحي"), member_id="GP-ACME-2026-0042-02",
    name=Text("Sara Ahmed", "سارة أحمد"), date_of_birth=date(1990, 5, 14),
    cover=GroupCover("GP-ACME-2026", Text("Acme", "أكمي")), plan=Text("Gold", "الذهبية"),
    network=Text("Network A", "الشبكة أ"), valid_from=date(2026, 1, 1), valid_to=date(2026, 12, 31),
    id_note=IdNote.OWN_ID, relationship=Relationship.PRINCIPAL), "EC1:smoke")
assert pdf.startswith(b"%PDF-") and b"FontFile2" in pdf
assert not [n for n, m in sys.modules.items() if n.startswith("fontTools") and (m.__file__ or "").endswith(".so")]
# An xlsx (openpyxl, write-only) and an Arabic plural (Babel's slimmed locale data).
import openpyxl
book = openpyxl.Workbook(write_only=True)
book.create_sheet().append(["line", "الاسم"])
book.save(io.BytesIO())
from babel import Locale
assert Locale("ar").plural_form(3) == "few"
inside = [sys.modules[name].__file__.startswith(sys.argv[1])
          for name in ("botocore", "PIL", "fpdf", "fontTools", "openpyxl", "babel")]
print("ok", *inside)
"""


def test_the_host_zip_is_the_lambda_zip_with_this_machines_native_libraries(package, host_package):
    def without_native(zip_path):
        with zipfile.ZipFile(zip_path) as zf:
            return {n: zf.read(n) for n in zf.namelist() if not NATIVE.search(n)}

    lambda_files = without_native(package / "deployment.zip")
    assert without_native(host_package / "deployment.zip") == lambda_files
    assert set(elf_machines(package / "deployment.zip").values()) == {ELF_MACHINE[ARCHITECTURE]}
    assert set(elf_machines(host_package / "deployment.zip").values()) == {ELF_MACHINE[HOST_ARCHITECTURE]}
    # The swap is sound only if the native distributions' Python is the same on both machines: every
    # file of theirs the Lambda zip holds (bytecode aside: the zip's is compiled at packaging) is the
    # installed one, byte for byte.
    swapped = native_dists(package / "deployment.zip")
    assert {"cryptography", "pillow", "cffi", "argon2_cffi_bindings"} <= {
        d.removesuffix(".dist-info").rsplit("-", 1)[0].lower() for d in swapped}
    compared = 0
    for dist_info in swapped:
        dist = installed(dist_info)
        for file in dist.files or []:
            name = str(file)
            if name in lambda_files and not name.endswith((".pyc", "RECORD", "WHEEL", "INSTALLER", "REQUESTED")) \
                    and ".dist-info/sboms/" not in name:
                assert lambda_files[name] == dist.locate_file(file).read_bytes(), name
                compared += 1
    assert compared > 200


def test_the_slimmed_zip_imports_the_app_and_builds_every_client_it_uses(host_package, package, tmp_path):
    # This machine can only load native code of its own architecture: host_package is the same zip built
    # for it (the test above checks that only the native libraries differ), package the one Lambda runs.
    with zipfile.ZipFile(host_package / "deployment.zip") as zf:
        zf.extractall(tmp_path / "lambda")
    env = dict(CONFIG["stages"]["prod"]["environment_variables"], AWS_DEFAULT_REGION="me-south-1",
               AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x")
    # -S: no site-packages, so only the zip's libraries (and the standard library) are importable.
    result = subprocess.run([sys.executable, "-S", "-c", SMOKE.format(services=SERVICES_USED),
                             str(tmp_path / "lambda"), json.dumps(env)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("ok True True True True True True")
    assert (package / "deployment.zip").stat().st_size < 30 * 1024 * 1024


def test_every_module_of_the_app_and_its_dependencies_ships_its_bytecode_and_no_other(package):
    # Lambda can't write __pycache__ into /var/task: without these, each cold start compiles what it imports.
    # The suite imports chalicelib before it packages, so the working tree has __pycache__ folders of its own:
    # every .pyc in the zip is the one compiled at packaging for a .py beside it, none is copied from there.
    with zipfile.ZipFile(package / "deployment.zip") as zf:
        names = zf.namelist()
        sources = {n: zf.read(n) for n in names if n.endswith(".py")}
        compiled = {n: zf.read(n) for n in names if n.endswith(".pyc")}
    assert pyc_name("app.py") == "__pycache__/app.cpython-313.pyc"
    assert pyc_name("chalicelib/accounts/api.py") == "chalicelib/accounts/__pycache__/api.cpython-313.pyc"
    assert len(sources) > 500
    assert [n for n in sources if pyc_name(n) not in compiled] == []
    assert set(compiled) == {pyc_name(n) for n in sources}
    for name, source in sources.items():
        pyc = compiled[pyc_name(name)]
        assert pyc[:4] == importlib.util.MAGIC_NUMBER, name  # this Python's (3.13, the runtime's) bytecode
        # Hash-based and unchecked (flags 0b01): no mtime inside, the runtime loads it without reading the source.
        assert int.from_bytes(pyc[4:8], "little") == 0b01, name
        assert pyc[8:16] == importlib.util.source_hash(source), name


def test_two_packagings_of_one_commit_are_byte_identical(request, tmp_path_factory):
    # A copy of the project (other mtimes, another directory order, no __pycache__, no chalice cache)
    # packaged in a folder of its own, and the shared package built in the working tree: the same bytes.
    project = copy_project(tmp_path_factory.mktemp("project"), ARCHITECTURE)
    again = chalice_package(project, tmp_path_factory.mktemp("build")) / "deployment.zip"
    first = request.getfixturevalue("package") / "deployment.zip"  # asked for only now: built meanwhile
    with zipfile.ZipFile(first) as one, zipfile.ZipFile(again) as other:
        assert one.namelist() == other.namelist()
        assert [n for n in one.namelist() if one.read(n) != other.read(n)] == []
    assert first.read_bytes() == again.read_bytes()
    with zipfile.ZipFile(first) as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
