"""make deploy's module (devstack/deploy.py): parameters, uploads to S3 (moto) and the change sets it asks for.

S3 is moto's, for real. CloudFormation is botocore's Stubber: moto's CloudFormation does not run
SAM's transform, so these tests hold the requests' shape (TemplateURL, capabilities, parameters, the
order of calls) and the answers to a failed create, not what AWS would build. The packaged
template's own checks (Globals, no example.com, the real zip uploaded) are in
tests/packaging/test_deploy_template.py.
"""

from __future__ import annotations

import datetime
import io
import json
import zipfile

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from devstack import deploy
from devstack.deploy import DeployError

REGION = "me-south-1"
BUCKET = "insure-artifacts-123456789012"
STACK = "insure-prod"
ENDPOINT = "https://abc123.execute-api.me-south-1.amazonaws.com/api/"
PARAMETERS = {"Stage": {"Type": "String", "Default": "dev"}, "PublicBaseUrl": {"Type": "String", "Default": ""},
              "PaymentReturnUrl": {"Type": "String", "Default": ""}, "SenderEmail": {"Type": "String", "Default": ""},
              "SmsSenderId": {"Type": "String", "Default": ""}, "CustomDomainName": {"Type": "String", "Default": ""},
              "CertificateArn": {"Type": "String", "Default": ""}}
GIVEN = {"PublicBaseUrl": "https://api.insure.test", "PaymentReturnUrl": "https://app.insure.test/payments/return",
         "SenderEmail": "no-reply@insure.test"}


def zip_bytes(text: str = "print('hi')") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("app.py", text)
    return buffer.getvalue()


@pytest.fixture
def build(tmp_path):
    """A build folder as make package leaves it: sam.json whose functions' CodeUri is ./deployment.zip."""
    function = {"Type": "AWS::Serverless::Function",
                "Properties": {"CodeUri": "./deployment.zip", "Handler": "app.app"}}
    template = {"Transform": "AWS::Serverless-2016-10-31", "Parameters": PARAMETERS,
                "Resources": {"APIHandler": function, "SendOutbound": json.loads(json.dumps(function)),
                              "Padding": {"Type": "AWS::SQS::Queue", "Metadata": {"x": "p" * 60_000}}}}
    (tmp_path / "sam.json").write_text(json.dumps(template))
    (tmp_path / "deployment.zip").write_bytes(zip_bytes())
    return tmp_path


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        yield client


