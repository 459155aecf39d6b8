"""The export formats (labels/formats.py) on records shaped like AWS's output-manifest examples (DG sms-data-output).

COCO is loaded by pycocotools, the reference reader: its boxes must be the labels' boxes, and for semantic
segmentation ``annToMask`` must give back the mask's pixels of each class.
"""

from __future__ import annotations

import csv
import io
import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Sequence, Tuple

import numpy as np
import pytest
from pycocotools.coco import COCO

from streaming_labeling import imaging
from streaming_labeling.labels import formats
from streaming_labeling.labels.formats import Written, check_fits, write_coco, write_csv, write_manifest
from streaming_labeling.labels.model import Dataset, LabelsError, Stage

# pycocotools 2.0.11's annToMask on numpy 2 (harmless: the mask is copied).
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

CREATED = "2018-10-18T22:18:13.527256"


def stage(name: str, attribute: str, labels: Sequence[str], workers: int = 3) -> Stage:
    return Stage(job_names=(f"{name}-gen1", name), label_attribute=attribute, labels=tuple(labels), workers=workers,
                 manifest_uris=(f"s3://out/{name}-gen1/manifests/output/output.manifest",
                                f"s3://out/{name}/manifests/output/output.manifest"))


def metadata(kind: str, job: str, **extra: Any) -> Dict[str, Any]:
    return {**extra, "type": kind, "human-annotated": "yes", "creation-date": CREATED, "job-name": job}


# --- records after the skeletons of reference §4.3 -------------------------------------------------------------

DOG_LABELS = ("dog", "cat", "ball", "toy", "person", "bone")
BOXES_STAGE = stage("identify-dogs-and-toys", "bounding-box-attribute-name", DOG_LABELS)


def box_record(source: str, size: Tuple[int, int], boxes: Sequence[Tuple[int, int, int, int, int]],
               attribute: str = "bounding-box-attribute-name", job: str = "identify-dogs-and-toys",
               **extra: Any) -> Dict[str, Any]:
    label = {"image_size": [{"width": size[0], "height": size[1], "depth": 3}],
             "annotations": [{"class_id": c, "left": left, "top": top, "width": w, "height": h}
                             for c, left, top, w, h in boxes]}
    meta = metadata("groundtruth/object-detection", job, objects=[{"confidence": 0.9} for _ in boxes],
                    **{"class-map": {str(c): DOG_LABELS[c] for c, *_ in boxes}}, **extra)
    return {"source-ref": source, attribute: label, f"{attribute}-metadata": meta}


BOX_RECORDS = [
    # DG's bounding-box example: a dog and two bones in a 500 x 400 image.
    box_record("s3://AWSDOC-EXAMPLE-BUCKET/example_image.png", (500, 400),
               [(0, 111, 134, 61, 128), (5, 161, 250, 30, 30), (5, 20, 20, 30, 30)]),
    box_record("s3://AWSDOC-EXAMPLE-BUCKET/cat.jpg", (640, 480), [(1, 0, 0, 640, 480)]),
    box_record("s3://AWSDOC-EXAMPLE-BUCKET/empty.jpg", (320, 200), []),  # labeled: nothing to box
]

ADJUST_STAGES = (BOXES_STAGE, stage("adjust-bounding-boxes", "adjusted-bounding-box", DOG_LABELS, workers=1))


def adjusted(record: Dict[str, Any], boxes: Sequence[Tuple[int, int, int, int, int]], status: str) -> Dict[str, Any]:
    size = record["bounding-box-attribute-name"]["image_size"][0]
    upper = box_record(record["source-ref"], (size["width"], size["height"]), boxes, attribute="adjusted-bounding-box",
                       job="adjust-bounding-boxes", **{"adjustment-status": status})
    return {**record, **{k: v for k, v in upper.items() if k != "source-ref"}}


ADJUSTED_RECORDS = [
    adjusted(BOX_RECORDS[0], [(0, 110, 130, 65, 130), (5, 161, 250, 30, 30)], "adjusted"),
    adjusted(BOX_RECORDS[1], [(1, 0, 0, 640, 480)], "unadjusted"),
]

BACKGROUND, BUILDINGS, ROAD, UNMAPPED = (255, 255, 255), (0x2A, 0xCF, 0x59), (0xF2, 0x83, 0x33), (1, 2, 3)
COLOR_MAP = {"0": {"class-name": "BACKGROUND", "confidence": 0.9, "hex-color": "#ffffff"},
             "1": {"class-name": "buildings", "confidence": 0.9, "hex-color": "#2acf59"},
             "2": {"class-name": "road", "confidence": 0.9, "hex-color": "#F28333"}}
