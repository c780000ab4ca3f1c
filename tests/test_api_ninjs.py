"""The ninjs of a story (articles/api/ninjs.py): what the story's page shows, valid against IPTC ninjs 2.2."""

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from articles.api import ninjs
from articles.models import Article, Caption, Correction, Photo, StoryTopic, Topic
from tests.conftest import write_bylines
from tests.ninjs import assert_ninjs

pytestmark = pytest.mark.django_db


def request():
    return RequestFactory().get("/api/v1/stories/")


def read(article):
    return Article.objects.for_ninjs().get(pk=article.pk)


@pytest.fixture
def full_story(make_article, make_author, make_photo):
    """A story with everything ninjs carries: standfirst, two authors, a lead photo with renditions and a second
    one without an image yet, topics and a correction."""
    article = make_article(
        "Floods Hit the Coast",
        standfirst="Thousands leave their homes.",
        byline="Agency staff",
        body="Water rose <overnight> & fast.\n\nThe mayor spoke.",
    )
    write_bylines(article, make_author("Jane Reporter"), make_author("Omar Haddad"))
    Caption.objects.create(article=article, photo=make_photo(credit="Reuters"), text="The harbour.", is_lead=True)
    Caption.objects.create(article=article, photo=Photo.objects.create(credit="AP"), text="A street.", order=1)
    for name in ["Weather", "The coast"]:
        StoryTopic.objects.create(
            article=article, topic=Topic.objects.create(name=name, slug=name.lower().replace(" ", "-"))
        )
    Correction.objects.create(article=article, text="An earlier version misspelled the mayor's name.")
    return article


def test_story_is_valid_ninjs_with_what_its_page_shows(full_story):
    data = assert_ninjs(ninjs.story(read(full_story), request()))

    assert data["uri"] == f"http://testserver/api/v1/stories/{full_story.pk}/"
    assert data["type"] == "text"
    assert data["pubstatus"] == "usable"
    assert data["version"] == str(full_story.version)
    assert data["language"] == "en"
    assert data["headlines"] == [
        {"role": "main", "value": "Floods Hit the Coast"},
        {"role": "sub", "value": "Thousands leave their homes."},
    ]
    html, plain = data["bodies"]
    assert html["contenttype"] == "text/html"
    assert html["value"] == "<p>Water rose &lt;overnight&gt; &amp; fast.</p>\n<p>The mayor spoke.</p>"
    assert plain == {
        "role": "main",
        "contenttype": "text/plain",
        "value": "Water rose <overnight> & fast.\n\nThe mayor spoke.",
        "charcount": 48,
        "wordcount": 8,
    }
    assert [(s["rel"], s["name"], s["literal"]) for s in data["subjects"]] == [
        ("section", "World", "world"),
        ("topic", "The coast", "the-coast"),
        ("topic", "Weather", "weather"),
    ]
    assert data["subjects"][0]["uri"] == "http://testserver/world/"
    assert data["subjects"][2]["uri"] == "http://testserver/topics/weather/"
    # The authors, in their order, rather than the byline (as the page).
    assert data["by"] == "Jane Reporter, Omar Haddad"
    assert [(p["name"], p["rel"], p["uri"]) for p in data["people"]] == [
        ("Jane Reporter", "author", "http://testserver/authors/jane-reporter/"),
        ("Omar Haddad", "author", "http://testserver/authors/omar-haddad/"),
    ]
    assert data["descriptions"] == [
        {"role": "correction", "contenttype": "text/plain", "value": "An earlier version misspelled the mayor's name."}
    ]
    assert data["renditions"] == [
        {
            "name": "web",
            "href": "http://testserver" + full_story.get_absolute_url(),
            "contenttype": "text/html",
            "title": "Floods Hit the Coast",
        }
    ]


def test_photos_carry_caption_credit_alt_text_and_ready_renditions(full_story):
    lead, second = assert_ninjs(ninjs.story(read(full_story), request()))["associations"]

    assert lead["name"] == "lead-photo"
    assert lead["type"] == "picture"
    assert lead["copyrightholder"] == "Reuters"
    assert {"role": "caption", "contenttype": "text/plain", "value": "The harbour."} in lead["descriptions"]
    assert {"role": "alt-text", "contenttype": "text/plain", "value": "Boats in a flooded harbour"} in lead[
        "descriptions"
    ]
    full = [r for r in lead["renditions"] if r["name"].startswith("full-") and r["contenttype"] == "image/jpeg"]
    assert full and full[-1]["width"] == 1000 and full[-1]["height"] == 500
    assert all(r["href"].startswith("http://testserver/media/renditions/") for r in lead["renditions"])
    # A photo whose file has not arrived: its caption and credit, as on the page, and no renditions.
    assert second["name"] == "photo-2"
    assert second["copyrightholder"] == "AP"
    assert "renditions" not in second


def test_wire_story_without_authors_is_by_its_byline(make_article):
    article = make_article("Quake Shakes Island", byline="Reuters")

    data = assert_ninjs(ninjs.story(read(article), request()))

    assert data["by"] == "Reuters"
    assert "people" not in data
    assert "associations" not in data


def test_arabic_story(arabic_article):
    data = assert_ninjs(ninjs.story(read(arabic_article), request()))

    assert data["language"] == "ar"
    assert data["headlines"][0]["value"] == "فيضانات تضرب الساحل"


def test_uri_stays_when_the_slug_changes(published_article):
    before = ninjs.story(read(published_article), request())["uri"]
    published_article.slug = "floods-hit-the-coast-again"
    published_article.save()

    after = ninjs.story(read(published_article), request())

    assert after["uri"] == before
    assert after["renditions"][0]["href"].endswith("/floods-hit-the-coast-again/")


def test_uri_is_built_on_the_site_url_when_set(settings, published_article):
    settings.SITE_URL = "https://news.example"

    data = ninjs.story(read(published_article), request())

    assert data["uri"] == f"https://news.example/api/v1/stories/{published_article.pk}/"
    assert ninjs.story(read(published_article))["uri"] == data["uri"]  # without a request (webhooks)


def test_tombstone_is_valid_ninjs_with_nothing_of_the_story_but_its_withdrawal(withdrawn_article):
    data = assert_ninjs(ninjs.tombstone(withdrawn_article, request()))

    assert data == {
        "uri": f"http://testserver/api/v1/stories/{withdrawn_article.pk}/",
        "standard": ninjs.STANDARD,
        "type": "text",
        "representationtype": "partial",
        "pubstatus": "canceled",
        "versioncreated": ninjs.timestamp(withdrawn_article.updated_at),
        "altids": [{"role": "id", "value": str(withdrawn_article.pk)}],
        "descriptions": [
            {
                "role": "withdrawal",
                "contenttype": "text/plain",
                "value": "This story was withdrawn because its main source retracted.",
            }
        ],
    }
    assert "Withdrawn Claims" not in str(data)


def test_a_page_of_stories_costs_the_same_queries_as_one(many_articles, make_author):
    stories = many_articles(8)
    author = make_author("Jane Reporter")
    for story in stories:
        write_bylines(story, author) if story.pk % 2 else None
        Correction.objects.create(article=story, text="Fixed.")

    def queries(ids):
        with CaptureQueriesContext(connection) as context:
            for article in Article.objects.for_ninjs().filter(pk__in=ids):
                assert_ninjs(ninjs.story(article, request()))
        return len(context.captured_queries)

    assert queries([story.pk for story in stories[:1]]) == queries([story.pk for story in stories]) == 4