@pytest.fixture
def cfn():
    client = boto3.client("cloudformation", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        client.stubber = stubber
        yield client
        stubber.assert_no_pending_responses()


def captured(client, operation: str) -> list[dict]:
    """The parameters of each call of `operation`, as the code made them."""
    calls: list[dict] = []
    client.meta.events.register(f"provide-client-params.cloudformation.{operation}",
                                lambda params, **_: calls.append(json.loads(json.dumps(params))))
    return calls


# ------------------------------------------------------------------------------------------- stubbed answers

def no_stack(cfn):
    cfn.stubber.add_client_error("describe_stacks", "ValidationError", f"Stack with id {STACK} does not exist",
                                 expected_params={"StackName": STACK})


def stack(cfn, status: str, outputs: dict | None = None, parameters: dict | None = None):
    answer = {"StackName": STACK, "StackStatus": status, "CreationTime": datetime.datetime(2026, 3, 1),
              "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in (outputs or {}).items()],
              "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in (parameters or {}).items()]}
    cfn.stubber.add_response("describe_stacks", {"Stacks": [answer]}, {"StackName": STACK})


def change_set(cfn, kind: str, changes=({"Action": "Add", "LogicalResourceId": "APIHandler",
                                         "ResourceType": "AWS::Lambda::Function"},)):
    arn = f"arn:aws:cloudformation:{REGION}:123456789012:changeSet/deploy/{kind.lower()}"
    cfn.stubber.add_response("create_change_set", {"Id": arn, "StackId": "stack-id"},
                             {"StackName": STACK, "ChangeSetName": ANY, "ChangeSetType": kind, "TemplateURL": ANY,
                              "Parameters": ANY, "Capabilities": ANY, "Tags": ANY, "Description": ANY})
    described = {"ChangeSetId": arn, "Status": "CREATE_COMPLETE", "ExecutionStatus": "AVAILABLE",
                 "Changes": [{"Type": "Resource", "ResourceChange": c} for c in changes]}
    cfn.stubber.add_response("describe_change_set", described, {"ChangeSetName": arn, "StackName": STACK})  # waiter
    cfn.stubber.add_response("describe_change_set", described, {"ChangeSetName": arn, "StackName": STACK})  # changes
    return arn


def executed(cfn, arn: str, final: str, outputs: dict | None = None):
    cfn.stubber.add_response("execute_change_set", {}, {"ChangeSetName": arn, "StackName": STACK})
    stack(cfn, final, outputs)  # the waiter's one look


def run(build, s3, cfn, values=None, **kwargs):
    lines: list[str] = []
    values = deploy.resolve_parameters(json.loads((build / "sam.json").read_text()), "prod",
                                       dict(GIVEN if values is None else values))
    kwargs.setdefault("rehearse", False)  # these templates are stand-ins, not packaged stacks
    outputs = deploy.deploy(stage="prod", bucket=BUCKET, build=build, region=REGION, stack=STACK, values=values,
                            s3=s3, cfn=cfn, owner="123456789012", log=lines.append, **kwargs)
    return outputs, lines


def test_a_template_aws_would_refuse_is_stopped_before_anything_is_uploaded(build, s3, cfn):
    """The DLQ bug of issue 11: a queue's visibility timeout under its consumer's timeout."""
    template = json.loads((build / "sam.json").read_text())
    template["Resources"] = {
        "Dlq": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 30}},
        "OnDlq": {"Type": "AWS::Serverless::Function", "Properties": {
            "CodeUri": "./deployment.zip", "Handler": "app.app", "Runtime": "python3.13", "Timeout": 60,
            "Role": "arn:aws:iam::123456789012:role/on-dlq",
            "Events": {"FromDlq": {"Type": "SQS", "Properties": {"Queue": {"Fn::GetAtt": ["Dlq", "Arn"]}}}}}},
    }
    (build / "sam.json").write_text(json.dumps(template))
    no_stack(cfn)

    with pytest.raises(deploy.DeployError, match="VisibilityTimeout 30 s"):
        run(build, s3, cfn, rehearse=True)
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0


# ------------------------------------------------------------------------------------------- parameters

def test_parameters_are_checked_before_anything_is_uploaded():
    template = {"Parameters": PARAMETERS}
    assert deploy.resolve_parameters(template, "prod", GIVEN) == {**GIVEN, "Stage": "prod"}
    with pytest.raises(DeployError, match=r"placeholder values .* SenderEmail"):
        deploy.resolve_parameters(template, "prod", {**GIVEN, "SenderEmail": "no-reply@example.com"})
    assert deploy.resolve_parameters(template, "prod", {**GIVEN, "SenderEmail": "a@example.com"},
                                     allow_placeholders=True)["SenderEmail"] == "a@example.com"
    with pytest.raises(DeployError, match="declares no parameter SenderEmial"):
        deploy.resolve_parameters(template, "prod", {**GIVEN, "SenderEmial": "x@y.kw"})
    with pytest.raises(DeployError, match=r"missing parameter value.*PaymentReturnUrl.*SenderEmail"):
        deploy.resolve_parameters(template, "prod", {"PublicBaseUrl": "https://a.kw"})
    with pytest.raises(DeployError, match="CertificateArn"):
        deploy.resolve_parameters(template, "prod", {**GIVEN, "CustomDomainName": "api.insure.test"})
    with pytest.raises(DeployError, match="Stage=dev but the package is stage prod"):
        deploy.resolve_parameters(template, "prod", {**GIVEN, "Stage": "dev"})


def test_the_committed_parameter_files_name_only_template_parameters_and_need_editing():
    from devstack.infra import params

    declared = params.parameters()
    for stage in ("dev", "prod"):
        values = deploy.read_parameters_file(deploy.ROOT / "deploy" / f"{stage}.json")
        assert set(values) <= set(declared), stage
        # Examples: make deploy refuses them until the account's own values are in.
        with pytest.raises(DeployError, match="placeholder"):
            deploy.resolve_parameters({"Parameters": declared}, stage, values)


