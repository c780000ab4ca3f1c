"""The read API as partners use it: HTTP requests to /api/v1/, every story checked against ninjs 2.2."""

import time
from datetime import timedelta

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date

from articles.models import Article, Correction, Section, StoryTopic, Topic
from tests.admin_forms import load_change_form
from tests.conftest import write_bylines
from tests.ninjs import assert_ninjs

pytestmark = pytest.mark.django_db

STORIES = "/api/v1/stories/"


def story_url(article):
    return f"{STORIES}{article.pk}/"


def read_story(client, url, status=200, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    return assert_ninjs(response.json())


def read_listing(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    data = response.json()
    for item in data.get("items", []):
        assert_ninjs(item)
    return data


def headlines(data):
    return [item["headlines"][0]["value"] for item in data["items"]]


def error_of(client, url, status=400):
    response = client.get(url)
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()["error"]


# A story by id.


def test_a_published_story_by_id(client, reader_site):
    response = client.get(story_url(reader_site))

    data = assert_ninjs(response.json())
    assert data["headlines"][0]["value"] == "Floods Hit the Coast"
    assert data["by"] == "Jane Reporter, Omar Haddad"
    assert response["ETag"]
    assert response["Last-Modified"] == http_date(Correction.objects.get().created_at.timestamp())
    assert "no-cache" in response["Cache-Control"]


def test_arabic_is_sent_as_utf8_not_escaped(client, arabic_article):
    response = client.get(story_url(arabic_article))

    assert "فيضانات تضرب الساحل".encode() in response.content
    assert b"\\u0641" not in response.content
    assert_ninjs(response.json())


def test_a_story_answers_304_to_its_etag_and_its_time(client, published_article):
    first = client.get(story_url(published_article))

    assert client.get(story_url(published_article), headers={"if-none-match": first["ETag"]}).status_code == 304
    since = first["Last-Modified"]
    assert client.get(story_url(published_article), headers={"if-modified-since": since}).status_code == 304
    published_article.headline = "Floods Hit the Coast Again"
    published_article.save()
    assert client.get(story_url(published_article), headers={"if-none-match": first["ETag"]}).status_code == 200


@pytest.mark.parametrize("hidden", ["draft_article", "review_article", "embargoed_article"])
def test_drafts_reviews_and_embargoed_stories_are_never_revealed(client, hidden, request):
    article = request.getfixturevalue(hidden)

    assert error_of(client, story_url(article), 404) == error_of(client, f"{STORIES}999999/", 404)
    lookup = error_of(client, f"{STORIES}lookup/?url={article.get_absolute_url()}", 404)
    assert lookup == {"status": 404, "message": "No story at this URL."} or lookup["status"] == 404
    assert article.headline.encode() not in client.get(story_url(article)).content


def test_a_withdrawn_story_is_gone_with_its_tombstone(client, withdrawn_article):
    data = read_story(client, story_url(withdrawn_article), status=410)

    assert data["pubstatus"] == "canceled"
    assert data["descriptions"][0]["value"] == withdrawn_article.withdrawn_reason
    assert withdrawn_article.headline not in str(data)


def test_the_api_is_read_only(client, published_article):
    response = client.post(story_url(published_article), {})

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response.json()["error"]["status"] == 405


def test_unknown_addresses_answer_json(client):
    assert error_of(client, "/api/v1/nowhere/", 404)["status"] == 404


def test_an_address_without_its_trailing_slash_is_redirected(client, published_article):
    response = client.get(f"{STORIES}{published_article.pk}?x=1")

    assert response.status_code == 301
    assert response["Location"] == f"{STORIES}{published_article.pk}/?x=1"
    assert error_of(client, "/api/v1/nowhere", 404)["status"] == 404


# A story by its public URL.


def test_lookup_by_path_or_absolute_url(client, published_article):
    path = published_article.get_absolute_url()

    for url in [path, path.lstrip("/"), f"https://news.example{path}", f"http://testserver{path}?utm_source=x"]:
        response = client.get(f"{STORIES}lookup/", {"url": url})
        assert response.status_code == 200
        assert response["Content-Location"] == story_url(published_article)
        assert assert_ninjs(response.json())["uri"] == f"http://testserver{story_url(published_article)}"


def test_lookup_of_an_old_url_finds_the_story_it_redirects_to(client, published_article):
    old = published_article.get_absolute_url()
    published_article.slug = "floods-hit-the-coast-hard"
    published_article.save()

    data = read_story(client, f"{STORIES}lookup/?url={old}")

    assert data["renditions"][0]["href"].endswith("/floods-hit-the-coast-hard/")


def test_lookup_of_an_arabic_url(client, arabic_article):
    # As a browser's address bar copies it (percent-encoded) and as a person writes it.
    for url in [arabic_article.get_absolute_url(), "/world/" + arabic_article.get_absolute_url().split("/world/")[1]]:
        assert read_story(client, f"{STORIES}lookup/?url={url}")["language"] == "ar"


def test_lookup_of_a_withdrawn_story(client, withdrawn_article):
    assert read_story(client, f"{STORIES}lookup/?url={withdrawn_article.get_absolute_url()}", 410)["pubstatus"] == (
        "canceled"
    )


def test_lookup_needs_a_story_url(client, published_article):
    assert error_of(client, f"{STORIES}lookup/")["parameter"] == "url"
    assert error_of(client, f"{STORIES}lookup/?url=/world/", 404)["status"] == 404
    assert error_of(client, f"{STORIES}lookup/?url=/world/2020/01/01/no-such-story/", 404)["status"] == 404


# The listing.


def test_the_listing_is_newest_first_with_the_id_breaking_ties(client, make_article):
    when = timezone.now() - timedelta(hours=2)
    older = make_article("Older Story", published_at=when - timedelta(minutes=1))
    first = make_article("Tie One", published_at=when)
    second = make_article("Tie Two", published_at=when)
    newest = make_article("Newest Story")

    data = read_listing(client, STORIES)

    assert [item["altids"][0]["value"] for item in data["items"]] == [
        str(story.pk) for story in [newest, second, first, older]
    ]
    assert data["next"] is None


def test_the_cursor_walks_every_story_once_in_order(client, many_articles, make_article):
    stories = many_articles(23)
    tied = timezone.now() - timedelta(minutes=20)
    Article.objects.filter(pk__in=[s.pk for s in stories[8:14]]).update(published_at=tied)  # ties across pages
    expected = list(Article.objects.published().newest_first().values_list("pk", flat=True))

    # The whole listing (its compiled queries), and filtered (the queryset's).
    for start in [f"{STORIES}?page_size=5", f"{STORIES}?page_size=5&section=world&since=2000-01-01"]:
        seen, url, pages = [], start, 0
        while url:
            data = read_listing(client, url)
            assert data["page_size"] == 5
            seen += [int(item["altids"][0]["value"]) for item in data["items"]]
            url, pages = data["next"], pages + 1

        assert seen == expected, start
        assert pages == 5, start


def test_a_bad_or_tampered_cursor_is_refused(client, many_articles):
    many_articles(3)
    following = read_listing(client, f"{STORIES}?page_size=1")["next"]
    token = following.split("cursor=")[1]
    payload = signing.dumps(["2020-01-01T00:00:00+00:00", 1], salt="another salt")

    for cursor in [
        "nonsense",
        token[:-2] + "xx",
        payload,
        signing.dumps(["not a time", 1], salt="articles.api.cursor"),
    ]:
        assert error_of(client, f"{STORIES}?cursor={cursor}") == {
            "status": 400,
            "message": "Not a cursor this API gave (use the listing's `next` link as it is).",
            "parameter": "cursor",
        }


def test_page_size_has_a_maximum(client, many_articles):
    many_articles(3)

    assert len(read_listing(client, f"{STORIES}?page_size=2")["items"]) == 2
    assert len(read_listing(client, f"{STORIES}?page_size=100")["items"]) == 3
    for bad in ["101", "0", "-1", "ten"]:
        assert error_of(client, f"{STORIES}?page_size={bad}")["parameter"] == "page_size"


@pytest.fixture
def desk(make_article, make_author):
    """Stories across sections, topics, authors and days."""
    europe = Section.objects.get_or_create(slug="europe", defaults={"name": "Europe"})[0]
    now = timezone.now()
    jane = make_author("Jane Reporter")
    weather = Topic.objects.create(name="Weather", slug="weather")
    stories = {
        "old floods": make_article("Old Floods Return", published_at=now - timedelta(days=10)),
        "floods": make_article("Floods Hit the Coast", published_at=now - timedelta(hours=3)),
        "storm": make_article("Storm Season Starts", published_at=now - timedelta(hours=2)),
        "summit": make_article("Summit Floods Brussels", section=europe, published_at=now - timedelta(hours=1)),
    }
    write_bylines(stories["floods"], jane)
    write_bylines(stories["summit"], jane)
    write_bylines(stories["old floods"], jane)
    for key in ["floods", "storm", "old floods"]:
        StoryTopic.objects.create(article=stories[key], topic=weather)
    return stories


@pytest.mark.parametrize(
    "query, expected",
    [
        ("section=europe", ["Summit Floods Brussels"]),
        ("topic=weather", ["Storm Season Starts", "Floods Hit the Coast", "Old Floods Return"]),
        ("author=jane-reporter", ["Summit Floods Brussels", "Floods Hit the Coast", "Old Floods Return"]),
        ("author=jane-reporter&topic=weather&section=world", ["Floods Hit the Coast", "Old Floods Return"]),
        ("q=floods", ["Summit Floods Brussels", "Floods Hit the Coast", "Old Floods Return"]),
        ("q=floods&section=world&topic=weather", ["Floods Hit the Coast", "Old Floods Return"]),
        ("q=nothingmatchesthis", []),
        ("q=&section=europe", ["Summit Floods Brussels"]),  # no words: no search
    ],
)
def test_filters_combine(client, desk, query, expected):
    assert headlines(read_listing(client, f"{STORIES}?{query}")) == expected


def test_time_filters(client, desk):
    now = timezone.now()
    yesterday = timezone.localdate(now - timedelta(days=1)).isoformat()
    since = (now - timedelta(hours=2, minutes=30)).isoformat().replace("+00:00", "Z")

    assert "Old Floods Return" not in headlines(read_listing(client, f"{STORIES}?since={yesterday}"))
    assert headlines(read_listing(client, f"{STORIES}?since={since}&section=world")) == ["Storm Season Starts"]
    old_day = timezone.localdate(now - timedelta(days=10)).isoformat()
    assert headlines(read_listing(client, f"{STORIES}?until={old_day}")) == ["Old Floods Return"]


def test_updated_since_finds_stories_edited_lately(client, desk):
    mark = timezone.now()
    story = Article.objects.get(pk=desk["old floods"].pk)
    story.standfirst = "Updated."
    story.save()

    stamp = mark.isoformat().replace("+00:00", "Z")
    assert headlines(read_listing(client, f"{STORIES}?updated_since={stamp}")) == ["Old Floods Return"]


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("section=nowhere", "section"),
        ("topic=nothing", "topic"),
        ("author=nobody", "author"),
        ("since=yesterday", "since"),
        ("until=2026-13-40", "until"),
        ("updated_since=12:00", "updated_since"),
        ("since=2026-12-03&until=2026-12-01", "since"),
        ("section=world&section=europe", "section"),
        ("sectoin=world", "sectoin"),
    ],
)
def test_bad_filters_are_refused_naming_the_parameter(client, desk, query, parameter):
    error = error_of(client, f"{STORIES}?{query}")

    assert error["parameter"] == parameter
    assert error["message"]