# 9 x 6 (not square, so that row- and column-major differ): buildings in two places, a road, a stray colour.
MASKS = {
    "s3://out/label-city-streets/annotations/consolidated-annotation/output/0_2018-10-18T22:18:13.png":
        imaging.rectangles_png(9, 6, BACKGROUND, [(BUILDINGS, 0, 0, 3, 2), (BUILDINGS, 6, 1, 3, 4),
                                                  (ROAD, 0, 4, 9, 2), (UNMAPPED, 4, 0, 1, 1)]),
    "s3://out/label-city-streets/annotations/consolidated-annotation/output/1_2018-10-18T22:18:14.png":
        imaging.rectangles_png(4, 3, BACKGROUND, [(ROAD, 1, 1, 2, 2)]),  # no buildings here
}


def segmentation_record(index: int, mask_uri: str) -> Dict[str, Any]:
    return {"source-ref": f"s3://AWSDOC-EXAMPLE-BUCKET/example_city_image_{index}.png", "city-streets-ref": mask_uri,
            "city-streets-ref-metadata": metadata("groundtruth/semantic-segmentation", "label-city-streets",
                                                  **{"internal-color-map": COLOR_MAP})}


SEGMENTATION_RECORDS = [segmentation_record(index, uri) for index, uri in enumerate(MASKS)]


def classification(source_key: str, source: str, attribute: str, kind: str, label: Any, name: str,
                   confidence: float, job: str) -> Dict[str, Any]:
    return {source_key: source, attribute: label,
            f"{attribute}-metadata": metadata(kind, job, **{"class-name": name, "confidence": confidence})}


def multi_label(source_key: str, source: str, attribute: str, kind: str, chosen: Mapping[int, Tuple[str, float]],
                job: str) -> Dict[str, Any]:
    return {source_key: source, attribute: list(chosen),
            f"{attribute}-metadata": metadata(kind, job, **{
                "class-map": {str(i): name for i, (name, _) in chosen.items()},
                "confidence-map": {str(i): confidence for i, (_, confidence) in chosen.items()}})}


# --- COCO ------------------------------------------------------------------------------------------------------

def coco_of(tmp_path: Path, records: Sequence[Mapping[str, Any]], dataset: Dataset) -> Tuple[COCO, Written]:
    path = tmp_path / "labels.json"
    with path.open("w", encoding="utf-8") as out:
        written = write_coco(iter(records), dataset, out, lambda uri: MASKS[uri])
    return COCO(str(path)), written


@pytest.mark.parametrize("records, dataset", [
    pytest.param(BOX_RECORDS, Dataset((BOXES_STAGE,)), id="bounding-box"),
    pytest.param(ADJUSTED_RECORDS, Dataset(ADJUST_STAGES), id="adjustment"),
])
def test_coco_boxes_are_the_last_stages_boxes(tmp_path: Path, records: List[Dict[str, Any]], dataset: Dataset) -> None:
    coco, written = coco_of(tmp_path, records, dataset)
    assert written == Written(len(records), 0)
    attribute = dataset.last.label_attribute
    assert [(c["id"], c["name"]) for c in coco.loadCats(coco.getCatIds())] == list(enumerate(DOG_LABELS, start=1))
    images = coco.loadImgs(coco.getImgIds())
    assert [image["file_name"] for image in images] == [record["source-ref"] for record in records]
    for image, record in zip(images, records, strict=True):
        label = record[attribute]
        assert (image["width"], image["height"]) == (label["image_size"][0]["width"], label["image_size"][0]["height"])
        found = coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]]))
        assert [(coco.cats[a["category_id"]]["name"], a["bbox"], a["area"], a["iscrowd"]) for a in found] == [
            (DOG_LABELS[b["class_id"]], [b["left"], b["top"], b["width"], b["height"]], b["width"] * b["height"], 0)
            for b in label["annotations"]]
    assert len(coco.getAnnIds()) == sum(len(r[attribute]["annotations"]) for r in records)


def pixels_of(mask: bytes, color: Tuple[int, int, int]) -> np.ndarray:
    width, height, rows = imaging.read_png(mask)
    image = np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(height, width, 3)
    return np.all(image == np.array(color, dtype=np.uint8), axis=2).astype(np.uint8)


