"""The built-in consolidation (ACS) of each emulated type: workers' answers to the output label.

The label and its ``-metadata`` follow DG:``sms-data-output`` (runtime facts §4.2-4.3): the
same keys and types as AWS's examples. Several workers: classification takes the majority
(ties to the earlier label), multi-label the union of every worker's labels, boxes are
matched across workers by label and overlap (IoU >= 0.5) and averaged, named entities and
masks by majority. ``confidence`` is the share of workers who agree, and 0.0 with one worker
("0.00 when NumberOfHumanWorkersPerDataObject = 1"; NER: "the confidence value for each entity
will be zero"). AWS's real confidence model is not documented; this is the emulation's.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from . import images
from .task_kinds import Emulated, Kind
from .workforce import BACKGROUND, element_value


class ConsolidationError(Exception):
    """Workers' answers that the built-in consolidation cannot use (the object fails)."""


@dataclass
class Context:
    emulated: Emulated
    job_name: str
    labels: List[str]
    element_name: str
    creation_date: str
    """``YYYY-MM-DDTHH:MM:SS.ffffff``, no zone (§4.2)."""
    element: Dict[str, str] = field(default_factory=dict)
    image_depth: int = 3
    mask_uri: str = ""
    label_config: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Consolidated:
    label: Any
    metadata: Dict[str, Any]
    mask_png: Optional[bytes] = None


def _confidence(votes: int, workers: int) -> float:
    return 0.0 if workers <= 1 else round(votes / workers, 2)


def _common(context: Context, job_name: Optional[str] = None) -> Dict[str, Any]:
    return {
        "type": context.emulated.output_type,
        "job-name": job_name or context.job_name,
        "human-annotated": "yes",
        "creation-date": context.creation_date,
    }


def consolidate(context: Context, answers: Sequence[Mapping[str, Any]]) -> Consolidated:
    """The output label of one object from every worker's ``answerContent``."""
    values = [element_value(answer, context.element_name) for answer in answers]
    if not values or any(not isinstance(value, dict) for value in values):
        raise ConsolidationError(f"every worker's answer needs an object under {context.element_name!r}")
    kind = context.emulated.kind
    try:
        if kind is Kind.CLASSIFICATION:
            return _single(context, values, context.labels)
        if kind is Kind.VERIFICATION:
            return _single(context, values, _categories(context))
        if kind is Kind.MULTI_LABEL:
            return _multi(context, values)
        if kind is Kind.BOUNDING_BOX:
            return _boxes(context, values)
        if kind is Kind.NAMED_ENTITY:
            return _entities(context, values)
        return _mask(context, values)
    except (KeyError, TypeError, ValueError, IndexError) as error:
        raise ConsolidationError(f"{type(error).__name__}: {error}") from error


def _categories(context: Context) -> List[str]:
    text = context.element.get("categories")
    return [str(c) for c in json.loads(text)] if text else list(context.labels)


def _index(choices: Sequence[str], label: Any) -> int:
    if label not in choices:
        raise ValueError(f"{label!r} is not one of {list(choices)}")
    return list(choices).index(label)


def _single(context: Context, values: Sequence[Dict[str, Any]], choices: Sequence[str]) -> Consolidated:
    votes = Counter(_index(choices, value["label"]) for value in values)
    best = max(votes.values())
    winner = min(index for index, count in votes.items() if count == best)
    metadata = {"class-name": choices[winner], "confidence": _confidence(best, len(values))}
    metadata.update(_common(context))
    comments = [str(v["workerComment"]) for v in values if v.get("workerComment")]
    if context.emulated.kind is Kind.VERIFICATION and comments:
        metadata["worker-feedback"] = [{"comment": comment} for comment in comments]
    return Consolidated(winner, metadata)


def _multi(context: Context, values: Sequence[Dict[str, Any]]) -> Consolidated:
    votes: Counter[int] = Counter()
    for value in values:
        votes.update({_index(context.labels, label) for label in value["labels"]})
    chosen = sorted(votes)
    metadata: Dict[str, Any] = {
        "job-name": f"labeling-job/{context.job_name}",
        "class-map": {str(i): context.labels[i] for i in chosen},
        "human-annotated": "yes",
        "creation-date": context.creation_date,
        "confidence-map": {str(i): _confidence(votes[i], len(values)) for i in chosen},
        "type": context.emulated.output_type,
    }
    return Consolidated(chosen, metadata)


Box = Tuple[int, int, int, int, int]  # class_id, left, top, width, height


def _iou(a: Box, b: Box) -> float:
    ax2, ay2, bx2, by2 = a[1] + a[3], a[2] + a[4], b[1] + b[3], b[2] + b[4]
    width = max(0, min(ax2, bx2) - max(a[1], b[1]))
    height = max(0, min(ay2, by2) - max(a[2], b[2]))
    inter = width * height
    union = a[3] * a[4] + b[3] * b[4] - inter
    return inter / union if union else 0.0


