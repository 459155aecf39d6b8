"""Props consolidation: a user's ``*_props`` reach the resource whole.

As aws-solutions-constructs' ``consolidateProps``: the construct's defaults,
then every field the user set, then what security (or the job) requires. A
user value that a requirement replaces is reported by a warning with a stable
id naming the prop and field, e.g.
``streaming-labeling:OverriddenProp:input_bucket_props.enforce_ssl``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional

from aws_cdk import Annotations
from constructs import IConstruct

WARNING_OVERRIDDEN_PROP = "streaming-labeling:OverriddenProp"


@dataclass(frozen=True)
class Required:
    """A value the construct sets whatever the user asked, and why."""

    value: Any
    reason: str


def user_values(props: Optional[Any]) -> Dict[str, Any]:
    """The fields a user set in a jsii props struct (``s3.BucketProps(...)`` and the like)."""
    if props is None:
        return {}
    values: Dict[str, Any] = dict(getattr(props, "_values", {}))
    return values


def consolidate(
    scope: IConstruct,
    prop_name: str,
    props: Optional[Any],
    *,
    defaults: Mapping[str, Any],
    required: Mapping[str, Required],
) -> Dict[str, Any]:
    """Keyword arguments for the resource: defaults < the user's values < requirements, with warnings."""
    given = user_values(props)
    merged = {**defaults, **given}
    for field, requirement in required.items():
        if field in given and not _same(given[field], requirement.value):
            Annotations.of(scope).add_warning_v2(
                f"{WARNING_OVERRIDDEN_PROP}:{prop_name}.{field}",
                f"{prop_name}.{field} is overridden with {_show(requirement.value)}: {requirement.reason}",
            )
        merged[field] = requirement.value
    return merged


def _same(a: Any, b: Any) -> bool:
    return a is b or (type(a) is type(b) and a == b)


def _show(value: Any) -> str:
    name = getattr(value, "name", None)
    if isinstance(name, str):
        return name
    if isinstance(value, (bool, int, str)) or value is None:
        return repr(value)
    return "the construct's own value"