@pytest.mark.parametrize("labels", [
    pytest.param(("buildings", "road", "sky"), id="color-map-in-label-order"),
    pytest.param(("sky", "road", "buildings"), id="classes-named-by-class-name"),
])
def test_coco_segmentation_rle_gives_back_each_class_pixels(tmp_path: Path, labels: Tuple[str, ...]) -> None:
    dataset = Dataset((stage("label-city-streets", "city-streets-ref", labels),))
    coco, written = coco_of(tmp_path, SEGMENTATION_RECORDS, dataset)
    assert written == Written(2, 0)
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == list(labels)  # every label, present or not
    colors = {"buildings": BUILDINGS, "road": ROAD}
    for image, mask in zip(coco.loadImgs(coco.getImgIds()), MASKS.values(), strict=True):
        width, height, _ = imaging.read_png(mask)
        assert (image["width"], image["height"]) == (width, height)
        found = coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]]))
        expected = {name: pixels_of(mask, color) for name, color in colors.items() if pixels_of(mask, color).any()}
        assert sorted(coco.cats[a["category_id"]]["name"] for a in found) == sorted(expected)
        for annotation in found:
            name = coco.cats[annotation["category_id"]]["name"]
            assert annotation["segmentation"]["size"] == [height, width]
            np.testing.assert_array_equal(coco.annToMask(annotation), expected[name])
            ys, xs = np.nonzero(expected[name])
            assert annotation["area"] == int(expected[name].sum())
            assert annotation["bbox"] == [int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1),
                                          int(ys.max() - ys.min() + 1)]


def test_coco_is_written_while_the_records_arrive(tmp_path: Path) -> None:
    """Each image is in the output before the next record is read: nothing per record is held back."""
    out = io.StringIO()
    seen: List[bool] = []

    def records() -> Iterator[Dict[str, Any]]:
        for index in range(50):
            if index:
                seen.append(f'"file_name":"s3://b/{index - 1}.jpg"' in out.getvalue())
            yield box_record(f"s3://b/{index}.jpg", (10, 10), [(index % 6, 1, 1, 2, 2)])

    assert write_coco(records(), Dataset((BOXES_STAGE,)), out, lambda uri: b"") == Written(50, 0)
    assert seen == [True] * 49
    document = json.loads(out.getvalue())
    assert [a["image_id"] for a in document["annotations"]] == list(range(1, 51))
    assert [a["id"] for a in document["annotations"]] == list(range(1, 51))


def test_coco_of_no_records_is_a_valid_document(tmp_path: Path) -> None:
    coco, written = coco_of(tmp_path, [], Dataset((BOXES_STAGE,)))
    assert written == Written(0, 0)
    assert coco.getImgIds() == [] and len(coco.getCatIds()) == len(DOG_LABELS)


def test_a_class_id_outside_the_jobs_labels_is_an_error() -> None:
    record = box_record("s3://b/odd.jpg", (10, 10), [(0, 1, 1, 2, 2)])
    record["bounding-box-attribute-name"]["annotations"][0]["class_id"] = 9
    with pytest.raises(LabelsError, match=r"identify-dogs-and-toys labeled s3://b/odd.jpg with class 9"):
        write_coco([record], Dataset((BOXES_STAGE,)), io.StringIO(), lambda uri: b"")


# --- CSV -------------------------------------------------------------------------------------------------------

CSV_CASES = [
    pytest.param(
        ("dog", "cat"),
        classification("source-ref", "s3://AWSDOC-EXAMPLE-BUCKET/example_image.jpg", "species",
                       "groundtruth/image-classification", 0, "dog", 0.87, "identify-animal-species"),
        ["s3://AWSDOC-EXAMPLE-BUCKET/example_image.jpg", "dog", "0.87", "3", "identify-animal-species", CREATED],
        id="image-classification"),
    pytest.param(
        ("positive", "negative"),
        classification("source", "The food was delicious, but the service was slow; «très» lent", "mood",
                       "groundtruth/text-classification", "1", "negative", 0.8, "label-sentiment"),
        ["The food was delicious, but the service was slow; «très» lent", "negative", "0.8", "3", "label-sentiment",
         CREATED],
        id="text-classification"),
    pytest.param(
        ("bird", "cat", "fish", "horse", "cow", "dog"),
        multi_label("source-ref", "s3://AWSDOC-EXAMPLE-BUCKET/example_image.jpg", "image-label-attribute-name",
                    "groundtruth/image-classification-multilabel", {5: ("dog", 0.8), 1: ("cat", 0.9)},
                    "labeling-job/image-label-attribute-name"),
        ["s3://AWSDOC-EXAMPLE-BUCKET/example_image.jpg", "dog;cat", "0.8;0.9", "3",
         "labeling-job/image-label-attribute-name", CREATED],
        id="image-multi-label"),
    pytest.param(
        ("sports", "politics", "weather"),
        multi_label("source-ref", "S3 bucket location", "text-label-attribute-name",
                    "groundtruth/text-classification-multilabel", {0: ("sports", 0.0), 2: ("weather", 0.0)},
                    "labeling-job/text-label-attribute-name"),
        ["S3 bucket location", "sports;weather", "0.0;0.0", "3", "labeling-job/text-label-attribute-name", CREATED],
        id="text-multi-label"),
    pytest.param(
        ("sports", "politics"),
        multi_label("source", "nothing applies", "topics", "groundtruth/text-classification-multilabel", {}, "topics"),
        ["nothing applies", "", "", "3", "topics", CREATED],
        id="multi-label-none-chosen"),
    pytest.param(
        ("correct", "incorrect"),
        classification("source-ref", "s3://AWSDOC-EXAMPLE-BUCKET/image.png", "verify-bounding-box",
                       "groundtruth/label-verification", "1", "incorrect", 0.93, "verify-bounding-boxes"),
        ["s3://AWSDOC-EXAMPLE-BUCKET/image.png", "incorrect", "0.93", "3", "verify-bounding-boxes", CREATED],
        id="label-verification"),
]


