"""Every policy document in every synthesized template: no wildcard actions, and parliament finds nothing."""

from __future__ import annotations

import json
import warnings
from typing import Any, Dict, Iterator, List, Tuple

import pytest

from . import apps
from .cfn import physical_ids, resolve

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # parliament imports pkg_resources, deprecated
    from parliament import analyze_policy_string

POLICY_PROPERTIES = {
    "AWS::IAM::Policy": ["PolicyDocument"],
    "AWS::IAM::ManagedPolicy": ["PolicyDocument"],
    "AWS::IAM::Role": ["AssumeRolePolicyDocument"],
    "AWS::KMS::Key": ["KeyPolicy"],
    "AWS::SNS::TopicPolicy": ["PolicyDocument"],
    "AWS::S3::BucketPolicy": ["PolicyDocument"],
}
IDENTITY_POLICIES = {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}


def templates() -> Dict[str, Dict[str, Any]]:
    return {
        "example": apps.example()[0],
        "bring-your-own": apps.bring_your_own()[0],
        "destroy": apps.destroy_mode()[0],
        "catalog": apps.catalog()["us-east-1"][0],
    }


def documents(template: Dict[str, Any]) -> Iterator[Tuple[str, str, Dict[str, Any]]]:
    ids = physical_ids(template, "us-east-1")
    for logical_id, resource in template["Resources"].items():
        for prop in POLICY_PROPERTIES.get(resource["Type"], []):
            if prop in resource.get("Properties", {}):
                yield logical_id, resource["Type"], resolve(resource["Properties"][prop], template, "us-east-1", ids)
        for inline in resource.get("Properties", {}).get("Policies", []) if resource["Type"] == "AWS::IAM::Role" else []:
            yield logical_id, "AWS::IAM::Policy", resolve(inline["PolicyDocument"], template, "us-east-1", ids)


def as_list(value: Any) -> List[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("name", list(templates()))
def test_no_allow_statement_has_a_wildcard_action(name: str) -> None:
    offenders = []
    for logical_id, _, document in documents(templates()[name]):
        for statement in as_list(document["Statement"]):
            if statement["Effect"] != "Allow":
                continue  # Deny s3:* without TLS is AWS's recommended form
            for action in as_list(statement.get("Action", [])):
                if action == "*" or action.endswith(":*"):
                    offenders.append((logical_id, action))
    assert offenders == []


def forced_by_aws(kind: str, statement: Dict[str, Any], issue: str) -> str:
    """Why a parliament finding is what AWS requires, or "" when it is not."""
    actions = set(as_list(statement.get("Action", [])))
    principal = json.dumps(statement.get("Principal", ""))
    if kind == "AWS::KMS::Key" and issue == "RESOURCE_STAR":
        return "In a key policy, Resource '*' means the key itself; KMS accepts nothing else."
    if kind == "AWS::KMS::Key" and issue == "PERMISSIONS_MANAGEMENT_ACTIONS" and "kms:PutKeyPolicy" in actions:
        return "KMS's lockout safety check requires the account to keep kms:PutKeyPolicy and grant management."
    if issue == "PERMISSIONS_MANAGEMENT_ACTIONS" and actions >= {"sqs:CreateQueue", "sqs:SetQueueAttributes"}:
        return "Ground Truth creates and configures its GroundTruth-<job> queue with the execution role."
    if issue == "PERMISSIONS_MANAGEMENT_ACTIONS" and actions == {"iam:PassRole"}:
        return "CreateLabelingJob requires iam:PassRole on the execution role (with iam:PassedToService)."
    if kind == "AWS::S3::BucketPolicy" and "autodeleteobjects" in principal.lower():
        return "aws-cdk-lib's auto-delete provider, present only with the removal_policy=DESTROY opt-in."
    return ""


@pytest.mark.parametrize("name", list(templates()))
def test_parliament_finds_nothing_that_aws_does_not_force(name: str) -> None:
    findings = []
    for logical_id, kind, document in documents(templates()[name]):
        if kind == "AWS::IAM::Role":
            continue  # trust policies: principals and sts:AssumeRole only, which parliament does not model
        for statement in as_list(document["Statement"]):
            if statement["Effect"] != "Allow":
                continue  # Deny statements only take permissions away
            single = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
            for finding in analyze_policy_string(single, include_community_auditors=True).findings:
                if not forced_by_aws(kind, statement, finding.issue):
                    findings.append((logical_id, statement.get("Sid"), finding.issue, str(finding.detail)[:300]))
    assert findings == []


def test_parliament_would_catch_an_unknown_action() -> None:
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sqs:SendMessageBatch", "Resource": "arn:aws:sqs:us-east-1:111122223333:q"}]}
    issues = {f.issue for f in analyze_policy_string(json.dumps(policy)).findings}
    assert "UNKNOWN_ACTION" in issues


def test_managed_policies_stay_under_iams_size_limit() -> None:
    """IAM counts a managed policy's characters without whitespace: at most 6,144 (IAM quotas)."""
    sizes = [
        len(json.dumps(document, separators=(",", ":")))
        for name, template in templates().items()
        for logical_id, kind, document in documents(template)
        if kind == "AWS::IAM::ManagedPolicy"
    ]
    assert sizes and max(sizes) <= 6144, max(sizes)
