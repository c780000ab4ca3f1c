"""A JPEG upload is checked and stripped by its segments while the editor waits, and decoded only by the worker:
what a full decode would refuse is still refused at the save, nothing but the orientation and the colour profile
survives the save, and the worker's finished original is upright, in sRGB and bare."""

import io
import random
import struct

import pytest
from django.core.exceptions import ValidationError
from PIL import Image, ImageCms

from articles.models import Photo
from articles.photos import jpeg
from articles.photos.fields import PhotoFormField
from articles.photos.tasks import make_renditions
from tests.photos import BODY_SERIAL, GPS_IFD, ORIENTATION, camera_jpeg, full_disk, submit, upload

VARIANTS = {
    "baseline": {"quality": 90},
    "progressive": {"quality": 90, "progressive": True},
    "restart markers": {"quality": 85, "restart_marker_blocks": 4},
    "greyscale": {"quality": 90, "mode": "L"},
}


def noisy_jpeg(mode="RGB", size=(240, 160), **options):
    image = Image.merge("RGB", [Image.effect_noise(size, 40 + 10 * band) for band in range(3)]).convert(mode)
    out = io.BytesIO()
    image.save(out, "JPEG", **options)
    return out.getvalue()


def refusal(data):
    """The error code the admin's photo field gives this file, or None when it accepts it."""
    try:
        PhotoFormField().clean(upload("photo.jpg", data))
    except ValidationError as error:
        return error.code
    return None


