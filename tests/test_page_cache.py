import socket
import threading
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, Correction, Section
from articles.pagecache import seconds_to_keep

from .conftest import SAMPLE
from .test_healthz import UNREACHABLE_REDIS


@pytest.mark.django_db
def test_a_readers_second_visit_is_served_from_the_cache(client, published_article):
    first = client.get(reverse("articles:index"))
    second = client.get(reverse("articles:index"))

    assert first.headers["X-Page-Cache"] == "miss"
    assert second.headers["X-Page-Cache"] == "hit"
    assert second.content == first.content
    assert second.headers["Content-Type"] == first.headers["Content-Type"]
    assert "Content-Security-Policy" in second.headers


@pytest.mark.django_db
def test_withdrawing_a_story_takes_it_off_cached_pages_at_once(client, published_article):
    pages = [reverse("articles:index"), published_article.section.get_absolute_url()]
    for url in pages:
        client.get(url)

    published_article.status = Article.Status.WITHDRAWN
    published_article.save()

    for url in pages:
        assert published_article.headline not in client.get(url).content.decode(), url
    assert client.get(published_article.get_absolute_url()).status_code == 410


@pytest.mark.django_db
def test_a_correction_shows_up_on_a_cached_story(client, published_article, make_article):
    url = published_article.get_absolute_url()
    client.get(url)
    assert client.get(url).headers["X-Page-Cache"] == "hit"

    Correction.objects.create(article=published_article, text="An earlier version misspelt the port's name.")

    assert client.get(url).headers["X-Page-Cache"] == "miss"


@pytest.mark.django_db
def test_an_import_invalidates_cached_pages(client, published_article):
    client.get(reverse("articles:index"))

    call_command("import_dump", str(SAMPLE), "--status", "published", verbosity=0)

    response = client.get(reverse("articles:index"))
    assert response.headers["X-Page-Cache"] == "miss"
    assert Article.objects.published().first().headline in response.content.decode()


@pytest.mark.django_db
def test_editors_are_never_served_cached_pages(client, admin_user, published_article):
    client.get(reverse("articles:index"))
    client.force_login(admin_user)

    response = client.get(reverse("articles:index"))

    assert "X-Page-Cache" not in response.headers


@pytest.mark.django_db
def test_missing_pages_are_not_cached(client):
    client.get("/no-such-section/")

    assert "X-Page-Cache" not in client.get("/no-such-section/").headers


@pytest.mark.django_db
def test_pages_are_not_kept_past_the_end_of_an_embargo(settings, make_article):
    settings.PAGE_CACHE_SECONDS = 300
    make_article("Results Due at Noon", published_at=timezone.now() + timedelta(seconds=90))

    assert 0 < seconds_to_keep() <= 90


@pytest.mark.django_db
def test_without_embargoes_pages_are_kept_for_the_configured_time(settings, published_article):
    settings.PAGE_CACHE_SECONDS = 300

    assert seconds_to_keep() == 300


