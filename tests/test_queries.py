"""Queries per page stay constant whatever the number of stories, paragraphs, photos or corrections."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles import pagecache as page_cache
from articles.models import Caption, Correction, Photo, Section

# Measured with one story per section; the pages must not need more with hundreds. These are cache misses:
# the page cache (articles/pagecache.py) is off here, and its one query (when does the next embargo lift?) counted.
MAX_QUERIES = {
    "/": 8,
    "/world/": 10,
    "/world/?page=3": 10,
    "/search/?q=paragraph": 11,
    "/search/?q=paragraph&section=world&credit=ap&page=2": 12,
    "/feed/": 1,
    "/world/feed/atom/": 2,
    "/sitemap-articles.xml": 2,
    "/news-sitemap.xml": 1,
}


@pytest.fixture(autouse=True)
def no_page_cache(settings, monkeypatch):
    settings.PAGE_CACHE_SECONDS = 0
    # Every request reads the page versions (a worker under load reuses them for a moment): counted each time.
    monkeypatch.setattr(page_cache, "FRESH_FOR", 0)
    connection.features.supports_json_field  # noqa: B018 -- SQLite's one-time probe, once per connection: not the page's


@pytest.fixture
def big_archive(many_articles, published_article):
    for section in Section.objects.all():
        many_articles(60, section=section, prefix=f"Story {section.slug}")
    # A long story with many photos and corrections.
    published_article.body = "\n\n".join(f"Paragraph {i}." for i in range(200))
    published_article.save()
    for order in range(1, 20):
        photo = Photo.objects.create(credit=f"Agency {order}")
        Caption.objects.create(article=published_article, photo=photo, text=f"Photo {order}", order=order)
    for i in range(20):
        Correction.objects.create(article=published_article, text=f"Correction {i}")
    return published_article


@pytest.mark.django_db
@pytest.mark.parametrize("url, limit", MAX_QUERIES.items())
def test_listing_queries_are_constant(client, big_archive, django_assert_max_num_queries, url, limit):
    with django_assert_max_num_queries(limit):
        assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_article_page_queries_are_constant(client, big_archive, django_assert_max_num_queries):
    with django_assert_max_num_queries(9):
        response = client.get(big_archive.get_absolute_url())
    assert response.status_code == 200 and "Paragraph 199." in response.content.decode()


@pytest.mark.django_db
def test_small_and_big_sites_need_the_same_queries(client, published_article, many_articles):
    def count(url):
        with CaptureQueriesContext(connection) as context:
            client.get(url)
        return len(context)

    urls = ["/", "/world/", published_article.get_absolute_url(), "/search/?q=paragraph", "/feed/"]
    small = [count(url) for url in urls]
    many_articles(80)
    assert [count(url) for url in urls] == small