def decodes(data):
    try:
        Image.open(io.BytesIO(data)).load()
    except Exception:  # whatever Pillow raises for a broken file is what a full decode at the save caught
        return False
    return True


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_jpeg_cut_anywhere_is_refused_as_incomplete(variant):
    whole = noisy_jpeg(**VARIANTS[variant])
    assert refusal(whole) is None

    for cut in [*range(4, len(whole), len(whole) // 40), len(whole) - 2, len(whole) - 1]:
        assert refusal(whole[:cut]) == "corrupt", cut
        # A full decode refuses the same files (all but one without its last two bytes, the end marker).
        assert not decodes(whole[:cut]) or cut >= len(whole) - 2, cut


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_damaged_header_is_refused_whenever_a_full_decode_refuses_it(variant):
    whole = noisy_jpeg(**VARIANTS[variant])
    # The segments before the picture data, and the first scan's header: what the save checks. Damage inside
    # the picture data itself only a decoder sees (docs/photos.md: the worker then leaves the photo unfinished).
    headers = whole.index(b"\xff\xda") + 14
    randomly = random.Random(variant)
    refused_by_decoding = 0
    for _ in range(300):
        damaged = bytearray(whole)
        damaged[randomly.randrange(headers)] = randomly.randrange(256)
        if not decodes(bytes(damaged)):
            refused_by_decoding += 1
            assert refusal(bytes(damaged)) is not None, damaged
    assert refused_by_decoding > 5


def test_a_jpeg_declaring_more_pixels_than_the_limit_is_refused_by_its_frame_header():
    data = bytearray(noisy_jpeg())
    frame = data.index(b"\xff\xc0") + 5
    data[frame : frame + 4] = b"\x4e\x20\x4e\x20"  # 20,000 x 20,000

    assert refusal(bytes(data)) == "too_many_pixels"


@pytest.mark.django_db
def test_a_jpeg_is_stored_with_its_own_compression_and_without_metadata(media_root):
    exif = Image.Exif()
    exif[0x010F], exif[BODY_SERIAL] = "PhoneMaker", "SN-0042-SECRET"
    picture = Image.open(io.BytesIO(noisy_jpeg()))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=90, exif=exif, comment=b"PhoneMaker", xmp=b"<x:xmpmeta>GPSLatitude</x:xmpmeta>")
    # A second picture after the end, as phones append their previews (with EXIF of their own).
    uploaded = out.getvalue() + b"\xff\xd8\xff\xe1\x00\x10Exif\x00\x00SN-0042-SECRET\xff\xd9"

    submit(upload("street.jpg", uploaded))

    photo = Photo.objects.get()
    stored = (media_root / photo.image.name).read_bytes()
    assert b"SN-0042-SECRET" not in stored and b"PhoneMaker" not in stored and b"GPSLatitude" not in stored
    assert Image.open(io.BytesIO(stored)).tobytes() == Image.open(io.BytesIO(uploaded)).tobytes()
    assert len(stored) > len(out.getvalue()) - 1000  # the camera's compression, not a re-encoded copy

    make_renditions.call(photo.pk)

    assert (media_root / photo.image.name).read_bytes() == stored  # nothing left to apply: not re-encoded


@pytest.mark.django_db
def test_the_worker_finishes_the_original_under_its_own_name(media_root, media_files):
    submit(upload("phone.jpg", camera_jpeg(size=(600, 400), orientation=6)))
    photo = Photo.objects.get()
    saved = Image.open(photo.image.path)
    assert dict(saved.getexif()) == {ORIENTATION: 6} and saved.size == (600, 400)

    make_renditions.call(photo.pk)

    photo.refresh_from_db()
    finished = Image.open(photo.image.path)
    assert finished.size == (400, 600) == (photo.width, photo.height)
    assert "exif" not in finished.info and GPS_IFD not in finished.getexif()
    assert not any(".partial-" in name for name in media_files())
    assert [name for name in media_files() if name.startswith("photos/")] == [photo.image.name]


@pytest.mark.django_db
def test_a_full_disk_while_finishing_leaves_the_saved_original_and_no_renditions(settings, media_root):
    submit(upload("phone.jpg", camera_jpeg(orientation=6)))
    photo = Photo.objects.get()
    saved = (media_root / photo.image.name).read_bytes()
    full_disk(settings)

    with pytest.raises(OSError, match="No space left"):
        make_renditions.call(photo.pk)

    photo.refresh_from_db()
    assert (media_root / photo.image.name).read_bytes() == saved
    assert not photo.renditions_key


@pytest.mark.django_db
def test_a_cmyk_jpeg_is_decoded_at_the_save_as_before(media_root):
    with pytest.raises(jpeg.NotHandled):
        jpeg.strip(noisy_jpeg(mode="CMYK"), max_pixels=10**8)

    form = submit(upload("print.jpg", noisy_jpeg(mode="CMYK")))

    assert form.is_valid(), form.errors
    assert Image.open(Photo.objects.get().image.path).format == "JPEG"


def swapped_primaries_profile():
    """An RGB colour profile that is not sRGB: sRGB's with its red and green primaries swapped."""
    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    (count,) = struct.unpack_from(">I", data, 128)
    tags = {
        bytes(data[132 + 12 * n : 136 + 12 * n]): struct.unpack_from(">II", data, 136 + 12 * n) for n in range(count)
    }
    (red, size), (green, _) = tags[b"rXYZ"], tags[b"gXYZ"]
    data[red : red + size], data[green : green + size] = data[green : green + size], data[red : red + size]
    return bytes(data)


@pytest.mark.django_db
def test_a_jpeg_in_another_colour_space_is_converted_to_srgb_by_the_worker(media_root):
    profile = swapped_primaries_profile()
    picture = Image.new("RGB", (64, 48), (200, 30, 30))
    picture.info["icc_profile"] = profile
    expected = ImageCms.profileToProfile(
        picture, ImageCms.ImageCmsProfile(io.BytesIO(profile)), ImageCms.createProfile("sRGB")
    ).getpixel((5, 5))
    assert abs(expected[0] - 200) > 40  # a visibly different colour once converted
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=95, icc_profile=profile)

    submit(upload("wide-gamut.jpg", out.getvalue()))
    photo = Photo.objects.get()
    make_renditions.call(photo.pk)

    stored = Image.open(photo.image.path)
    assert "icc_profile" not in stored.info
    assert stored.getpixel((5, 5)) == pytest.approx(expected, abs=6)
