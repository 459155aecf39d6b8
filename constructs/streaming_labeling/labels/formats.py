"""The formats an export writes: the output manifest as JSON Lines, COCO for boxes and masks, CSV for classes.

Standard library (and botocore's errors) only. Every writer streams: it reads one record at a time and
keeps nothing per record (COCO's annotations go to a temporary file while its images are written, and are
copied after them), so memory stays flat however many objects a job labeled.

A record is one output-manifest line as a dict (the latest label per object); the ``coco`` and ``csv``
writers use the label of the dataset's last stage (the job the user named) and skip records that do not
carry it yet (an object of a pipeline that the last stage has not labeled). They return
``Written(written, skipped)``; ``write_manifest`` writes every record and returns their number.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import struct
import tempfile
import zlib
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, NamedTuple, Optional, TextIO, Tuple

from botocore.exceptions import ClientError

from ..imaging import parse_hex, read_png
from .model import BOXES, CLASSIFICATION, MULTI_LABEL, SEGMENTATION, Dataset, LabelsError, Stage, label_type, refused

FORMATS = ("manifest", "coco", "csv")

#: The label types each format fits (``manifest`` fits every type).
FITS: Mapping[str, Tuple[str, ...]] = MappingProxyType({
    "coco": BOXES + SEGMENTATION,
    "csv": CLASSIFICATION + MULTI_LABEL,
})
_WHAT_FITS = MappingProxyType({
    "coco": "bounding boxes (incl. adjustment) and image semantic segmentation",
    "csv": "image and text classification, single and multi-label, and label verification",
})
CSV_HEADER = ("object", "labels", "confidence", "workers", "job", "created")


class Written(NamedTuple):
    """What a ``coco`` or ``csv`` writer did: records written (COCO images, CSV rows) and records skipped
    because they carry no label of the last stage yet."""

    written: int
    skipped: int


def check_fits(fmt: str, first_type: Optional[str], stage: Stage) -> None:
    """Raise ``LabelsError`` unless ``fmt`` can hold ``stage``'s labels.

    ``first_type`` is the ``label_type`` of the first record that carries ``stage``'s label, None when no
    record does (then the job has no labels yet, whatever the format).
    """
    if fmt not in FORMATS:
        raise LabelsError(f"Unknown format {fmt!r}: choose one of {', '.join(FORMATS)}.")
    if first_type is None:
        raise LabelsError(
            f"Job {stage.name} has no labels yet: no line of its output manifest carries its label attribute "
            f"{stage.label_attribute!r}, so there is nothing to export as {fmt}. Workers' answers reach the "
            "output manifest a few minutes after they submit; try again later.")
    if fmt == "manifest" or first_type in FITS[fmt]:
        return
    others = [other for other in FITS if other != fmt and first_type in FITS[other]] + ["manifest"]
    instead = " or ".join(f"--format {other}" for other in others)
    raise LabelsError(
        f"Format {fmt} does not fit job {stage.name}: its labels are of type {first_type}, and {fmt} holds "
        f"{_WHAT_FITS[fmt]} ({', '.join(FITS[fmt])}). Use {instead} instead.")


def write_manifest(records: Iterable[Mapping[str, Any]], out: TextIO) -> int:
    """One compact JSON line per record, keys in their order; returns the number of lines."""
    count = 0
    for record in records:
        out.write(json.dumps(dict(record), ensure_ascii=False, separators=(",", ":")))
        out.write("\n")
        count += 1
    return count


def _labeled(records: Iterable[Mapping[str, Any]], fmt: str, stage: Stage,
             skipped: List[int]) -> Iterator[Tuple[Mapping[str, Any], Any, Dict[str, Any]]]:
    """Each record with the last stage's label and its metadata; counts the others in ``skipped[0]``."""
    for record in records:
        kind = label_type(record, stage)
        if kind is None or stage.label_attribute not in record:
            skipped[0] += 1
            continue
        check_fits(fmt, kind, stage)
        yield record, record[stage.label_attribute], record[stage.metadata_attribute]


