"""cfn-lint, with CloudFormation's resource schemas, on every template the suite synthesizes.

This caught ``sqs:SendMessageBatch``, which the developer guide lists but IAM does not know
(SendMessageBatch is authorized by ``sqs:SendMessage``).
"""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from . import apps
from .cfn import cfn_lint_findings

# No check is ignored globally. aws-cdk-lib's Lambda functions carry a DependsOn on the role they
# also reference (W3005); the construct writes an ignore for that one check on those resources.
IGNORED: List[str] = []


def templates() -> Dict[str, Dict[str, Any]]:
    found = {"example": apps.example()[0], "bring-your-own": apps.bring_your_own()[0], "destroy": apps.destroy_mode()[0]}
    for region, (template, _) in apps.catalog().items():
        found[f"catalog-{region}"] = template
    return found


@pytest.mark.parametrize("name", ["example", "bring-your-own", "destroy", "catalog-us-east-1"])
def test_templates_have_no_cfn_lint_errors_or_warnings(name: str) -> None:
    assert cfn_lint_findings(templates()[name], IGNORED) == []
