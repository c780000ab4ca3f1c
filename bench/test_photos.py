"""Photo benchmarks, run by `make bench` (bench/run.py): what a rendition set costs, what an editor waits for
when saving a camera's 24-megapixel picture in the admin (the renditions are a worker's job), and what a page
view with a <picture> costs. Numbers are printed, not asserted (timings depend on the machine); that a page view
does no image processing is a test of the suite (tests/test_renditions.py).
"""

import io
import statistics
import time
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageCms

from articles.models import Article, Caption, Photo, Section
from articles.photos import images, renditions
from articles.photos.tasks import make_renditions

PHOTOS = 3
SAVES = 3
PAGE_VIEWS = 50


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def camera_sized_jpeg(seed, size=(3000, 2000), *, as_a_phone_writes_it=False):
    """A JPEG with photographic noise, so encoders work as hard as on a real picture; as a phone writes it, with an
    orientation to apply (a portrait held upright) and a colour profile, which the worker applies to the original."""
    image = Image.merge("RGB", [Image.effect_noise(size, 40 + 10 * (seed + band)) for band in range(3)])
    image = Image.blend(image, Image.linear_gradient("L").resize(size).convert("RGB"), 0.6)
    out = io.BytesIO()
    options = {}
    if as_a_phone_writes_it:
        exif = Image.Exif()
        exif[0x0112] = 6
        options = {"exif": exif, "icc_profile": ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()}
    image.save(out, "JPEG", quality=90, **options)
    return out.getvalue()


def report(label, value):
    """One figure, in the form bench/run.py collects into its table."""
    print(f"\nBENCH {label}: {value}")


@pytest.mark.django_db
def test_rendition_time_per_photo():
    photos = [
        Photo.objects.create(image=SimpleUploadedFile(f"bench-{n}.jpg", camera_sized_jpeg(n)), alt_text="Bench")
        for n in range(PHOTOS)
    ]
    timings = []
    for photo in photos:
        started = time.perf_counter()
        written = renditions.generate(photo, force=True)
        timings.append(time.perf_counter() - started)
    report("renditions per 3000x2000 photo", f"{written} files")
    report(f"time per photo (mean of {PHOTOS})", f"{statistics.mean(timings):.2f} s")


@pytest.mark.django_db
def test_admin_save_of_a_24_megapixel_photo(admin_client, django_capture_on_commit_callbacks, monkeypatch):
    """The admin's save (checking, stripping and storing the upload, queueing the renditions) of a phone's picture
    against what the save did before the upload's decoding and renditions were a worker's job: decoding, turning
    upright and re-encoding it, then every rendition, in the editor's request."""
    data = camera_sized_jpeg(7, size=(6000, 4000), as_a_phone_writes_it=True)
    saves = []
    for n in range(SAVES):
        fields = {"alt_text": "Bench", "credit": "AP", "focal_x": 0.5, "focal_y": 0.5}
        started = time.perf_counter()
        with django_capture_on_commit_callbacks(execute=True):  # queued in the database, as in production
            response = admin_client.post(
                "/admin/articles/photo/add/", {**fields, "image": SimpleUploadedFile(f"big-{n}.jpg", data)}
            )
        saves.append(time.perf_counter() - started)
        assert response.status_code == 302
    save = statistics.median(saves)
    worker = []
    for photo in Photo.objects.all():
        started = time.perf_counter()
        make_renditions.call(photo.pk)
        worker.append(time.perf_counter() - started)
    photo.refresh_from_db()
    # What the request used to do: decode the upload, turn it upright and re-encode it (now the worker's
    # finish_original), then, once it was stored, every file, from the original decoded whole.
    monkeypatch.setattr(renditions, "_decoded_size", lambda photo: (photo.width, photo.height))
    old_path = []
    for _ in range(SAVES):
        started = time.perf_counter()
        images.finished(io.BytesIO(data))
        renditions.generate(photo, force=True)
        old_path.append(time.perf_counter() - started)
    report(f"admin save of a 6000x4000 JPEG ({len(data) / 1e6:.1f} MB, median of {SAVES})", f"{save * 1000:.0f} ms")
    report("  its renditions by a worker (median)", f"{statistics.median(worker):.2f} s")
    report("  the same save before, renditions made inline", f"{save + statistics.median(old_path):.2f} s")


@pytest.mark.django_db
def test_page_view_time(client):
    section = Section.objects.get(slug="world")
    article = Article.objects.create(
        headline="Benchmark Story",
        slug="benchmark-story",
        section=section,
        body="One.\n\nTwo.",
        status=Article.Status.PUBLISHED,
        published_at=timezone.now() - timedelta(hours=1),
    )
    photo = Photo.objects.create(image=SimpleUploadedFile("lead.jpg", camera_sized_jpeg(9)), alt_text="Bench")
    make_renditions.call(photo.pk)  # as a worker does after the save
    Caption.objects.create(article=article, photo=photo, text="Lead photo.", is_lead=True)

    url = article.get_absolute_url()
    started = time.perf_counter()
    for _ in range(PAGE_VIEWS):
        assert "<picture>" in client.get(url).text
    elapsed = time.perf_counter() - started

    report("time per page view (with <picture>)", f"{elapsed / PAGE_VIEWS * 1000:.1f} ms")
