"""Built-in task ARNs for the stack's region, which is often a deploy-time token.

A stack with a concrete region gets literal ARNs (and a synth-time error for a
region without Ground Truth). An environment-agnostic stack gets a
CloudFormation mapping keyed by ``AWS::Region`` plus a template rule, so that
deploying to an unsupported region fails before any resource is created,
with a message that lists the supported regions.
"""

from __future__ import annotations

import weakref
from typing import Dict, List, Mapping, Optional, Tuple

from aws_cdk import Aws, CfnMapping, CfnRule, CfnRuleAssertion, Fn, Stack, Token

from .pseudo import pseudo
from .task_types import BUILT_IN_LAMBDA_ACCOUNTS, HUMAN_TASK_UI_ACCOUNT, TaskType

MAPPING_ID = "GroundTruthBuiltInLambdaAccounts"
RULE_ID = "GroundTruthRegionSupported"


def unsupported_region_message(region: str, accounts: Mapping[str, str]) -> str:
    return (
        f"region: Ground Truth has no built-in task Lambdas in {region}; "
        f"supported regions: {', '.join(sorted(accounts))} (or use TaskType.custom)"
    )


_REGIONS: weakref.WeakKeyDictionary[Stack, Tuple[str, bool]] = weakref.WeakKeyDictionary()
_ACCOUNT_LOOKUPS: weakref.WeakKeyDictionary[Stack, str] = weakref.WeakKeyDictionary()


def _stack_region(stack: Stack) -> Tuple[str, bool]:
    """The stack's region and whether it is a token, read once per stack."""
    if stack not in _REGIONS:
        region = stack.region
        _REGIONS[stack] = (region, Token.is_unresolved(region))
    return _REGIONS[stack]


def _account_lookup(stack: Stack, arns: BuiltInArns) -> str:
    """``Fn::FindInMap`` of the region's account, with the mapping and rule made once per stack."""
    if stack not in _ACCOUNT_LOOKUPS:
        _ACCOUNT_LOOKUPS[stack] = arns.mapping(stack).find_in_map(pseudo().region, "account")
        arns.ensure_rule(stack)
    return _ACCOUNT_LOOKUPS[stack]


class BuiltInArns:
    """ARNs of the AWS-owned PRE-/ACS- Lambdas and worker UI for one task type."""

    def __init__(self, stack: Stack, task_type: TaskType, accounts: Optional[Mapping[str, str]] = None) -> None:
        self.accounts: Dict[str, str] = dict(accounts or BUILT_IN_LAMBDA_ACCOUNTS)
        self.task_type = task_type
        region, region_is_token = _stack_region(stack)
        self.errors: List[str] = []
        if region_is_token:
            self._region = pseudo().region
            self._account = _account_lookup(stack, self)
        else:
            self._region = region
            self._account = self.accounts.get(region, "000000000000")
            if region not in self.accounts:
                self.errors.append(unsupported_region_message(region, self.accounts))

    def mapping(self, stack: Stack) -> CfnMapping:
        existing = stack.node.try_find_child(MAPPING_ID)
        if isinstance(existing, CfnMapping):
            return existing
        return CfnMapping(
            stack,
            MAPPING_ID,
            mapping={region: {"account": account} for region, account in sorted(self.accounts.items())},
        )

    def ensure_rule(self, stack: Stack) -> None:
        if stack.node.try_find_child(RULE_ID) is not None:
            return
        regions = sorted(self.accounts)
        CfnRule(
            stack,
            RULE_ID,
            assertions=[
                CfnRuleAssertion(
                    assert_=Fn.condition_contains(regions, Aws.REGION),
                    assert_description=(
                        "SageMaker Ground Truth built-in task types are available only in: " + ", ".join(regions)
                    ),
                )
            ],
        )

    @property
    def pre_annotation_lambda_arn(self) -> str:
        return f"arn:aws:lambda:{self._region}:{self._account}:function:PRE-{self.task_type.lambda_suffix}"

    @property
    def consolidation_lambda_arn(self) -> str:
        return f"arn:aws:lambda:{self._region}:{self._account}:function:ACS-{self.task_type.lambda_suffix}"

    @property
    def human_task_ui_arn(self) -> str:
        name = self.task_type.human_task_ui_name
        return f"arn:aws:sagemaker:{self._region}:{HUMAN_TASK_UI_ACCOUNT}:human-task-ui/{name}"
