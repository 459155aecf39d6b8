"""Image sizes from PNG and JPEG headers, and PNG masks written and read with zlib and struct.

Standard library only: the labels export reads semantic-segmentation masks with it (without the
``testing`` extra), and the local Ground Truth's simulated workforce draws boxes and masks with it
(``streaming_labeling.testing.images`` re-exports these names).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from types import MappingProxyType
from typing import List, Optional, Sequence, Tuple

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RGB = Tuple[int, int, int]

__all__ = ["PNG_SIGNATURE", "RGB", "ImageSize", "image_size", "write_png", "rectangles_png", "read_png",
           "hex_color", "parse_hex"]


@dataclass(frozen=True)
class ImageSize:
    width: int
    height: int
    depth: int


def image_size(data: bytes) -> Optional[ImageSize]:
    """The size of a PNG or JPEG image from its header; None for anything else."""
    if data.startswith(PNG_SIGNATURE) and len(data) >= 26 and data[12:16] == b"IHDR":
        width, height, _bits, color_type = struct.unpack(">IIBB", data[16:26])
        depth = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}.get(color_type, 3)
        return ImageSize(width, height, depth)
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    return None


def _jpeg_size(data: bytes) -> Optional[ImageSize]:
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            position += 2
            continue
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        # SOF0..SOF15 carry the frame size, except DHT (C4), JPG (C8) and DAC (CC).
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC) and position + 10 <= len(data):
            height, width = struct.unpack(">HH", data[position + 5 : position + 9])
            return ImageSize(width, height, data[position + 9])
        position += 2 + length
    return None


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def write_png(width: int, height: int, rows: Sequence[bytes]) -> bytes:
    """An 8-bit RGB PNG; ``rows`` are ``height`` rows of ``3 * width`` bytes each."""
    raw = b"".join(b"\x00" + row for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 6)) + _chunk(b"IEND", b"")


def rectangles_png(width: int, height: int, background: RGB, boxes: Sequence[Tuple[RGB, int, int, int, int]]) -> bytes:
    """A mask: ``background`` everywhere, then each ``(color, left, top, box_width, box_height)`` filled."""
    rows: List[bytearray] = [bytearray(bytes(background) * width) for _ in range(height)]
    for color, left, top, box_width, box_height in boxes:
        left, top = max(0, left), max(0, top)
        right, bottom = min(width, left + box_width), min(height, top + box_height)
        if right <= left or bottom <= top:
            continue
        span = bytes(color) * (right - left)
        for y in range(top, bottom):
            rows[y][3 * left : 3 * right] = span
    return write_png(width, height, [bytes(row) for row in rows])


#: Bytes per pixel of the 8-bit colour types ``read_png`` reads: grey, RGB, palette, RGBA.
_CHANNELS = MappingProxyType({0: 1, 2: 3, 3: 1, 6: 4})


def read_png(data: bytes) -> Tuple[int, int, List[bytes]]:
    """Width, height and RGB rows of a non-interlaced 8-bit RGB, RGBA, palette or grey PNG (what masks are)."""
    if not data.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG")
    position, idat, width, height, color_type, palette = 8, b"", 0, 0, 2, b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind, body = data[position + 4 : position + 8], data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width, height, bits, color_type, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if bits != 8 or color_type not in _CHANNELS or interlace:
                raise ValueError("only 8-bit RGB, RGBA, palette or grey, non-interlaced PNGs are read")
        elif kind == b"PLTE":
            palette = body
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    if color_type == 3 and not palette:
        raise ValueError("a palette PNG without a PLTE chunk")
    channels = _CHANNELS[color_type]
    stride = width * channels
    raw = zlib.decompress(idat)
    rows: List[bytes] = []
    previous: bytearray = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        filter_type = raw[start]
        line = bytearray(raw[start + 1 : start + 1 + stride])
        if filter_type:  # 0 (None) leaves the line as it is
            _unfilter(filter_type, line, previous, channels)
        previous = line
        rows.append(_rgb(line, color_type, palette, width))
    return width, height, rows


def _unfilter(filter_type: int, line: bytearray, previous: bytearray, channels: int) -> None:
    for x in range(len(line)):
        left = line[x - channels] if x >= channels else 0
        up = previous[x]
        if filter_type == 1:
            line[x] = (line[x] + left) & 0xFF
        elif filter_type == 2:
            line[x] = (line[x] + up) & 0xFF
        elif filter_type == 3:
            line[x] = (line[x] + (left + up) // 2) & 0xFF
        elif filter_type == 4:
            corner = previous[x - channels] if x >= channels else 0
            estimate = left + up - corner
            pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
            predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
            line[x] = (line[x] + predictor) & 0xFF


def _rgb(line: bytearray, color_type: int, palette: bytes, width: int) -> bytes:
    if color_type == 2:
        return bytes(line)
    rgb = bytearray(3 * width)
    if color_type == 6:
        rgb[0::3], rgb[1::3], rgb[2::3] = line[0::4], line[1::4], line[2::4]
    elif color_type == 0:
        rgb[0::3] = rgb[1::3] = rgb[2::3] = line
    else:
        reds, greens, blues = (bytes(palette[c::3]).ljust(256, b"\x00") for c in range(3))
        rgb[0::3], rgb[1::3], rgb[2::3] = line.translate(reds), line.translate(greens), line.translate(blues)
    return bytes(rgb)


def hex_color(color: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*color)


def parse_hex(text: str) -> RGB:
    value = text.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)