@pytest.mark.parametrize("labels, record, row", CSV_CASES)
def test_csv_row_per_labeled_object(labels: Tuple[str, ...], record: Dict[str, Any], row: List[str]) -> None:
    attribute = next(key[: -len("-metadata")] for key in record if key.endswith("-metadata"))
    dataset = Dataset((stage(record[f"{attribute}-metadata"]["job-name"], attribute, labels),))
    out = io.StringIO()
    assert write_csv([record, record], dataset, out) == Written(2, 0)
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [list(formats.CSV_HEADER), row, row]


def test_csv_and_coco_skip_objects_the_last_stage_has_not_labeled() -> None:
    """A pipeline's record that carries only upstream labels is skipped and counted, not written."""
    only_upstream = BOX_RECORDS[2]
    records = [ADJUSTED_RECORDS[0], only_upstream, ADJUSTED_RECORDS[1]]
    out = io.StringIO()
    assert write_coco(records, Dataset(ADJUST_STAGES), out, lambda uri: b"") == Written(2, 1)
    assert [image["file_name"] for image in json.loads(out.getvalue())["images"]] == [
        ADJUSTED_RECORDS[0]["source-ref"], ADJUSTED_RECORDS[1]["source-ref"]]

    upstream = stage("classify", "category", ("dog", "cat"))
    verify = stage("verify", "verified", ("correct", "incorrect"))
    labeled = classification("source-ref", "s3://b/a.jpg", "category", "groundtruth/image-classification", 0, "dog",
                             0.5, "classify")
    both = {**labeled, **classification("source-ref", "s3://b/a.jpg", "verified", "groundtruth/label-verification",
                                         0, "correct", 0.9, "verify")}
    out = io.StringIO()
    assert write_csv([labeled, both, labeled], Dataset((upstream, verify)), out) == Written(1, 2)
    assert [row[:2] for row in csv.reader(io.StringIO(out.getvalue()))] == [["object", "labels"],
                                                                            ["s3://b/a.jpg", "correct"]]


# --- manifest --------------------------------------------------------------------------------------------------

ALL_RECORDS = BOX_RECORDS + ADJUSTED_RECORDS + SEGMENTATION_RECORDS + [case.values[1] for case in CSV_CASES]


def test_manifest_lines_round_trip_with_their_key_order() -> None:
    out = io.StringIO()
    assert write_manifest(iter(ALL_RECORDS), out) == len(ALL_RECORDS)
    lines = out.getvalue().split("\n")
    assert lines[-1] == "" and len(lines) == len(ALL_RECORDS) + 1
    for line, record in zip(lines[:-1], ALL_RECORDS, strict=True):
        assert json.loads(line) == record
        assert list(json.loads(line)) == list(record)  # key order kept
        assert line == json.dumps(record, ensure_ascii=False, separators=(",", ":"))  # compact, non-ASCII as is
    assert "«très»" in out.getvalue()


# --- check_fits ------------------------------------------------------------------------------------------------

FITS_CASES = [
    # (format, label type, formats the message must offer instead)
    ("coco", "groundtruth/image-classification", ("csv", "manifest")),
    ("coco", "groundtruth/text-classification-multilabel", ("csv", "manifest")),
    ("coco", "groundtruth/text-span", ("manifest",)),
    ("coco", "groundTruth/custom", ("manifest",)),
    ("csv", "groundtruth/object-detection", ("coco", "manifest")),
    ("csv", "groundtruth/semantic-segmentation", ("coco", "manifest")),
    ("csv", "groundtruth/video-object-tracking", ("manifest",)),
]


