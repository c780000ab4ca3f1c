"""Responsive renditions of photos: which exist, where they live in storage, and making them once.

A rendition's storage name carries a key derived from everything that shapes its pixels (the original's
name, the focal point, the configured widths and formats), so a name never changes meaning: files are made
once, served with long cache lifetimes, and a new upload or focal point simply gets new names. The key is an
HMAC under SECRET_KEY: nobody can compute a rendition's URL, only read it on a page that shows the photo.

Pages never process images. They link straight to storage once a photo's renditions are all made
(`Photo.renditions_key` equals the current key, set on upload or by `regenerate_renditions`); until then
they link to the `articles:rendition` view, which makes the one file asked for on first request.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from PIL import Image

from . import images

logger = logging.getLogger(__name__)

# Bump when the rendering code changes what files look like, so the next deploy links to fresh names.
VERSION = 1

CROPS = ("full", "card", "social")
CARD_RATIO = 3 / 2
SOCIAL_SIZE = (1200, 630)  # OpenGraph's recommended share image


@dataclass(frozen=True)
class Rendition:
    crop: str  # "full" (the whole picture), "card" (3:2) or "social" (1200x630)
    width: int
    height: int
    extension: str
    key: str

    @property
    def filename(self):
        return f"{self.crop}-{self.width}.{self.extension}"

    @property
    def name(self):
        """The file's name in the media storage."""
        return f"renditions/{self.key}/{self.filename}"

    @property
    def mime_type(self):
        return images.MIME_TYPES[self.extension]


@dataclass(frozen=True)
class Picture:
    """What a <picture> element needs: one srcset per format (best first), the fallback <img> and its size."""

    sources: list  # [(mime type, srcset)] for the formats before the fallback
    src: str
    srcset: str
    width: int
    height: int


def rendition_key(photo):
    """The rendition set's name: what shapes its pixels, signed. Without the secret a key cannot be derived from
    what is public or predictable (the photo's id, its original's name, the widths), so a photo that appears in
    no published story has no URL anyone can find. Changing SECRET_KEY renames every set (pages link to the
    rendition view until `regenerate_renditions --missing` has run)."""
    fingerprint = "|".join(
        [
            photo.image.name,
            f"{photo.focal_x:.4f},{photo.focal_y:.4f}",
            ",".join(map(str, settings.PHOTO_RENDITION_WIDTHS)),
            ",".join(images.rendition_formats()),
            str(VERSION),
        ]
    )
    return salted_hmac("articles.renditions.rendition_key", fingerprint, algorithm="sha256").hexdigest()[:32]


def _widths(available):
    """The configured widths below `available`, then the largest one the picture can fill (never enlarged)."""
    configured = settings.PHOTO_RENDITION_WIDTHS
    widths = [w for w in configured if w < available]
    top = min(available, configured[-1])
    return widths if top in widths else [*widths, top]


def renditions(photo, crop):
    """Every rendition of one crop of a photo with an image, smallest first, fallback format last."""
    key = rendition_key(photo)
    if crop == "social":
        return [Rendition("social", *SOCIAL_SIZE, "jpg", key)]
    size = (photo.width, photo.height)
    if crop == "card":
        left, top, right, bottom = images.focal_box(size, CARD_RATIO, photo.focal_x, photo.focal_y)
        return [
            Rendition("card", width, max(1, round(width / CARD_RATIO)), extension, key)
            for extension in images.rendition_formats()
            for width in _widths(right - left)
        ]
    if crop == "full":
        return [
            Rendition("full", width, images.scaled_height(size, width), extension, key)
            for extension in images.rendition_formats()
            for width in _widths(photo.width)
        ]
    raise ValueError(f"Unknown crop {crop!r}")


def all_renditions(photo):
    return [rendition for crop in CROPS for rendition in renditions(photo, crop)]


def find(photo, key, filename):
    """The rendition a URL asks for, or None when it is not one (any more)."""
    if not photo.image or not photo.width or key != rendition_key(photo):
        return None
    return next((r for r in all_renditions(photo) if r.filename == filename), None)


