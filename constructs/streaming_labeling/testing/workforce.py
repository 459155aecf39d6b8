"""The simulated workforce: what each worker submits for a task.

A worker's answer is the ``answerContent`` of a worker-response file: a dict keyed by the
crowd element's ``name`` (runtime facts §4.5, §6). By default every answer is valid for the
task type and deterministic: a hash of the object picks the label(s), boxes and masks lie
within the image's real size (read from S3), a named entity is a word of the real text, and
review workers start from what the rendered template shows them (``initial-value``,
``categories``). A test sets its own answers with a callable or a JSON file.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Union

from . import images
from .images import ImageSize
from .task_kinds import Emulated, Kind

#: Colors the default workers paint masks with (the ten "category10" colors).
PALETTE = ("#2ca02c", "#1f77b4", "#ff7f0e", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf")
BACKGROUND = (255, 255, 255)
#: The size assumed for an object that is not a readable image (e.g. an ``s3:TestEvent``).
FALLBACK_SIZE = ImageSize(100, 100, 3)

Reader = Callable[[str], bytes]


class _Element(HTMLParser):
    """The first crowd element other than ``crowd-form`` and its (unescaped) attributes."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tag: Optional[str] = None
        self.attributes: Dict[str, str] = {}
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.tag is None and tag.startswith("crowd-") and tag != "crowd-form":
            self.tag = tag
            self.attributes = {name: value or "" for name, value in attrs}


def crowd_element(rendered: str) -> tuple[Optional[str], Dict[str, str]]:
    element = _Element(rendered)
    return element.tag, element.attributes


@dataclass
class Task:
    """What a worker gets: the task input the template sees, the rendered page, the job."""

    job_name: str
    task_type: str
    """The task type's name, e.g. ``BOUNDING_BOX``."""
    input: Dict[str, Any]
    """``task.input``: ``taskObject``, ``labels`` and, for review types, ``manifestLine``."""
    labels: List[str]
    data_object: Dict[str, Any]
    """The input line the object arrived as."""
    worker: int
    rendered: str
    """The worker template rendered for this object; empty for built-in UIs (NER)."""
    element_name: str
    """The crowd element's ``name``: the key of the answer."""
    element: Dict[str, str] = field(default_factory=dict)
    """The rendered crowd element's attributes (HTML-unescaped)."""
    read: Reader = field(default=lambda uri: b"", repr=False)
    """Reads an ``s3://`` URI or a presigned URL of the local cloud."""
    emulated: Optional[Emulated] = field(default=None, repr=False)

    @property
    def task_object(self) -> str:
        return str(self.input.get("taskObject", ""))

    def image_size(self) -> ImageSize:
        """The object's real size from its PNG or JPEG header (``FALLBACK_SIZE`` if it is not an image)."""
        try:
            size = images.image_size(self.read(self.task_object))
        except Exception:  # noqa: BLE001 - an unreadable object is shown to workers as a broken image
            size = None
        return size or FALLBACK_SIZE

    def element_json(self, attribute: str) -> Any:
        text = self.element.get(attribute)
        return json.loads(text) if text else None


Answer = Dict[str, Any]
AnswerFunction = Callable[[Task], Optional[Mapping[str, Any]]]


def _hash(*parts: Any) -> int:
    return int(hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest(), 16)


def _choices(task: Task) -> List[str]:
    categories = task.element_json("categories")
    if isinstance(categories, list) and categories:
        return [str(c) for c in categories]
    return list(task.labels)


