"""Photo benchmarks, run by `make bench` (bench/run.py): what a rendition set costs, and what a page view
with a <picture> costs. Numbers are printed, not asserted (timings depend on the machine); that a page view
does no image processing is a test of the suite (tests/test_renditions.py).
"""

import io
import statistics
import time
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from articles.models import Article, Caption, Photo, Section
from articles.photos import renditions

PHOTOS = 3
PAGE_VIEWS = 50


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def camera_sized_jpeg(seed):
    """A 3000x2000 JPEG with photographic noise, so encoders work as hard as on a real picture."""
    image = Image.merge("RGB", [Image.effect_noise((3000, 2000), 40 + 10 * (seed + band)) for band in range(3)])
    image = Image.blend(image, Image.linear_gradient("L").resize((3000, 2000)).convert("RGB"), 0.6)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
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
    Caption.objects.create(article=article, photo=photo, text="Lead photo.", is_lead=True)

    url = article.get_absolute_url()
    started = time.perf_counter()
    for _ in range(PAGE_VIEWS):
        assert "<picture>" in client.get(url).text
    elapsed = time.perf_counter() - started

    report("time per page view (with <picture>)", f"{elapsed / PAGE_VIEWS * 1000:.1f} ms")
