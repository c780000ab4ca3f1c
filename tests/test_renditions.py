import re
import shutil
import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from PIL import Image, features

from articles.models import Photo
from articles.photos import images, renditions
from articles.photos.tasks import make_renditions
from tests.photos import full_disk, halves_bytes, image_bytes, upload

FORMATS = {"avif": "AVIF", "webp": "WEBP", "jpg": "JPEG"}


def open_rendition(media_root, rendition):
    return Image.open(media_root / rendition.name)


IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def rendition_files(media_files):
    return [name for name in media_files() if name.startswith("renditions/")]


@pytest.mark.django_db
def test_saving_a_photo_makes_no_rendition_and_queues_their_making_on_commit(
    settings, media_files, django_capture_on_commit_callbacks
):
    settings.TASKS = IMMEDIATE  # the task runs as soon as it is queued: when the save commits, not before
    with django_capture_on_commit_callbacks(execute=True):
        photo = Photo.objects.create(image=upload("photo.jpg", image_bytes(size=(1000, 500))), alt_text="Boats")

        assert rendition_files(media_files) == []
        assert renditions.picture(photo) is None

    photo.refresh_from_db()
    assert photo.renditions_key == renditions.rendition_key(photo)
    assert rendition_files(media_files) == sorted(r.name for r in renditions.all_renditions(photo))


@pytest.mark.django_db
def test_the_task_waits_in_the_database_queue_for_a_worker(media_files, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True):
        photo = Photo.objects.create(image=upload("photo.jpg", image_bytes()), alt_text="Boats")

    queued = DBTaskResult.objects.get()
    assert (queued.task_path, queued.args_kwargs["args"]) == ("articles.photos.tasks.make_renditions", [photo.pk])
    assert queued.status == "READY"
    assert rendition_files(media_files) == []


@pytest.mark.django_db
def test_the_task_does_nothing_for_a_current_or_deleted_photo(make_photo, media_root, media_files):
    photo = make_photo()
    made = media_files()

    assert make_renditions.call(photo.pk) == 0  # current already: nothing done
    assert media_files() == made
    Photo.objects.filter(pk=photo.pk).delete()
    assert make_renditions.call(photo.pk) == 0


@pytest.mark.django_db
def test_a_task_that_finishes_late_does_not_undo_a_newer_ones_work(make_photo):
    photo = make_photo()
    photo.focal_x = 0.2
    photo.save()
    slow = Photo.objects.get(pk=photo.pk)  # as the first task's worker read it
    photo.focal_x = 0.3
    photo.save()
    make_renditions.call(photo.pk)  # the second task, on another worker, finishes first

    renditions.generate(slow)  # then the first

    photo.refresh_from_db()
    assert photo.focal_x == 0.3 and renditions.ready(photo)


@pytest.mark.django_db
def test_renditions_are_made_in_every_format_and_size(make_photo, media_root):
    photo = make_photo(data=image_bytes(size=(2000, 1000)))

    made = renditions.all_renditions(photo)
    assert photo.renditions_key == renditions.rendition_key(photo)
    assert {r.extension for r in made} == ({"avif", "webp", "jpg"} if features.check("avif") else {"webp", "jpg"})
    full = sorted({r.width for r in made if r.crop == "full"})
    assert full == [320, 640, 960, 1280, 1600]
    for rendition in made:
        image = open_rendition(media_root, rendition)
        assert image.format == FORMATS[rendition.extension], rendition.name
        assert image.size == (rendition.width, rendition.height), rendition.name
    assert open_rendition(media_root, renditions.renditions(photo, "full")[0]).size == (320, 160)
    assert open_rendition(media_root, renditions.renditions(photo, "social")[0]).size == (1200, 630)
    for card in (r for r in made if r.crop == "card"):
        assert card.width / card.height == pytest.approx(3 / 2, abs=0.01)


@pytest.mark.django_db
def test_small_photo_is_never_enlarged(make_photo):
    photo = make_photo(data=image_bytes(size=(500, 400)))

    assert sorted({r.width for r in renditions.renditions(photo, "full")}) == [320, 500]