@pytest.mark.parametrize("fmt, kind, instead", FITS_CASES)
def test_a_format_that_does_not_fit_names_format_job_type_and_what_to_use(fmt: str, kind: str,
                                                                          instead: Tuple[str, ...]) -> None:
    job = stage("my-job-7", "label", ("a", "b"))
    with pytest.raises(LabelsError) as raised:
        check_fits(fmt, kind, job)
    message = str(raised.value)
    assert f"Format {fmt} " in message and "my-job-7" in message and kind in message
    assert message.endswith(f"Use {' or '.join(f'--format {other}' for other in instead)} instead.")
    assert ", ".join(formats.FITS[fmt]) in message  # what the format fits


@pytest.mark.parametrize("fmt", formats.FORMATS)
def test_no_labels_yet_names_the_format_and_the_job(fmt: str) -> None:
    with pytest.raises(LabelsError, match=rf"^Job my-job-7 has no labels yet: .*'label'.* as {fmt}\."):
        check_fits(fmt, None, stage("my-job-7", "label", ("a",)))


@pytest.mark.parametrize("fmt, kind", [
    ("manifest", "groundTruth/custom"), ("manifest", "groundtruth/object-detection"),
    ("coco", "groundtruth/object-detection"), ("coco", "groundtruth/semantic-segmentation"),
    ("csv", "groundtruth/image-classification"), ("csv", "groundtruth/text-classification"),
    ("csv", "groundtruth/label-verification"), ("csv", "groundtruth/image-classification-multilabel"),
])
def test_a_format_that_fits_passes(fmt: str, kind: str) -> None:
    assert check_fits(fmt, kind, stage("j", "label", ())) is None


def test_an_unknown_format_is_an_error_naming_the_formats() -> None:
    with pytest.raises(LabelsError, match=r"Unknown format 'xml': choose one of manifest, coco, csv\."):
        check_fits("xml", "groundtruth/object-detection", stage("j", "label", ()))


def test_a_record_of_another_type_mid_stream_stops_the_writer() -> None:
    odd = classification("source-ref", "s3://b/x.jpg", "bounding-box-attribute-name",
                         "groundtruth/image-classification", 0, "dog", 0.5, "identify-dogs-and-toys")
    with pytest.raises(LabelsError, match="Format coco does not fit job identify-dogs-and-toys"):
        write_coco([BOX_RECORDS[0], odd], Dataset((BOXES_STAGE,)), io.StringIO(), lambda uri: b"")


# --- imaging ---------------------------------------------------------------------------------------------------

def palette_png(width: int, height: int, palette: Sequence[Tuple[int, int, int]], indices: bytes,
                filter_type: int = 0) -> bytes:
    chunk = imaging._chunk  # the PNG chunk writer
    raw = b"".join(bytes([filter_type]) + indices[y * width:(y + 1) * width] for y in range(height))
    if filter_type == 2:  # Up: each byte minus the one above
        rows = [indices[y * width:(y + 1) * width] for y in range(height)]
        raw = b"".join(b"\x02" + bytes((b - (rows[y - 1][x] if y else 0)) & 0xFF for x, b in enumerate(row))
                       for y, row in enumerate(rows))
    header = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)
    return (imaging.PNG_SIGNATURE + chunk(b"IHDR", header) + chunk(b"PLTE", b"".join(bytes(c) for c in palette))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("filter_type", [0, 2])
def test_read_png_reads_palette_masks_as_rgb(filter_type: int) -> None:
    png = palette_png(3, 2, [BACKGROUND, ROAD], bytes([0, 1, 0, 1, 1, 0]), filter_type)
    width, height, rows = imaging.read_png(png)
    assert (width, height) == (3, 2)
    assert rows == [bytes(BACKGROUND + ROAD + BACKGROUND), bytes(ROAD + ROAD + BACKGROUND)]


def test_testing_images_keeps_its_names() -> None:
    from streaming_labeling.testing import images

    for name in images.__all__:
        assert getattr(images, name) is getattr(imaging, name)


def test_the_formats_import_neither_the_testing_package_nor_moto() -> None:
    code = ("import sys, streaming_labeling.labels.formats; "
            "print([m for m in sys.modules if m.startswith(('streaming_labeling.testing', 'moto', 'aws_cdk'))])")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"
