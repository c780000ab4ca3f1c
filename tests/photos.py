"""Images built in memory with Pillow for the photo tests."""

import errno
import io
import mimetypes
import os
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from articles.photos.storage import MediaStorage

ORIENTATION = 0x0112
GPS_IFD = 0x8825
BODY_SERIAL = 0xA431


def image_bytes(fmt="JPEG", size=(800, 600), color=(200, 30, 30), mode="RGB", **save_options):
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, fmt, **save_options)
    return out.getvalue()


def halves_bytes(size=(3000, 1000), left=(255, 0, 0), right=(0, 0, 255)):
    """A PNG whose left half is one colour and right half another, to see where a crop was taken."""
    image = Image.new("RGB", size, left)
    image.paste(right, (size[0] // 2, 0, size[0], size[1]))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def camera_jpeg(size=(600, 400), orientation=6):
    """A JPEG as a phone writes it: landscape pixels, an orientation tag, GPS position and a serial number."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"
    exif[BODY_SERIAL] = "SN-0042-SECRET"
    exif[GPS_IFD] = {1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 39.0)}
    image = Image.new("RGB", size, (10, 120, 10))
    # A red top band, to check the picture is turned upright and not just relabelled.
    image.paste((255, 0, 0), (0, 0, size[0], size[1] // 4))
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, xmp=b"<x:xmpmeta><exif:GPSLatitude>51,30N</exif:GPSLatitude></x:xmpmeta>")
    return out.getvalue()


def png_declaring(width, height):
    """A tiny PNG whose header claims width x height pixels: a decompression bomb's calling card."""
    data = bytearray(image_bytes("PNG", size=(1, 1)))
    ihdr = 8 + 8  # signature, then the IHDR chunk's length and type
    data[ihdr : ihdr + 8] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr - 4 : ihdr + 13]))
    data[ihdr + 13 : ihdr + 17] = struct.pack(">I", crc)
    return bytes(data)


def upload(name, data, content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def gif_built_by_hand(frames, centiseconds=10):
    """A GIF written byte by byte, fast at any number of frames: `frames` identical one-pixel frames, each shown
    for `centiseconds`. Three frames are about 110 bytes; 200,000 are 4.6 MB."""
    head = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    control = b"\x21\xf9\x04\x00" + struct.pack("<H", centiseconds) + b"\x00\x00"
    descriptor = b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0)
    # LZW minimum code size 2 (3-bit codes), one sub-block: clear (4), the pixel (colour 0), end (5).
    pixels = b"\x02\x02\x44\x01\x00"
    return head + loop + (control + descriptor + pixels) * frames + b"\x3b"


class _FillsTheDisk:
    """File content whose writing fails part-way, as on a full disk: one chunk, then ENOSPC."""

    def __init__(self, content):
        self.content = content

    def chunks(self, chunk_size=1024):
        self.content.seek(0)
        yield self.content.read(chunk_size)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


class FullDiskStorage(MediaStorage):
    """The media storage on a full disk: reading works, every write fails with ENOSPC part-way."""

    def _save_partial(self, name, content):  # every write: a new file, or one replacing another (replace)
        return super()._save_partial(name, _FillsTheDisk(content))


def full_disk(settings):
    """Point the default (media) storage at a full disk (STORAGES override)."""
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "tests.photos.FullDiskStorage"}}


def submit(file):
    """The photo form as the admin's, posted with this file: saved if valid; the form either way."""
    from django.forms import modelform_factory  # here: bench/ imports this module before Django is set up

    from articles.models import Photo

    form = modelform_factory(Photo, fields=["image", "alt_text", "credit", "focal_x", "focal_y"])(
        data={"alt_text": "A street", "credit": "AP", "focal_x": 0.5, "focal_y": 0.5}, files={"image": file}
    )
    if form.is_valid():
        form.save()
    return form


def serve_media(page, live_server, media_root):
    """Let a browser page load media files from the test's media root (the live server serves no /media/)."""

    def serve(route):
        path = media_root / route.request.url.split("/media/", 1)[1]
        if path.is_file():
            route.fulfill(body=path.read_bytes(), content_type=mimetypes.guess_type(path.name)[0] or "image/avif")
        else:
            route.fulfill(status=404)

    page.route(f"{live_server.url}/media/**", serve)
