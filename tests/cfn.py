"""Resolve a synthesized template's intrinsics the way CloudFormation would at deploy time.

Enough of CloudFormation for our custom resource's properties: Ref, Fn::GetAtt,
Fn::Join, Fn::FindInMap and pseudo parameters, with made-up physical ids. Scalars
become strings, as CloudFormation passes them to a custom resource.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Sequence

ACCOUNT = "111122223333"
#: The stack id deploy-time resolution gives ``AWS::StackId`` (the handler tests' events carry it too).
STACK_ID = "arn:aws:cloudformation:us-east-1:111122223333:stack/demo/5b4f0c90-aaaa-bbbb-cccc-0123456789ab"


def physical_ids(template: Dict[str, Any], region: str) -> Dict[str, Dict[str, str]]:
    ids: Dict[str, Dict[str, str]] = {}
    for logical_id, resource in template["Resources"].items():
        kind = resource["Type"]
        name = logical_id.lower()[:40]
        if kind == "AWS::SNS::Topic":
            arn = f"arn:aws:sns:{region}:{ACCOUNT}:{name}"
            ids[logical_id] = {"Ref": arn, "TopicArn": arn}
        elif kind == "AWS::S3::Bucket":
            ids[logical_id] = {"Ref": name, "Arn": f"arn:aws:s3:::{name}"}
        elif kind == "AWS::KMS::Key":
            key_id = "1234abcd-12ab-34cd-56ef-1234567890ab"
            ids[logical_id] = {"Ref": key_id, "Arn": f"arn:aws:kms:{region}:{ACCOUNT}:key/{key_id}"}
        elif kind == "AWS::IAM::Role":
            ids[logical_id] = {"Ref": name, "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}"}
        elif kind == "AWS::Lambda::Function":
            ids[logical_id] = {"Ref": name, "Arn": f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}"}
        else:
            ids[logical_id] = {"Ref": name}
    return ids


def resolve(value: Any, template: Dict[str, Any], region: str, ids: Dict[str, Dict[str, str]]) -> Any:
    pseudo = {"AWS::Region": region, "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com",
              "AWS::StackId": STACK_ID.replace(":us-east-1:", f":{region}:"), "AWS::StackName": "demo"}
    if isinstance(value, dict):
        if "Ref" in value:
            ref = value["Ref"]
            return pseudo[ref] if ref in pseudo else ids[ref]["Ref"]
        if "Fn::GetAtt" in value:
            logical_id, attribute = value["Fn::GetAtt"]
            known = ids[logical_id]
            if attribute in known:
                return known[attribute]
            service = template["Resources"][logical_id]["Type"].split("::")[1].lower()
            return f"arn:aws:{service}:{region}:{ACCOUNT}:{known['Ref']}"
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(str(resolve(part, template, region, ids)) for part in parts)
        if "Fn::FindInMap" in value:
            name, top, second = (resolve(part, template, region, ids) for part in value["Fn::FindInMap"])
            return template["Mappings"][name][top][second]
        return {key: resolve(item, template, region, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, template, region, ids) for item in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def custom_resource_properties(template: Dict[str, Any], logical_id: str, region: str) -> Dict[str, Any]:
    """What the handler receives as ResourceProperties for one job, after deploy-time resolution."""
    ids = physical_ids(template, region)
    properties: Dict[str, Any] = resolve(template["Resources"][logical_id]["Properties"], template, region, ids)
    return properties


def cfn_lint_findings(template: Dict[str, Any], ignore_checks: Sequence[str] = ()) -> List[str]:
    """cfn-lint's errors and warnings on a synthesized template (us-east-1 schemas), one line each."""
    from cfnlint.api import ManualArgs, lint

    matches = lint(json.dumps(template), regions=["us-east-1"], config=ManualArgs(ignore_checks=list(ignore_checks)))
    return [f"{m.rule.id} {m.message} at {'/'.join(map(str, m.path))}" for m in matches]
