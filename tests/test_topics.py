"""Topics: what stories are about, several per story, each with a page of its published stories and feeds."""

import json
import re
from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, Section, StoryTopic, Topic

ATOM = "{http://www.w3.org/2005/Atom}"


def text_of(response):
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def json_ld(page):
    return json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1))


def topics_of(page):
    found = re.search(r'<nav class="story-topics".*?<ul>(.*?)</ul>', page, re.S)
    return found.group(1) if found else ""


def tag(article, *topics):
    for topic in topics:
        StoryTopic.objects.create(article=article, topic=topic)


@pytest.fixture
def make_topic(db):
    def make(name, **fields):
        slug = fields.pop("slug", None) or name.lower().replace(" ", "-")
        return Topic.objects.create(name=name, slug=slug, **fields)

    return make


@pytest.fixture
def energy(make_topic):
    return make_topic("Energy", description="Oil, gas and the grid.\n\nAnd what they cost.")


@pytest.fixture
def climate(make_topic):
    return make_topic("Climate")


# The story page.


@pytest.mark.django_db
def test_a_story_lists_its_topics_as_links_and_in_json_ld(client, published_article, energy, climate):
    tag(published_article, energy, climate)
    page = text_of(client.get(published_article.get_absolute_url()))
    assert topics_of(page) == (
        '<li><a href="/topics/climate/">Climate</a></li><li><a href="/topics/energy/">Energy</a></li>'
    )
    assert json_ld(page)["keywords"] == ["Climate", "Energy"]


@pytest.mark.django_db
def test_a_story_without_topics_shows_none(client, published_article):
    page = text_of(client.get(published_article.get_absolute_url()))
    assert "story-topics" not in page and "keywords" not in json_ld(page)


@pytest.mark.django_db
def test_related_stories_prefer_the_most_shared_topics_then_the_newest_then_the_section(
    client, make_article, energy, climate, make_topic, draft_article
):
    now = timezone.now()
    elsewhere = Section.objects.create(name="Business", slug="business")
    story = make_article("Grid Upgrade Announced", published_at=now - timedelta(hours=5))
    both = make_article("Both Topics Older", section=elsewhere, published_at=now - timedelta(days=3))
    one_newer = make_article("Energy Only Newer", section=elsewhere, published_at=now - timedelta(hours=2))
    one_older = make_article("Energy Only Older", section=elsewhere, published_at=now - timedelta(days=2))
    same_section = make_article("Same Section Story", published_at=now - timedelta(hours=3))
    unrelated = make_article("Unrelated Business Story", section=elsewhere, published_at=now - timedelta(hours=1))
    tag(story, energy, climate)
    tag(both, energy, climate)
    tag(one_newer, energy)
    tag(one_older, energy)
    tag(draft_article, energy, climate)
    tag(unrelated, make_topic("Markets"))

    page = text_of(client.get(story.get_absolute_url()))
    related = page[page.index('id="related-title"') :]

    assert "Related stories</h2>" in related
    order = [related.index(s.headline) for s in (both, one_newer, one_older, same_section)]
    assert order == sorted(order)
    assert draft_article.headline not in related and unrelated.headline not in related


# The topic page.


@pytest.mark.django_db
def test_a_topic_page_lists_its_published_stories_newest_first(
    client, make_article, energy, climate, draft_article, review_article, withdrawn_article, embargoed_article
):
    now = timezone.now()
    older = make_article("Older Story", published_at=now - timedelta(days=2))
    newer = make_article("Newer Story", published_at=now - timedelta(hours=1))
    other = make_article("Climate Only Story")
    for story in [older, newer, draft_article, review_article, withdrawn_article, embargoed_article]:
        tag(story, energy)
    tag(other, climate)

    page = text_of(client.get("/topics/energy/"))

    assert page.index("Newer Story") < page.index("Older Story")
    for hidden in [other, draft_article, review_article, withdrawn_article, embargoed_article]:
        assert hidden.headline not in page
    assert '<h1 class="page-title">Energy</h1>' in page
    assert "<p>Oil, gas and the grid.</p><p>And what they cost.</p>" in page
    assert '<link rel="alternate" type="application/rss+xml"' in page
    assert 'href="/topics/energy/feed/"' in page and 'href="/topics/energy/feed/atom/"' in page
    assert json_ld(page)["@type"] == "CollectionPage"


@pytest.mark.django_db
def test_a_topic_page_is_paginated_like_a_section(client, many_articles, energy):
    for story in many_articles(45):
        tag(story, energy)
    first, last = text_of(client.get("/topics/energy/")), text_of(client.get("/topics/energy/?page=3"))
    assert "Page 1 of 3" in first and "Story number 0<" in first and "Story number 20<" not in first
    assert "Page 3 of 3" in last and "Story number 44<" in last
    assert client.get("/topics/energy/?page=4").status_code == 404


