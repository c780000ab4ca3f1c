"""A JPEG checked and stripped of its metadata by walking its segments, without decoding a pixel.

Decoding a camera's 24-megapixel JPEG takes a quarter of a second and re-encoding it as long again: too much for
the editor's save. Its structure is checked here instead (every segment where its length says, one frame, the
tables the decoder would refuse if malformed, each scan's data ending at a marker, and the file ending in EOI), and
it is copied segment by segment, keeping only what the pixels need: the tables, the frame, the scans, Adobe's
colour-transform flag, the ICC profile and a new EXIF block holding the orientation alone. The worker applies
those two later (images.finished) and drops them. Plain functions on bytes; no Pillow, no Django.
"""

import re
import struct
from dataclasses import dataclass

# Baseline, extended and progressive Huffman frames: what cameras and phones write. Arithmetic-coded, lossless and
# hierarchical JPEGs take the decoding path (images.clean).
FRAMES = {0xC0, 0xC1, 0xC2}
PROGRESSIVE = 0xC2
OTHER_FRAMES = {0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
DHT, DQT, DRI, DNL, SOS, EOI, APP1, APP2, APP14, COM = 0xC4, 0xDB, 0xDD, 0xDC, 0xDA, 0xD9, 0xE1, 0xE2, 0xEE, 0xFE
ORIENTATION = 0x0112
# Inside a scan, 0xFF is followed by 0 (a stuffed byte) or a restart marker; anything else is the next segment's
# marker, or the fill bytes before it.
NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7]")


class Damaged(ValueError):
    """The file breaks the JPEG structure where a decoder would (the message says where)."""


class TooManyPixels(Exception):
    """The frame header declares more pixels than the limit."""


class NotHandled(Exception):
    """A JPEG of a kind this module leaves to Pillow (an unusual frame type, CMYK, a height set after the scan)."""


@dataclass(frozen=True)
class Stripped:
    data: bytes
    width: int  # upright, as shown once the orientation is applied
    height: int
    orientation: int


def strip(data, max_pixels):
    """The JPEG in `data` without metadata; or Damaged, TooManyPixels (checked as soon as the frame header is read,
    before anything past it), or NotHandled."""
    if data[:3] != b"\xff\xd8\xff":
        raise NotHandled("not a JPEG")
    view = memoryview(data)
    kept = [view[:2]]
    orientation = 1
    frame = None  # (width, height, {component id: quantisation table}, progressive)
    quant_tables, scans = set(), 0
    position = 2
    while True:
        start = position
        if data[position : position + 1] != b"\xff":
            raise Damaged(f"no marker at byte {position}" if position < len(data) else "the file ends early")
        while data[position : position + 1] == b"\xff":
            position += 1
        if position >= len(data):
            raise Damaged("the file ends early")
        marker = data[position]
        position += 1
        if marker == EOI:
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # restart and TEM markers stand alone; decoders skip them
            continue
        if len(data) < position + 2:
            raise Damaged("the file ends early")
        (length,) = struct.unpack_from(">H", data, position)
        end = position + length
        if length < 2 or end > len(data):
            raise Damaged("the file ends early" if end > len(data) else f"a bad segment length at byte {position}")
        body = view[position + 2 : end]
        position = end
        if 0xE0 <= marker <= 0xEF or marker == COM:
            if marker == APP1 and body[:6] == b"Exif\x00\x00" and orientation == 1:
                orientation = exif_orientation(body[6:])
            elif marker == APP2 and body[:12] == b"ICC_PROFILE\x00":
                kept.append(view[start:end])
            elif marker == APP14 and body[:5] == b"Adobe" and len(body) == 12:  # version, flags, colour transform
                kept.append(view[start:end])
            continue
        if marker in FRAMES:
            if frame is not None:
                raise Damaged("two frames")
            frame = (*_frame(body), marker == PROGRESSIVE)
            if frame[0] * frame[1] > max_pixels:
                raise TooManyPixels
        elif marker in OTHER_FRAMES:
            raise NotHandled("an unusual JPEG frame type")
        elif marker == DQT:
            quant_tables |= _quantisation_tables(body)
        elif marker == DHT:
            _check_huffman_tables(body)
        elif marker == SOS:
            _check_scan(body, frame, quant_tables)
            found = NEXT_MARKER.search(data, position)
            if found is None:
                raise Damaged("the file ends inside the picture data")
            position = found.start()
            scans += 1
        elif marker not in (DRI, DNL):
            raise Damaged(f"an unknown marker 0x{marker:02X}")
        kept.append(view[start:position])
    if not scans:
        raise Damaged("no picture data")
    kept.append(b"\xff\xd9")
    if orientation != 1:
        kept.insert(1, exif_segment(orientation))
    width, height, _, _ = frame
    if orientation >= 5:  # 5 to 8 turn the picture a quarter
        width, height = height, width
    return Stripped(b"".join(kept), width, height, orientation)