def default_answer(task: Task) -> Answer:
    """A valid, deterministic answer for the task's type, from the object and the labels."""
    kind = task.emulated.kind if task.emulated else Kind.CLASSIFICATION
    seed = _hash(task.data_object.get("source-ref", task.data_object.get("source")), task.labels)
    content: Any
    if kind is Kind.CLASSIFICATION:
        choices = _choices(task)
        content = {"label": choices[seed % len(choices)]}
    elif kind is Kind.MULTI_LABEL:
        choices = _choices(task)
        picked = {choices[seed % len(choices)], choices[(seed // 7) % len(choices)]}
        content = {"labels": [c for c in choices if c in picked]}
    elif kind is Kind.VERIFICATION:
        choices = _choices(task)
        content = {"label": choices[seed % len(choices)]}
    elif kind is Kind.NAMED_ENTITY:
        content = {"entities": _entity(task, seed)}
    elif kind is Kind.BOUNDING_BOX:
        content = _boxes(task, seed)
    else:
        content = _mask(task, seed)
    return {task.element_name: content}


def _entity(task: Task, seed: int) -> List[Dict[str, Any]]:
    words = list(re.finditer(r"\w+", task.task_object))
    if not words or not task.labels:
        return []
    word = words[seed % len(words)]
    return [{"endOffset": word.end(), "label": task.labels[seed % len(task.labels)], "startOffset": word.start()}]


def _box_within(size: ImageSize, seed: int) -> tuple[int, int, int, int]:
    width = max(1, size.width * (25 + seed % 40) // 100)
    height = max(1, size.height * (25 + (seed // 41) % 40) // 100)
    left = (seed // 1681) % max(1, size.width - width + 1)
    top = (seed // 68921) % max(1, size.height - height + 1)
    return left, top, width, height


def _boxes(task: Task, seed: int) -> Answer:
    size = task.image_size()
    properties = {"height": size.height, "width": size.width}
    initial = task.element_json("initial-value")
    if isinstance(initial, list):  # adjustment: the prior boxes, moved on every third object
        boxes: List[Dict[str, Any]] = [
            {"height": int(b["height"]), "label": str(b["label"]), "left": int(b["left"]), "top": int(b["top"]),
             "width": int(b["width"])} for b in initial]
        modified = bool(boxes) and seed % 3 == 0
        if modified:
            first = boxes[0]
            first["left"] = max(0, min(size.width - first["width"], first["left"] + 1 + seed % 5))
            first["top"] = max(0, min(size.height - first["height"], first["top"] + 1 + seed % 3))
        return {"boundingBoxes": boxes, "inputImageProperties": properties, "initialValueModified": modified}
    boxes = []
    for index in range(1 + seed % 2):
        part = _hash(seed, index)
        left, top, width, height = _box_within(size, part)
        boxes.append({"height": height, "label": task.labels[part % len(task.labels)], "left": left, "top": top,
                      "width": width})
    return {"boundingBoxes": boxes, "inputImageProperties": properties}


def _mask(task: Task, seed: int) -> Answer:
    size = task.image_size()
    properties = {"height": size.height, "width": size.width}
    initial = task.element_json("initial-value")
    if isinstance(initial, dict) and initial.get("src"):  # adjustment: the prior mask, painted on every third
        mappings = dict(initial.get("labelMappings") or {})
        png = task.read(str(initial["src"]))
        modified = seed % 3 == 0 and bool(mappings)
        if modified:
            width, height, rows = images.read_png(png)
            paint = images.parse_hex(next(iter(mappings.values()))["color"])
            mutable = [bytearray(row) for row in rows]
            for y in range(min(height, 4)):
                mutable[y][0 : 3 * min(width, 4)] = bytes(paint) * min(width, 4)
            png = images.write_png(width, height, [bytes(row) for row in mutable])
        return {"initialValueModified": modified, "inputImageProperties": properties, "labelMappings": mappings,
                "labeledImage": {"pngImageData": base64.b64encode(png).decode()}}
    label = task.labels[seed % len(task.labels)]
    color = PALETTE[task.labels.index(label) % len(PALETTE)]
    left, top, width, height = _box_within(size, seed)
    png = images.rectangles_png(size.width, size.height, BACKGROUND,
                                [(images.parse_hex(color), left, top, width, height)])
    return {"inputImageProperties": properties, "labelMappings": {label: {"color": color}},
            "labeledImage": {"pngImageData": base64.b64encode(png).decode()}}


class SimulatedWorkforce:
    """Answers tasks: ``answer(task)`` if given (returning None lets the default worker answer), else
    ``answers`` keyed by data object (``source`` or ``source-ref``; one answer for every worker or a
    list, one per worker), else ``default_answer``. ``delay_seconds`` (emulated time) passes between a
    task's start and its answers."""

    def __init__(
        self,
        answer: Optional[AnswerFunction] = None,
        *,
        answers: Optional[Mapping[str, Any]] = None,
        delay_seconds: float = 0.0,
    ) -> None:
        self._answer = answer
        self._answers = dict(answers or {})
        self.delay_seconds = delay_seconds

    @classmethod
    def from_file(cls, path: Union[str, Path], *, delay_seconds: float = 0.0) -> SimulatedWorkforce:
        """A workforce that answers from a JSON file of answers keyed by data object."""
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(document, dict):
            raise ValueError(f"{path}: expected a JSON object of answers keyed by source or source-ref")
        return cls(answers=document, delay_seconds=delay_seconds)

    def answer(self, task: Task) -> Answer:
        if self._answer is not None:
            given = self._answer(task)
            if given is not None:
                return dict(given)
        key = task.data_object.get("source-ref", task.data_object.get("source"))
        if isinstance(key, str) and key in self._answers:
            entry = self._answers[key]
            if isinstance(entry, list):
                if task.worker < len(entry):
                    return dict(entry[task.worker])
            else:
                return dict(entry)
        return default_answer(task)


WorkforceLike = Union[None, SimulatedWorkforce, AnswerFunction, str, Path]


def workforce_of(value: WorkforceLike) -> SimulatedWorkforce:
    """None (the default workers), a workforce, a callable ``answer(task)``, or a path to an answers file."""
    if value is None:
        return SimulatedWorkforce()
    if isinstance(value, SimulatedWorkforce):
        return value
    if isinstance(value, (str, Path)):
        return SimulatedWorkforce.from_file(value)
    return SimulatedWorkforce(value)


def element_value(answer: Mapping[str, Any], name: str) -> Any:
    """The answer of the crowd element ``name``; the only value when the answer has one key."""
    if name in answer:
        return answer[name]
    if len(answer) == 1:
        return next(iter(answer.values()))
    return None


def worker_id(region: str, job_name: str, worker: int) -> str:
    """A private-workforce worker id in the observed form ``private.<region>.<hex>``."""
    return f"private.{region}.{hashlib.sha256(f'{job_name}/{worker}'.encode()).hexdigest()[:26]}"
