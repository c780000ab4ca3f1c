"""Drafts, stories in review, withdrawn and embargoed stories appear on no public surface.

The test crawls the site from the home page, following every link it finds (pages, pagination, feeds,
sitemaps, authors' and topics' pages, and the API's JSON: its listing, cursor pages, filters and stories), adds
the URLs only robots, feed readers and API clients know, searches for every hidden story's words (on the site
and in the API), and asks for each hidden story at its own URL, its API address and the API's lookup.
"""

import re
from datetime import timedelta
from html import unescape
from urllib.parse import urljoin, urlsplit

import pytest
from django.utils import timezone

from articles.models import Article, Caption, Correction, Front, FrontSlot, Photo, StoryTopic, Topic

from .conftest import write_bylines

ENTRY_POINTS = [
    "/",
    "/robots.txt",
    "/sitemap.xml",
    "/news-sitemap.xml",
    "/feed/",
    "/feed/atom/",
    "/search/?q=story",
    "/api/v1/",
    "/api/v1/stories/?page_size=10",
    "/api/v1/stories/?q=story",
]
# Links in HTML and XML, and in the API's JSON (any absolute URL of the site in a string).
LINK = re.compile(
    r"""(?:href|src)="([^"]+)"|<loc>([^<]+)</loc>|<link>([^<]+)</link>|^Sitemap: (\S+)"""
    r'|"(http://testserver/[^"]*)"',
    re.M,
)


def crawl(client, also=()):
    """Every same-site URL reachable from the entry points (and `also`), with its response body."""
    seen, queue, pages = set(), [*ENTRY_POINTS, *also], {}
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        pages[url] = body
        for match in LINK.finditer(body):
            link = unescape(next(group for group in match.groups() if group))
            parts = urlsplit(urljoin("http://testserver" + url, link))
            if parts.netloc != "testserver" or parts.path.startswith(("/static/", "/media/", "/admin/")):
                continue
            if parts.path == "/api/v1/stories/lookup/" and not parts.query:
                continue  # the API's index links to its lookup, which needs a URL: asked with one below
            queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return pages


@pytest.fixture
def hidden_stories(make_article, draft_article, review_article, withdrawn_article, embargoed_article, make_author):
    hidden = [draft_article, review_article, withdrawn_article, embargoed_article]
    secret = make_author("Secret Writer")  # only hidden stories: on no page but their own
    for article in hidden:
        photo = Photo.objects.create(credit="Secret Agency")
        Caption.objects.create(article=article, photo=photo, text=f"Caption of {article.headline}", is_lead=True)
        Correction.objects.create(article=article, text=f"Correction to {article.headline}")
        write_bylines(article, make_author(f"Public Writer {article.status}"), secret)
        for topic in [f"Public Topic {article.status}", "Secret Topic"]:
            topic, _ = Topic.objects.get_or_create(name=topic, slug=topic.lower().replace(" ", "-"))
            StoryTopic.objects.create(article=article, topic=topic)
    return hidden


