"""Deploying CDK stacks into the local cloud through moto's CloudFormation (issue 15, part 3).

The stacks' Python Lambdas run as local processes from their deployed code: a small custom
resource (inline code) shows what CloudFormation sends and how its answers take effect; an
EventBridge rule reaches its Lambda target; and the example app deploys end to end, its real job
handler sending the real CreateLabelingJob request to a scripted SageMaker endpoint, and a stack
delete making it call StopLabelingJob.
"""

from __future__ import annotations

import json
import time
from typing import Any, Dict, Iterator, List, Tuple

import aws_cdk as cdk
import pytest
from aws_cdk import CfnOutput, CustomResource, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_

from stacks.example_stack import ExampleLabelingStack
from streaming_labeling.testing import moto_adapter
from streaming_labeling.testing.cloud import LocalCloud
from streaming_labeling.testing.deploy import Deployer, DeployError

from .cli_fixtures import ACCOUNT, REGION, FakeSageMaker

pytestmark = pytest.mark.slow  # the e2e / local-cloud loop: deselect with -m 'not slow'

class ScriptedSageMaker(FakeSageMaker):
    """The CLI tests' SageMaker, plus CreateLabelingJob (a job InProgress at once), AddTags, Stopping then Stopped."""

    def answer(self, operation: str, body: Dict[str, Any]) -> Tuple[int, Dict[str, Any]]:
        if operation == "CreateLabelingJob":
            name = body["LabelingJobName"]
            if name in self.jobs:
                return 400, {"__type": "ResourceInUse", "message": f"Job {name} already exists"}
            arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:labeling-job/{name}"
            job = {key: value for key, value in body.items() if key not in ("Tags",)}
            job.update(LabelingJobArn=arn, LabelingJobStatus="InProgress", JobReferenceCode="ref",
                       CreationTime=1795000000, LastModifiedTime=1795000000,
                       LabelCounters={"TotalLabeled": 0, "HumanLabeled": 0, "MachineLabeled": 0,
                                      "FailedNonRetryableError": 0, "Unlabeled": 0})
            self.jobs[name] = job
            self.tags[arn] = list(body.get("Tags", []))
            return 200, {"LabelingJobArn": arn}
        if operation == "DescribeLabelingJob" and body.get("LabelingJobName") in self.jobs:
            job = self.jobs[body["LabelingJobName"]]
            if job["LabelingJobStatus"] == "Stopping":  # the service's Stopping, then Stopped
                answer = dict(job)
                job["LabelingJobStatus"] = "Stopped"
                return 200, answer
        if operation == "AddTags":
            self.tags.setdefault(body["ResourceArn"], []).extend(body["Tags"])
            return 200, {"Tags": body["Tags"]}
        return super().answer(operation, body)

    def requests(self, operation: str) -> List[Dict[str, Any]]:
        return [body for op, body in self.calls if op == operation]


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud() as local:
        yield local


@pytest.fixture(scope="module")
def sagemaker(cloud: LocalCloud) -> Iterator[ScriptedSageMaker]:
    service = ScriptedSageMaker()
    cloud.set_sagemaker_endpoint(service.url)
    yield service
    cloud.set_sagemaker_endpoint(None)
    service.close()


# A custom resource handler (inline, standard library + boto3) that answers as its properties say and
# reports, in its Data, the resource's status in CloudFormation while its request runs.
HANDLER = '''
import json, os, urllib.request
import boto3

def handler(event, context):
    props = event["ResourceProperties"]
    status = boto3.client("cloudformation").describe_stack_resource(
        StackName=event["StackId"], LogicalResourceId=event["LogicalResourceId"])["StackResourceDetail"]["ResourceStatus"]
    failing = props.get("FailOn") == event["RequestType"]
    answer = {
        "Status": "FAILED" if failing else "SUCCESS",
        "Reason": "told to fail on " + event["RequestType"] if failing else "OK",
        "PhysicalResourceId": "thing-" + props["Name"],
        "StackId": event["StackId"], "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "Data": {"Greeting": "hello " + props["Name"], "SeenStatus": status},
    }
    print("EVENT " + json.dumps(event))
    print("STATUS " + status)
    body = json.dumps(answer).encode()
    request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""})
    urllib.request.urlopen(request, timeout=10).read()
'''


