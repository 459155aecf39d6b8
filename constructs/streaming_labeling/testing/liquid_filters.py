"""Ground Truth's Liquid environment: python-liquid plus the two filters Ground Truth adds.

``grant_read_access`` turns an ``s3://`` URI into a presigned GET URL (here of the local
S3; other values pass through) and ``to_json`` serialises a value; ``escape`` and the rest are standard Liquid
(DG:``sms-custom-templates-step2``; worker-ui-facts.md). ``skip_autoescape`` is accepted and
does nothing, since the environment does not autoescape (no template of ours uses it).
"""

from __future__ import annotations

import json
from typing import Any, Callable, Mapping

from liquid import BoundTemplate, Environment
from liquid.exceptions import LiquidError

#: Parse and render errors of a worker template.
TemplateError = LiquidError

Presign = Callable[[str], str]


def environment(presign: Presign) -> Environment:
    env = Environment()

    def grant_read_access(uri: Any) -> str:
        text = str(uri)
        # Anything but an s3:// URI (an https URL, or the text of an s3:TestEvent taken as an object)
        # is passed through: the worker's browser gets it as it is.
        return presign(text) if text.startswith("s3://") else text

    env.filters["grant_read_access"] = grant_read_access
    env.filters["to_json"] = lambda value: json.dumps(value)
    env.filters["skip_autoescape"] = lambda value: value
    return env


def parse(env: Environment, source: str) -> BoundTemplate:
    """The template, or ``TemplateError`` when it does not parse."""
    return env.from_string(source)


def render(template: BoundTemplate, task_input: Mapping[str, Any]) -> str:
    """What the worker's browser gets: the template with ``task.input`` set."""
    try:
        text: str = template.render(task={"input": dict(task_input)})
        return text
    except LiquidError:
        raise
    except (ValueError, TypeError, KeyError) as error:  # a filter that cannot take its value
        raise TemplateError(str(error), token=None) from error
