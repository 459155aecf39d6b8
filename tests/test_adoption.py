"""What a team adopting the construct relies on: props that pass through, construct-owned state,
only the resources a job uses, and aws-cdk-lib internals that are checked rather than assumed."""

from __future__ import annotations

import ast
import inspect
import json
from typing import Any, Dict, List

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns

from streaming_labeling import StreamingLabelingJob, TaskType
from streaming_labeling.props import Required, consolidate
from streaming_labeling.task_types import BUILT_IN_LAMBDA_ACCOUNTS
from streaming_labeling.validation import PropsError

from . import apps
from .conftest import ROOT

OVERRIDDEN = "streaming-labeling:OverriddenProp"


def synth(**overrides: Any) -> tuple[cdk.Stack, StreamingLabelingJob, Dict[str, Any]]:
    stack = cdk.Stack(apps.new_app(), "Adoption")
    job = StreamingLabelingJob(stack, "Job", **apps.job_kwargs(TaskType.BOUNDING_BOX, **overrides))
    return stack, job, assertions.Template.from_stack(stack).to_json()


def warnings_of(stack: cdk.Stack) -> List[str]:
    found = assertions.Annotations.from_stack(stack).find_warning("*", assertions.Match.any_value())
    return [str(w.entry.data) for w in found]


def only(template: Dict[str, Any], kind: str, prefix: str) -> Dict[str, Any]:
    props: Dict[str, Any] = apps.only_resource(template, kind, prefix)["Properties"]
    return props


# --- props pass through ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "props_class,required_fields",
    [
        (s3.BucketProps, {"encryption", "encryption_key", "block_public_access", "public_read_access", "enforce_ssl",
                          "object_ownership"}),
        (sns.TopicProps, {"master_key", "enforce_ssl", "fifo"}),
        (kms.KeyProps, {"enable_key_rotation", "key_spec", "key_usage"}),
    ],
)
def test_every_field_the_user_sets_is_kept_unless_security_requires_otherwise(
    props_class: Any, required_fields: set[str]
) -> None:
    """All fields of the props struct, each set to a sentinel: every one survives consolidation."""
    fields = [name for name in inspect.signature(props_class.__init__).parameters if name != "self"]
    assert len(fields) > 8
    given = type("Props", (), {"_values": {name: f"<{name}>" for name in fields}})()
    scope = cdk.Stack(apps.new_app(), "Consolidate")
    required = {name: Required("<required>", "test") for name in required_fields}
    merged = consolidate(scope, "props", given, defaults={"versioned": True}, required=required)
    assert set(merged) == set(fields) | {"versioned"}
    for name in fields:
        assert merged[name] == ("<required>" if name in required_fields else f"<{name}>"), name
    texts = [str(entry.data) for entry in scope.node.metadata if entry.type == "aws:cdk:warning"]
    assert sorted(t.split("[ack: ")[1].rstrip("]") for t in texts) == sorted(
        f"{OVERRIDDEN}:props.{name}" for name in required_fields)


def test_bucket_props_reach_the_template() -> None:
    stack, _, template = synth(input_bucket_props=s3.BucketProps(
        event_bridge_enabled=True,
        object_lock_enabled=True,
        transfer_acceleration=True,
        versioned=True,
        bucket_name="my-labeling-input",
        minimum_tls_version=1.2,
        lifecycle_rules=[s3.LifecycleRule(id="tidy", abort_incomplete_multipart_upload_after=cdk.Duration.days(2))],
        cors=[s3.CorsRule(allowed_methods=[s3.HttpMethods.HEAD], allowed_origins=["https://example.com"])],
    ))
    bucket = only(template, "AWS::S3::Bucket", "JobInputBucket")
    assert bucket["BucketName"] == "my-labeling-input"
    assert bucket["ObjectLockEnabled"] is True
    assert bucket["AccelerateConfiguration"] == {"AccelerationStatus": "Enabled"}
    assert bucket["LifecycleConfiguration"]["Rules"][0]["Id"] == "tidy"
    origins = [rule["AllowedOrigins"] for rule in bucket["CorsConfiguration"]["CorsRules"]]
    assert origins == [["https://example.com"], ["*"]], "the user's CORS rule, then the one workers need"
    notifications = only(template, "Custom::S3BucketNotifications", "JobInputBucketNotifications")
    assert "EventBridgeConfiguration" in notifications["NotificationConfiguration"]
    policy = json.dumps(only(template, "AWS::S3::BucketPolicy", "JobInputBucketPolicy"))
    assert "s3:TlsVersion" in policy
    assert warnings_of(stack) == [w for w in warnings_of(stack) if OVERRIDDEN not in w], "nothing overridden"