def url(photo, rendition):
    if photo.renditions_key == rendition.key:
        return photo.image.storage.url(rendition.name)
    return reverse("articles:rendition", kwargs={"pk": photo.pk, "key": rendition.key, "filename": rendition.filename})


def picture(photo, crop="full"):
    """The <picture> data for a photo, computed from database fields alone (no file is opened)."""
    if not photo.image or not photo.width:
        return None
    by_format = {}
    for rendition in renditions(photo, crop):
        by_format.setdefault(rendition.extension, []).append(rendition)
    *better, fallback = by_format.values()

    def srcset(items):
        return ", ".join(f"{url(photo, r)} {r.width}w" for r in items)

    largest = fallback[-1]
    return Picture(
        sources=[(items[0].mime_type, srcset(items)) for items in better],
        src=url(photo, largest),
        srcset=srcset(fallback),
        width=largest.width,
        height=largest.height,
    )


def _open_original(photo):
    with photo.image.storage.open(photo.image.name, "rb") as file:
        image = Image.open(file, formats=list(images.ALLOWED_FORMATS))
        image.load()
    return image


def _resize(image, photo, rendition):
    if rendition.crop == "full":
        return images.resize(image, width=rendition.width)
    ratio = CARD_RATIO if rendition.crop == "card" else SOCIAL_SIZE[0] / SOCIAL_SIZE[1]
    return images.resize(
        image, width=rendition.width, height=rendition.height, ratio=ratio, focal=(photo.focal_x, photo.focal_y)
    )


def store(storage, name, data):
    """Save `data` as `name` unless it already exists: create-if-absent across processes and servers.

    Two requests may render the same rendition at once. Both produce identical bytes; the storage gives
    the second writer a different name (it never overwrites), and that duplicate is removed.
    """
    saved = storage.save(name, ContentFile(data))
    if saved != name:
        storage.delete(saved)
    return name


def ensure(photo, rendition):
    """Make one rendition if it is not in storage yet. Returns its bytes when made here (even if storing
    them failed), else None."""
    storage = photo.image.storage
    if storage.exists(rendition.name):
        return None
    data = images.encode(_resize(_open_original(photo), photo, rendition), rendition.extension)
    try:
        store(storage, rendition.name, data)
    except OSError:
        # A full disk or a failing bucket: the reader still gets the picture, made afresh on each request.
        logger.exception("Could not store rendition %s", rendition.name)
    return data


def generate(photo, *, force=False):
    """Make every rendition of a photo (only the missing ones unless `force`), then mark the photo so its
    pages link straight to storage. Returns how many files were written.
    """
    if not photo.image or not photo.width:
        return 0
    storage = photo.image.storage
    original = None
    resized = {}  # one resize per crop and width, encoded in every format
    written = 0
    for rendition in all_renditions(photo):
        if storage.exists(rendition.name):
            if not force:
                continue
            storage.delete(rendition.name)
        if original is None:
            original = _open_original(photo)
        size = (rendition.crop, rendition.width)
        if size not in resized:
            resized[size] = _resize(original, photo, rendition)
        store(storage, rendition.name, images.encode(resized[size], rendition.extension))
        written += 1
    key = rendition_key(photo)
    type(photo).objects.filter(pk=photo.pk, image=photo.image.name).update(renditions_key=key)
    photo.renditions_key = key
    return written


def prune(storage, photos, *, older_than=timedelta(hours=1)):
    """Delete rendition files no photo links to any more (replaced images, old focal points, old widths).

    Files younger than `older_than` stay: they may belong to a photo whose save has not committed yet.
    Returns the names deleted.
    """
    current = {rendition_key(photo) for photo in photos if photo.image}
    cutoff = timezone.now() - older_than
    deleted = []
    keys, _ = storage.listdir("renditions") if storage.exists("renditions") else ([], [])
    for key in sorted(set(keys) - current):
        _, filenames = storage.listdir(f"renditions/{key}")
        for filename in filenames:
            name = f"renditions/{key}/{filename}"
            if storage.get_modified_time(name) < cutoff:
                storage.delete(name)
                deleted.append(name)
    return deleted