def thing_stack(name: str, stack_name: str = "LocalThing", fail_on: str = "never",
                runtime: lambda_.Runtime = lambda_.Runtime.PYTHON_3_12) -> Tuple[Stack, CustomResource]:
    app = cdk.App()
    stack = Stack(app, stack_name)
    code = lambda_.Code.from_inline(HANDLER if runtime.family == lambda_.RuntimeFamily.PYTHON else "exports.h=1")
    handler = "index.handler" if runtime.family == lambda_.RuntimeFamily.PYTHON else "index.h"
    function = lambda_.Function(stack, "Provider", runtime=runtime, handler=handler, code=code,
                                timeout=cdk.Duration.seconds(30))
    thing = CustomResource(stack, "Thing", service_token=function.function_arn, resource_type="Custom::Thing",
                           properties={"Name": name, "FailOn": fail_on, "Count": 3, "Enabled": True})
    CfnOutput(stack, "Greeting", value=thing.get_att_string("Greeting"))
    CfnOutput(stack, "ThingRef", value=thing.ref)
    return stack, thing


def events_of(stack_name: str) -> List[Dict[str, Any]]:
    """The requests the custom resource handler of ``stack_name`` got, in order."""
    return [inv.event for inv in moto_adapter.invocations
            if inv.function_name.startswith(f"{stack_name}-Provider") and isinstance(inv.event, dict)]


def test_custom_resource_gets_create_update_delete_and_its_answers_take_effect(cloud: LocalCloud) -> None:
    deployer = Deployer(cloud)
    stack, thing = thing_stack("one")
    deployed = deployer.deploy(stack)

    (create,) = events_of("LocalThing")
    assert create["RequestType"] == "Create"
    assert create["ResourceType"] == "Custom::Thing"
    assert create["LogicalResourceId"] == deployed.logical_id(thing)
    assert create["StackId"] == deployed.stack_id
    assert create["ResponseURL"].startswith(f"{cloud.endpoint_url}/cloudformation_{REGION}/cfnresponse?")
    # CloudFormation hands every scalar to a custom resource as a string.
    assert create["ResourceProperties"] == {"ServiceToken": create["ServiceToken"], "Name": "one",
                                            "FailOn": "never", "Count": "3", "Enabled": "true"}
    assert "PhysicalResourceId" not in create and "OldResourceProperties" not in create
    # The answer's physical id is the resource's (Ref, DescribeStackResource); its Data is Fn::GetAtt's.
    assert deployed.outputs == {"Greeting": "hello one", "ThingRef": "thing-one"}
    assert deployed.physical_id(thing) == "thing-one"
    assert deployed.resource_status(thing) == "CREATE_COMPLETE"
    client = cloud.client("cloudformation")
    detail = client.describe_stack_resource(StackName="LocalThing", LogicalResourceId=deployed.logical_id(thing))
    assert detail["StackResourceDetail"]["PhysicalResourceId"] == "thing-one"

    # Update: new properties; the new physical id is a replacement, so the old id gets Delete in cleanup.
    stack2, thing2 = thing_stack("two")
    updated = deployer.update(stack2)
    create, update, cleanup = events_of("LocalThing")
    assert update["RequestType"] == "Update"
    assert update["PhysicalResourceId"] == "thing-one"
    assert update["ResourceProperties"]["Name"] == "two"
    assert update["OldResourceProperties"]["Name"] == "one"
    assert cleanup["RequestType"] == "Delete"
    assert cleanup["PhysicalResourceId"] == "thing-one"
    assert cleanup["ResourceProperties"]["Name"] == "one"
    assert updated.outputs == {"Greeting": "hello two", "ThingRef": "thing-two"}
    assert updated.physical_id(thing2) == "thing-two"
    assert updated.resource_status(thing2) == "UPDATE_COMPLETE"

    # An update that leaves the resolved properties alone sends nothing.
    stack3, _ = thing_stack("two")
    stack3.template_options.description = "same resource, new description"
    deployer.update(stack3)
    assert len(events_of("LocalThing")) == 3

    # Delete: the current physical id and properties, while the function still exists.
    deployer.destroy(updated)
    delete = events_of("LocalThing")[-1]
    assert delete["RequestType"] == "Delete"
    assert delete["PhysicalResourceId"] == "thing-two"
    assert delete["ResourceProperties"]["Name"] == "two"
    status = client.describe_stacks(StackName=updated.stack_id)["Stacks"][0]["StackStatus"]
    assert status == "DELETE_COMPLETE"
    statuses = [inv.payload for inv in moto_adapter.invocations if inv.function_name.startswith("LocalThing-Provider")]
    assert all(payload == "null" for payload in statuses)


