"""The packaged template takes what varies per account as parameters, and make deploy can ship it.

Reads the prod package the packaging tests share (tests/packaging/conftest.py): no example.com is left, the
parameters reach every function's environment through SAM Globals (after aws-sam-translator's
transform, as CloudFormation would run it), the custom domain resolves to the API's stage, and
devstack/deploy.py uploads the real zip and template to (moto's) S3 and rewrites every CodeUri.
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from devstack import deploy
from devstack.config import stage_variables
from devstack.infra import params

ROOT = Path(__file__).resolve().parents[2]
CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))


# `package` (conftest.py): the prod package (slimmed zip and sam.json), built once per run for every module.


def sam(package) -> dict:
    return json.loads((package / "sam.json").read_text(encoding="utf-8"))


def translated(template: dict, parameter_values: dict) -> dict:
    from samtranslator.public.translator import ManagedPolicyLoader
    from samtranslator.translator.transform import transform

    class NoManagedPolicies(ManagedPolicyLoader):  # the functions name their roles: no policy is looked up
        def __init__(self):
            pass

        def load(self):
            return {}

    template = json.loads(json.dumps(template))
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = {"Bucket": "artifacts", "Key": "code.zip"}  # as deploy leaves it
    return transform(template, parameter_values, NoManagedPolicies())


def test_no_example_com_value_is_baked_into_the_package(package):
    assert "example.com" not in (package / "sam.json").read_text(encoding="utf-8")


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_stage_config_leaves_the_parameter_variables_to_globals(stage):
    # SAM merges Globals' variables into each function's, the function's own winning: a stage variable
    # of the same name would silently override the parameter.
    own = {**CONFIG.get("environment_variables", {}), **CONFIG["stages"][stage]["environment_variables"]}
    assert not set(params.ENVIRONMENT_PARAMETERS.values()) & set(own)
    # Local tools and tests still get a value for each (devstack/config.py), the SMS sender id excepted.
    local = stage_variables(stage)
    assert {"PUBLIC_BASE_URL", "PAYMENT_RETURN_URL", "EMAIL_SENDER"} <= set(local)


def test_the_parameters_reach_every_functions_environment_through_globals(package):
    template = sam(package)
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["EMAIL_SENDER"] == {"Ref": "SenderEmail"}
    assert variables["SMS_SENDER_ID"] == {"Ref": "SmsSenderId"}
    assert variables["PAYMENT_RETURN_URL"] == {"Ref": "PaymentReturnUrl"}
    assert set(params.ENVIRONMENT_PARAMETERS) <= set(template["Parameters"])
    assert set(template["Rules"]) >= {"SenderEmailGiven", "PaymentReturnUrlGiven"}

    out = translated(template, {"Stage": "prod"})
    functions = {k: r for k, r in out["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}
    assert len(functions) >= 10
    for name, function in functions.items():
        env = function["Properties"]["Environment"]["Variables"]
        assert env["EMAIL_SENDER"] == {"Ref": "SenderEmail"}, name
        assert env["PUBLIC_BASE_URL"] == params.public_base_url(), name
        assert env["TOKENS_TABLE"] == "insure-prod-tokens", name  # the function's own variables stay
    assert "Rules" in out and "Globals" not in out  # the transform keeps the Rules CloudFormation checks


def test_a_custom_domain_maps_its_root_to_the_apis_stage(package):
    out = translated(sam(package), {"Stage": "prod", "CustomDomainName": "api.insure.test"})
    resources = out["Resources"]
    mapping = resources["ApiBasePathMapping"]
    assert mapping["Condition"] == "HasCustomDomain" and resources["ApiDomainName"]["Condition"] == "HasCustomDomain"
    stage = mapping["Properties"]["Stage"]["Ref"]
    assert resources[stage]["Type"] == "AWS::ApiGateway::Stage"
    assert resources["ApiDomainName"]["Properties"]["RegionalCertificateArn"] == {"Ref": "CertificateArn"}


def test_deploy_uploads_the_real_package_and_points_every_function_at_it(package):
    with mock_aws():
        s3 = boto3.client("s3", region_name="me-south-1")
        s3.create_bucket(Bucket="artifacts", CreateBucketConfiguration={"LocationConstraint": "me-south-1"})
        rewritten = deploy.upload_artifacts(sam(package), package, s3, "artifacts", "insure-prod", log=lambda _: None)
        url = deploy.upload_template(rewritten, s3, "artifacts", "insure-prod", "me-south-1", log=lambda _: None)
        key = url.split(".amazonaws.com/", 1)[1]
        uploaded = s3.get_object(Bucket="artifacts", Key=key)["Body"].read()
        zip_key = f"insure-prod/{deploy.sha256_of(package / 'deployment.zip')}.zip"
        size = s3.head_object(Bucket="artifacts", Key=zip_key)["ContentLength"]
        assert size == (package / "deployment.zip").stat().st_size
    assert len(uploaded) > deploy.INLINE_TEMPLATE_LIMIT  # why make deploy goes through S3
    functions = [r for r in json.loads(uploaded)["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]
    assert functions and all(f["Properties"]["CodeUri"] == {"Bucket": "artifacts", "Key": zip_key} for f in functions)
