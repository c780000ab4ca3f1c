"""Pillow work for photos: check an upload by what it decodes to, clean it, cut renditions.

Plain functions on files and bytes; no ORM and no storage here (that is renditions.py), so every
rule can be tested on images built in memory.
"""

import io
import struct
import warnings
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageCms, ImageOps, ImageSequence, UnidentifiedImageError, features

from . import jpeg

# Pillow format name -> file extension. Only these decoders ever see an upload.
ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
ALLOWED_LABEL = "JPEG, PNG, WebP or GIF"

# What survives from the decoder's metadata: what the pixels need to animate. EXIF, XMP, IPTC, comments
# (GPS position, camera serial numbers, owner names) never do, nor colour profiles, which can name the
# device: pictures are converted to sRGB instead, which is what browsers assume without a profile.
KEPT_INFO = {"transparency", "duration", "loop", "background"}
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))

# The longest frame and the longest animation, in milliseconds, each format can write back. A GIF stores a
# frame's delay in centiseconds in 16 bits, and Pillow's writer adds up the delays of identical frames it
# merges: three identical frames of 655 s could be read but not written. An APNG delay is a fraction of 16-bit
# numbers; WebP adds up timestamps in a C int.
MAX_DURATIONS_MS = {"GIF": (65535 * 10, 65535 * 10), "PNG": (65535 * 1000, None), "WEBP": (None, 2**31 - 1)}

# By extension: originals' and renditions'. Not Image.MIME, which is empty until Pillow has opened an image.
MIME_TYPES = {"avif": "image/avif", "webp": "image/webp", "jpg": "image/jpeg", "png": "image/png", "gif": "image/gif"}
ENCODER_OPTIONS = {
    "avif": {"format": "AVIF", "quality": 55, "speed": 8},
    "webp": {"format": "WEBP", "quality": 78, "method": 4},
    "jpg": {"format": "JPEG", "quality": 80, "optimize": True, "progressive": True},
}


def rendition_formats():
    """Formats of the responsive renditions, best first; the last one is the fallback every browser reads."""
    return ("avif", "webp", "jpg") if features.check("avif") else ("webp", "jpg")


class UploadRejected(Exception):
    """The upload is not a photo we accept; the message is written for the editor."""

    def __init__(self, message, code):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    format: str
    width: int
    height: int

    @property
    def extension(self):
        return ALLOWED_FORMATS[self.format]

    @property
    def mime_type(self):
        return MIME_TYPES[self.extension]


def _file_size(file):
    size = getattr(file, "size", None)
    if size is None:
        size = file.seek(0, io.SEEK_END)
    return size


def _looks_like_svg(head):
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<svg", b"<?xml", b"<!doctype svg")) and b"<svg" in head


def _check_file(file, max_bytes):
    """Refuse what is too large or an SVG, by the file's size and first bytes; returns those bytes."""
    size = _file_size(file)
    if size > max_bytes:
        raise UploadRejected(
            f"This file is {size / 1e6:.1f} MB; a photo can be at most {max_bytes / 1e6:g} MB.", "too_large"
        )
    file.seek(0)
    head = file.read(1024)
    file.seek(0)
    if _looks_like_svg(head):
        raise UploadRejected(
            f"SVG files are not accepted: they can carry scripts. Upload a {ALLOWED_LABEL} image.", "svg"
        )
    return head


def _too_many_pixels(max_pixels):
    return UploadRejected(
        f"This image has more pixels than the limit of {max_pixels / 1e6:g} megapixels"
        " (every frame of an animation counts). Export a smaller version.",
        "too_many_pixels",
    )


def _damaged(error):
    return UploadRejected(
        f"This image is damaged or incomplete ({error}). Export it again and upload the new file.", "corrupt"
    )


