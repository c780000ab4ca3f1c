"""Pillow work for photos: check an upload by what it decodes to, clean it, cut renditions.

Plain functions on files and bytes; no ORM and no storage here (that is renditions.py), so every
rule can be tested on images built in memory.
"""

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps, ImageSequence, UnidentifiedImageError, features

# Pillow format name -> file extension. Only these decoders ever see an upload.
ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
ALLOWED_LABEL = "JPEG, PNG, WebP or GIF"

# What survives from the decoder's metadata: what the pixels need to animate. EXIF, XMP, IPTC, comments
# (GPS position, camera serial numbers, owner names) never do, nor colour profiles, which can name the
# device: pictures are converted to sRGB instead, which is what browsers assume without a profile.
KEPT_INFO = {"transparency", "duration", "loop", "background"}
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))

MIME_TYPES = {"avif": "image/avif", "webp": "image/webp", "jpg": "image/jpeg"}
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
    extension: str
    width: int
    height: int


def _file_size(file):
    size = getattr(file, "size", None)
    if size is None:
        size = file.seek(0, io.SEEK_END)
    return size


def _looks_like_svg(head):
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<svg", b"<?xml", b"<!doctype svg")) and b"<svg" in head


def open_checked(file, *, max_bytes, max_pixels):
    """Open and fully decode an upload, or raise UploadRejected saying why it is refused.

    Returns the open Pillow image (all frames decoded once, so a truncated later frame is caught too).
    """
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
    too_many_pixels = UploadRejected(
        f"This image has more pixels than the limit of {max_pixels / 1e6:g} megapixels. Export a smaller version.",
        "too_many_pixels",
    )
    try:
        with warnings.catch_warnings():
            # Pillow's own guard (Image.MAX_IMAGE_PIXELS) only warns below twice its limit; ours refuses.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(file, formats=list(ALLOWED_FORMATS))
            # Checked from the header, before a single pixel is decoded; every frame of an animation counts.
            if image.width * image.height * getattr(image, "n_frames", 1) > max_pixels:
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
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise UploadRejected(
            f"This image is damaged or incomplete ({error}). Export it again and upload the new file.", "corrupt"
        ) from None
    return image


def _stripped(frame):
    frame.info = {key: value for key, value in frame.info.items() if key in KEPT_INFO}
    return frame


def clean(file, *, max_bytes, max_pixels):
    """The upload as we store it: upright (EXIF orientation applied), without metadata, in its own format.

    Re-encoding from decoded pixels is what guarantees nothing but pixels survives.
    """
    image = open_checked(file, max_bytes=max_bytes, max_pixels=max_pixels)
    fmt = image.format
    out = io.BytesIO()
    if getattr(image, "is_animated", False):
        frames = [_stripped(frame.copy()) for frame in ImageSequence.Iterator(image)]
        first = frames[0]
        first.save(out, fmt, save_all=True, append_images=frames[1:], **_save_options(fmt, first))
    else:
        first = _stripped(_in_srgb(ImageOps.exif_transpose(image)))
        first.save(out, fmt, **_save_options(fmt, first))
    return CleanImage(out.getvalue(), ALLOWED_FORMATS[fmt], first.width, first.height)


def _in_srgb(image):
    profile = image.info.get("icc_profile")
    if not profile:
        return image
    mode = "RGBA" if image.has_transparency_data else "RGB"
    if image.mode == "P":
        image = image.convert(mode)
    try:
        return ImageCms.profileToProfile(image, ImageCms.ImageCmsProfile(io.BytesIO(profile)), SRGB, outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        # A broken profile, or one that does not fit the pixels: keep the pixels as they are, without it.
        return image


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