def _object(record: Mapping[str, Any]) -> str:
    return str(record.get("source-ref") or record.get("source") or "")


def write_csv(records: Iterable[Mapping[str, Any]], dataset: Dataset, out: TextIO) -> Written:
    """``object,labels,confidence,workers,job,created`` per record labeled by the last stage (``\\n`` line ends).

    Multi-label rows join the class names and their confidences (same order) with ``;``.
    """
    stage, skipped, written = dataset.last, [0], 0
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for record, label, metadata in _labeled(records, "csv", stage, skipped):
        if metadata.get("type") in MULTI_LABEL:
            indices = [str(index) for index in (label if isinstance(label, list) else [label])]
            names: Mapping[str, Any] = metadata.get("class-map") or {}
            confidences: Mapping[str, Any] = metadata.get("confidence-map") or {}
            labels = ";".join(str(names.get(index, _category(stage, index))) for index in indices)
            confidence = ";".join(str(confidences.get(index, "")) for index in indices)
        else:
            labels = str(metadata.get("class-name", _category(stage, label)))
            confidence = str(metadata.get("confidence", ""))
        job = metadata.get("job-name") or metadata.get("job_name") or ""
        created = metadata.get("creation-date") or metadata.get("creation_date") or ""
        writer.writerow((_object(record), labels, confidence, stage.workers, job, created))
        written += 1
    return Written(written, skipped[0])


def _category(stage: Stage, index: Any) -> str:
    """The name of class ``index`` in the job's label list, the index itself when the list has no such entry."""
    try:
        return stage.labels[int(index)]
    except (ValueError, TypeError, IndexError):
        return str(index)


def write_coco(records: Iterable[Mapping[str, Any]], dataset: Dataset, out: TextIO,
               read_object: Callable[[str], bytes]) -> Written:
    """One COCO document: ``categories`` (every label of the last stage, id = index + 1), one image per
    record labeled by the last stage (``file_name`` = its ``source-ref``), and its annotations.

    Boxes give one annotation per box (``bbox`` = [left, top, width, height]); a semantic-segmentation
    mask (read with ``read_object(uri)``) gives one annotation per class present, its pixels as COCO's
    uncompressed RLE (column-major ``counts``); pixels of BACKGROUND or of colours that are not in the
    label's ``internal-color-map`` belong to no annotation.
    """
    stage, skipped = dataset.last, [0]
    categories = [{"id": index + 1, "name": name, "supercategory": name} for index, name in enumerate(stage.labels)]
    out.write('{"info":' + _dumps({"description": f"Ground Truth labels of {stage.name}", "version": "1.0"}))
    out.write(',"licenses":[],"categories":' + _dumps(categories) + ',"images":[')
    written, annotations = 0, 0
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
        for record, label, metadata in _labeled(records, "coco", stage, skipped):
            image_id = written + 1
            with _malformed(stage, record):
                if metadata.get("type") in BOXES:
                    width, height, found = _boxes(stage, record, label)
                else:
                    width, height, found = _segments(stage, record, label, metadata, read_object)
                image = {"id": image_id, "file_name": _object(record), "width": width, "height": height}
                entries = [_dumps({"image_id": image_id, **annotation}) for annotation in found]
            out.write(("," if written else "") + _dumps(image))
            written += 1
            for entry in entries:
                annotations += 1
                spool.write(("," if annotations > 1 else "") + '{"id":' + str(annotations) + "," + entry[1:])
        out.write('],"annotations":[')
        spool.seek(0)
        shutil.copyfileobj(spool, out)
    out.write("]}\n")
    return Written(written, skipped[0])