def test_topic_and_key_props_reach_the_template() -> None:
    _, _, template = synth(
        input_topic_props=sns.TopicProps(display_name="Objects to label", tracing_config=sns.TracingConfig.ACTIVE),
        encryption_key_props=kms.KeyProps(multi_region=True, alias="alias/labeling",
                                          pending_window=cdk.Duration.days(30)),
    )
    topic = only(template, "AWS::SNS::Topic", "JobInputTopic")
    assert topic["DisplayName"] == "Objects to label" and topic["TracingConfig"] == "Active"
    key = only(template, "AWS::KMS::Key", "JobKey")
    assert key["MultiRegion"] is True and key["PendingWindowInDays"] == 30 and key["EnableKeyRotation"] is True
    assert only(template, "AWS::KMS::Alias", "JobKeyAlias")["AliasName"] == "alias/labeling"


@pytest.mark.parametrize(
    "prop,value,field,check",
    [
        ("input_bucket_props", s3.BucketProps(enforce_ssl=False), "enforce_ssl",
         lambda t: "aws:SecureTransport" in json.dumps(only(t, "AWS::S3::BucketPolicy", "JobInputBucketPolicy"))),
        ("output_bucket_props", s3.BucketProps(encryption=s3.BucketEncryption.S3_MANAGED), "encryption",
         lambda t: "aws:kms" in json.dumps(only(t, "AWS::S3::Bucket", "JobOutputBucket")["BucketEncryption"])),
        ("input_bucket_props", s3.BucketProps(block_public_access=s3.BlockPublicAccess.BLOCK_ACLS), "block_public_access",
         lambda t: only(t, "AWS::S3::Bucket", "JobInputBucket")["PublicAccessBlockConfiguration"]["BlockPublicPolicy"]),
        ("encryption_key_props", kms.KeyProps(enable_key_rotation=False), "enable_key_rotation",
         lambda t: only(t, "AWS::KMS::Key", "JobKey")["EnableKeyRotation"] is True),
        ("output_topic_props", sns.TopicProps(enforce_ssl=False), "enforce_ssl",
         lambda t: "aws:SecureTransport" in json.dumps(only(t, "AWS::SNS::TopicPolicy", "JobOutputTopicPolicy"))),
    ],
)
def test_an_overridden_security_value_is_named_in_a_warning(prop: str, value: Any, field: str, check: Any) -> None:
    stack, _, template = synth(**{prop: value})
    texts = [t for t in warnings_of(stack) if OVERRIDDEN in t]
    assert len(texts) == 1 and f"[ack: {OVERRIDDEN}:{prop}.{field}]" in texts[0], texts
    assert f"{prop}.{field} is overridden" in texts[0]
    assert check(template), "the secure value is in the template"


# --- per-stack state ----------------------------------------------------------------------------


def test_two_environment_agnostic_jobs_with_different_lambda_accounts_both_take_effect() -> None:
    stack = cdk.Stack(apps.new_app(), "Agnostic")
    own = {"us-east-1": "999999999999", "eu-west-1": "888888888888"}
    StreamingLabelingJob(stack, "Standard", **apps.job_kwargs(TaskType.BOUNDING_BOX))
    StreamingLabelingJob(stack, "Own", **apps.job_kwargs(TaskType.BOUNDING_BOX), built_in_lambda_accounts=own)
    template = assertions.Template.from_stack(stack).to_json()
    tables = {name: {region: v["account"] for region, v in table.items()}
              for name, table in template["Mappings"].items()}
    assert sorted(tables.values(), key=len) == [own, dict(BUILT_IN_LAMBDA_ACCOUNTS)]
    jobs = apps.resources_of_type(template, "Custom::SageMakerStreamingLabelingJob")
    used = {logical[:3]: json.dumps(job["Properties"]["Request"]["HumanTaskConfig"]["PreHumanTaskLambdaArn"])
            for logical, job in jobs.items()}
    own_mapping = next(name for name, table in tables.items() if table == own)
    assert own_mapping in used["Own"] and own_mapping not in used["Sta"]
    assert len([rule for rule in template["Rules"] if rule.startswith("GroundTruthRegionSupported")]) == 2, (
        "each table's regions are guarded")


