"""Run inside a child process against the benchmark database: find pages, count their queries."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from articles.models import Article, Section  # noqa: E402

PER_PAGE = 20


def biggest_section():
    return Section.objects.annotate(n=Count("articles")).order_by("-n").first()


def urls():
    section = biggest_section()
    stories = Article.objects.published().in_section(section).count()
    deep = min(500, max(1, -(-stories // PER_PAGE)))
    article = Article.objects.published().newest_first().select_related("section")[PER_PAGE // 2]
    return {
        "home": reverse("articles:index"),
        "section": section.get_absolute_url(),
        f"section page {deep}": f"{section.get_absolute_url()}?page={deep}",
        "article": article.get_absolute_url(),
    }


def query_counts():
    client = Client()
    counts = {}
    for name, path in urls().items():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        counts[name] = len(queries)
    return counts
