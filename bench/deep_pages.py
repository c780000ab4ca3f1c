"""Benchmark: how fast are the public pages with 100,000 published stories?

    .venv/bin/python bench/deep_pages.py                   # a scratch SQLite file in /tmp
    DATABASE_URL=postgres://.../newsroom_bench .venv/bin/python bench/deep_pages.py   # an EMPTY database

It fills the database (one section holds most stories, as a busy section would), then times each page
through Django's test client, best of three, and compares the section view's id-first pagination with a
plain OFFSET over full rows. Results are printed; docs/performance.md keeps a run.
"""

import os
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "sqlite:////tmp/newsroom-bench.sqlite3")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-" + "x" * 50)
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
STORIES = int(os.environ.get("BENCH_STORIES", "100000"))

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from articles.models import Article, Caption, Photo, Section  # noqa: E402
from articles.views import with_lead_photos  # noqa: E402

BODY = "\n\n".join(
    [
        "The harbour authority said on Tuesday that ships would return to the northern quay within days.",
        "Dock workers, who had stopped work over pay, agreed to a new contract after talks overnight.",
        "Exporters welcomed the news but warned that the backlog of containers would take weeks to clear.",
    ]
)


def fill():
    if Article.objects.count() >= STORIES:
        return
    sections = list(Section.objects.all())
    busy = Section.objects.get(slug="world")
    now = timezone.now()
    batch = 5000
    for start in range(0, STORIES, batch):
        with transaction.atomic():
            articles = Article.objects.bulk_create(
                Article(
                    headline=f"Harbour story number {i}",
                    slug=f"harbour-story-{i}",
                    section=busy if i % 10 else sections[i % len(sections)],
                    body=BODY,
                    status=Article.Status.PUBLISHED,
                    published_at=now - timedelta(minutes=i),
                )
                for i in range(start, min(start + batch, STORIES))
            )
            photos = Photo.objects.bulk_create(Photo(credit="AP") for _ in articles)
            Caption.objects.bulk_create(
                Caption(article=a, photo=p, text="Ships at the quay", is_lead=True)
                for a, p in zip(articles, photos, strict=True)
            )
        print(f"  {start + len(articles)} stories", flush=True)
    with connection.cursor() as cursor:
        # As autovacuum would: statistics, and PostgreSQL's visibility map for index-only scans.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def best_of(fn, runs=3):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def main():
    call_command("migrate", verbosity=0)
    print(f"Filling {connection.vendor} with {STORIES} stories…", flush=True)
    fill()
    setup_test_environment()
    client = Client()
    world = Section.objects.get(slug="world")
    in_world = Article.objects.published().in_section(world).count()
    last_page = (in_world + 19) // 20
    article = Article.objects.published().newest_first().first()
    urls = [
        "/",
        "/world/",
        "/world/?page=500",
        "/world/?page=2500",
        f"/world/?page={last_page}",
        article.get_absolute_url(),
        "/search/?q=harbour+dock",
        "/search/?q=harbour+dock&page=500",
        "/search/?q=exporters&section=world&credit=ap",
        "/feed/",
        "/sitemap-articles.xml",
    ]
    print(f"{connection.vendor}, {Article.objects.count()} stories ({in_world} in World: {last_page} pages)")
    print(f"{'page':55} {'ms':>8} {'queries':>8}")
    for url in urls:
        queries = []

        def count(execute, sql, *args, queries=queries):
            queries.append(sql)
            return execute(sql, *args)

        with connection.execute_wrapper(count):
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        print(f"{url:55} {best_of(lambda url=url: client.get(url)):8.1f} {len(queries):8}")

    # The alternative the section view avoids: OFFSET over full rows.
    plain = with_lead_photos(Article.objects.published().in_section(world)).newest_first()
    for page in [1, 500, 2500, last_page]:
        offset = (page - 1) * 20
        plain_ms = best_of(lambda offset=offset: list(plain[offset : offset + 20]))

        def ids_first(offset=offset):
            ids = list(plain.values_list("pk", flat=True)[offset : offset + 20])
            return list(with_lead_photos(Article.objects.filter(pk__in=ids)))

        print(f"page {page:6}: plain OFFSET {plain_ms:7.1f} ms, ids first {best_of(ids_first):7.1f} ms")


if __name__ == "__main__":
    main()
