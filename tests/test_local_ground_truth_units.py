"""The local Ground Truth's standard-library parts: image headers, PNG masks, the model's Unicode patterns."""

from __future__ import annotations

import struct

import pytest

from streaming_labeling.testing import images, model
from streaming_labeling.testing.clock import Clock


def jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


def test_image_sizes_come_from_png_and_jpeg_headers() -> None:
    assert images.image_size(images.rectangles_png(7, 5, (0, 0, 0), [])) == images.ImageSize(7, 5, 3)
    assert images.image_size(jpeg(640, 480)) == images.ImageSize(640, 480, 3)
    assert images.image_size(b"GIF89a") is None


def test_a_mask_round_trips_with_its_colors() -> None:
    png = images.rectangles_png(4, 3, (255, 255, 255), [((44, 160, 44), 1, 1, 2, 1)])
    width, height, rows = images.read_png(png)
    assert (width, height) == (4, 3)
    assert rows[1][3:9] == bytes((44, 160, 44)) * 2 and rows[0] == b"\xff" * 12


@pytest.mark.parametrize("value, ok", [("team é 1", True), ("a_b.c:d/e=f+g-h@i", True), ("bad!", False)])
def test_unicode_patterns_match_with_or_without_the_regex_package(monkeypatch: pytest.MonkeyPatch, value: str,
                                                                  ok: bool) -> None:
    pattern = model.input_shape("AddTags").members["Tags"].member.members["Key"].metadata["pattern"]
    assert model.matches(pattern, value) is ok
    monkeypatch.setattr(model, "_regex", None)
    model._matcher.cache_clear()
    try:
        assert model.matches(pattern, value) is ok
    finally:
        model._matcher.cache_clear()


def test_the_clock_moves_forward_and_tells_its_listeners() -> None:
    clock, heard = Clock(), []
    clock.add_listener(heard.append)
    before = clock.now()
    clock.advance(days=10, seconds=1)
    assert clock.now() - before >= 864001 and len(heard) == 1 and heard[0] >= before + 864001
    with pytest.raises(ValueError):
        clock.advance(-1)