@pytest.mark.django_db
def test_readers_still_get_pages_when_the_cache_is_down(client, settings, published_article):
    settings.CACHES = UNREACHABLE_REDIS

    for url in [
        reverse("articles:index"),
        published_article.section.get_absolute_url(),
        published_article.get_absolute_url(),
        "/search/?q=floods",
        "/feed/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert published_article.headline in response.content.decode(), url


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_editors_withdrawal_lands_even_when_the_cache_is_down(client, settings, published_article):
    """The versions that make cached pages stale live in the database: a cache that is down costs readers
    speed, never an editor's save, and pages cached before it went down are not served after it."""
    url = published_article.get_absolute_url()
    assert client.get(url).status_code == 200
    cached_before = settings.CACHES
    settings.CACHES = UNREACHABLE_REDIS
    published_article.status = Article.Status.WITHDRAWN
    published_article.withdrawn_reason = "Legal advice."

    with transaction.atomic():  # as the admin saves
        published_article.save()

    assert Article.objects.get(pk=published_article.pk).status == Article.Status.WITHDRAWN
    settings.CACHES = cached_before  # the cache is back, with the page it had
    assert client.get(url).status_code == 410


@pytest.mark.django_db
def test_a_sections_page_count_follows_publishing_at_once(client, settings, many_articles, make_article):
    """Section pages count their stories once per content version: a story published by any means shows."""
    settings.PAGE_CACHE_SECONDS = 0  # the page itself is built every time: this is about the count
    many_articles(20)
    assert "Page 1 of" not in client.get("/world/").content.decode()  # one page: no pagination

    story = make_article("One More Story")
    assert "Page 1 of 2" in client.get("/world/").content.decode()

    story.delete()
    assert "Page 1 of" not in client.get("/world/").content.decode()


@pytest.mark.django_db
def test_a_sections_page_count_follows_an_embargo_lifting(client, settings, many_articles, make_article):
    """An embargo lifts without a save: the count kept for the section must end with it."""
    settings.PAGE_CACHE_SECONDS = 0
    many_articles(20)
    release = timezone.now() + timedelta(seconds=1)
    make_article("Results Due Now", published_at=release)
    assert "Page 1 of" not in client.get("/world/").content.decode()

    time.sleep(max((release - timezone.now()).total_seconds(), 0) + 0.05)
    assert "Page 1 of 2" in client.get("/world/").content.decode()


@pytest.mark.django_db
def test_a_renamed_section_shows_at_once_in_every_masthead(client, settings, published_article):
    """Each process keeps the sections per content version: a rename is a new version."""
    settings.PAGE_CACHE_SECONDS = 0
    section = published_article.section
    assert f">{section.name}</a>" in client.get(published_article.get_absolute_url()).content.decode()

    section.name = "Foreign Desk"
    section.save()

    for url in ["/", published_article.get_absolute_url(), "/search/?q=floods"]:
        assert ">Foreign Desk</a>" in client.get(url).content.decode(), url


@pytest.mark.django_db
def test_a_story_in_a_section_not_yet_in_the_kept_list_is_still_served(client, settings, published_article):
    """Between a commit and the content version's bump, a process may see a story in a section it has not
    listed yet: the page must still work, with the story's own section."""
    settings.PAGE_CACHE_SECONDS = 0
    client.get("/")  # this process now keeps the sections list
    new = Section.objects.bulk_create([Section(name="Climate", slug="climate")])[0]  # bulk: no signal
    Article.objects.filter(pk=published_article.pk).update(section=new)
    published_article.refresh_from_db()

    story = client.get(published_article.get_absolute_url())
    section = client.get("/climate/")

    assert story.status_code == 200 and "Climate" in story.content.decode()
    assert section.status_code == 200 and published_article.headline in section.content.decode()
    assert client.get("/").status_code == 200  # the home page lists it once the list is read again


@pytest.mark.django_db
def test_the_home_page_and_related_stories_follow_publishing_at_once(client, settings, published_article, make_article):
    """Each process keeps every section's newest stories per content version: a publication is a new one."""
    settings.PAGE_CACHE_SECONDS = 0
    assert "Storm Warning Issued" not in client.get("/").content.decode()

    make_article("Storm Warning Issued")

    assert "Storm Warning Issued" in client.get("/").content.decode()
    assert "Storm Warning Issued" in client.get(published_article.get_absolute_url()).content.decode()  # related


@pytest.mark.django_db
def test_feeds_are_served_from_the_cache_until_a_story_is_published(client, published_article, make_article):
    for url in ["/feed/", "/feed/atom/", "/world/feed/", "/world/feed/atom/"]:
        assert client.get(url).headers["X-Page-Cache"] == "miss"
        cached = client.get(url)
        assert cached.headers["X-Page-Cache"] == "hit" and "Floods Hit the Coast" in cached.content.decode()

    make_article("Harbour Reopens")

    for url in ["/feed/", "/feed/atom/", "/world/feed/", "/world/feed/atom/"]:
        fresh = client.get(url)
        assert fresh.headers["X-Page-Cache"] == "miss" and "Harbour Reopens" in fresh.content.decode(), url


@pytest.mark.django_db
def test_searches_are_served_from_the_cache_until_a_story_is_published(client, published_article, make_article):
    url = "/search/?q=floods"
    assert client.get(url).headers["X-Page-Cache"] == "miss"
    cached = client.get(url)
    assert cached.headers["X-Page-Cache"] == "hit" and "Floods Hit the Coast" in cached.content.decode()
    assert client.get("/search/?q=coast").headers["X-Page-Cache"] == "miss"  # another query, another page
    assert client.get("/search/?q=floods&section=world").headers["X-Page-Cache"] == "miss"

    make_article("Harbour Floods Again")

    fresh = client.get(url)
    assert fresh.headers["X-Page-Cache"] == "miss" and "Harbour Floods Again" in fresh.content.decode()


@pytest.fixture
def silent_redis(settings):
    """A Redis that accepts connections and never answers, as a hung server does; counts connections."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    accepted = []

    def accept():
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            accepted.append(connection)

    threading.Thread(target=accept, daemon=True).start()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{server.getsockname()[1]}/0",
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        }
    }
    yield accepted
    server.close()
    for connection in accepted:
        connection.close()


@pytest.mark.django_db
def test_a_hung_cache_is_asked_once_and_readers_get_every_page(client, silent_redis, published_article):
    pages = [reverse("articles:index"), "/world/", published_article.get_absolute_url(), reverse("articles:feed")]

    responses = [client.get(url) for url in pages * 3]

    assert [r.status_code for r in responses] == [200] * len(responses)
    assert all(published_article.headline in r.content.decode() for r in responses)
    # The first request waited for the hung cache; every later one went straight to building its page.
    assert len(silent_redis) == 1


@pytest.mark.django_db
def test_a_cached_page_keeps_its_security_headers_and_answers_conditional_requests(client, published_article):
    first = client.get(reverse("articles:index"))
    hit = client.get(reverse("articles:index"))

    assert hit.headers["X-Page-Cache"] == "hit"
    for header in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "ETag", "Last-Modified"):
        assert hit.headers[header] == first.headers[header], header
    again = client.get(reverse("articles:index"), headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.headers["X-Page-Cache"] == "hit"
    since = client.get(reverse("articles:index"), headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304


@pytest.mark.django_db
def test_a_reader_with_a_session_gets_the_page_built_for_them(client, published_article):
    client.get(reverse("articles:index"))
    client.cookies["sessionid"] = "not-a-real-session"

    response = client.get(reverse("articles:index"))

    assert response.status_code == 200 and "X-Page-Cache" not in response.headers