def _boxes(context: Context, values: Sequence[Dict[str, Any]]) -> Consolidated:
    properties = values[0]["inputImageProperties"]
    clusters: List[List[Tuple[int, Box]]] = []
    for worker, value in enumerate(values):
        for raw in value.get("boundingBoxes", []):
            box: Box = (_index(context.labels, raw["label"]), int(raw["left"]), int(raw["top"]), int(raw["width"]),
                        int(raw["height"]))
            home = next((c for c in clusters if c[0][1][0] == box[0] and all(w != worker for w, _ in c)
                         and _iou(c[0][1], box) >= 0.5), None)
            if home is None:
                clusters.append([(worker, box)])
            else:
                home.append((worker, box))
    workers = len(values)
    kept = [c for c in clusters if workers == 1 or 2 * len(c) >= workers]
    annotations, objects = [], []
    for cluster in kept:
        boxes = [box for _, box in cluster]
        annotations.append({
            "class_id": boxes[0][0],
            "left": round(sum(b[1] for b in boxes) / len(boxes)),
            "top": round(sum(b[2] for b in boxes) / len(boxes)),
            "width": round(sum(b[3] for b in boxes) / len(boxes)),
            "height": round(sum(b[4] for b in boxes) / len(boxes)),
        })
        objects.append({"confidence": _confidence(len(cluster), workers)})
    label = {
        "image_size": [{"width": int(properties["width"]), "height": int(properties["height"]),
                        "depth": context.image_depth}],
        "annotations": annotations,
    }
    used = sorted({a["class_id"] for a in annotations})
    metadata: Dict[str, Any] = {"objects": objects, "class-map": {str(i): context.labels[i] for i in used}}
    metadata.update(_common(context))
    if context.emulated.adjustment:
        metadata["adjustment-status"] = "adjusted" if any(_adjusted(context, v) for v in values) else "unadjusted"
    return Consolidated(label, metadata)


def _adjusted(context: Context, value: Dict[str, Any]) -> bool:
    """The UI's ``initialValueModified`` when present, else whether the boxes differ from the prior ones."""
    if "initialValueModified" in value:
        return bool(value["initialValueModified"])
    prior = json.loads(context.element.get("initial-value") or "[]")
    keys = ("label", "left", "top", "width", "height")
    return [tuple(b.get(k) for k in keys) for b in value.get("boundingBoxes", [])] != [
        tuple(b.get(k) for k in keys) for b in prior]


def _entities(context: Context, values: Sequence[Dict[str, Any]]) -> Consolidated:
    votes: Counter[Tuple[str, int, int]] = Counter()
    for value in values:
        votes.update({(str(e["label"]), int(e["startOffset"]), int(e["endOffset"])) for e in value["entities"]})
    workers = len(values)
    for name, _, _ in votes:
        _index(context.labels, name)
    kept = sorted((key for key, count in votes.items() if workers == 1 or 2 * count >= workers),
                  key=lambda key: (key[1], key[2], key[0]))
    by_label = {str(entry.get("label")): entry for entry in context.label_config.get("labels", [])}
    labels: List[Dict[str, Any]] = []
    for name in context.labels:
        entry: Dict[str, Any] = {"label": name}
        if by_label.get(name, {}).get("shortDisplayName"):
            entry["shortDisplayName"] = by_label[name]["shortDisplayName"]
        labels.append(entry)
    label = {"annotations": {
        "labels": labels,
        "entities": [{"label": name, "startOffset": start, "endOffset": end} for name, start, end in kept],
    }}
    metadata = {
        "job-name": f"labeling-job/{context.job_name}",
        "type": context.emulated.output_type,
        "creation-date": context.creation_date,
        "human-annotated": "yes",
        "entities": [{"confidence": _confidence(votes[key], workers)} for key in kept],
    }
    return Consolidated(label, metadata)


def _mask(context: Context, values: Sequence[Dict[str, Any]]) -> Consolidated:
    pngs = [base64.b64decode(v["labeledImage"]["pngImageData"]) for v in values]
    colors: Dict[str, str] = {}
    for value in values:
        for name, mapping in (value.get("labelMappings") or {}).items():
            _index(context.labels, name)
            colors.setdefault(name, str(mapping["color"]).lower())
    workers = len(values)
    if workers == 1:
        png, agreement = pngs[0], 0.0
    else:
        decoded = [images.read_png(data) for data in pngs]
        width, height = decoded[0][0], decoded[0][1]
        if any((w, h) != (width, height) for w, h, _ in decoded):
            raise ValueError("workers' masks differ in size")
        rows, agreeing, pixels = [], 0, width * height
        for y in range(height):
            row = bytearray()
            for x in range(width):
                counted = Counter(bytes(d[2][y][3 * x : 3 * x + 3]) for d in decoded)
                color, count = counted.most_common(1)[0]
                agreeing += count
                row += color
            rows.append(bytes(row))
        png = images.write_png(width, height, rows)
        agreement = round(agreeing / (pixels * workers), 2) if pixels else 0.0
    color_map: Dict[str, Dict[str, Any]] = {
        "0": {"class-name": "BACKGROUND", "confidence": agreement, "hex-color": images.hex_color(BACKGROUND)}}
    for index, name in enumerate(context.labels):
        if name in colors:
            color_map[str(index + 1)] = {"class-name": name, "confidence": agreement, "hex-color": colors[name]}
    metadata: Dict[str, Any] = {"internal-color-map": color_map}
    metadata.update(_common(context))
    return Consolidated(context.mask_uri, metadata, mask_png=png)
