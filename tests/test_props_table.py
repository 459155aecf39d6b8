"""Each prop is declared once (``job_props.JobProps``), and each declared prop is mapped somewhere.

A prop is mapped when its value reaches the synthesized template: for every declaration, a stack
built with the declaration's example differs from the same stack built without it. A prop declared
but mapped nowhere is accepted, defaulted and dropped; this is the test that says so, naming it.
"""

from __future__ import annotations

import inspect
import json
import re
from typing import Any, Dict, List, Sequence, Tuple

import aws_cdk as cdk
import pytest

from streaming_labeling import StreamingLabelingJob, TaskType, job_props
from streaming_labeling.job_props import DECLARED, Declared, Prop, example_of
from streaming_labeling.validation import PropsError, instance_of

from . import apps


def _case(stack: cdk.Stack, entry: Declared, *, with_example: bool) -> str:
    """The entry's example context; the example itself only ``with_example``. Example resources are made
    either way, so that only passing the value can make the templates differ."""
    context = dict(entry.prop.example_with)
    task_type = context.pop("task_type", TaskType.BOUNDING_BOX)
    props: Dict[str, Any] = {**apps.job_kwargs(task_type), **context}
    value = example_of(entry, stack)
    if with_example:
        props[entry.name] = value
    return StreamingLabelingJob(stack, "Job", **props).node.addr


def unmapped(declared: Sequence[Declared]) -> List[str]:
    """The declared props whose example changes nothing in the template: one app, one synth."""
    app = apps.new_app()
    pairs: List[Tuple[str, Tuple[cdk.Stack, str], Tuple[cdk.Stack, str]]] = []
    for index, entry in enumerate(declared):
        given, baseline = cdk.Stack(app, f"With{index}"), cdk.Stack(app, f"Without{index}")
        pairs.append((entry.name, (given, _case(given, entry, with_example=True)),
                      (baseline, _case(baseline, entry, with_example=False))))
    assembly = app.synth()

    def template(stack: cdk.Stack, job_address: str) -> str:
        """The template, less what differs by stack alone: names hashed from the job's address, and logical
        ids aws-cdk-lib makes of the stack's name (a Lambda target's permission)."""
        text = json.dumps(assembly.get_stack_by_name(stack.stack_name).template, sort_keys=True)
        text = text.replace(job_address[:12], "ADDRESS").replace(job_address[:8], "ADDRESS")
        return re.sub(stack.stack_name + r"(\w*?)[0-9A-F]{16}\b", r"STACK\1", text)

    return [name for name, given, baseline in pairs if template(*given) == template(*baseline)]


@pytest.mark.slow
def test_every_declared_prop_reaches_the_template() -> None:
    assert unmapped(DECLARED) == []


def test_a_prop_declared_but_mapped_nowhere_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above, on purpose: a declaration no code reads is accepted by the constructor, then found."""
    forgotten = Declared("max_parallel_reviews", int, required=False, nullable=True, prop=Prop(
        "an int", instance_of(int), doc="a member someone declared and forgot to map", example=lambda _: 7))
    monkeypatch.setattr(job_props, "DECLARED", DECLARED + (forgotten,))
    assert unmapped([forgotten, next(entry for entry in DECLARED if entry.name == "tags")]) == [
        "max_parallel_reviews"]


def test_the_constructor_signature_and_docstring_are_the_table() -> None:
    parameters = list(inspect.signature(StreamingLabelingJob.__init__).parameters.values())
    assert [p.name for p in parameters] == ["self", "scope", "construct_id"] + [entry.name for entry in DECLARED]
    for parameter, entry in zip(parameters[3:], DECLARED, strict=True):
        assert parameter.kind is inspect.Parameter.KEYWORD_ONLY
        assert (parameter.default is inspect.Parameter.empty) == entry.required, entry.name
        assert f":param {entry.name}: {entry.prop.doc}" in (StreamingLabelingJob.__init__.__doc__ or "")
    assert [entry.name for entry in DECLARED if entry.required] == [
        "task_type", "workforce", "task_title", "task_description"]


@pytest.mark.parametrize("change,fragments", [
    ({"labls": ["cat"]}, ("labls: not a prop of StreamingLabelingJob; did you mean labels?",)),
    ({"colour_scheme": "dark"}, ("colour_scheme: not a prop of StreamingLabelingJob; see help(StreamingLabelingJob)",)),
    ({"task_title": None}, ("task_title: None given; expected a str",)),
    ({"workers_per_object": None}, ("workers_per_object: None given; expected an int",)),
], ids=["misspelled", "unknown", "required None", "None for a prop with a default"])
def test_unknown_missing_and_none_props_are_one_error_naming_them(change: Dict[str, Any],
                                                                  fragments: Tuple[str, ...]) -> None:
    stack = cdk.Stack(apps.new_app(), "Props")
    with pytest.raises(PropsError) as raised:
        StreamingLabelingJob(stack, "Job", **{**apps.job_kwargs(TaskType.BOUNDING_BOX), **change})
    for fragment in fragments:
        assert fragment in str(raised.value)
    assert stack.node.try_find_child("Job") is None


def test_a_required_prop_left_out_is_named() -> None:
    stack = cdk.Stack(apps.new_app(), "Props")
    kwargs = apps.job_kwargs(TaskType.BOUNDING_BOX)
    del kwargs["task_description"], kwargs["workforce"]
    with pytest.raises(PropsError) as raised:
        StreamingLabelingJob(stack, "Job", **kwargs)
    assert "workforce: required; expected a Workforce" in str(raised.value)
    assert "task_description: required; expected a str" in str(raised.value)