def test_the_status_reported_while_create_and_delete_run(cloud: LocalCloud) -> None:
    """The handler's stale-event check reads this: CREATE_IN_PROGRESS during Create, DELETE_IN_PROGRESS during Delete."""
    app = cdk.App()
    stack = Stack(app, "LocalStatus")
    function = lambda_.Function(stack, "Provider", runtime=lambda_.Runtime.PYTHON_3_12, handler="index.handler",
                                code=lambda_.Code.from_inline(HANDLER), timeout=cdk.Duration.seconds(30))
    thing = CustomResource(stack, "Thing", service_token=function.function_arn, properties={"Name": "s"})
    CfnOutput(stack, "Seen", value=thing.get_att_string("SeenStatus"))
    deployer = Deployer(cloud)
    deployed = deployer.deploy(stack)
    assert deployed.outputs["Seen"] == "CREATE_IN_PROGRESS"
    deployer.destroy(deployed)
    delete = [inv for inv in moto_adapter.invocations if inv.function_name.startswith("LocalStatus-Provider")][-1]
    assert delete.event["RequestType"] == "Delete"
    assert "STATUS DELETE_IN_PROGRESS" in delete.log
    detail = cloud.client("cloudformation").describe_stack_resource(
        StackName=deployed.stack_id, LogicalResourceId=deployed.logical_id(thing))["StackResourceDetail"]
    assert detail["ResourceStatus"] == "DELETE_COMPLETE"


def test_a_failed_answer_fails_the_stack_and_rolls_it_back(cloud: LocalCloud) -> None:
    stack, thing = thing_stack("broken", stack_name="LocalBroken", fail_on="Create")
    with pytest.raises(DeployError) as raised:
        Deployer(cloud).deploy(stack)
    assert "told to fail on Create" in str(raised.value)
    assert raised.value.status == "ROLLBACK_COMPLETE"
    client = cloud.client("cloudformation")
    events = list(reversed(client.describe_stack_events(StackName="LocalBroken")["StackEvents"]))
    logical = Deployer(cloud).synthesize(stack).template["Resources"]
    thing_id = next(k for k, v in logical.items() if v["Type"] == "Custom::Thing")
    failed = next(e for e in events if e["LogicalResourceId"] == thing_id and e["ResourceStatus"] == "CREATE_FAILED")
    assert failed["ResourceStatusReason"] == "told to fail on Create"
    assert [e["ResourceStatus"] for e in events if e["LogicalResourceId"] == "LocalBroken"][-2:] == [
        "ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"]
    # CloudFormation sends Delete to a custom resource whose Create failed, with the id its answer gave.
    create, delete = events_of("LocalBroken")
    assert (create["RequestType"], delete["RequestType"]) == ("Create", "Delete")
    assert delete["PhysicalResourceId"] == "thing-broken"
    client.delete_stack(StackName="LocalBroken")


def test_a_nodejs_function_is_not_run_and_says_so(cloud: LocalCloud) -> None:
    stack, _ = thing_stack("node", stack_name="LocalNode", runtime=lambda_.Runtime.NODEJS_22_X)
    with pytest.raises(DeployError) as raised:
        Deployer(cloud).deploy(stack)
    assert "not emulated: Node.js Lambda LocalNode-Provider" in str(raised.value)
    cloud.client("cloudformation").delete_stack(StackName="LocalNode")


RULE_TARGET = '''
import json
def handler(event, context):
    print("GOT " + json.dumps(event))
    return {"seen": event.get("detail-type")}
'''


def test_an_eventbridge_rule_reaches_its_lambda_target(cloud: LocalCloud) -> None:
    app = cdk.App()
    stack = Stack(app, "LocalRule")
    function = lambda_.Function(stack, "Target", runtime=lambda_.Runtime.PYTHON_3_12, handler="index.handler",
                                code=lambda_.Code.from_inline(RULE_TARGET))
    events.Rule(stack, "Rule", event_pattern=events.EventPattern(source=["local.test"]),
                targets=[targets.LambdaFunction(function)])
    deployer = Deployer(cloud)
    deployed = deployer.deploy(stack)
    name = deployed.physical_id(function)
    cloud.client("events").put_events(Entries=[
        {"Source": "other.source", "DetailType": "Ignored", "Detail": "{}"},
        {"Source": "local.test", "DetailType": "Job State Change", "Detail": json.dumps({"status": "InProgress"})},
    ])
    (invocation,) = moto_adapter.wait_for_invocations(lambda inv: inv.function_name == name, timeout=30)
    assert invocation.event["detail-type"] == "Job State Change"
    assert invocation.event["detail"] == {"status": "InProgress"}
    assert json.loads(invocation.payload) == {"seen": "Job State Change"}
    deployer.destroy(deployed)