@pytest.mark.django_db
def test_hidden_stories_appear_on_no_public_surface(client, published_article, many_articles, hidden_stories):
    writers = {story.bylines.first().author for story in hidden_stories}
    topics = list(Topic.objects.exclude(slug="secret-topic"))
    for story in many_articles(25):  # enough for a second page in the section, and related stories everywhere
        write_bylines(story, *writers)  # and on the hidden stories' authors' pages
        StoryTopic.objects.bulk_create(StoryTopic(article=story, topic=topic) for topic in topics)  # and topics'
    # Editors put every hidden story at the top of the home page's front and the section's, pinned for a day:
    # the slots fall to the next stories.
    for section in (None, published_article.section):
        front = Front.objects.create(section=section, approved=True, live_from=timezone.now() - timedelta(minutes=1))
        for order, story in enumerate([*hidden_stories, published_article]):
            FrontSlot.objects.create(
                front=front, article=story, order=order, pinned_until=timezone.now() + timedelta(days=1)
            )
    pages = crawl(
        client,
        also=[
            "/authors/secret-writer/",
            "/topics/secret-topic/",
            "/api/v1/stories/?author=secret-writer",
            f"/api/v1/stories/lookup/?url={published_article.get_absolute_url()}",
            "/api/v1/stories/?topic=secret-topic&page_size=5",
            f"/api/v1/stories/?section={published_article.section.slug}&since=2000-01-01&updated_since=2000-01-01",
        ],
    )
    for front in (pages["/"], pages[published_article.section.get_absolute_url()]):
        lead = front[front.index('<section class="front"') :]
        assert lead.index("card--lead") < lead.index(published_article.headline) < lead.index("card--top")
    assert len(pages) > 30
    assert any(published_article.get_absolute_url() in url for url in pages)
    assert any("page=2" in url for url in pages)
    for writer in writers:  # their pages, with feeds, pagination and the sitemap's entry, were all crawled
        for url in [
            writer.get_absolute_url(),
            f"{writer.get_absolute_url()}feed/",
            f"{writer.get_absolute_url()}?page=2",
        ]:
            assert url in pages, url
    assert "/authors/secret-writer/" in pages and "secret-writer" not in pages["/sitemap-authors.xml"]
    for topic in topics:  # linked from the published stories that share them with the hidden ones
        for url in [
            topic.get_absolute_url(),
            f"{topic.get_absolute_url()}feed/atom/",
            f"{topic.get_absolute_url()}?page=2",
        ]:
            assert url in pages, url
    assert "/topics/secret-topic/" in pages and "secret-topic" not in pages["/sitemap-topics.xml"]
    # The API: its listing's every page, and every published story at its API address.
    api_pages = [url for url in pages if url.startswith("/api/v1/stories/?page_size=10")]
    assert len(api_pages) == 3, api_pages  # 26 stories, 10 a page: the cursor's `next` links were followed
    assert f"/api/v1/stories/{published_article.pk}/" in pages
    assert '"items": []' in pages["/api/v1/stories/?author=secret-writer"]
    for article in hidden_stories:
        for url, body in pages.items():
            assert article.headline not in body, (article.status, url)
            assert article.slug not in body, (article.status, url)
    for url, body in pages.items():
        assert "Secret Agency" not in body, url  # the hidden stories' photo credit


def search_results(client, **params):
    body = client.get("/search/", params).content.decode()
    return body[body.index('id="results-title"') :]  # the search box above echoes the query


@pytest.mark.django_db
def test_search_never_finds_hidden_stories(client, hidden_stories):
    for article in hidden_stories:
        for words in [article.headline, f"Caption of {article.headline}", "Secret Agency"]:
            results = search_results(client, q=words)
            assert "No results" in results and article.headline not in results
        assert "No results" in search_results(client, q=article.headline, credit="Secret")
        for topic in article.story_topics.values_list("topic__slug", flat=True):
            assert "No results" in search_results(client, q=article.headline, topic=topic)
            api = client.get("/api/v1/stories/", {"q": article.headline, "topic": topic, "since": "2000-01-01"})
            assert api.json()["items"] == [], topic
        for words in [article.headline, f"Caption of {article.headline}", "Secret Agency"]:
            assert client.get("/api/v1/stories/", {"q": words}).json()["items"] == []


@pytest.mark.django_db
def test_hidden_stories_are_not_served_at_their_own_url(client, hidden_stories):
    for article in hidden_stories:
        response = client.get(article.get_absolute_url())
        expected = 410 if article.status == Article.Status.WITHDRAWN else 404
        assert response.status_code == expected
        assert article.headline not in response.content.decode()
        for api in [f"/api/v1/stories/{article.pk}/", f"/api/v1/stories/lookup/?url={article.get_absolute_url()}"]:
            response = client.get(api)
            assert response.status_code == expected, api
            assert article.headline not in response.content.decode()
            assert "Secret Agency" not in response.content.decode()
