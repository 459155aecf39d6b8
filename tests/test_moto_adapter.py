"""Guards of the moto adapter (streaming_labeling.testing.moto_adapter), one or more per hook.

Each hook patches the internals of moto >=5.2.5,<5.3 (``moto_adapter.MOTO_RANGE``). For each: the patched function
still exists with the
signature the hook was written for (``check_signatures``), the gap it fixes is still there in moto
as shipped (adapter inactive, in-process ``mock_aws``), and, where test_local_deploy.py does not
already show it, that the hook closes it. A failure here after a moto upgrade says which hook to
revisit, or that moto now does it itself and the hook can go.
"""

from __future__ import annotations

import inspect
import io
import json
import re
import time
import zipfile
from typing import Any, Iterator

import boto3
import moto
import pytest
from moto import mock_aws

from streaming_labeling.testing import moto_adapter
from streaming_labeling.testing.cloud import LocalCloud

REGION = "us-east-1"


@pytest.fixture(autouse=True)
def _installed() -> None:
    moto_adapter.install()


@pytest.fixture
def inactive() -> Iterator[None]:
    """moto as shipped: the hooks are installed but no LocalCloud is active."""
    assert moto_adapter.active() is None, "a LocalCloud is still active"
    with mock_aws():
        yield


def zipped(code: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", code)
    return buffer.getvalue()


def make_function(client: Any, name: str, code: str, runtime: str = "python3.12", timeout: int = 3) -> str:
    iam = boto3.client("iam", region_name=REGION)
    try:
        role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        role = iam.get_role(RoleName=f"{name}-role")["Role"]["Arn"]
    arn: str = client.create_function(FunctionName=name, Runtime=runtime, Role=role, Handler="index.handler",
                                      Code={"ZipFile": zipped(code)}, Timeout=timeout)["FunctionArn"]
    return arn


# --- the supported range ------------------------------------------------------------------------------


def test_the_installed_moto_is_in_the_supported_range() -> None:
    assert moto_adapter.moto_version_supported(moto.__version__), moto.__version__
    moto_adapter.check_moto_version()


@pytest.mark.parametrize("version", ["5.2.5", "5.2.6", "5.2.7", "5.2.19"])
def test_every_5_2_release_from_5_2_5_is_accepted(version: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto, "__version__", version)
    moto_adapter.check_moto_version()


@pytest.mark.parametrize("version", ["5.2.4", "5.1.22", "5.3.0", "5.3", "6.0.0", "5.2.7.dev0", "5.3.0rc1", "unknown"])
def test_a_version_outside_the_range_is_refused_in_one_line(version: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto, "__version__", version)
    with pytest.raises(moto_adapter.MotoAdapterError) as raised:
        moto_adapter.check_moto_version()
    message = str(raised.value)
    assert "\n" not in message
    assert f"moto {version} is installed" in message
    assert "supports moto>=5.2.5,<5.3" in message


def test_the_range_is_the_testing_extras_and_its_floor_the_dev_pin() -> None:
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    extras = tomllib.loads((root / "pyproject.toml").read_text())["project"]["optional-dependencies"]["testing"]
    (requirement,) = [r for r in extras if r.startswith("moto[")]
    assert requirement.endswith("]" + moto_adapter.MOTO_RANGE), requirement
    dev = [line for line in (root / "requirements-dev.txt").read_text().splitlines() if line.startswith("moto[")]
    assert dev and dev[0].endswith("==" + moto_adapter.MOTO_VERSION)
    assert moto_adapter._release(moto_adapter.MOTO_VERSION) == moto_adapter.MOTO_MINIMUM


def test_every_patched_internal_has_the_signature_its_hook_expects() -> None:
    moto_adapter.check_signatures()
    assert set(moto_adapter._targets()) == set(moto_adapter._replacements())


def test_a_changed_signature_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def changed(self: Any, body: Any, headers: Any) -> None:  # one parameter fewer than 5.2.5's
        pass

    monkeypatch.setitem(moto_adapter._originals, "lambda.invoke", changed)
    with pytest.raises(moto_adapter.MotoAdapterError, match=r"lambda\.invoke: invoke"):
        moto_adapter.check_signatures()


# --- hook 1: Lambda runs locally --------------------------------------------------------------------


def test_gap_moto_alone_does_not_run_a_lambda_without_docker(inactive: None) -> None:
    client = boto3.client("lambda", region_name=REGION)
    make_function(client, "answer", "def handler(event, context):\n    return 42\n")
    response = client.invoke(FunctionName="answer", Payload=b"{}")
    assert response["Payload"].read() != b"42"
    assert response.get("FunctionError")


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud() as local:
        yield local


def test_hook_runs_a_python_function_with_its_environment_and_logs(cloud: LocalCloud) -> None:
    client = cloud.client("lambda")
    code = ("import os, json\n"
            "def handler(event, context):\n"
            "    print('hello from', context.function_name)\n"
            "    return {'event': event, 'endpoint': os.environ['AWS_ENDPOINT_URL'], 'mine': os.environ['MINE'],\n"
            "            'left': context.get_remaining_time_in_millis() > 0, 'id': context.aws_request_id}\n")
    iam = cloud.client("iam")
    role = iam.create_role(RoleName="hook1", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    client.create_function(FunctionName="hook1", Runtime="python3.12", Role=role, Handler="index.handler",
                           Code={"ZipFile": zipped(code)}, Environment={"Variables": {"MINE": "yes"}})
    response = client.invoke(FunctionName="hook1", Payload=json.dumps({"n": 1}).encode())
    answer = json.loads(response["Payload"].read())
    assert answer["event"] == {"n": 1}
    assert answer["endpoint"] == cloud.endpoint_url
    assert answer["mine"] == "yes" and answer["left"] is True
    assert "FunctionError" not in response
    logs = cloud.client("logs")
    streams = logs.describe_log_streams(logGroupName="/aws/lambda/hook1")["logStreams"]
    messages = [e["message"] for s in streams
                for e in logs.get_log_events(logGroupName="/aws/lambda/hook1", logStreamName=s["logStreamName"])["events"]]
    assert "hello from hook1" in messages


def test_hook_reports_errors_timeouts_and_other_runtimes(cloud: LocalCloud) -> None:
    client = cloud.client("lambda")
    role = cloud.client("iam").create_role(RoleName="hook1b", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    for name, code, runtime, timeout in (
        ("raises", "def handler(e, c):\n    raise ValueError('no')\n", "python3.12", 3),
        ("slow", "import time\ndef handler(e, c):\n    time.sleep(10)\n", "python3.12", 1),
        ("node", "exports.handler = async () => 1;", "nodejs22.x", 3),
    ):
        client.create_function(FunctionName=name, Runtime=runtime, Role=role, Handler="index.handler",
                               Code={"ZipFile": zipped(code)}, Timeout=timeout)
    raised = client.invoke(FunctionName="raises", Payload=b"{}")
    assert raised["FunctionError"] == "Unhandled"
    assert json.loads(raised["Payload"].read())["errorType"] == "ValueError"
    slow = json.loads(client.invoke(FunctionName="slow", Payload=b"{}")["Payload"].read())
    assert "Task timed out after 1.00 seconds" in slow["errorMessage"]
    node = client.invoke(FunctionName="node", Payload=b"{}")
    assert node["FunctionError"] == "Unhandled"
    assert json.loads(node["Payload"].read())["errorMessage"].startswith("not emulated: Node.js Lambda node")


# --- hook 2: CloudFormation custom resources, statuses, order -----------------------------------------


def test_gap_moto_alone_leaves_a_stack_with_a_custom_resource_waiting(inactive: None) -> None:
    role = boto3.client("iam", region_name=REGION).create_role(
        RoleName="cr", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    template = {"Resources": {
        "F": {"Type": "AWS::Lambda::Function", "Properties": {
            "Runtime": "python3.12", "Handler": "index.handler", "Role": role,
            "Code": {"ZipFile": "def handler(e, c):\n    pass\n"}}},
        "C": {"Type": "Custom::X", "Properties": {"ServiceToken": {"Fn::GetAtt": ["F", "Arn"]}}},
    }}
    cfn = boto3.client("cloudformation", region_name=REGION)
    cfn.create_stack(StackName="waits", TemplateBody=json.dumps(template))
    time.sleep(0.5)
    assert cfn.describe_stacks(StackName="waits")["Stacks"][0]["StackStatus"] == "CREATE_IN_PROGRESS"


def test_gap_moto_sends_custom_resources_only_create_to_a_docker_host() -> None:
    from moto.cloudformation import custom_model

    source = inspect.getsource(custom_model)
    assert '"RequestType": "Create"' in source
    assert '"Update"' not in source and '"Delete"' not in source
    assert "settings.moto_server_host()" in source  # the ResponseURL assumes Docker's host, not this server
    from moto.cloudformation.custom_model import CustomModel

    assert getattr(CustomModel.update_from_cloudformation_json, "__isabstractmethod__", False)
    assert getattr(CustomModel.delete_from_cloudformation_json, "__isabstractmethod__", False)


def test_gap_moto_handles_only_success_answers_and_ignores_their_physical_id() -> None:
    original = moto_adapter._original("cfn.process_cfn_response")
    source = inspect.getsource(getattr(original, "__func__", original))  # 5.2.6's cfnresponse is a staticmethod
    assert '"SUCCESS"' in source
    assert "FAILED" not in source and "PhysicalResourceId" not in source


def test_the_answer_hook_is_where_this_moto_handles_the_response_url() -> None:
    """Up to 5.2.5 moto dispatches the answer to ``process_cfn_response``; 5.2.6 handles it in ``cfnresponse``."""
    from moto.cloudformation import urls
    from moto.cloudformation.responses import CloudFormationResponse

    owner, name, _ = moto_adapter._targets()["cfn.process_cfn_response"]
    assert owner is CloudFormationResponse
    if name == "cfnresponse":
        assert isinstance(vars(CloudFormationResponse)["cfnresponse"], staticmethod)
        assert moto_adapter._cfnresponse in urls.url_paths.values()  # the route moto's server serves
    else:
        assert name == "process_cfn_response"


def test_gap_moto_reports_a_resource_with_the_stack_status_and_creates_on_read() -> None:
    from types import SimpleNamespace

    dto = SimpleNamespace()
    stack = SimpleNamespace(stack_id="id", name="n", status="CREATE_COMPLETE", creation_time="t")
    moto_adapter._original("cfn.dto.init")(dto, stack, SimpleNamespace(logical_resource_id="R"))
    assert dto.resource_status == "CREATE_COMPLETE"  # the stack's, not the resource's
    reader = inspect.getsource(moto_adapter._original("cfn.stack.stack_resources").fget)
    assert "resource_map.values()" in reader  # Mapping.values() creates every resource not created yet
    assert "CREATE_COMPLETE" in inspect.getsource(__import__("moto.cloudformation.responses").cloudformation
                                                  .responses.CloudFormationResponse.list_stack_resources)


def test_gap_moto_deletes_in_no_dependency_order_and_knows_no_aws_cloudformation_customresource() -> None:
    source = inspect.getsource(moto_adapter._original("cfn.resource_map.delete"))
    assert "remaining_resources.copy()" in source and "CustomModel" not in source  # a set, retried on errors
    assert moto_adapter._original("cfn.resource_class_from_type")("AWS::CloudFormation::CustomResource") is None
    create = inspect.getsource(moto_adapter._original("cfn.stack.create_resources"))
    assert "Thread" not in create  # CreateStack works through the template before it answers


def test_hook_orders_deletes_after_dependents() -> None:
    resources = {
        "Role": {"Type": "AWS::IAM::Role"},
        "Policy": {"Type": "AWS::IAM::Policy", "Properties": {"Roles": [{"Ref": "Role"}]}},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Role": {"Fn::GetAtt": ["Role", "Arn"]}},
               "DependsOn": ["Policy"]},
        "Job": {"Type": "Custom::Job", "Properties": {"ServiceToken": {"Fn::Sub": "${Fn.Arn}"}}},
    }
    order = moto_adapter.creation_order(resources)
    assert order.index("Role") < order.index("Policy") < order.index("Fn") < order.index("Job")
    assert moto_adapter.dependencies(resources)["Job"] == {"Fn"}


def test_hook_stringifies_properties_as_cloudformation_does() -> None:
    assert moto_adapter._stringify({"a": 1, "b": True, "c": [2.5, "x"], "d": {"e": False}}) == {
        "a": "1", "b": "true", "c": ["2.5", "x"], "d": {"e": "false"}}


# --- hook 3: EventBridge to Lambda -------------------------------------------------------------------


def test_gap_moto_alone_cannot_deliver_to_a_lambda_target(inactive: None) -> None:
    client = boto3.client("lambda", region_name=REGION)
    arn = make_function(client, "target", "def handler(e, c):\n    return 1\n")
    events = boto3.client("events", region_name=REGION)
    events.put_rule(Name="to-lambda", EventPattern=json.dumps({"source": ["local.test"]}))
    events.put_targets(Rule="to-lambda", Targets=[{"Id": "1", "Arn": arn}])
    with pytest.raises(NotImplementedError):
        events.put_events(Entries=[{"Source": "local.test", "DetailType": "d", "Detail": "{}"}])


def test_hook_gives_a_target_its_input_as_eventbridge_does() -> None:
    event = {"detail-type": "X", "detail": {"status": "InProgress", "name": "j"}}
    assert moto_adapter.lambda_target_event({"Input": '{"fixed": 1}'}, event) == {"fixed": 1}
    assert moto_adapter.lambda_target_event({"InputPath": "$.detail"}, event) == event["detail"]
    assert moto_adapter.lambda_target_event({}, event) == event


def test_gap_moto_alone_cannot_deliver_to_an_sns_target(inactive: None) -> None:
    """moto raises for an SNS target (``targets.SnsTopic``): over the server, PutEvents answers 500 for every rule."""
    topic = boto3.client("sns", region_name=REGION).create_topic(Name="ended")["TopicArn"]
    events = boto3.client("events", region_name=REGION)
    events.put_rule(Name="to-sns", EventPattern=json.dumps({"source": ["local.test"]}))
    events.put_targets(Rule="to-sns", Targets=[{"Id": "1", "Arn": topic}])
    with pytest.raises(NotImplementedError):
        events.put_events(Entries=[{"Source": "local.test", "DetailType": "d", "Detail": "{}"}])


def _consumer(cloud: LocalCloud, name: str, topic: str) -> str:
    sqs = cloud.client("sqs")
    url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    cloud.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    return url


def _bodies(cloud: LocalCloud, url: str) -> list[str]:
    return [m["Body"] for m in cloud.client("sqs").receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])]


def test_hook_publishes_the_event_to_an_sns_target_as_eventbridge_does(cloud: LocalCloud) -> None:
    sns, events = cloud.client("sns"), cloud.client("events")
    topic = sns.create_topic(Name="job-ended")["TopicArn"]
    whole, shaped = _consumer(cloud, "ended-whole", topic), None
    other = sns.create_topic(Name="job-ended-text")["TopicArn"]
    shaped = _consumer(cloud, "ended-text", other)
    events.put_rule(Name="ended", EventPattern=json.dumps({"source": ["aws.sagemaker"],
                                                           "detail": {"LabelingJobStatus": ["Failed", "Stopped"]}}))
    events.put_targets(Rule="ended", Targets=[
        {"Id": "whole", "Arn": topic},
        {"Id": "text", "Arn": other, "InputTransformer": {
            "InputPathsMap": {"status": "$.detail.LabelingJobStatus"}, "InputTemplate": '"the job is <status>"'}}])
    answer = events.put_events(Entries=[
        {"Source": "aws.sagemaker", "DetailType": "SageMaker Ground Truth Labeling Job State Change",
         "Resources": ["arn:aws:sagemaker:us-east-1:123456789012:labeling-job/j"],
         "Detail": json.dumps({"LabelingJobStatus": status})} for status in ("InProgress", "Stopped")])
    assert answer["FailedEntryCount"] == 0
    (body,) = _bodies(cloud, whole)
    event = json.loads(body)
    assert event["detail"] == {"LabelingJobStatus": "Stopped"} and event["source"] == "aws.sagemaker"
    assert event["resources"] == ["arn:aws:sagemaker:us-east-1:123456789012:labeling-job/j"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"]), event["time"]
    assert "ingestion-time" not in event
    assert _bodies(cloud, shaped) == ["the job is Stopped"]


def test_hook_leaves_out_a_target_moto_cannot_deliver_to_and_delivers_the_others(cloud: LocalCloud) -> None:
    """One target moto lacks (here Kinesis) no longer fails PutEvents: the rule's other targets get the event."""
    sqs, events = cloud.client("sqs"), cloud.client("events")
    url = sqs.create_queue(QueueName="events-direct")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="mixed", EventPattern=json.dumps({"source": ["local.test"]}))
    events.put_targets(Rule="mixed", Targets=[
        {"Id": "stream", "Arn": f"arn:aws:kinesis:{REGION}:123456789012:stream/nowhere"},
        {"Id": "queue", "Arn": queue}])
    assert events.put_events(Entries=[{"Source": "local.test", "DetailType": "d", "Detail": '{"n": 1}'}])[
        "FailedEntryCount"] == 0
    assert [json.loads(body)["detail"] for body in _bodies(cloud, url)] == [{"n": 1}]


@pytest.mark.slow
def test_hook_a_jobs_stopped_and_failed_events_reach_a_queue_on_its_alarm_topic() -> None:
    """``add_alarms(job_ended_target=targets.SnsTopic(topic))`` on the local Ground Truth: the job-ended rule's SNS
    target gets the job's Stopped and Failed events (EventBridge -> SNS -> SQS), and the renewal rule of the same
    events still runs."""
    import aws_cdk as cdk
    from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
    from aws_cdk import aws_events_targets as targets
    from aws_cdk import aws_sns

    from streaming_labeling import StreamingLabelingJob, TaskType, Workforce
    from streaming_labeling.testing import LocalGroundTruth

    from . import apps

    stack = cdk.Stack(apps.new_app(), "AlarmTopicEvents")
    topic = aws_sns.Topic(stack, "Alerts")
    job = StreamingLabelingJob(
        stack, "Job", task_type=TaskType.TEXT_MULTI_CLASS, labels=["yes", "no"],
        workforce=Workforce.private("arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/team"),
        task_title="Label", task_description="Pick one", job_name_prefix="alarmed")
    job.add_alarms(action=cloudwatch_actions.SnsAction(topic), job_ended_target=targets.SnsTopic(topic))
    cdk.CfnOutput(stack, "AlertsArn", value=topic.topic_arn)
    with LocalGroundTruth() as local:
        deployed = local.deploy(stack)
        name = deployed.job_name(job)
        sqs, sns, sagemaker = local.client("sqs"), local.client("sns"), local.client("sagemaker")
        url = sqs.create_queue(QueueName="alerts")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=deployed.outputs["AlertsArn"], Protocol="sqs", Endpoint=arn,
                      Attributes={"RawMessageDelivery": "true"})
        seen: list[dict[str, Any]] = []

        def events() -> list[tuple[str, str]]:
            for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
                seen.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            return [(e["resources"][0].rsplit("/", 1)[-1], e["detail"]["LabelingJobStatus"]) for e in seen]

        described = local.job(name)
        request = {key: described[key] for key in (
            "LabelAttributeName", "InputConfig", "OutputConfig", "LabelCategoryConfigS3Uri", "HumanTaskConfig")
            if key in described}
        failing = name[:-2] + "ff"  # of the job's family, so the job-ended rule matches it
        sagemaker.create_labeling_job(LabelingJobName=failing, RoleArn="arn:aws:iam::123456789012:role/no-such-role",
                                      **request)
        local.wait_for_status(failing, "Failed")
        sagemaker.stop_labeling_job(LabelingJobName=name)
        local.wait_for_status(name, "Stopped")
        found = local.wait(events, lambda found: len(found) >= 2, 30, "the Failed and Stopped events on the topic")
        assert sorted(found) == sorted([(failing, "Failed"), (name, "Stopped")])
        assert {e["detail-type"] for e in seen} == {"SageMaker Ground Truth Labeling Job State Change"}
        assert moto_adapter.wait_for_invocations(lambda call: name in json.dumps(call.event) and "Stopped" in json.dumps(
            call.event)), "the renewal rule's Lambda got the Stopped event too"
        local.destroy(deployed)


