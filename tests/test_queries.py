"""Queries per page: pinned to the counts measured, and constant whatever the number of stories, paragraphs,
photos, corrections, authors or topics."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles import pagecache as page_cache
from articles.listings import LEAD_AND_TOP
from articles.models import Article, Caption, Correction, Photo, Section, StoryTopic, Topic

from .conftest import write_bylines

STORY = "story"  # big_archive's story page, with AUTHORS authors and TOPICS topics
API_STORY = "api-story"  # the same story in the API, by id
API_LOOKUP = "api-lookup"  # and by its page's URL
AUTHORS = 10
TOPICS = 20
# (cold, warm), measured on big_archive with the page cache off (articles/pagecache.py). Cold: the first
# request after a change, nothing kept (sections, the newest stories of each section, Last-Modified, the next
# embargo's time, section counts). Warm: the same page again, as nearly every request is. The page versions
# are read on every request here (a worker under load reuses them for a moment): counted each time.
MAX_QUERIES = {
    # The fronts: the slots of the live arrangements and, for Last-Modified, when an arrangement last changed,
    # two queries more; a section's page 1 also reads its front's cards (and their bodies, for the summaries).
    "/": (10, 1),
    "/world/": (14, 2),
    "/world/?page=3": (11, 2),
    STORY: (12, 6),  # with topics, their related stories: one query more (a story without any, none)
    "/authors/writer-0/": (12, 4),
    "/authors/writer-0/?page=3": (12, 4),
    "/authors/writer-0/feed/": (3, 3),
    "/topics/topic-0/": (11, 3),
    "/topics/topic-0/?page=3": (11, 3),
    "/topics/topic-0/feed/": (4, 4),
    "/search/?q=paragraph&topic=topic-0&author=writer-0": (13, 8),
    "/sitemap-topics.xml": (2, 2),
    "/search/?q=paragraph": (11, 6),
    "/search/?q=paragraph&section=world&credit=ap&page=2": (12, 7),
    "/feed/": (2, 2),
    "/world/feed/atom/": (3, 3),
    "/sitemap-articles.xml": (2, 2),
    "/sitemap-authors.xml": (2, 2),
    "/news-sitemap.xml": (1, 1),
    # The API (articles/api/views.py): a page of stories is its ids, then (cold) the stories with their section and
    # topics, then their captions with photos, bylines with authors and corrections, one query each; warm, each
    # story's ninjs is kept by the process for the site version.
    API_STORY: (6, 2),
    API_LOOKUP: (6, 2),
    "/api/v1/stories/": (10, 2),
    "/api/v1/stories/?page_size=100": (10, 2),
    "/api/v1/stories/?section=world&topic=topic-0&author=writer-0&since=2000-01-01": (13, 4),
    "/api/v1/stories/?q=paragraph&topic=topic-0": (13, 5),
}


def page_url(url, story):
    """The URL of MAX_QUERIES's key: its story's URLs for STORY, API_STORY and API_LOOKUP."""
    return {
        STORY: story.get_absolute_url(),
        API_STORY: f"/api/v1/stories/{story.pk}/",
        API_LOOKUP: f"/api/v1/stories/lookup/?url={story.get_absolute_url()}",
    }.get(url, url)


@pytest.fixture(autouse=True)
def no_page_cache(settings, monkeypatch):
    settings.PAGE_CACHE_SECONDS = 0
    monkeypatch.setattr(page_cache, "FRESH_FOR", 0)
    connection.features.supports_json_field  # noqa: B018 -- SQLite's one-time probe, once per connection: not the page's


@pytest.fixture
def big_archive(many_articles, published_article, make_author):
    for section in Section.objects.all():
        many_articles(60, section=section, prefix=f"Story {section.slug}")
    # Ten authors on the long story; the first, on every story of the site.
    authors = [make_author(f"Writer {n}") for n in range(AUTHORS)]
    write_bylines(published_article, *authors)
    for story in Article.objects.exclude(pk=published_article.pk):
        write_bylines(story, authors[0])
    # Twenty topics on the long story; the first, on every story of the site; the second, on a few.
    topics = Topic.objects.bulk_create(Topic(name=f"Topic {n}", slug=f"topic-{n}") for n in range(TOPICS))
    StoryTopic.objects.bulk_create(StoryTopic(article=published_article, topic=topic) for topic in topics)
    others = Article.objects.exclude(pk=published_article.pk)
    StoryTopic.objects.bulk_create(StoryTopic(article=story, topic=topics[0]) for story in others)
    StoryTopic.objects.bulk_create(StoryTopic(article=story, topic=topics[1]) for story in others[:5])
    # A long story with many photos and corrections.
    published_article.body = "\n\n".join(f"Paragraph {i}." for i in range(200))
    published_article.save()
    for order in range(1, 20):
        photo = Photo.objects.create(credit=f"Agency {order}")
        Caption.objects.create(article=published_article, photo=photo, text=f"Photo {order}", order=order)
    for i in range(20):
        Correction.objects.create(article=published_article, text=f"Correction {i}")
    return published_article


def queries(client, url):
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context)


@pytest.mark.django_db
@pytest.mark.parametrize("url, limits", MAX_QUERIES.items())
def test_each_page_needs_no_more_queries_than_measured(client, big_archive, url, limits):
    url = page_url(url, big_archive)
    cold, warm = queries(client, url), queries(client, url)
    assert cold <= limits[0] and warm <= limits[1], (cold, warm)


@pytest.mark.django_db
def test_story_page_shows_the_whole_story_in_its_queries(client, big_archive, django_assert_max_num_queries):
    cold, _ = MAX_QUERIES[STORY]
    with django_assert_max_num_queries(cold):
        response = client.get(big_archive.get_absolute_url())
    page = response.content.decode()
    assert "Paragraph 199." in page and "Photo 19" in page and "Correction 19" in page
    assert f"Writer {AUTHORS - 1}</a>" in page
    assert f"Topic {TOPICS - 1}</a>" in page and "Related stories" in page


@pytest.mark.django_db
def test_small_and_big_sites_need_the_same_queries(client, published_article, many_articles, make_author):
    jane = make_author()
    write_bylines(published_article, jane)
    # A small site still has more stories than its fronts show: section page 1 lists the rest.
    many_articles(LEAD_AND_TOP, prefix="Small")
    energy = Topic.objects.create(name="Energy", slug="energy")
    StoryTopic.objects.create(article=published_article, topic=energy)
    urls = ["/", "/world/", published_article.get_absolute_url(), "/search/?q=paragraph", "/feed/"]
    urls += [jane.get_absolute_url(), f"{jane.get_absolute_url()}feed/"]
    urls += [energy.get_absolute_url(), f"{energy.get_absolute_url()}feed/", "/search/?q=paragraph&topic=energy"]
    urls += [page_url(API_STORY, published_article), page_url(API_LOOKUP, published_article)]
    urls += ["/api/v1/stories/?page_size=100", "/api/v1/stories/?topic=energy&author=jane-reporter&q=paragraph"]
    small = [queries(client, url) for url in urls]
    for story in many_articles(80):
        write_bylines(story, jane, *[make_author(f"Writer {story.pk}-{n}") for n in range(3)])
        topics = [Topic.objects.create(name=f"Topic {story.pk}-{n}", slug=f"topic-{story.pk}-{n}") for n in range(3)]
        StoryTopic.objects.bulk_create(StoryTopic(article=story, topic=topic) for topic in [energy, *topics])
    assert [queries(client, url) for url in urls] == small


@pytest.mark.django_db
def test_cards_read_their_stories_bodies_only_when_rendered_and_then_all_in_one_query(make_article, section, client):
    """A story's body (6 kB, out of line on PostgreSQL) is what a card's summary comes from; kept cards
    never need it, and a page of new ones reads every story's body in one query, not one a card."""
    for n in range(3):
        make_article(f"Story {n}", body=f"Opening {n}.\n\nSecond paragraph.")

    def body_reads():
        with CaptureQueriesContext(connection) as context:
            page = client.get(section.get_absolute_url())
        assert "Opening 2." in page.content.decode()
        return [query["sql"] for query in context if '"body"' in query["sql"]]

    assert len(body_reads()) == 1  # the page's cards rendered: one query for their bodies
    assert body_reads() == []  # the same cards, kept: no body read
