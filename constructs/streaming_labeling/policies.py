"""Policy statements as JSON, each carrying the reason for its wildcard resources.

A policy builder returns ``Statements``: the statements and, for every resource with a
``*``, the key of its reason in ``compliance.REASONS``. Compliance acknowledges the
cdk-nag findings from that, so a new statement is one edit, beside its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union


@dataclass(frozen=True)
class Wildcard:
    """A resource with a ``*`` (a token string as it is in the statement) and its reason's key."""

    resource: str
    reason: str


@dataclass(frozen=True)
class Statements:
    statements: Tuple[Dict[str, Any], ...] = ()
    wildcards: Tuple[Wildcard, ...] = ()

    def __add__(self, other: Statements) -> Statements:
        return Statements(self.statements + other.statements, self.wildcards + other.wildcards)

    def document(self) -> Dict[str, Any]:
        return {"Version": "2012-10-17", "Statement": list(self.statements)}


def statement(
    sid: Optional[str],
    actions: Union[str, Sequence[str]],
    resources: Union[str, Sequence[str]],
    *,
    wildcard_reason: Optional[str] = None,
    **extra: Any,
) -> Statements:
    """One ``Allow`` statement; each resource with a ``*`` needs ``wildcard_reason`` (a ``REASONS`` key)."""
    listed: List[str] = [resources] if isinstance(resources, str) else list(resources)
    document: Dict[str, Any] = {"Effect": "Allow", "Action": actions if isinstance(actions, str) else list(actions),
                                "Resource": resources if isinstance(resources, str) else listed}
    if sid is not None:
        document = {"Sid": sid, **document}
    document.update(extra)
    wild = [resource for resource in listed if "*" in resource]
    if wild and wildcard_reason is None:
        raise ValueError(f"statement {sid or actions}: wildcard resources {wild} need a wildcard_reason")
    return Statements((document,), tuple(Wildcard(resource, wildcard_reason or "") for resource in wild))


def combine(parts: Sequence[Statements]) -> Statements:
    result = Statements()
    for part in parts:
        result = result + part
    return result