@contextmanager
def _malformed(stage: Stage, record: Mapping[str, Any]) -> Iterator[None]:
    """A label that is not in Ground Truth's documented shape (a field missing, a corrupt mask), or a mask
    that cannot be read, as one sentence naming the object."""
    try:
        yield
    except ClientError as error:
        raise refused(error, str(record.get(stage.label_attribute)), stage.name, "the mask") from error
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, zlib.error, struct.error) as error:
        raise LabelsError(f"Job {stage.name}'s label of {_object(record)} is not in Ground Truth's documented "
                          f"format ({type(error).__name__}: {error}); --format manifest writes it as it is.") from error


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _class_number(stage: Stage, index: int, record: Mapping[str, Any]) -> int:
    """COCO's ``category_id`` of the job's class ``index``."""
    if not 0 <= index < len(stage.labels):
        raise LabelsError(
            f"Job {stage.name} labeled {_object(record)} with class {index}, which is not in its "
            f"{len(stage.labels)} label categories ({', '.join(stage.labels) or 'none'}): COCO cannot name it. "
            "Use --format manifest for the labels as Ground Truth wrote them.")
    return index + 1


def _boxes(stage: Stage, record: Mapping[str, Any],
           label: Any) -> Tuple[int, int, Iterator[Dict[str, Any]]]:
    sizes = label.get("image_size") if isinstance(label, dict) else None
    if not sizes:
        raise LabelsError(f"Job {stage.name}'s label of {_object(record)} has no image_size: COCO needs the image's "
                          "width and height. Use --format manifest.")
    width, height = int(sizes[0]["width"]), int(sizes[0]["height"])
    boxes: List[Dict[str, Any]] = list(label.get("annotations") or [])

    def annotations() -> Iterator[Dict[str, Any]]:
        for box in boxes:
            left, top, box_width, box_height = box["left"], box["top"], box["width"], box["height"]
            yield {"category_id": _class_number(stage, int(box["class_id"]), record),
                   "bbox": [left, top, box_width, box_height], "area": box_width * box_height, "iscrowd": 0}

    return width, height, annotations()


def _segments(stage: Stage, record: Mapping[str, Any], label: Any, metadata: Mapping[str, Any],
              read_object: Callable[[str], bytes]) -> Tuple[int, int, Iterator[Dict[str, Any]]]:
    try:
        width, height, rows = read_png(read_object(str(label)))
    except ValueError as error:
        raise LabelsError(f"Job {stage.name}'s mask of {_object(record)} ({label}) cannot be read: {error}.") from None
    # A byte per pixel: the index of its colour's class in the color map (0: BACKGROUND or no class).
    colors: Dict[bytes, int] = {}
    numbers: List[int] = [0]
    for index, entry in sorted((metadata.get("internal-color-map") or {}).items(), key=lambda item: int(item[0])):
        if str(index) == "0" or not isinstance(entry, dict) or "hex-color" not in entry:
            continue  # BACKGROUND
        name = entry.get("class-name")
        position = stage.labels.index(name) if name in stage.labels else int(index) - 1
        numbers.append(_class_number(stage, position, record))
        colors[bytes(parse_hex(str(entry["hex-color"])))] = len(numbers) - 1
    if len(numbers) > 255:
        raise LabelsError(f"Job {stage.name}'s mask of {_object(record)} has more than 254 classes.")
    pixels = bytearray()
    for row in rows:
        pixels += bytes([colors.get(row[x : x + 3], 0) for x in range(0, 3 * width, 3)])
    column_major = b"".join(bytes(pixels[x::width]) for x in range(width))
    del pixels, rows

    def annotations() -> Iterator[Dict[str, Any]]:
        for slot in sorted(set(column_major) - {0}):
            counts, area, previous = [], 0, 0
            left, right, top, bottom = width, -1, height, -1
            for run in re.finditer(re.escape(bytes([slot])) + b"+", column_major):
                start, end = run.span()
                counts += [start - previous, end - start]
                area += end - start
                previous = end
                first_x, last_x = start // height, (end - 1) // height
                left, right = min(left, first_x), max(right, last_x)
                if first_x != last_x:
                    top, bottom = 0, height - 1
                else:
                    top, bottom = min(top, start % height), max(bottom, (end - 1) % height)
            if previous < len(column_major):
                counts.append(len(column_major) - previous)
            yield {"category_id": numbers[slot], "segmentation": {"size": [height, width], "counts": counts},
                   "area": area, "bbox": [left, top, right - left + 1, bottom - top + 1], "iscrowd": 0}

    return width, height, annotations()