def test_make_variables_override_the_file_and_empty_ones_are_dropped(tmp_path, build, monkeypatch):
    seen = {}
    monkeypatch.setattr(deploy, "deploy", lambda **kwargs: seen.update(kwargs))

    class FakeSession:
        region_name = REGION

        def __init__(self, **_):
            pass

        def client(self, name):
            return type("Sts", (), {"get_caller_identity": lambda self: {"Account": "123456789012"}})()

    monkeypatch.setattr("boto3.session.Session", FakeSession)
    path = tmp_path / "prod.json"
    path.write_text(json.dumps({"_comment": "x", **GIVEN, "SmsSenderId": "INSURE"}))
    code = deploy.main(["--stage", "prod", "--bucket", BUCKET, "--build", str(build), "--params", str(path),
                        "--param", "SenderEmail=ops@insure.test", "--param", "PublicBaseUrl="])
    assert code == 0
    assert seen["values"] == {**GIVEN, "SenderEmail": "ops@insure.test", "SmsSenderId": "INSURE", "Stage": "prod"}
    assert seen["stack"] == "insure-prod" and seen["owner"] == "123456789012"


# ------------------------------------------------------------------------------------------- uploads (moto S3)

def test_artifacts_go_up_under_content_hashes_and_the_template_points_at_them(build, s3):
    lines: list[str] = []
    template = json.loads((build / "sam.json").read_text())
    rewritten = deploy.upload_artifacts(template, build, s3, BUCKET, STACK, "123456789012", lines.append)
    code = rewritten["Resources"]["APIHandler"]["Properties"]["CodeUri"]
    digest = deploy.sha256_of(build / "deployment.zip")
    assert code == {"Bucket": BUCKET, "Key": f"{STACK}/{digest}.zip"}
    assert rewritten["Resources"]["SendOutbound"]["Properties"]["CodeUri"] == code  # one zip, one upload
    assert s3.get_object(Bucket=BUCKET, Key=code["Key"])["Body"].read() == (build / "deployment.zip").read_bytes()
    assert template["Resources"]["APIHandler"]["Properties"]["CodeUri"] == "./deployment.zip"  # input untouched

    url = deploy.upload_template(rewritten, s3, BUCKET, STACK, REGION, "123456789012", lines.append)
    key = url.split(".amazonaws.com/", 1)[1]
    assert url == f"https://{BUCKET}.s3.{REGION}.amazonaws.com/{key}"
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert len(body) > deploy.INLINE_TEMPLATE_LIMIT and json.loads(body) == rewritten
    assert len(lines) == 2 and all(line.startswith("uploaded") for line in lines)

    # The same content again: nothing is put a second time.
    deploy.upload_artifacts(template, build, s3, BUCKET, STACK, "123456789012", lines.append)
    deploy.upload_template(rewritten, s3, BUCKET, STACK, REGION, "123456789012", lines.append)
    assert all(line.startswith("already uploaded") for line in lines[2:])
    # A new build is a new key: a stack's previous code stays where its rollback finds it.
    (build / "deployment.zip").write_bytes(zip_bytes("print('v2')"))
    again = deploy.upload_artifacts(template, build, s3, BUCKET, STACK, None, lines.append)
    assert again["Resources"]["APIHandler"]["Properties"]["CodeUri"]["Key"] != code["Key"]


