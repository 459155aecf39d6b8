"""Strict validation of a request against botocore's SageMaker service model.

botocore's own parameter validation (and Stubber) checks required members and
types, but not patterns, lengths, ranges or enums; the service does. This
checks them all, so a request that passes here passes the API's input checks.
"""

from __future__ import annotations

from functools import cache
from typing import Any, List

import botocore.session
import regex  # the model's patterns use Unicode classes such as \p{L}, which re does not know
from botocore.model import Shape


@cache
def sagemaker_model() -> Any:
    return botocore.session.get_session().get_service_model("sagemaker")


def input_shape(operation: str) -> Shape:
    return sagemaker_model().operation_model(operation).input_shape


def out_of_bounds(path: str, measured: int, meta: Any, shown: str) -> List[str]:
    """The model's ``min``/``max`` (a length for lists and strings, a value for numbers)."""
    problems = []
    if "min" in meta and measured < meta["min"]:
        problems.append(f"{path}: {shown} < min {meta['min']}")
    if "max" in meta and measured > meta["max"]:
        problems.append(f"{path}: {shown} > max {meta['max']}")
    return problems


def violations(value: Any, shape: Shape, path: str = "") -> List[str]:
    """Every way ``value`` breaks ``shape``; empty when it conforms."""
    problems: List[str] = []
    meta = shape.metadata
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{path}: expected a structure, got {type(value).__name__}"]
        for name in meta.get("required", []):
            if name not in value:
                problems.append(f"{path}.{name}: required member missing")
        for name, member in value.items():
            if name not in shape.members:
                problems.append(f"{path}.{name}: not a member of {shape.name}")
                continue
            problems += violations(member, shape.members[name], f"{path}.{name}")
        return problems
    if kind == "list":
        if not isinstance(value, list):
            return [f"{path}: expected a list"]
        problems += out_of_bounds(path, len(value), meta, f"{len(value)} items")
        for index, item in enumerate(value):
            problems += violations(item, shape.member, f"{path}[{index}]")
        return problems
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{path}: expected a map"]
        for key, item in value.items():
            problems += violations(key, shape.key, f"{path}<key>")
            problems += violations(item, shape.value, f"{path}[{key}]")
        return problems
    if kind == "string":
        if not isinstance(value, str):
            return [f"{path}: expected a string, got {type(value).__name__}"]
        problems += out_of_bounds(path, len(value), meta, f"length {len(value)}")
        if "pattern" in meta and regex.fullmatch(meta["pattern"], value, flags=regex.DOTALL) is None:
            problems.append(f"{path}: {value!r} does not match pattern {meta['pattern']}")
        if shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} not in enum {shape.enum}")
        return problems
    if kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            return [f"{path}: expected an integer, got {value!r}"]
        return out_of_bounds(path, value, meta, str(value))
    if kind == "boolean" and not isinstance(value, bool):
        return [f"{path}: expected a boolean"]
    return problems


def request_violations(operation: str, request: Any) -> List[str]:
    return violations(request, input_shape(operation), operation)
