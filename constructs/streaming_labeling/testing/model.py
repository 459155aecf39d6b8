"""Strict validation of a request against botocore's SageMaker service model.

botocore's own parameter validation checks required members and types, but not patterns,
lengths, ranges or enums; the service does. This checks them all, so a request that passes
here passes the API's input checks, and the local Ground Truth refuses what the service would.

The model's patterns use Unicode classes (``\\p{L}``) that ``re`` does not know. The ``regex``
package is used when installed; without it the three classes the labeling-job operations use
(``\\p{L}``, ``\\p{N}``, ``\\p{Z}``) are checked with ``unicodedata``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Any, Callable, List, cast

import botocore.session
from botocore.model import OperationModel, Shape

try:  # pragma: no cover - depends on the environment
    import regex as _regex  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover
    _regex = None

_UNICODE_CLASS = re.compile(r"\\p\{([A-Z])\}")
#: Private-use characters that stand for a Unicode category in the fallback matcher.
_PLACEHOLDER_BASE = 0xF0000


@cache
def sagemaker_model() -> Any:
    return botocore.session.get_session().get_service_model("sagemaker")


def operation_model(operation: str) -> OperationModel:
    model: OperationModel = sagemaker_model().operation_model(operation)
    return model


def input_shape(operation: str) -> Shape:
    shape: Shape = cast(Shape, operation_model(operation).input_shape)
    return shape


@cache
def _matcher(pattern: str) -> Callable[[str], bool]:
    if _regex is not None:
        compiled = _regex.compile(pattern, flags=_regex.DOTALL)
        return lambda value: compiled.fullmatch(value) is not None
    categories = _UNICODE_CLASS.findall(pattern)
    if not categories:
        plain = re.compile(pattern, flags=re.DOTALL)
        return lambda value: plain.fullmatch(value) is not None
    stand_in = {category: chr(_PLACEHOLDER_BASE + index) for index, category in enumerate(dict.fromkeys(categories))}
    translated = re.compile(_UNICODE_CLASS.sub(lambda m: stand_in[m.group(1)], pattern), flags=re.DOTALL)

    def match(value: str) -> bool:
        mapped = "".join(stand_in.get(unicodedata.category(ch)[0], ch) for ch in value)
        return translated.fullmatch(mapped) is not None

    return match


def matches(pattern: str, value: str) -> bool:
    """Whether ``value`` matches the model's ``pattern`` as a whole."""
    return _matcher(pattern)(value)


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
        members: Any = cast(Any, shape).members
        for name, member in value.items():
            if name not in members:
                problems.append(f"{path}.{name}: not a member of {shape.name}")
                continue
            problems += violations(member, members[name], f"{path}.{name}")
        return problems
    if kind == "list":
        if not isinstance(value, list):
            return [f"{path}: expected a list"]
        problems += out_of_bounds(path, len(value), meta, f"{len(value)} items")
        item_shape: Any = cast(Any, shape).member
        for index, item in enumerate(value):
            problems += violations(item, item_shape, f"{path}[{index}]")
        return problems
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{path}: expected a map"]
        key_shape: Any = cast(Any, shape).key
        value_shape: Any = cast(Any, shape).value
        for key, item in value.items():
            problems += violations(key, key_shape, f"{path}<key>")
            problems += violations(item, value_shape, f"{path}[{key}]")
        return problems
    if kind == "string":
        if not isinstance(value, str):
            return [f"{path}: expected a string, got {type(value).__name__}"]
        problems += out_of_bounds(path, len(value), meta, f"length {len(value)}")
        if "pattern" in meta and not matches(meta["pattern"], value):
            problems.append(f"{path}: {value!r} does not match pattern {meta['pattern']}")
        enum: Any = cast(Any, shape).enum
        if enum and value not in enum:
            problems.append(f"{path}: {value!r} not in enum {list(enum)}")
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