def open_checked(file, *, max_bytes, max_pixels, max_frames):
    """Open and fully decode an upload, or raise UploadRejected saying why it is refused.

    Returns the open Pillow image (all frames decoded once, so a truncated later frame is caught too). What
    decoding costs is bounded before it starts: the size, the pixels and the frames are read from the headers
    (for a GIF, by walking its blocks without decoding them, up to one frame past the limit).
    """
    _check_file(file, max_bytes)
    too_many_pixels = _too_many_pixels(max_pixels)
    try:
        with warnings.catch_warnings():
            # Pillow's own guard (Image.MAX_IMAGE_PIXELS) only warns below twice its limit; ours refuses.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(file, formats=list(ALLOWED_FORMATS))
            frames = _frame_count(image, file, max_frames)
            if frames > max_frames:
                raise UploadRejected(
                    f"This animation has more than {max_frames:,} frames, the most a photo can have."
                    " Shorten it, or upload a video instead.",
                    "too_many_frames",
                )
            # Every frame is decoded at the size of the whole picture: that is what decoding costs.
            if image.width * image.height * frames > max_pixels:
                raise too_many_pixels
            for frame in ImageSequence.Iterator(image):
                frame.load()
            image.seek(0)
    except UnidentifiedImageError:
        raise UploadRejected(
            f"This file is not a {ALLOWED_LABEL} image, whatever its name says.", "not_an_image"
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_many_pixels from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as error:
        raise _damaged(error) from None
    return image


def _frame_count(image, file, limit):
    """How many frames the image has, or `limit + 1` when it has more, without decoding any.

    PNG (acTL) and WebP (its demuxer) say it in a header. Pillow counts a GIF's frames by seeking through all
    of them (a second for 200,000), so a GIF's blocks are walked here instead, stopping past the limit.
    """
    if image.format != "GIF":
        return getattr(image, "n_frames", 1)
    position = file.tell()
    file.seek(0)
    data = file.read()
    file.seek(position)
    return gif_frame_count(data, limit)


def gif_frame_count(data, limit):
    """The number of image descriptors in a GIF, counting at most `limit + 1`. A malformed stream ends the
    count where it breaks (decoding then reports the damage)."""
    frames = 0
    try:
        flags = data[10]
        position = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
        while frames <= limit:
            block = data[position]
            if block == 0x21:  # extension: introducer, label, then data sub-blocks
                position += 2
            elif block == 0x2C:  # image descriptor, optional local colour table, LZW code size, sub-blocks
                flags = data[position + 9]
                position += 10 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0) + 1
                frames += 1
            else:  # the trailer (0x3B), or garbage Pillow stops at too
                break
            while length := data[position]:
                position += length + 1
            position += 1
    except IndexError:
        pass
    return max(frames, 1)


def _stripped(frame):
    frame.info = {key: value for key, value in frame.info.items() if key in KEPT_INFO}
    return frame


def clean(file, *, max_bytes, max_pixels, max_frames):
    """The upload as we store it: without metadata, in its own format, and (but for a JPEG) upright and in sRGB.

    Re-encoding from decoded pixels is what guarantees nothing but pixels survives. A JPEG, whose decoding and
    re-encoding a camera's picture would make the editor wait for, is checked and stripped by its segments
    instead (jpeg.strip): it keeps its orientation and colour profile until the worker applies them (finished).
    """
    if _check_file(file, max_bytes).startswith(b"\xff\xd8\xff"):
        try:
            stripped = jpeg.strip(file.read(), max_pixels)
        except jpeg.Damaged as error:
            raise _damaged(error) from None
        except jpeg.TooManyPixels:
            raise _too_many_pixels(max_pixels) from None
        except jpeg.NotHandled:
            file.seek(0)  # a JPEG of another kind: decoded and re-encoded below, like the other formats
        else:
            return CleanImage(stripped.data, "JPEG", stripped.width, stripped.height)
    image = open_checked(file, max_bytes=max_bytes, max_pixels=max_pixels, max_frames=max_frames)
    fmt = image.format
    out = io.BytesIO()
    try:
        if getattr(image, "is_animated", False):
            frames = [_stripped(frame.copy()) for frame in ImageSequence.Iterator(image)]
            first = frames[0]
            options = _save_options(fmt, first) | {"duration": _durations(fmt, frames)}
            first.save(out, fmt, save_all=True, append_images=frames[1:], **options)
        else:
            first = upright_srgb(image)
            first.save(out, fmt, **_save_options(fmt, first))
    except (OSError, ValueError, OverflowError, struct.error) as error:
        # Whatever the decoder accepted but the encoder cannot write back: the editor's problem, not a crash.
        raise UploadRejected(
            f"This image could not be stored ({error}). Export it again as a plain JPEG or PNG.", "unwritable"
        ) from None
    return CleanImage(out.getvalue(), fmt, first.width, first.height)


def upright_srgb(image):
    """The picture as readers see it: EXIF orientation applied, converted to sRGB, without metadata."""
    return _stripped(_in_srgb(ImageOps.exif_transpose(image)))