@pytest.mark.django_db
def test_a_topic_without_published_stories_has_a_page_that_says_so(client, energy, draft_article):
    tag(draft_article, energy)
    page = text_of(client.get("/topics/energy/"))
    assert "No published stories on Energy yet." in page and draft_article.headline not in page


@pytest.mark.django_db
def test_an_unknown_topic_is_not_found(client):
    assert client.get("/topics/nothing-here/").status_code == 404
    assert client.get("/topics/nothing-here/feed/").status_code == 404
    assert client.get("/topics/nothing-here/feed/atom/").status_code == 404


@pytest.mark.django_db
def test_a_section_cannot_take_the_address_of_the_topic_pages(editor_client):
    response = editor_client.post(
        reverse("admin:articles_section_add"),
        {
            "name": "Topics",
            "slug": "topics",
            "order": 0,
            "routing_rules-TOTAL_FORMS": 0,
            "routing_rules-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert "taken by the site" in str(response.context["adminform"].form.errors["slug"])
    assert not Section.objects.filter(slug="topics").exists()


# Feeds and the sitemap.


def xml(client, url):
    return ElementTree.fromstring(text_of(client.get(url)).encode())


@pytest.mark.django_db
def test_a_topics_feeds_list_its_published_stories_only(client, make_article, energy, draft_article):
    mine = make_article("Pipeline Approved")
    make_article("Harbour Reopens")
    tag(mine, energy)
    tag(draft_article, energy)
    rss = xml(client, "/topics/energy/feed/").find("channel")
    assert [item.findtext("title") for item in rss.iter("item")] == [mine.headline]
    assert rss.findtext("title").endswith("Energy")
    atom = xml(client, "/topics/energy/feed/atom/")
    assert [entry.findtext(f"{ATOM}title") for entry in atom.iter(f"{ATOM}entry")] == [mine.headline]


@pytest.mark.django_db
def test_the_sitemap_lists_topics_with_published_stories(client, published_article, draft_article, energy, climate):
    tag(published_article, energy)
    tag(draft_article, climate)
    assert "/sitemap-topics.xml" in text_of(client.get("/sitemap.xml"))
    sitemap = text_of(client.get("/sitemap-topics.xml"))
    assert "http://testserver/topics/energy/" in sitemap and "/topics/climate/" not in sitemap


# The page cache: a topic's page goes stale the moment anything it shows changes.


def cached(client, url):
    client.get(url)
    return client.get(url).headers.get("X-Page-Cache") == "hit"


@pytest.mark.django_db
def test_withdrawing_a_topics_story_takes_it_off_its_cached_page_and_feeds_at_once(client, published_article, energy):
    tag(published_article, energy)
    urls = ["/topics/energy/", "/topics/energy/feed/", "/topics/energy/feed/atom/"]
    for url in urls:
        assert cached(client, url) and published_article.headline in text_of(client.get(url))

    published_article.status = Article.Status.WITHDRAWN
    published_article.withdrawn_reason = "Retracted."
    published_article.save()

    for url in urls:
        assert published_article.headline not in text_of(client.get(url)), url
    assert "No published stories on Energy yet." in text_of(client.get("/topics/energy/"))


@pytest.mark.django_db
def test_adding_or_removing_a_topic_shows_on_cached_pages_at_once(client, published_article, energy):
    story, page = published_article.get_absolute_url(), energy.get_absolute_url()
    assert cached(client, story) and cached(client, page)

    link = StoryTopic.objects.create(article=published_article, topic=energy)
    assert ">Energy</a>" in topics_of(text_of(client.get(story)))
    assert published_article.headline in text_of(client.get(page))

    link.delete()
    assert "story-topics" not in text_of(client.get(story))
    assert published_article.headline not in text_of(client.get(page))


@pytest.mark.django_db
def test_a_topic_renamed_is_renamed_on_its_cached_page_and_its_stories(client, published_article, energy):
    tag(published_article, energy)
    story = published_article.get_absolute_url()
    assert cached(client, story) and cached(client, "/topics/energy/")

    energy.name, energy.description = "Energy and power", "Now with the grid."
    energy.save()

    assert ">Energy and power</a>" in topics_of(text_of(client.get(story)))
    page = text_of(client.get("/topics/energy/"))
    assert "Energy and power" in page and "Now with the grid." in page


@pytest.mark.django_db
def test_a_topic_whose_slug_changes_leaves_no_cached_page_at_the_old_address(client, energy):
    assert cached(client, "/topics/energy/")
    energy.slug = "power"
    energy.save()
    assert client.get("/topics/energy/").status_code == 404
    assert "Energy" in text_of(client.get("/topics/power/"))
