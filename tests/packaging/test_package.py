"""`make package` gives a template CloudFormation accepts and a zip the Lambda runtime can load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from devstack import gen_resources
from devstack.provision import Resolver
from devstack.slim_package import SERVICES_USED, slim

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
    "IDEMPOTENCY_TABLE": "IdempotencyKeysTable",
}


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    env = {**os.environ, "AWS_DEFAULT_REGION": "me-south-1"}
    subprocess.run([str(BIN / "chalice"), "package", "--stage", "prod", "--merge-template", "resources.json",
                    str(out)], cwd=ROOT, env=env, check=True, capture_output=True, timeout=600)
    slim(out / "deployment.zip")  # as make package does
    return out


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


def test_every_native_library_in_the_zip_comes_from_a_wheel_lambda_accepts(package):
    with zipfile.ZipFile(package / "deployment.zip") as zf:
        names = zf.namelist()
        wheels = {n.split("/")[0]: zf.read(n).decode() for n in names if n.endswith(".dist-info/WHEEL")}
        unzipped = sum(info.file_size for info in zf.infolist())
    # A wheel built from source here is tagged linux_x86_64: its .so files may not load on Lambda.
    built_here = {dist: text for dist, text in wheels.items()
                  if any(line.startswith("Tag:") and line.endswith("linux_x86_64") and "manylinux" not in line
                         for line in text.splitlines())}
    assert built_here == {}
    # chalice leaves out, with only a warning, a dependency it found no Lambda wheel for.
    packaged = {d.removesuffix(".dist-info").rsplit("-", 1)[0].lower().replace("_", "-") for d in wheels}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        requirement = line.split("#")[0].strip()
        if requirement:
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
from chalicelib.adapters.models import AccountRecord
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
inside = [sys.modules[name].__file__.startswith(sys.argv[1]) for name in ("botocore", "PIL")]
print("ok", *inside)
"""


def test_the_slimmed_zip_imports_the_app_and_builds_every_client_it_uses(package, tmp_path):
    with zipfile.ZipFile(package / "deployment.zip") as zf:
        zf.extractall(tmp_path / "lambda")
    env = dict(CONFIG["stages"]["prod"]["environment_variables"], AWS_DEFAULT_REGION="me-south-1",
               AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x")
    # -S: no site-packages, so only the zip's libraries (and the standard library) are importable.
    result = subprocess.run([sys.executable, "-S", "-c", SMOKE.format(services=SERVICES_USED),
                             str(tmp_path / "lambda"), json.dumps(env)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("ok True True")
    assert (package / "deployment.zip").stat().st_size < 30 * 1024 * 1024