def test_a_missing_zip_or_a_bucket_elsewhere_is_a_clear_error(build, s3):
    (build / "deployment.zip").unlink()
    with pytest.raises(DeployError, match=r"not in .*make package"):
        deploy.upload_artifacts(json.loads((build / "sam.json").read_text()), build, s3, BUCKET, STACK)
    boto3.client("s3", region_name="eu-west-1").create_bucket(
        Bucket="artifacts-in-ireland", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    with pytest.raises(DeployError, match="is in eu-west-1; Lambda needs its code in me-south-1"):
        deploy.check_bucket(s3, "artifacts-in-ireland", REGION, None)
    with pytest.raises(DeployError, match="artifacts bucket no-such-bucket-here: NoSuchBucket"):
        deploy.check_bucket(s3, "no-such-bucket-here", REGION, None)


# ------------------------------------------------------------------------------------------- change sets (stubbed)

def test_a_first_create_goes_through_a_change_set_with_the_uploaded_template(build, s3, cfn):
    requests = captured(cfn, "CreateChangeSet")
    no_stack(cfn)
    arn = change_set(cfn, "CREATE")
    executed(cfn, arn, "CREATE_COMPLETE")
    stack(cfn, "CREATE_COMPLETE", {"EndpointURL": ENDPOINT})  # outputs

    outputs, lines = run(build, s3, cfn)

    assert outputs == {"EndpointURL": ENDPOINT}
    (request,) = requests
    assert request["ChangeSetType"] == "CREATE" and request["StackName"] == STACK
    assert {"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"} <= set(request["Capabilities"])
    assert "TemplateBody" not in request
    key = request["TemplateURL"].split(".amazonaws.com/", 1)[1]
    uploaded = json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    assert uploaded["Resources"]["APIHandler"]["Properties"]["CodeUri"]["Bucket"] == BUCKET
    s3.head_object(Bucket=BUCKET, Key=uploaded["Resources"]["APIHandler"]["Properties"]["CodeUri"]["Key"])
    assert {p["ParameterKey"]: p["ParameterValue"] for p in request["Parameters"]} == {**GIVEN, "Stage": "prod"}
    assert {"Key": "stage", "Value": "prod"} in request["Tags"]
    assert "  Add     APIHandler AWS::Lambda::Function" in lines
    assert f"EndpointURL: {ENDPOINT}" in lines


def test_without_a_base_url_a_first_create_gives_the_functions_the_apis_own_url(build, s3, cfn):
    requests = captured(cfn, "CreateChangeSet")
    no_stack(cfn)
    arn = change_set(cfn, "CREATE")
    executed(cfn, arn, "CREATE_COMPLETE")
    stack(cfn, "CREATE_COMPLETE", {"EndpointURL": ENDPOINT})
    arn = change_set(cfn, "UPDATE", changes=[{"Action": "Modify", "LogicalResourceId": "APIHandler",
                                               "ResourceType": "AWS::Lambda::Function", "Replacement": "False"}])
    executed(cfn, arn, "UPDATE_COMPLETE")
    stack(cfn, "UPDATE_COMPLETE", {"EndpointURL": ENDPOINT})

    run(build, s3, cfn, {k: v for k, v in GIVEN.items() if k != "PublicBaseUrl"})

    first, second = ({p["ParameterKey"]: p["ParameterValue"] for p in r["Parameters"]} for r in requests)
    assert "PublicBaseUrl" not in first
    assert second["PublicBaseUrl"] == ENDPOINT.rstrip("/")
    assert requests[0]["TemplateURL"] == requests[1]["TemplateURL"]


def test_an_update_keeps_the_base_url_the_stack_has_and_no_changes_is_not_an_error(build, s3, cfn):
    requests = captured(cfn, "CreateChangeSet")
    stack(cfn, "UPDATE_COMPLETE")
    stack(cfn, "UPDATE_COMPLETE", parameters={"PublicBaseUrl": "https://kept.insure.test"})
    arn = f"arn:aws:cloudformation:{REGION}:123456789012:changeSet/deploy/none"
    cfn.stubber.add_response("create_change_set", {"Id": arn, "StackId": "stack-id"})
    failed = {"Status": "FAILED", "StatusReason": "The submitted information didn't contain changes. Submit "
              "different information to create a change set."}
    cfn.stubber.add_response("describe_change_set", failed)  # the waiter stops on FAILED
    cfn.stubber.add_response("describe_change_set", failed)
    cfn.stubber.add_response("delete_change_set", {}, {"ChangeSetName": arn, "StackName": STACK})
    stack(cfn, "UPDATE_COMPLETE", {"EndpointURL": ENDPOINT})

    outputs, lines = run(build, s3, cfn, {k: v for k, v in GIVEN.items() if k != "PublicBaseUrl"})

    assert requests[0]["ChangeSetType"] == "UPDATE"
    assert {"ParameterKey": "PublicBaseUrl", "ParameterValue": "https://kept.insure.test"} in requests[0]["Parameters"]
    assert f"{STACK}: no changes" in lines and outputs == {"EndpointURL": ENDPOINT}


def test_a_failed_first_create_says_which_retained_tables_block_the_next_and_how_to_clear_them(build, s3, cfn):
    no_stack(cfn)
    arn = change_set(cfn, "CREATE")
    cfn.stubber.add_response("execute_change_set", {})
    stack(cfn, "ROLLBACK_COMPLETE")  # the waiter sees a failure state
    cause = {"StackId": "s", "EventId": "e1", "StackName": STACK, "LogicalResourceId": "HrFileFailedSqsEventSource",
             "ResourceStatus": "CREATE_FAILED", "ResourceStatusReason": "Queue visibility timeout: 30 seconds is "
             "less than Function timeout: 60 seconds", "Timestamp": datetime.datetime.now(datetime.UTC)}
    cfn.stubber.add_response("describe_stack_events", {"StackEvents": [cause]})
    stack(cfn, "ROLLBACK_COMPLETE")
    kept = [{"LogicalResourceId": "AccountsTable", "PhysicalResourceId": "insure-prod-accounts",
             "ResourceType": "AWS::DynamoDB::Table", "ResourceStatus": "DELETE_SKIPPED",
             "Timestamp": datetime.datetime(2026, 3, 1)},
            {"LogicalResourceId": "HrBucket", "PhysicalResourceId": "insure-prod-hr",
             "ResourceType": "AWS::S3::Bucket", "ResourceStatus": "DELETE_SKIPPED",
             "Timestamp": datetime.datetime(2026, 3, 1)},
            {"LogicalResourceId": "HrQueue", "PhysicalResourceId": "q", "ResourceType": "AWS::SQS::Queue",
             "ResourceStatus": "DELETE_COMPLETE", "Timestamp": datetime.datetime(2026, 3, 1)}]
    cfn.stubber.add_response("describe_stack_resources", {"StackResources": kept}, {"StackName": STACK})

    with pytest.raises(DeployError) as failure:
        run(build, s3, cfn)

    message = str(failure.value)
    assert "ROLLBACK_COMPLETE" in message
    assert f"aws dynamodb delete-table --region {REGION} --table-name insure-prod-accounts" in message
    assert "aws s3 rb --region me-south-1 s3://insure-prod-hr --force" in message
    assert f"aws cloudformation delete-stack --region {REGION} --stack-name {STACK}" in message
    assert "AWS::SQS::Queue" not in message  # only what the rollback kept
    assert arn


def test_a_stack_left_in_rollback_complete_is_explained_before_anything_is_uploaded(build, s3, cfn):
    stack(cfn, "ROLLBACK_COMPLETE")
    cfn.stubber.add_response("describe_stack_resources", {"StackResources": []}, {"StackName": STACK})
    with pytest.raises(DeployError, match="first create failed"):
        run(build, s3, cfn)
    assert s3.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 0


def test_no_execute_stops_after_printing_the_change_set(build, s3, cfn):
    no_stack(cfn)
    arn = change_set(cfn, "CREATE")
    outputs, lines = run(build, s3, cfn, execute_changes=False)
    assert outputs == {} and any(arn in line and "execute-change-set" in line for line in lines)


# ------------------------------------------------------------------------------------------- the SMS sender id

def test_an_sms_carries_the_sender_id_when_the_stack_gives_one(aws, monkeypatch):
    from chalicelib.platform.aws import client
    from chalicelib.platform.messages import Message
    from chalicelib.platform.messaging import deliver
    from chalicelib.settings import reset_settings

    published: list[dict] = []
    client("sns").meta.events.register("provide-client-params.sns.Publish",
                                       lambda params, **_: published.append(dict(params)))
    sms = Message(channel="sms", to="+96551234567", template="t", text="code 123456")
    deliver(sms)
    monkeypatch.setenv("SMS_SENDER_ID", "INSURE")
    reset_settings()
    deliver(sms)

    without, with_id = (p["MessageAttributes"] for p in published)
    assert "AWS.SNS.SMS.SenderID" not in without
    assert with_id["AWS.SNS.SMS.SenderID"] == {"DataType": "String", "StringValue": "INSURE"}
    assert with_id["AWS.SNS.SMS.SMSType"]["StringValue"] == "Transactional"