def test_the_example_app_deploys_end_to_end(cloud: LocalCloud, sagemaker: ScriptedSageMaker) -> None:
    app = cdk.App()
    stack = ExampleLabelingStack(app, "StreamingLabelingExample")
    deployer = Deployer(cloud)
    started = time.monotonic()
    deployed = deployer.deploy(stack)
    print(f"\nexample app: synth + assets + CreateStack to CREATE_COMPLETE in {time.monotonic() - started:.1f} s")

    assert deployed.outputs["JobName"].startswith("animals-")
    creates = sagemaker.requests("CreateLabelingJob")
    assert len(creates) == 3
    names = {request["LabelingJobName"] for request in creates}
    assert deployed.outputs["JobName"] in names
    for construct in (stack.job, stack.boxes, stack.review):
        assert deployed.physical_id(construct.resource) in names  # the handler's answer is the physical id
        assert deployed.resource_status(construct.resource) == "CREATE_COMPLETE"
    animals = next(r for r in creates if r["LabelingJobName"] == deployed.outputs["JobName"])
    topic = animals["InputConfig"]["DataSource"]["SnsDataSource"]["SnsTopicArn"]
    assert topic == deployed.outputs["InputTopicArn"]
    assert animals["OutputConfig"]["SnsTopicArn"] == deployed.outputs["OutputTopicArn"]
    assert animals["Tags"][-1]["Key"] == "streaming-labeling:stack"
    assert animals["Tags"][-1]["Value"] == deployed.stack_id
    # The handler wrote the label categories and the worker template where the request points.
    s3 = cloud.client("s3")
    bucket, _, key = animals["LabelCategoryConfigS3Uri"][len("s3://"):].partition("/")
    labels = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    assert [label["label"] for label in labels["labels"]] == ["cat", "dog", "bird"]
    # aws-cdk-lib's bucket-notifications handler (Python, inline) ran: uploads notify the input topic.
    notification = s3.get_bucket_notification_configuration(Bucket=deployed.outputs["InputBucketName"])
    assert notification["TopicConfigurations"][0]["TopicArn"] == deployed.outputs["InputTopicArn"]
    # The topic and bucket policies are in place.
    policy = cloud.client("sns").get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"]
    assert "s3.amazonaws.com" in policy
    assert "aws:SecureTransport" in s3.get_bucket_policy(Bucket=deployed.outputs["InputBucketName"])["Policy"]

    # A stack delete stops every job through the handler before its function goes.
    deployer.destroy(deployed)
    stopped = {request["LabelingJobName"] for request in sagemaker.requests("StopLabelingJob")}
    assert stopped == names
    assert all(job["LabelingJobStatus"] in ("Stopping", "Stopped") for job in sagemaker.jobs.values())
    assert deployed.status() == "DELETE_COMPLETE"


def test_cdk_deploy_and_destroy_of_the_example_app_with_the_pinned_cli(cloud: LocalCloud, sagemaker: ScriptedSageMaker,
                                                                       tmp_path: Any) -> None:
    """`cdk bootstrap`, `cdk deploy --method=direct` and `cdk destroy` against the local endpoint."""
    import os
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    cli = root / "node_modules" / ".bin" / "cdk"
    if not cli.exists():
        pytest.skip("the pinned CDK CLI is not installed (make install)")
    env = cloud.subprocess_env(PATH=f"{cli.parent}{os.pathsep}{root / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}",
                               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
                               CDK_DISABLE_VERSION_CHECK="1")
    out = str(tmp_path / "cdk.out")
    before = len(sagemaker.requests("StopLabelingJob"))
    for command in (["bootstrap", f"aws://{cloud.account}/{cloud.region}"],
                    ["deploy", "--require-approval", "never", "--method=direct"],
                    ["destroy", "--force"]):
        done = subprocess.run([str(cli), *command, "--output", out, "--no-notices"], cwd=root, env=env,
                              capture_output=True, text=True, timeout=240)
        assert done.returncode == 0, f"cdk {command[0]}:\n{(done.stdout + done.stderr)[-3000:]}"
    assert len(sagemaker.requests("StopLabelingJob")) - before == 3
