"""What a reporter, a dump or a curious reader cannot break or see: animation bombs are refused with a form error
(never a 500), a photo that is in no published story has no URL anyone can compute or be served, and originals
are stored under names that give nothing away. Timings are measured in the bench (bench/photo_bombs.py)."""

import io
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from articles.models import Article, Caption, Photo
from articles.photos import images, renditions
from tests.photos import gif_built_by_hand, submit, upload


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
    assert Photo.objects.get().original_name == "long.gif"


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


def rendition_url(photo, filename="full-640.webp"):
    return reverse(
        "articles:rendition", kwargs={"pk": photo.pk, "key": renditions.rendition_key(photo), "filename": filename}
    )


def photo_in(article, make_photo):
    photo = make_photo()
    Caption.objects.create(article=article, photo=photo, text="At the scene.", is_lead=True)
    return photo


@pytest.mark.django_db
@pytest.mark.parametrize("story", ["draft_article", "review_article", "embargoed_article", "withdrawn_article"])
def test_photo_of_a_story_readers_cannot_see_is_not_served(request, story, make_photo, client):
    photo = photo_in(request.getfixturevalue(story), make_photo)

    assert client.get(rendition_url(photo)).status_code == 404


@pytest.mark.django_db
def test_drafts_photo_is_served_once_the_story_is_published(draft_article, make_photo, client, media_root):
    photo = photo_in(draft_article, make_photo)
    url = rendition_url(photo)

    assert client.get(url).status_code == 404

    Article.objects.filter(pk=draft_article.pk).update(
        status=Article.Status.PUBLISHED, published_at=timezone.now() - timedelta(minutes=1)
    )
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].endswith("/full-640.webp")
    assert "public" in response["Cache-Control"]


@pytest.mark.django_db
def test_staff_see_a_drafts_photo_and_no_shared_cache_keeps_it(draft_article, make_photo, admin_client, media_root):
    photo = photo_in(draft_article, make_photo)
    url = rendition_url(photo)

    response = admin_client.get(url)

    assert response.status_code == 302
    assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]


@pytest.mark.django_db
def test_a_logged_in_reader_who_is_not_staff_gets_nothing(draft_article, make_photo, django_user_model):
    photo = photo_in(draft_article, make_photo)
    client = Client()
    client.force_login(django_user_model.objects.create_user("reader"))

    assert client.get(rendition_url(photo)).status_code == 404


@pytest.mark.django_db
def test_rendition_key_depends_on_the_secret_key(settings, make_photo):
    photo = make_photo()
    settings.SECRET_KEY = "one-" + "a" * 60
    first = renditions.rendition_key(photo)
    settings.SECRET_KEY = "two-" + "b" * 60
    second = renditions.rendition_key(photo)

    assert first != second
    assert len(first) == 32
    # Nothing derived from the photo's public or predictable facts gives the key.
    import hashlib

    fingerprint = f"{photo.image.name}|0.5000,0.5000|{','.join(map(str, settings.PHOTO_RENDITION_WIDTHS))}"
    assert not any(
        hashlib.sha256(candidate.encode()).hexdigest().startswith(second[:20])
        for candidate in [str(photo.pk), photo.image.name, fingerprint]
    )


@pytest.mark.django_db
def test_new_uploads_are_stored_under_a_random_name(make_photo):
    first = make_photo(name="minister-resignation-draft.jpg")
    second = make_photo(name="minister-resignation-draft.jpg")

    for photo in (first, second):
        stored = photo.image.name.rsplit("/", 1)[-1]
        assert "minister" not in stored and "resignation" not in stored
        assert re.fullmatch(r"[0-9a-f]{32}\.jpg", stored)
        assert photo.original_name == "minister-resignation-draft.jpg"
        assert str(photo) == "minister-resignation-draft.jpg (Reuters)"
    assert first.image.name != second.image.name


@pytest.mark.django_db
def test_story_page_links_renditions_never_the_original(client, article_with_photo):
    photo = article_with_photo.lead_caption.photo

    html = client.get(article_with_photo.get_absolute_url()).text

    assert photo.image.name not in html
    assert f"/renditions/{photo.renditions_key}/social-1200.jpg" in re.search(
        r'<script type="application/ld\+json">(.*?)</script>', html, re.S
    ).group(1)
