import io

import pytest
from django.forms import modelform_factory
from PIL import Image

from articles.models import Photo
from articles.photos import renditions
from articles.photos.fields import StoredPhotoForm
from tests.photos import (
    BODY_SERIAL,
    GPS_IFD,
    ORIENTATION,
    camera_jpeg,
    full_disk,
    image_bytes,
    png_declaring,
    submit,
    upload,
)


def assert_refused(form, code, words, media_files):
    assert not form.is_valid()
    assert [error.code for error in form.errors.as_data()["image"]] == [code]
    assert words in form.errors["image"][0]
    assert Photo.objects.count() == 0
    assert media_files() == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fmt", "extension", "mode"),
    [("JPEG", "jpg", "RGB"), ("PNG", "png", "RGBA"), ("WEBP", "webp", "RGB"), ("GIF", "gif", "P")],
)
def test_each_allowed_format_is_accepted_and_stored(fmt, extension, mode, media_files):
    form = submit(upload(f"picture.{extension}", image_bytes(fmt, mode=mode, color=1 if mode == "P" else None)))

    assert form.is_valid(), form.errors
    photo = Photo.objects.get()
    assert photo.image.name.endswith(f".{extension}")
    assert photo.original_name == f"picture.{extension}"
    assert (photo.width, photo.height) == (800, 600)
    assert Image.open(photo.image.path).format == fmt


@pytest.mark.django_db
def test_renamed_text_file_is_refused(media_files):
    form = submit(upload("holiday.jpg", b"Just some notes, not a picture at all.\n" * 20))

    assert_refused(form, "not_an_image", "not a JPEG, PNG, WebP or GIF image", media_files)