def _frame(body):
    if len(body) < 6:
        raise Damaged("a short frame header")
    precision, height, width, count = struct.unpack_from(">BHHB", body)
    if count not in (1, 3) or precision != 8:
        raise NotHandled("not 8-bit greyscale or three-colour")
    if not height:
        raise NotHandled("a height set after the picture data")
    components = [body[6 + 3 * n : 9 + 3 * n] for n in range(count)]
    sampling = [divmod(factors, 16) for _, factors, _ in components]
    # What libjpeg refuses (jdinput.c): sampling factors outside 1 to 4, more than 10 blocks to a unit.
    if (
        len(body) != 6 + 3 * count
        or not width
        or any(not (1 <= h <= 4 and 1 <= v <= 4) for h, v in sampling)
        or (count > 1 and sum(h * v for h, v in sampling) > 10)
    ):
        raise Damaged("a bad frame header")
    return width, height, {component: table for component, _, table in components}


def _quantisation_tables(body):
    tables, position = set(), 0
    while position < len(body):
        precision, table = divmod(body[position], 16)
        if precision > 1 or table > 3:
            raise Damaged("a bad quantisation table")
        tables.add(table)
        position += 1 + 64 * (precision + 1)
    if position != len(body):
        raise Damaged("a bad quantisation table")
    return tables


def _check_huffman_tables(body):
    # What libjpeg refuses (jdhuff.c): more codes of a length than the bits allow, DC symbols above 15.
    position = 0
    while position < len(body):
        kind, table = divmod(body[position], 16)
        counts = body[position + 1 : position + 17]
        symbols = body[position + 17 : position + 17 + sum(counts)]
        code = 0
        for bits, count in enumerate(counts, 1):
            code += count
            if code >= 1 << bits:
                raise Damaged("a bad Huffman table")
            code <<= 1
        if (
            kind > 1
            or table > 3
            or len(counts) < 16
            or len(symbols) < sum(counts)
            or (kind == 0 and max(symbols, default=0) > 15)
        ):
            raise Damaged("a bad Huffman table")
        position += 17 + len(symbols)
    if position != len(body):
        raise Damaged("a bad Huffman table")


def _check_scan(body, frame, quant_tables):
    if frame is None:
        raise Damaged("picture data before the frame header")
    count = body[0] if len(body) else 0
    if not 1 <= count <= 4 or len(body) != 4 + 2 * count:
        raise Damaged("a bad scan header")
    _, _, components, progressive = frame
    first, last, approximation = body[-3:]
    high, low = divmod(approximation, 16)
    # What libjpeg refuses in a progressive scan (jdphuff.c); a sequential one's values it ignores.
    if progressive and (
        (last != 0 if first == 0 else not first <= last <= 63 or count != 1) or (high and low != high - 1) or low > 13
    ):
        raise Damaged("a bad progressive scan")
    for n in range(count):
        component, tables = body[1 + 2 * n : 3 + 2 * n]
        if component not in components or tables & 0xCC:  # Huffman tables 0 to 3
            raise Damaged("a bad scan header")
        if components[component] not in quant_tables:
            raise Damaged("a missing quantisation table")


def exif_orientation(tiff):
    """The orientation tag of an EXIF block's first directory: 1 (as stored) when absent or unreadable."""
    try:
        order = {b"II": "<", b"MM": ">"}[bytes(tiff[:2])]
        (directory,) = struct.unpack_from(order + "I", tiff, 4)
        (count,) = struct.unpack_from(order + "H", tiff, directory)
        for n in range(count):
            tag, kind, _, value = struct.unpack_from(order + "HHIH", tiff, directory + 2 + 12 * n)
            if tag == ORIENTATION and kind == 3:  # SHORT
                return value if 1 <= value <= 8 else 1
    except (KeyError, struct.error):
        pass
    return 1


def exif_segment(orientation):
    """An APP1 segment whose EXIF block holds the orientation tag and nothing else."""
    tiff = struct.pack(">2sHIHHHIHHI", b"MM", 42, 8, 1, ORIENTATION, 3, 1, orientation, 0, 0)
    body = b"Exif\x00\x00" + tiff
    return struct.pack(">BBH", 0xFF, APP1, len(body) + 2) + body