# --- hook 4: what the example app needs beyond that ---------------------------------------------------


def test_gap_moto_has_no_topic_or_bucket_policy_models() -> None:
    from moto.core.common_models import CloudFormationModel

    ours = set(moto_adapter._added_models.values())
    shipped = {model.cloudformation_type() for model in CloudFormationModel.__subclasses__() if model not in ours}
    for resource_type in moto_adapter.ADDED_RESOURCE_TYPES:
        assert resource_type not in shipped


def test_gap_moto_leaves_a_managed_policy_attached_on_delete() -> None:
    from moto.iam.models import ManagedPolicy

    assert "delete" not in vars(ManagedPolicy)
    assert getattr(ManagedPolicy.delete_from_cloudformation_json, "__isabstractmethod__", False)


def test_gap_moto_ignores_bucket_policy_conditions(inactive: None) -> None:
    from moto.iam.access_control import PermissionResult
    from moto.s3.models import s3_backends

    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="ssl-only")
    deny_plain_http = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": "arn:aws:s3:::ssl-only/*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}
    s3.put_bucket_policy(Bucket="ssl-only", Policy=json.dumps(deny_plain_http))
    bucket = s3_backends["123456789012"]["aws"].get_bucket("ssl-only")
    shipped = moto_adapter._original("s3.bucket.get_permission")(bucket, "s3:PutObject", "arn:aws:s3:::ssl-only/k")
    assert shipped == PermissionResult.DENIED  # even over TLS, as moto ignores the condition


def test_hook_evaluates_secure_transport_and_leaves_out_other_conditions() -> None:
    assert moto_adapter._condition_holds({"Bool": {"aws:SecureTransport": "false"}}) is False
    assert moto_adapter._condition_holds({"Bool": {"aws:SecureTransport": "true"}}) is True
    assert moto_adapter._condition_holds({"StringEquals": {"aws:SourceAccount": "1"}}) is None


# --- hook 5: templates by URL ------------------------------------------------------------------------


def test_gap_moto_cannot_read_a_path_style_loopback_template_url(inactive: None) -> None:
    from moto.s3.exceptions import MissingBucket

    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="templates-here")
    s3.put_object(Bucket="templates-here", Key="t.json", Body=b'{"Resources": {}}')
    with pytest.raises(MissingBucket):
        moto_adapter._original("cfn.get_stack_from_s3_url")(
            "http://127.0.0.1:5000/templates-here/t.json", account_id="123456789012", partition="aws")


def test_hook_fills_an_input_transformer_as_eventbridge_does() -> None:
    event = {"detail": {"LabelingJobName": "j1", "count": 3}}
    target = {"InputTransformer": {
        "InputPathsMap": {"name": "$.detail.LabelingJobName", "count": "$.detail.count"},
        "InputTemplate": '{"job": <name>, "n": <count>, "text": "job <name> stopped"}'}}
    assert moto_adapter.lambda_target_event(target, event) == {"job": "j1", "n": 3, "text": "job j1 stopped"}


# --- hook 6: SQS retention on the emulated clock, and the holding queue's resource types ---------------


def test_gap_moto_expires_messages_by_real_time_only(inactive: None) -> None:
    """As shipped, a message outlives its queue's retention only as real time passes."""
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="retention-shipped", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="kept")
    assert len(sqs.receive_message(QueueUrl=url, VisibilityTimeout=0).get("Messages", [])) == 1


class _Clock:
    def __init__(self) -> None:
        self.offset = 0.0


def test_hook_expires_messages_by_the_local_clouds_clock(cloud: LocalCloud) -> None:
    clock = _Clock()
    cloud.clock = clock
    sqs = cloud.client("sqs")
    url = sqs.create_queue(QueueName="retention-emulated", Attributes={"MessageRetentionPeriod": "345600"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="held")
    clock.offset = 3 * 86400.0  # 3 of 4 days: still held
    assert len(sqs.receive_message(QueueUrl=url, VisibilityTimeout=0).get("Messages", [])) == 1
    clock.offset = 10 * 86400.0  # 10 idle days: gone, as SQS drops it after 4
    assert moto_adapter.expire_messages() == 1
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []
    sqs.send_message(QueueUrl=url, MessageBody="sent after the clock moved")
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url).get("Messages", [])] == [
        "sent after the clock moved"], "a message's age counts from when it was sent"


def test_hook_models_sns_subscriptions_and_sqs_queue_policies(cloud: LocalCloud) -> None:
    """What the construct's holding queue is made of deploys through moto's CloudFormation."""
    sqs, sns, cfn = cloud.client("sqs"), cloud.client("sns"), cloud.client("cloudformation")
    template = {"Resources": {
        "Topic": {"Type": "AWS::SNS::Topic"},
        "Queue": {"Type": "AWS::SQS::Queue"},
        "Policy": {"Type": "AWS::SQS::QueuePolicy", "Properties": {"Queues": [{"Ref": "Queue"}], "PolicyDocument": {
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                                                   "Action": "sqs:SendMessage", "Resource": "*"}]}}},
        "Subscription": {"Type": "AWS::SNS::Subscription", "DependsOn": "Policy", "Properties": {
            "TopicArn": {"Ref": "Topic"}, "Protocol": "sqs", "Endpoint": {"Fn::GetAtt": ["Queue", "Arn"]},
            "RawMessageDelivery": True}}}}
    stack = cfn.create_stack(StackName="HoldingParts", TemplateBody=json.dumps(template))["StackId"]
    deadline = time.monotonic() + 30
    while cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"].endswith("IN_PROGRESS"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    resources = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in
                 cfn.describe_stack_resources(StackName=stack)["StackResources"]}
    queue_url = sqs.get_queue_url(QueueName=resources["Queue"].rsplit("/", 1)[-1])["QueueUrl"]
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    assert policy["Statement"][0]["Action"] == "sqs:SendMessage"
    topic = resources["Topic"]
    (subscription,) = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert subscription["SubscriptionArn"] == resources["Subscription"]
    sns.publish(TopicArn=topic, Message="raw")
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=queue_url).get("Messages", [])] == ["raw"]
    cfn.delete_stack(StackName=stack)
    deadline = time.monotonic() + 30
    while cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] != "DELETE_COMPLETE":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert resources["Subscription"] not in [sub["SubscriptionArn"] for sub in sns.list_subscriptions()["Subscriptions"]]