@pytest.mark.django_db
def test_truncated_jpeg_is_refused(media_files):
    whole = image_bytes("JPEG", size=(1200, 900))

    form = submit(upload("cut.jpg", whole[: len(whole) // 2]))

    assert_refused(form, "corrupt", "damaged or incomplete", media_files)


@pytest.mark.django_db
def test_decompression_bomb_is_refused_before_decoding(media_files):
    bomb = png_declaring(100_000, 100_000)
    assert len(bomb) < 100

    form = submit(upload("small.png", bomb, "image/png"))

    assert_refused(form, "too_many_pixels", "limit of 60 megapixels", media_files)


@pytest.mark.django_db
def test_pixel_limit_comes_from_settings(settings, media_files):
    settings.PHOTO_MAX_MEGAPIXELS = 0.1

    form = submit(upload("big.png", image_bytes("PNG", size=(400, 300)), "image/png"))

    assert_refused(form, "too_many_pixels", "limit of 0.1 megapixels", media_files)


@pytest.mark.django_db
def test_oversized_file_is_refused(settings, media_files):
    settings.PHOTO_MAX_UPLOAD_MB = 0.01
    noisy = Image.effect_noise((300, 300), 100).convert("RGB")
    out = io.BytesIO()
    noisy.save(out, "PNG")
    assert len(out.getvalue()) > 10_000

    form = submit(upload("noise.png", out.getvalue(), "image/png"))

    assert_refused(form, "too_large", "at most 0.01 MB", media_files)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["logo.svg", "logo.png"])
def test_svg_with_a_script_is_refused_whatever_its_name(name, media_files):
    svg = (
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b"<script>alert(document.cookie)</script><rect width='10' height='10'/></svg>"
    )

    form = submit(upload(name, svg, "image/svg+xml"))

    assert_refused(form, "svg", "SVG files are not accepted", media_files)


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["BMP", "TIFF", "PDF"])
def test_other_formats_pillow_can_read_are_refused(fmt, media_files):
    form = submit(upload(f"scan.{fmt.lower()}", image_bytes(fmt)))

    assert_refused(form, "not_an_image", "not a JPEG, PNG, WebP or GIF", media_files)


@pytest.mark.django_db
def test_stored_name_follows_the_content_not_the_upload_name():
    form = submit(upload("really-a-png.jpg", image_bytes("PNG"), "image/jpeg"))

    assert form.is_valid()
    photo = Photo.objects.get()
    assert photo.image.name.endswith(".png") and "really-a-png" not in photo.image.name
    assert photo.original_name == "really-a-png.jpg"


@pytest.mark.django_db
def test_exif_orientation_is_applied_to_the_stored_photo():
    from articles.photos.tasks import make_renditions

    submit(upload("phone.jpg", camera_jpeg(size=(600, 400), orientation=6)))

    photo = Photo.objects.get()
    assert (photo.width, photo.height) == (400, 600)  # upright from the save on, before the worker has run
    make_renditions.call(photo.pk)
    stored = Image.open(photo.image.path)
    assert stored.size == (400, 600)
    # Orientation 6 means "turn 90° clockwise to view": the red top band ends up on the right.
    assert stored.getpixel((395, 300))[0] > 200
    assert stored.getpixel((5, 300))[0] < 60
    assert ORIENTATION not in stored.getexif()
    photo.refresh_from_db()
    full = Image.open(photo.image.storage.path(renditions.renditions(photo, "full")[-1].name))
    assert full.size == (400, 600) and full.getpixel((395, 300))[0] > 200


def assert_no_location_or_device(name, data):
    image = Image.open(io.BytesIO(data))
    exif = image.getexif()
    assert GPS_IFD not in exif and BODY_SERIAL not in exif and 0x010F not in exif, name
    assert set(exif) <= {ORIENTATION} and "xmp" not in image.info and "comment" not in image.info, name
    assert b"SN-0042-SECRET" not in data and b"GPSLatitude" not in data and b"PhoneMaker" not in data, name


@pytest.mark.django_db
def test_location_and_device_metadata_are_stripped_from_every_stored_file(media_files, media_root):
    from articles.photos.tasks import make_renditions

    submit(upload("phone.jpg", camera_jpeg()))
    [original] = media_files()  # as stored by the save, before any worker runs: the orientation alone is left
    assert_no_location_or_device(original, (media_root / original).read_bytes())
    make_renditions.call(Photo.objects.get().pk)  # as a worker does after the save

    files = media_files()
    assert original in files
    assert any(name.startswith("renditions/") for name in files)
    for name in files:
        data = (media_root / name).read_bytes()
        assert_no_location_or_device(name, data)
        assert "exif" not in Image.open(io.BytesIO(data)).info, name


@pytest.mark.django_db
def test_animated_gif_keeps_its_frames():
    frames = [Image.new("RGB", (40, 30), color) for color in ("red", "green", "blue")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0, comment=b"by me")

    form = submit(upload("spinner.gif", out.getvalue(), "image/gif"))

    assert form.is_valid(), form.errors
    stored = Image.open(Photo.objects.get().image.path)
    assert stored.n_frames == 3
    assert "comment" not in stored.info


@pytest.mark.django_db
def test_admin_upload_shows_the_error_and_stores_nothing(admin_client, media_files):
    response = admin_client.post(
        "/admin/articles/photo/add/",
        {"image": upload("notes.jpg", b"not an image"), "alt_text": "", "credit": "", "focal_x": 0.5, "focal_y": 0.5},
    )

    assert response.status_code == 200
    assert "not a JPEG, PNG, WebP or GIF image" in response.text
    assert Photo.objects.count() == 0
    assert media_files() == []


@pytest.mark.django_db
def test_admin_upload_stores_a_clean_photo_and_leaves_its_renditions_to_a_worker(
    admin_client, media_files, django_capture_on_commit_callbacks
):
    from articles.photos.tasks import make_renditions

    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = admin_client.post(
            "/admin/articles/photo/add/",
            {
                "image": upload("phone.jpg", camera_jpeg()),
                "alt_text": "A field",
                "credit": "AP",
                "focal_x": 0.5,
                "focal_y": 0.5,
            },
        )

    assert response.status_code == 302
    photo = Photo.objects.get()
    assert (photo.width, photo.height) == (400, 600)
    assert not photo.renditions_key  # queued, not made (the other callback marks the page cache stale)
    assert sum(callable(c) and getattr(c, "__qualname__", "").startswith("Photo.save") for c in queued) == 1
    assert media_files() == [photo.image.name]
    assert "Being prepared" in admin_client.get("/admin/articles/photo/").text

    make_renditions.call(photo.pk)

    photo.refresh_from_db()
    assert any(name.startswith(f"renditions/{photo.renditions_key}/") for name in media_files())
    assert f"/renditions/{photo.renditions_key}/" in admin_client.get("/admin/articles/photo/").text


@pytest.mark.django_db
def test_colour_profile_is_applied_and_dropped(media_root, media_files):
    from PIL import ImageCms

    from articles.photos.tasks import make_renditions

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()

    submit(upload("profiled.jpg", image_bytes("JPEG", color=(10, 200, 30), icc_profile=profile)))
    photo = Photo.objects.get()
    assert Image.open(photo.image.path).info["icc_profile"] == profile  # until the worker applies it
    make_renditions.call(photo.pk)

    for name in media_files():
        image = Image.open(media_root / name)
        assert "icc_profile" not in image.info, name
    stored = Image.open(photo.image.path)
    assert stored.getpixel((5, 5)) == pytest.approx((10, 200, 30), abs=4)


@pytest.mark.django_db
def test_saving_a_bad_file_without_a_form_stores_nothing(media_files):
    from django.db import transaction

    from articles.photos.images import UploadRejected

    with pytest.raises(UploadRejected, match="not a JPEG, PNG, WebP or GIF"), transaction.atomic():
        Photo.objects.create(image=upload("notes.jpg", b"plain text, not a picture"), alt_text="x")

    assert Photo.objects.count() == 0
    assert media_files() == []


# A full media disk (ENOSPC), simulated by the storage (tests.photos.FullDiskStorage), not by filling one.

STORAGE_FULL = "The photo could not be stored: the media storage is full. Nothing was saved."


def photo_post(image, **fields):
    return {"image": image, "alt_text": "A field", "credit": "AP", "focal_x": 0.5, "focal_y": 0.5, **fields}


@pytest.mark.django_db
def test_a_full_disk_is_a_form_error_and_no_photo_is_saved(admin_client, settings, media_files):
    full_disk(settings)

    response = admin_client.post("/admin/articles/photo/add/", photo_post(upload("phone.jpg", camera_jpeg())))

    assert response.status_code == 200
    assert STORAGE_FULL in response.text
    assert Photo.objects.count() == 0
    assert media_files() == []  # not even the part written before the disk filled up


@pytest.mark.django_db
def test_a_full_disk_leaves_a_photo_with_its_old_image(admin_client, settings, make_photo, media_root, media_files):
    photo = make_photo(alt_text="Old", credit="Reuters")
    before = media_files()
    full_disk(settings)

    response = admin_client.post(
        f"/admin/articles/photo/{photo.pk}/change/", photo_post(upload("new.jpg", camera_jpeg()), alt_text="New")
    )

    assert response.status_code == 200
    assert STORAGE_FULL in response.text
    photo.refresh_from_db()
    assert (photo.alt_text, photo.credit) == ("Old", "Reuters")
    assert (media_root / photo.image.name).is_file()
    assert media_files() == before


@pytest.mark.django_db
def test_a_full_disk_is_a_form_error_in_any_photo_form(settings, media_files):
    full_disk(settings)
    form = modelform_factory(Photo, form=StoredPhotoForm, fields=["image", "alt_text", "credit", "focal_x", "focal_y"])(
        data={"alt_text": "A street", "credit": "AP", "focal_x": 0.5, "focal_y": 0.5},
        files={"image": upload("phone.jpg", camera_jpeg())},
    )

    assert not form.is_valid()
    assert [error.code for error in form.errors.as_data()["image"]] == ["storage_failed"]
    assert Photo.objects.count() == 0
    assert media_files() == []


@pytest.mark.django_db
def test_saving_a_photo_without_a_form_on_a_full_disk_saves_no_row(settings, media_files):
    from django.db import transaction

    full_disk(settings)

    with pytest.raises(OSError, match="No space left"), transaction.atomic():
        Photo.objects.create(image=upload("phone.jpg", camera_jpeg()), alt_text="x")

    assert Photo.objects.count() == 0
    assert media_files() == []


@pytest.mark.django_db
def test_a_full_disk_still_lets_editors_change_a_photos_text(admin_client, settings, make_photo):
    photo = make_photo(alt_text="Old")
    full_disk(settings)

    response = admin_client.post(f"/admin/articles/photo/{photo.pk}/change/", photo_post("", alt_text="New"))

    assert response.status_code == 302
    photo.refresh_from_db()
    assert photo.alt_text == "New"
