"""The handler's IAM permissions as a synthesized template grants them, resolved as at deploy time.

The fault matrix evaluates every SageMaker and CloudFormation call of the handler against
these statements, so a row runs with the permissions of the template version in effect at
that moment of its story (before a rename, after it, during a rollback).
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from functools import cache
from typing import Any, Dict, List, Mapping, Tuple

import aws_cdk as cdk
from aws_cdk import assertions

from streaming_labeling import StreamingLabelingJob, TaskType

from .apps import job_kwargs, new_app
from .cfn import ACCOUNT, physical_ids, resolve

Statement = Dict[str, Any]


@cache
def handler_policy(*prefixes: str) -> Tuple[Statement, ...]:
    """The statements of the handler role in a stack with one text job per ``job_name_prefix``."""
    app = new_app()
    stack = cdk.Stack(app, "demo", env=cdk.Environment(account=ACCOUNT, region="us-east-1"))
    for prefix in prefixes:
        StreamingLabelingJob(stack, prefix.title(), job_name_prefix=prefix, **job_kwargs(TaskType.TEXT_MULTI_CLASS))
    template = assertions.Template.from_stack(stack).to_json()
    ids = physical_ids(template, "us-east-1")
    handler_roles = {
        logical for logical, resource in template["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role" and logical.startswith("StreamingLabelingJobHandlerRole")
    }
    statements: List[Statement] = []
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::IAM::ManagedPolicy":
            continue
        roles = {role.get("Ref") for role in resource["Properties"].get("Roles", [])}
        if roles & handler_roles:
            document = resolve(resource["Properties"]["PolicyDocument"], template, "us-east-1", ids)
            statements.extend(document["Statement"])
    return tuple(statements)


def _listed(value: Any) -> List[str]:
    return [str(item) for item in (value if isinstance(value, list) else [value])]


def allows(statements: Tuple[Statement, ...], action: str, resource: str, tags: Mapping[str, str]) -> bool:
    """IAM's identity-policy evaluation for Allow statements, with the condition operators the handler's use."""
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        if not any(fnmatchcase(action.lower(), pattern.lower()) for pattern in _listed(statement["Action"])):
            continue
        if not any(fnmatchcase(resource, pattern) for pattern in _listed(statement["Resource"])):
            continue
        if all(_condition_holds(operator, clauses, tags) for operator, clauses in statement.get("Condition", {}).items()):
            return True
    return False


def _condition_holds(operator: str, clauses: Mapping[str, Any], tags: Mapping[str, str]) -> bool:
    for key, expected in clauses.items():
        if key == "iam:PassedToService":
            continue  # only iam:PassRole carries it; the harness does not evaluate PassRole
        if operator != "StringEquals" or not key.startswith("aws:ResourceTag/"):
            return False  # an operator or key this evaluator does not know never allows
        if tags.get(key.split("/", 1)[1]) not in _listed(expected):
            return False
    return True


def denial(action: str, resource: str) -> str:
    return (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/handler/function is not authorized to perform: {action} on "
        f"resource: {resource} because no identity-based policy allows the {action} action"
    )