def finished(file):
    """A stored original's final bytes, or None when it is final already: a JPEG that clean() stripped by its
    segments, and that still carries an orientation or a colour profile, decoded, turned upright, converted to
    sRGB and re-encoded without them. The worker's job (renditions.finish_original), not the request's.
    """
    image = Image.open(file, formats=list(ALLOWED_FORMATS))
    if image.format != "JPEG" or not ({"exif", "icc_profile"} & image.info.keys()):
        return None
    out = io.BytesIO()
    upright_srgb(image).save(out, "JPEG", **_save_options("JPEG", image))
    return out.getvalue()


def _durations(fmt, frames):
    """Each frame's display time in milliseconds, clamped to what the format can write back (MAX_DURATIONS_MS):
    any duration is accepted, and only animations longer than 11 minutes in all are shortened."""
    frame_most, total_most = MAX_DURATIONS_MS[fmt]
    durations = [max(0, int(frame.info.get("duration") or 0)) for frame in frames]
    if frame_most:
        durations = [min(duration, frame_most) for duration in durations]
    if total_most and sum(durations) > total_most:
        most = total_most // len(frames)
        most -= most % 10  # GIF rounds to centiseconds: round down, so the sum stays within the limit
        durations = [min(duration, most) for duration in durations]
    return durations


def _in_srgb(image):
    profile = image.info.get("icc_profile")
    if not profile:
        return image
    mode = "RGBA" if image.has_transparency_data else "RGB"
    if image.mode == "P":
        image = image.convert(mode)
    try:
        transform = ImageCms.buildTransform(ImageCms.ImageCmsProfile(io.BytesIO(profile)), SRGB, image.mode, mode)
        if image.mode == mode and _is_identity(transform, mode):
            return image  # sRGB under its own name (most cameras'): the same pixels, without a second's work
        return ImageCms.applyTransform(image, transform)
    except (ImageCms.PyCMSError, OSError, ValueError):
        # A broken profile, or one that does not fit the pixels: keep the pixels as they are, without it.
        return image


# Every sixteenth level of each channel, and the brightest: 4,913 colours, enough to tell a profile that is sRGB
# from one that is not, at a thousandth of what converting a camera's 24 megapixels costs.
_LEVELS = [*range(0, 256, 16), 255]
_PROBE = Image.frombytes(
    "RGB", (len(_LEVELS) ** 3, 1), bytes(v for r in _LEVELS for g in _LEVELS for b in _LEVELS for v in (r, g, b))
)


def _is_identity(transform, mode):
    """Whether the colour transform leaves every probed colour within 2 levels of itself (invisible)."""
    probe = _PROBE.convert(mode)
    converted = ImageCms.applyTransform(probe, transform)
    return all(high <= 2 for _, high in ImageChops.difference(probe, converted).getextrema())


def _save_options(fmt, image):
    return {"quality": 92} if fmt in ("JPEG", "WEBP") else {}


def focal_box(size, ratio, focal_x=0.5, focal_y=0.5):
    """The largest box of the given width/height ratio inside an image of `size`, as close to centred on
    the focal point (fractions of width and height) as the edges allow. Returns (left, top, right, bottom).
    """
    width, height = size
    if width / height > ratio:
        box_w, box_h = max(1, round(height * ratio)), height
    else:
        box_w, box_h = width, max(1, round(width / ratio))
    left = min(max(round(focal_x * width - box_w / 2), 0), width - box_w)
    top = min(max(round(focal_y * height - box_h / 2), 0), height - box_h)
    return (left, top, left + box_w, top + box_h)


def resize(image, *, width, ratio=None, height=None, focal=(0.5, 0.5)):
    """The picture cropped to `ratio` around the focal point (or whole), scaled to `width` (and `height`)."""
    if ratio:
        image = image.crop(focal_box(image.size, ratio, *focal))
    if height is None:
        height = max(1, round(width / ratio)) if ratio else scaled_height(image.size, width)
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if image.has_transparency_data else "RGB")
    return image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)


def encode(image, extension):
    """A rendition's bytes; transparency goes onto white for JPEG. No metadata is written."""
    if extension == "jpg" and image.mode == "RGBA":
        background = Image.new("RGB", image.size, "white")
        background.paste(image, mask=image.getchannel("A"))
        image = background
    out = io.BytesIO()
    image.save(out, **ENCODER_OPTIONS[extension])
    return out.getvalue()


def scaled_height(size, width):
    """Height of `size` scaled to `width`: what resize() makes and what the page's height attribute says."""
    return max(1, round(size[1] * width / size[0]))
