"""Built-in task ARNs for the stack's region, which is often a deploy-time token.

A stack with a concrete region gets literal ARNs (and a synth-time error for a
region without Ground Truth). An environment-agnostic stack gets a
CloudFormation mapping keyed by ``AWS::Region`` plus a template rule, so that
deploying to an unsupported region fails before any resource is created,
with a message that lists the supported regions.
"""

from __future__ import annotations

import hashlib
import json
from typing import Dict, Mapping, Optional

from aws_cdk import Aws, CfnMapping, CfnRule, CfnRuleAssertion, Fn, Stack

from .state import StackState
from .task_types import BUILT_IN_LAMBDA_ACCOUNTS, HUMAN_TASK_UI_ACCOUNT, TaskType

MAPPING_ID = "GroundTruthBuiltInLambdaAccounts"
RULE_ID = "GroundTruthRegionSupported"


def unsupported_region_message(region: str, accounts: Mapping[str, str]) -> str:
    return (
        f"region: Ground Truth has no built-in task Lambdas in {region}; "
        f"supported regions: {', '.join(sorted(accounts))} (or use TaskType.custom)"
    )


def mapping_suffix(accounts: Mapping[str, str]) -> str:
    """"" for the default accounts; otherwise a short hash, one mapping and rule per distinct table."""
    if dict(accounts) == dict(BUILT_IN_LAMBDA_ACCOUNTS):
        return ""
    table = json.dumps(dict(sorted(accounts.items())), separators=(",", ":"))
    return hashlib.sha256(table.encode()).hexdigest()[:8]


class BuiltInArns:
    """ARNs of the AWS-owned PRE-/ACS- Lambdas and worker UI for one task type."""

    def __init__(self, stack: Stack, task_type: TaskType, accounts: Optional[Mapping[str, str]] = None,
                 state: Optional[StackState] = None) -> None:
        self.accounts: Dict[str, str] = dict(accounts or BUILT_IN_LAMBDA_ACCOUNTS)
        self.task_type = task_type
        state = state or StackState.of(stack)
        env = state.env
        if env.region_is_token:
            self._region = env.pseudo.region
            self._account = self._account_lookup(stack, state)
        else:
            self._region = env.region
            self._account = self.accounts.get(env.region, "000000000000")

    def _account_lookup(self, stack: Stack, state: StackState) -> str:
        """``Fn::FindInMap`` of the region's account in this table's mapping, made once per stack and table.

        Jobs with different ``built_in_lambda_accounts`` get a mapping (and a region rule) each,
        so every job's table takes effect.
        """
        suffix = mapping_suffix(self.accounts)
        if suffix not in state.lookups.accounts:
            mapping = CfnMapping(
                stack,
                MAPPING_ID + suffix,
                mapping={region: {"account": account} for region, account in sorted(self.accounts.items())},
            )
            state.lookups.accounts[suffix] = mapping.find_in_map(state.env.pseudo.region, "account")
            self._region_rule(stack, RULE_ID + suffix)
        return state.lookups.accounts[suffix]

    def _region_rule(self, stack: Stack, rule_id: str) -> None:
        regions = sorted(self.accounts)
        CfnRule(
            stack,
            rule_id,
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