# Caching and invalidation, as for the HTML pages.


def test_the_api_is_served_from_the_page_cache_and_a_change_shows_at_once(client, published_article):
    urls = [story_url(published_article), STORIES, f"{STORIES}lookup/?url={published_article.get_absolute_url()}"]
    for url in urls:
        client.get(url)
        assert client.get(url)["X-Page-Cache"] == "hit", url

    published_article.headline = "Floods Recede"
    published_article.save()

    for url in urls:
        response = client.get(url)
        assert "Floods Recede" in response.content.decode(), url
        assert "Floods Hit the Coast" not in response.content.decode(), url


def test_a_cached_story_answers_conditional_requests(client, published_article):
    first = client.get(story_url(published_article))
    hit = client.get(story_url(published_article), headers={"if-none-match": first["ETag"]})

    assert hit["X-Page-Cache"] == "hit"
    assert hit.status_code == 304


def test_withdrawing_takes_a_story_out_of_the_api_at_once(client, published_article):
    client.get(story_url(published_article))
    client.get(STORIES)

    published_article.status = Article.Status.WITHDRAWN
    published_article.withdrawn_reason = "Its source retracted."
    published_article.save()

    assert read_story(client, story_url(published_article), 410)["descriptions"][0]["value"] == "Its source retracted."
    assert read_listing(client, STORIES)["items"] == []