@pytest.mark.django_db
def test_rendition_widths_come_from_settings(settings, make_photo):
    settings.PHOTO_RENDITION_WIDTHS = [200, 400]

    photo = make_photo()

    assert sorted({r.width for r in renditions.renditions(photo, "full")}) == [200, 400]


def test_focal_box_is_centred_by_default():
    assert images.focal_box((3000, 1000), 3 / 2) == (750, 0, 2250, 1000)
    assert images.focal_box((1000, 3000), 3 / 2) == (0, 1166, 1000, 1833)


def test_focal_box_follows_the_focal_point_and_stays_inside():
    assert images.focal_box((3000, 1000), 3 / 2, focal_x=0.6) == (1050, 0, 2550, 1000)
    assert images.focal_box((3000, 1000), 3 / 2, focal_x=1.0) == (1500, 0, 3000, 1000)
    assert images.focal_box((3000, 1000), 3 / 2, focal_x=0.0) == (0, 0, 1500, 1000)
    assert images.focal_box((1000, 3000), 1200 / 630, focal_y=0.1) == (0, 38, 1000, 563)
    assert images.focal_box((1000, 3000), 1200 / 630, focal_y=0.0) == (0, 0, 1000, 525)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("focal_x", "left", "right"), [(0.05, "red", "red"), (0.5, "red", "blue"), (0.95, "blue", "blue")]
)
def test_card_and_social_crops_keep_the_focal_point(settings, make_photo, media_root, focal_x, left, right):
    settings.PHOTO_RENDITION_WIDTHS = [320]
    photo = make_photo(data=halves_bytes(size=(800, 200)), name="halves.png", focal_x=focal_x)

    for crop in ("card", "social"):
        rendition = next(r for r in renditions.renditions(photo, crop) if r.extension == "jpg")
        image = open_rendition(media_root, rendition).convert("RGB")
        colours = [image.getpixel((x, image.height // 2)) for x in (2, image.width - 3)]
        assert [("red" if r > b else "blue") for r, _, b in colours] == [left, right], crop


@pytest.mark.django_db
def test_new_focal_point_gets_new_renditions_from_the_worker(client, article_with_photo, media_root):
    photo = article_with_photo.lead_caption.photo
    old = renditions.renditions(photo, "card")[0]

    photo.focal_x = 0.1
    photo.save()

    new = renditions.renditions(photo, "card")[0]
    assert new.name != old.name and not (media_root / new.name).exists()
    page = client.get(article_with_photo.get_absolute_url()).text
    assert "<picture>" not in page and "The harbour at dawn." in page

    make_renditions.call(photo.pk)

    photo.refresh_from_db()
    assert (media_root / new.name).exists()
    assert photo.renditions_key == new.key
    assert f"/media/renditions/{new.key}/" in client.get(article_with_photo.get_absolute_url()).text


@pytest.mark.django_db
def test_article_page_serves_a_responsive_picture(client, article_with_photo):
    photo = article_with_photo.lead_caption.photo

    html = client.get(article_with_photo.get_absolute_url()).text

    picture = re.search(r"<picture>.*?</picture>", html, re.S).group()
    if features.check("avif"):
        assert '<source type="image/avif"' in picture
    assert '<source type="image/webp"' in picture
    assert f"/media/renditions/{photo.renditions_key}/full-320.webp 320w" in picture
    assert "full-1000.jpg 1000w" in picture
    assert 'sizes="(min-width: 48rem) 48rem, 100vw"' in picture
    assert 'width="1000" height="500"' in picture
    assert 'alt="Boats in a flooded harbour"' in picture
    assert 'fetchpriority="high"' in picture and 'loading="lazy"' not in picture
    figure = re.search(r"<figure[^>]*>.*?</figure>", html, re.S).group()
    assert re.search(r"<figcaption>The harbour at dawn. <span[^>]*>Reuters</span></figcaption>", figure)
    assert (
        f'<meta property="og:image" content="http://testserver/media/renditions/{photo.renditions_key}/social' in html
    )


def test_pictures_below_the_fold_load_lazily(make_photo, rf):
    from django.template import engines

    template = engines["jinja2"].from_string(
        '{% from "articles/includes/photos.html" import picture %}{{ picture(photo, "20rem", crop="card") }}'
    )
    html = template.render({"photo": make_photo()})

    assert 'loading="lazy"' in html and "fetchpriority" not in html
    assert 'sizes="20rem"' in html and "card-320.webp" in html
    assert 'width="750" height="500"' in html


@pytest.mark.django_db
def test_page_view_does_no_image_processing(client, article_with_photo, media_files, monkeypatch):
    made = media_files()

    def refuse(*args, **kwargs):
        raise AssertionError("a page view processed an image")

    monkeypatch.setattr(Image, "open", refuse)
    monkeypatch.setattr(Image, "new", refuse)
    monkeypatch.setattr(Image.Image, "save", refuse)
    for _ in range(3):
        response = client.get(article_with_photo.get_absolute_url())
        assert response.status_code == 200
        assert "<picture>" in response.text

    assert media_files() == made


@pytest.mark.django_db
def test_story_shows_caption_and_credit_alone_until_the_renditions_are_made(
    client, make_article, media_files, monkeypatch, django_capture_on_commit_callbacks
):
    from articles.models import Caption

    article = make_article("Harbour Flooded Overnight")
    with django_capture_on_commit_callbacks(execute=True):
        photo = Photo.objects.create(image=upload("photo.jpg", image_bytes()), alt_text="Boats", credit="Reuters")
    Caption.objects.create(article=article, photo=photo, text="The harbour at dawn.", is_lead=True)
    made = media_files()

    def refuse(*args, **kwargs):
        raise AssertionError("a page view processed an image")

    monkeypatch.setattr(Image, "open", refuse)
    monkeypatch.setattr(Image.Image, "save", refuse)
    html = client.get(article.get_absolute_url()).text

    figure = re.search(r"<figure[^>]*>.*?</figure>", html, re.S).group()
    assert "<img" not in figure and "<picture" not in figure
    assert re.search(r"<figcaption>The harbour at dawn. <span[^>]*>Reuters</span></figcaption>", figure)
    assert "og:image" not in html and photo.image.name not in html
    assert media_files() == made


@pytest.mark.django_db
def test_rendition_view_redirects_to_storage_and_never_makes_a_rendition(
    client, article_with_photo, media_root, media_files, monkeypatch
):
    photo = article_with_photo.lead_caption.photo
    wanted = next(r for r in renditions.renditions(photo, "full") if r.filename == "full-640.webp")
    url = f"/photos/{photo.pk}/{wanted.key}/full-640.webp"

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/media/{wanted.name}"
    (media_root / wanted.name).unlink()
    made = media_files()
    monkeypatch.setattr(Image, "open", lambda *args, **kwargs: pytest.fail("a request processed an image"))
    assert client.get(url).status_code == 404
    assert media_files() == made


@pytest.mark.django_db
def test_rendition_view_refuses_unknown_and_stale_names(client, make_photo):
    photo = make_photo()
    key = photo.renditions_key

    assert client.get(f"/photos/{photo.pk}/{key}/full-777.webp").status_code == 404
    assert client.get(f"/photos/{photo.pk}/{key}/full-320.bmp").status_code == 404
    assert client.get(f"/photos/{photo.pk}/0000/full-320.webp").status_code == 404
    assert client.get(f"/photos/{photo.pk + 1}/{key}/full-320.webp").status_code == 404


@pytest.mark.django_db
def test_two_workers_making_one_photos_renditions_at_once_store_each_file_once(
    settings, media_root, media_files, monkeypatch
):
    settings.PHOTO_RENDITION_WIDTHS = [320]
    photo = Photo.objects.create(image=upload("photo.jpg", image_bytes()), alt_text="Boats")
    both_rendered = threading.Barrier(2, timeout=20)
    encode = images.encode

    def encode_in_step(*args, **kwargs):
        data = encode(*args, **kwargs)
        both_rendered.wait()  # neither stores before both have found the file missing and rendered it
        return data

    monkeypatch.setattr(images, "encode", encode_in_step)
    written = []
    copies = [Photo.objects.get(pk=photo.pk) for _ in range(2)]
    threads = [threading.Thread(target=lambda p=p: written.append(renditions.make_files(p))) for p in copies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    expected = sorted(r.name for r in renditions.all_renditions(photo))
    assert written == [len(expected), len(expected)]  # both made every file; each is stored once
    assert rendition_files(media_files) == expected


@pytest.mark.django_db
def test_regenerate_command_remakes_every_rendition(make_photo, media_root, media_files):
    photos = [make_photo(), make_photo(data=image_bytes("PNG", size=(700, 700)), name="square.png")]
    Photo.objects.create(credit="AFP")  # a wire caption without its picture: nothing to make
    expected = sorted(r.name for photo in photos for r in renditions.all_renditions(photo))
    shutil.rmtree(media_root / "renditions")
    out = StringIO()

    call_command("regenerate_renditions", "--inline", stdout=out)

    assert [name for name in media_files() if name.startswith("renditions/")] == expected
    assert f"2 photos, {len(expected)} files written" in out.getvalue()


@pytest.mark.django_db
def test_regenerate_command_queues_a_task_per_photo_for_the_workers(make_photo, media_root, media_files):
    from django_tasks_db.models import DBTaskResult

    photos = [make_photo(), make_photo()]
    shutil.rmtree(media_root / "renditions")
    out = StringIO()

    call_command("regenerate_renditions", "--missing", stdout=out)

    assert rendition_files(media_files) == []
    queued = sorted(DBTaskResult.objects.all(), key=lambda task: task.args_kwargs["args"])
    assert [(t.task_path, t.args_kwargs) for t in queued] == [
        ("articles.photos.tasks.make_renditions", {"args": [photo.pk], "kwargs": {"fill_gaps": True, "replace": False}})
        for photo in photos
    ]
    assert "queued for 2 photos" in out.getvalue()
    for task in queued:
        make_renditions.call(*task.args_kwargs["args"], **task.args_kwargs["kwargs"])  # as the workers do
    assert rendition_files(media_files) == sorted(r.name for p in photos for r in renditions.all_renditions(p))


@pytest.mark.django_db
def test_regenerate_command_with_missing_only_fills_gaps(make_photo, media_root):
    photo = make_photo()
    gap = renditions.renditions(photo, "card")[0]
    (media_root / gap.name).unlink()
    out = StringIO()

    call_command("regenerate_renditions", photo.pk, "--missing", "--inline", stdout=out)

    assert (media_root / gap.name).exists()
    assert "1 photos, 1 files written" in out.getvalue()


@pytest.mark.django_db
def test_regenerate_command_names_unknown_photos():
    with pytest.raises(CommandError, match="no photo with an image has id 999"):
        call_command("regenerate_renditions", 999)


def test_media_storage_never_overwrites_and_leaves_no_partial_files(media_root):
    from django.core.files.base import ContentFile

    from articles.photos.storage import MediaStorage

    storage = MediaStorage()
    first = storage.save("renditions/k/full-320.jpg", ContentFile(b"first"))
    second = storage.save("renditions/k/full-320.jpg", ContentFile(b"second"))

    assert first == "renditions/k/full-320.jpg" and second != first
    assert storage.open(first).read() == b"first" and storage.open(second).read() == b"second"
    assert sorted(p.name for p in (media_root / "renditions" / "k").iterdir()) == sorted(
        [first.rsplit("/", 1)[1], second.rsplit("/", 1)[1]]
    )


@pytest.mark.django_db
def test_photos_after_the_lead_load_lazily(client, article_with_photo, make_photo):
    from articles.models import Caption

    Caption.objects.create(article=article_with_photo, photo=make_photo(), text="The quay at noon.", order=1)

    html = client.get(article_with_photo.get_absolute_url()).text

    lead, second = re.findall(r"<figure[^>]*>.*?</figure>", html, re.S)
    assert 'fetchpriority="high"' in lead and "The harbour at dawn." in lead
    assert 'loading="lazy"' in second and "fetchpriority" not in second and "The quay at noon." in second


@pytest.mark.django_db
def test_story_lists_show_lazy_card_crops(client, article_with_photo, make_article, make_photo):
    from articles.models import Caption

    older = make_article("Quay Reopens", published_at=article_with_photo.published_at - timedelta(hours=1))
    Caption.objects.create(article=older, photo=make_photo(), text="The quay.", is_lead=True)
    photo = article_with_photo.lead_caption.photo

    html = client.get("/").text

    assert f"/media/renditions/{photo.renditions_key}/card-320.webp 320w" in html
    assert 'width="750" height="500"' in html
    # The first card is above the fold and fetched at once; the ones after it load lazily.
    first, second = re.findall(r"<article class=\"card[^\"]*\".*?</article>", html, re.S)[:2]
    assert 'fetchpriority="high"' in first and 'loading="lazy"' in second


@pytest.mark.django_db
def test_author_and_topic_pages_fetch_their_first_picture_at_once(
    client, article_with_photo, make_article, make_photo, make_author
):
    """A listing's first picture is the page's largest paint on a phone (Lighthouse): fetched lazily, its request
    would wait for layout. The pictures after it still load lazily."""
    from articles.models import Byline, Caption, StoryTopic, Topic

    older = make_article("Quay Reopens", published_at=article_with_photo.published_at - timedelta(hours=1))
    Caption.objects.create(article=older, photo=make_photo(), text="The quay.", is_lead=True)
    author, topic = make_author(), Topic.objects.create(name="Floods", slug="floods")
    for article in (article_with_photo, older):
        Byline.objects.create(article=article, author=author)
        StoryTopic.objects.create(article=article, topic=topic)

    for url in (author.get_absolute_url(), topic.get_absolute_url()):
        html = client.get(url).text
        first, second = re.findall(r"<article class=\"card\".*?</article>", html, re.S)[:2]
        assert "Harbour Flooded Overnight" in first and "Quay Reopens" in second, url
        assert 'fetchpriority="high"' in first and 'loading="lazy"' not in first, url
        assert 'loading="lazy"' in second and "fetchpriority" not in second, url


@pytest.mark.django_db
def test_regenerate_command_prunes_renditions_nothing_links_to(make_photo, media_root):
    import os
    import time

    photo = make_photo()
    old = renditions.renditions(photo, "card")[0]
    photo.focal_x = 0.2
    photo.save()
    two_hours_ago = time.time() - 7200
    for path in (media_root / "renditions" / old.key).iterdir():
        os.utime(path, (two_hours_ago, two_hours_ago))
    out = StringIO()

    call_command("regenerate_renditions", "--missing", "--prune", "--inline", stdout=out)

    assert not any((media_root / "renditions" / old.key).iterdir())
    assert all((media_root / r.name).exists() for r in renditions.all_renditions(photo))
    assert f"Pruned {len(renditions.all_renditions(photo))} files" in out.getvalue()


@pytest.mark.django_db
def test_prune_keeps_recent_files_of_photos_not_yet_committed(make_photo, media_root):
    photo = make_photo()
    Photo.objects.filter(pk=photo.pk).delete()  # as another transaction sees a photo still being saved

    assert renditions.prune(photo.image.storage, Photo.objects.all()) == []
    assert (media_root / renditions.renditions(photo, "full")[0].name).exists()


@pytest.mark.django_db
def test_a_worker_on_a_full_disk_fails_and_pages_keep_the_caption(client, settings, make_article, media_files):
    from articles.models import Caption

    article = make_article("Harbour Flooded Overnight")
    photo = Photo.objects.create(image=upload("photo.jpg", image_bytes()), alt_text="Boats", credit="Reuters")
    Caption.objects.create(article=article, photo=photo, text="The harbour at dawn.", is_lead=True)
    full_disk(settings)

    with pytest.raises(OSError, match="No space left"):  # the task fails, with the reason in the queue
        make_renditions.call(photo.pk)

    photo.refresh_from_db()
    assert not renditions.ready(photo)
    html = client.get(article.get_absolute_url()).text
    assert "<picture>" not in html and "The harbour at dawn." in html
    assert rendition_files(media_files) == []