def test_the_library_keeps_no_module_level_mutable_state() -> None:
    """Module-level names bind constants only: no dict/list/set literals left mutable, no caches."""
    offenders = []
    library = ROOT / "constructs" / "streaming_labeling"
    for path in sorted([*library.glob("*.py"), *library.glob("labels/*.py")]):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == ["__all__"]:
                continue
            value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
            if isinstance(value, (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)):
                offenders.append(f"{path.name}:{node.lineno} mutable literal")
            if isinstance(value, ast.Call) and "Weak" in ast.unparse(value.func):
                offenders.append(f"{path.name}:{node.lineno} weak cache")
        source = path.read_text()
        if "lru_cache" in source or "functools.cache" in source or "\nglobal " in source:
            offenders.append(f"{path.name}: cache or global")
    assert offenders == []


def test_two_apps_in_one_process_share_nothing() -> None:
    """The state of one app's stack is not seen by another's (it lived in module globals before)."""
    first_stack, _, first = synth()
    second_stack, _, second = synth()
    assert first_stack.node.path == second_stack.node.path
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert len([w for w in warnings_of(second_stack) if "GroundTruthClosedToNewCustomers" in w]) == 1


# --- only what the job uses ------------------------------------------------------------------------


@pytest.mark.parametrize("task_type", [TaskType.TEXT_MULTI_CLASS, TaskType.NAMED_ENTITY_RECOGNITION])
def test_a_text_job_gets_no_input_bucket_unless_asked(task_type: TaskType) -> None:
    stack = cdk.Stack(apps.new_app(), "Text")
    job = StreamingLabelingJob(stack, "Job", **apps.job_kwargs(task_type))
    asked = StreamingLabelingJob(stack, "Asked", **apps.job_kwargs(task_type), create_input_bucket=True)
    template = assertions.Template.from_stack(stack).to_json()
    assert job.input_bucket is None and asked.input_bucket is not None
    assert not apps.resources_of_type(template, "AWS::S3::Bucket", under="JobInputBucket")
    assert apps.resources_of_type(template, "AWS::S3::Bucket", under="AskedInputBucket")
    policy = json.dumps(only(template, "AWS::IAM::ManagedPolicy", "JobExecutionPolicy"))
    assert "ReadInputObjects" not in policy and "JobInputBucket" not in policy


def test_input_bucket_props_without_an_input_bucket_is_an_error() -> None:
    stack = cdk.Stack(apps.new_app(), "Contradiction")
    with pytest.raises(PropsError, match="input_bucket_props.*create_input_bucket"):
        StreamingLabelingJob(stack, "Job", **apps.job_kwargs(TaskType.BOUNDING_BOX), create_input_bucket=False,
                             input_bucket_props=s3.BucketProps(versioned=True))


def test_what_each_default_job_builds_is_what_the_readme_accounts_for() -> None:
    """The per-job resources of the default configuration (README, Performance)."""
    from collections import Counter

    def kinds(jobs: int) -> Counter[str]:
        stack = cdk.Stack(apps.new_app(), "PerJob")
        for index in range(jobs):
            StreamingLabelingJob(stack, f"Job{index}", **apps.job_kwargs(TaskType.IMAGE_MULTI_CLASS))
        template = assertions.Template.from_stack(stack).to_json()
        return Counter(resource["Type"] for resource in template["Resources"].values())

    per_job = {kind: count / 8 for kind, count in (kinds(9) - kinds(1)).items()}
    assert per_job == {
        "AWS::KMS::Key": 1, "AWS::IAM::Role": 1, "AWS::S3::Bucket": 2, "AWS::S3::BucketPolicy": 2, "AWS::SNS::Topic": 2,
        "AWS::SNS::TopicPolicy": 2, "Custom::S3BucketNotifications": 1, "AWS::IAM::ManagedPolicy": 1.25,
        "Custom::SageMakerStreamingLabelingJob": 1,
        # renewal after an idle stop (on by default): the holding queue, its policy, its subscription
        "AWS::SQS::Queue": 1, "AWS::SQS::QueuePolicy": 1, "AWS::SNS::Subscription": 1,
    }
