"""Responsive renditions of photos: which exist, where they live in storage, and making them once.

A rendition's storage name carries a key derived from everything that shapes its pixels (the original's
name, the focal point, the configured widths and formats), so a name never changes meaning: files are made
once, served with long cache lifetimes, and a new upload or focal point simply gets new names. The key is an
HMAC under SECRET_KEY: nobody can compute a rendition's URL, only read it on a page that shows the photo.

Nothing a reader or an editor asks for ever processes an image: renditions are made by a worker
(articles/photos/tasks.py, enqueued when a photo is saved, or by `regenerate_renditions`). Pages link
straight to storage once a photo's set is complete (`Photo.renditions_key` equals the current key, `ready`);
until then they show the photo's caption and credit alone.
"""

import math
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.crypto import salted_hmac
from PIL import Image

from . import images

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
    caption and credit alone until `regenerate_renditions --missing` has run)."""
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


def ready(photo):
    """Whether every rendition of the photo as it is now is in storage, so that pages may show it."""
    return bool(photo.image) and bool(photo.width) and photo.renditions_key == rendition_key(photo)


def url(photo, rendition):
    return photo.image.storage.url(rendition.name)


def picture(photo, crop="full"):
    """The <picture> data for a photo whose renditions are ready, else None; computed from database fields
    alone (no file is opened)."""
    if not ready(photo):
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


def _decoded_size(photo):
    """The smallest size the original can be decoded at that still gives every rendition all the pixels it
    shows: a JPEG decodes at 1/2, 1/4 or 1/8 of its size at a fraction of the cost (Image.draft), and a
    camera's 6000x4000 picture is more than twice what its largest rendition needs."""
    size = (photo.width, photo.height)
    scale = 0
    for rendition in all_renditions(photo):
        if rendition.crop == "full":
            shown = photo.width
        else:
            ratio = CARD_RATIO if rendition.crop == "card" else SOCIAL_SIZE[0] / SOCIAL_SIZE[1]
            left, _, right, _ = images.focal_box(size, ratio, photo.focal_x, photo.focal_y)
            shown = right - left
        scale = max(scale, rendition.width / shown)
    return (math.ceil(photo.width * scale), math.ceil(photo.height * scale))


def _open_original(photo):
    with photo.image.storage.open(photo.image.name, "rb") as file:
        image = Image.open(file, formats=list(images.ALLOWED_FORMATS))
        if image.format == "JPEG" and "exif" not in image.info:  # photo.width and height are upright
            image.draft(image.mode, _decoded_size(photo))
        image.load()
    # A no-op for a finished original; for one still waiting (finish_original), renditions come out right anyway.
    return images.upright_srgb(image)


def finish_original(photo):
    """Apply what the editor's save left to the worker: a JPEG stored by its segments is decoded, turned upright,
    converted to sRGB and stored again under its own name, without its orientation and colour profile
    (images.finished). Returns whether the file was rewritten."""
    storage = photo.image.storage
    with storage.open(photo.image.name, "rb") as file:
        data = images.finished(file)
    if data is None:
        return False
    replace(storage, photo.image.name, data)
    return True


def replace(storage, name, data):
    """Store `data` as `name` in place of the file there, so readers (a worker rendering from it, the admin's
    link) get the old file or the new, never a missing or half-written one. The local disk replaces the file
    atomically (MediaStorage.replace); S3 and the like replace an object whole when its upload completes, which
    their `_save` does (`save` would pick another name instead of overwriting)."""
    content = ContentFile(data)
    saved = storage.replace(name, content) if hasattr(storage, "replace") else storage._save(name, content)
    if saved != name:  # a storage that never overwrites: leave nothing behind, and say so
        storage.delete(saved)
        raise OSError(f"The media storage cannot replace {name}")


def _resize(image, photo, rendition):
    if rendition.crop == "full":  # its height as named, whatever size the original was decoded at
        return images.resize(image, width=rendition.width, height=rendition.height)
    ratio = CARD_RATIO if rendition.crop == "card" else SOCIAL_SIZE[0] / SOCIAL_SIZE[1]
    return images.resize(
        image, width=rendition.width, height=rendition.height, ratio=ratio, focal=(photo.focal_x, photo.focal_y)
    )


def store(storage, name, data):
    """Save `data` as `name` unless it already exists: create-if-absent across processes and servers.

    Two workers may render the same rendition at once (two saves of one photo in quick succession). Both
    produce identical bytes; the storage gives the second writer a different name (it never overwrites), and
    that duplicate is removed.
    """
    saved = storage.save(name, ContentFile(data))
    if saved != name:
        storage.delete(saved)
    return name


def generate(photo, *, force=False):
    """Finish the photo's original (finish_original), make every rendition of it (only the missing ones unless
    `force`), then mark the photo so its pages show them. Returns how many files were written. Only workers and
    commands call this (tasks.py).
    """
    if not photo.image or not photo.width:
        return 0
    finish_original(photo)
    written = make_files(photo, force=force)
    key = rendition_key(photo)
    # Only if the photo is still what these files show: a later save (a new focal point) queued a task of its
    # own, which may have finished first and must not be undone.
    as_made = {"image": photo.image.name, "focal_x": photo.focal_x, "focal_y": photo.focal_y}
    if type(photo).objects.filter(pk=photo.pk, **as_made).update(renditions_key=key):
        photo.renditions_key = key
    return written


def make_files(photo, *, force=False):
    """The files of generate(), without marking the photo. Returns how many were written."""
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
