"""Image sizes from PNG and JPEG headers, and PNG masks written and read with zlib and struct.

The simulated workforce draws boxes and masks within an object's real size, as a worker's
browser would, and semantic segmentation answers are PNG images. The helpers live in
``streaming_labeling.imaging`` (standard library only, so that the labels export reads masks
without the ``testing`` extra); this module keeps their former names.
"""

from __future__ import annotations

from ..imaging import (
    PNG_SIGNATURE,
    RGB,
    ImageSize,
    hex_color,
    image_size,
    parse_hex,
    read_png,
    rectangles_png,
    write_png,
)

__all__ = ["PNG_SIGNATURE", "RGB", "ImageSize", "image_size", "write_png", "rectangles_png", "read_png",
           "hex_color", "parse_hex"]