def test_an_editors_correction_in_the_admin_shows_in_the_api_at_once(client, editor_client, published_article):
    assert "descriptions" not in read_story(client, story_url(published_article))
    url = reverse("admin:articles_article_change", args=[published_article.pk])
    data = load_change_form(editor_client, url)
    data.update(
        {
            "corrections-TOTAL_FORMS": "1",
            "corrections-0-kind": "correction",
            "corrections-0-text": "An earlier version misnamed the port.",
        }
    )
    assert editor_client.post(url, data).status_code == 302

    story = read_story(client, story_url(published_article))
    assert story["descriptions"][0]["value"] == "An earlier version misnamed the port."
    assert story["version"] == str(Article.objects.get(pk=published_article.pk).version)


def test_an_authors_new_name_shows_in_the_api_at_once(client, published_article, make_author):
    jane = make_author("Jane Reporter")
    write_bylines(published_article, jane)
    assert read_story(client, story_url(published_article))["by"] == "Jane Reporter"

    jane.name = "Jane Q. Reporter"
    jane.save()

    assert read_story(client, story_url(published_article))["by"] == "Jane Q. Reporter"


def test_an_embargo_lifting_shows_the_story_without_a_save(client, make_article):
    story = make_article("Results Announced", published_at=timezone.now() + timedelta(seconds=1))
    assert client.get(story_url(story)).status_code == 404
    assert read_listing(client, STORIES)["items"] == []

    time.sleep(1.1)

    assert read_story(client, story_url(story))["headlines"][0]["value"] == "Results Announced"
    assert headlines(read_listing(client, STORIES)) == ["Results Announced"]


def test_the_listing_answers_304_until_a_story_in_it_changes(client, many_articles):
    stories = many_articles(3)
    first = client.get(STORIES)

    assert client.get(STORIES, headers={"if-none-match": first["ETag"]}).status_code == 304
    assert client.get(f"{STORIES}?page_size=2", headers={"if-none-match": first["ETag"]}).status_code == 200
    story = Article.objects.get(pk=stories[1].pk)
    story.standfirst = "Now with a standfirst."
    story.save()
    changed = client.get(STORIES, headers={"if-none-match": first["ETag"]})
    assert changed.status_code == 200
    assert "Now with a standfirst." in changed.content.decode()
    assert changed["ETag"] != first["ETag"]
