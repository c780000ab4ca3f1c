"""What a reporter or a dump cannot break: animation bombs are refused with a form error (never a 500).
Timings are measured in the bench (bench/photo_bombs.py)."""

import io

import pytest
from django.forms import modelform_factory
from PIL import Image

from articles import images
from articles.models import Photo
from tests.photos import gif_built_by_hand, upload

PhotoForm = modelform_factory(Photo, fields=["image", "alt_text", "credit", "focal_x", "focal_y"])


def submit(file):
    form = PhotoForm(
        data={"alt_text": "A street", "credit": "AP", "focal_x": 0.5, "focal_y": 0.5}, files={"image": file}
    )
    if form.is_valid():
        form.save()
    return form


def animated_gif(frames, size=(1, 1), duration=40):
    """A GIF made with Pillow; neighbouring frames differ, so Pillow's writer keeps every one."""
    pictures = [Image.new("P", size, n % 2) for n in range(frames)]
    for picture in pictures:
        picture.putpalette([0, 0, 0, 255, 255, 255])
    out = io.BytesIO()
    pictures[0].save(out, "GIF", save_all=True, append_images=pictures[1:], duration=duration, loop=0)
    return out.getvalue()


@pytest.mark.django_db
def test_gif_of_three_655_second_frames_is_stored_without_error(media_files):
    # Identical frames, which Pillow's writer merges into one delay longer than a GIF can hold: this was a 500.
    bomb = gif_built_by_hand(frames=3, centiseconds=65500)
    assert len(bomb) < 120

    form = submit(upload("long.gif", bomb, "image/gif"))

    assert form.is_valid(), form.errors
    stored = Image.open(Photo.objects.get().image.path)
    durations = []
    for frame in range(stored.n_frames):
        stored.seek(frame)
        durations.append(stored.info["duration"])
    assert 0 < sum(durations) <= 655_350


@pytest.mark.django_db
def test_admin_upload_of_the_long_gif_saves(admin_client):
    response = admin_client.post(
        "/admin/articles/photo/add/",
        {
            "image": upload("long.gif", gif_built_by_hand(frames=3, centiseconds=65500), "image/gif"),
            "alt_text": "Nothing much",
            "credit": "AP",
            "focal_x": 0.5,
            "focal_y": 0.5,
        },
    )

    assert response.status_code == 302
    assert Photo.objects.count() == 1


@pytest.mark.django_db
def test_gif_with_more_frames_than_the_limit_is_refused_with_a_clear_message(settings, media_files):
    settings.PHOTO_MAX_FRAMES = 500

    form = submit(upload("spinner.gif", animated_gif(2_000), "image/gif"))

    assert not form.is_valid()
    assert [error.code for error in form.errors.as_data()["image"]] == ["too_many_frames"]
    assert "more than 500 frames" in form.errors["image"][0]
    assert Photo.objects.count() == 0 and media_files() == []


@pytest.mark.django_db
def test_admin_shows_the_frame_limit_instead_of_failing(settings, admin_client, media_files):
    settings.PHOTO_MAX_FRAMES = 100

    response = admin_client.post(
        "/admin/articles/photo/add/",
        {
            "image": upload("a.gif", animated_gif(300), "image/gif"),
            "alt_text": "",
            "credit": "",
            "focal_x": 0.5,
            "focal_y": 0.5,
        },
    )

    assert response.status_code == 200
    assert "more than 100 frames" in response.text
    assert media_files() == []


@pytest.mark.django_db
def test_frames_times_pixels_count_against_the_megapixel_limit(settings, media_files):
    settings.PHOTO_MAX_MEGAPIXELS = 0.5  # 60 frames of 100x100 are 0.6 megapixels to decode

    form = submit(upload("flip.gif", animated_gif(60, size=(100, 100)), "image/gif"))

    assert [error.code for error in form.errors.as_data()["image"]] == ["too_many_pixels"]
    assert "every frame of an animation counts" in form.errors["image"][0]


def test_gif_frames_are_counted_as_pillow_counts_them_and_no_further():
    frames = [Image.new("RGB", (30, 20), (n * 40, 255 - n * 40, 0)) for n in range(6)]
    out = io.BytesIO()  # local colour tables and a comment extension, to walk past
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, comment=b"x" * 600)
    data = out.getvalue()

    assert images.gif_frame_count(data, limit=100) == Image.open(io.BytesIO(data)).n_frames == 6
    assert images.gif_frame_count(data, limit=3) == 4
    assert images.gif_frame_count(gif_built_by_hand(frames=200_000), limit=500) == 501


def test_a_truncated_gif_is_refused_as_damaged_not_miscounted():
    data = animated_gif(10, size=(20, 20))

    with pytest.raises(images.UploadRejected) as refused:
        images.clean(io.BytesIO(data[: len(data) // 2]), max_bytes=10**6, max_pixels=10**6, max_frames=500)

    assert refused.value.code == "corrupt"
