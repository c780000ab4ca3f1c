"""Readers' cached pages follow what the desk changes, and only what it changes.

These tests commit (transaction=True), as the admin and import_dump do: a change is seen by other
processes once it commits, through the versions in the database (articles/pagecache.py).
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, Caption, Correction, Photo, Section
from articles.pagecache import SITE, read_versions, scopes_for, story_states

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def world(section, make_article):
    """Eight published stories, newest first: the first five are the section's front."""
    now = timezone.now()
    return [make_article(f"World story {i}", published_at=now - timedelta(hours=i + 1)) for i in range(8)]


def cache_state(client, *urls):
    return {url: client.get(url).headers.get("X-Page-Cache") for url in urls}


def warm(client, *urls):
    for url in urls:
        client.get(url)
    assert set(cache_state(client, *urls).values()) == {"hit"}


def test_saving_a_draft_leaves_every_cached_page_cached(client, world, draft_article):
    pages = [reverse("articles:index"), "/world/", world[0].get_absolute_url(), reverse("articles:feed")]
    warm(client, *pages)

    draft_article.body = "A rewrite no reader can see yet."
    draft_article.save()

    assert set(cache_state(client, *pages).values()) == {"hit"}


def test_editing_an_older_story_leaves_the_other_story_pages_cached(client, world):
    older, other = world[7], world[6]
    pages = [older.get_absolute_url(), other.get_absolute_url(), world[0].get_absolute_url(), "/world/"]
    warm(client, *pages)

    older.headline = "World story 7, corrected headline"
    older.save()

    assert cache_state(client, *pages) == {
        pages[0]: "miss",  # its own page
        pages[1]: "hit",  # not on the front: other pages do not show it
        pages[2]: "hit",
        pages[3]: "miss",  # the section's listing shows every story
    }
    assert "corrected headline" in client.get("/world/?page=1").content.decode()


def test_editing_an_arabic_story_refreshes_its_page(client, world, make_article):
    three_days_ago = timezone.now() - timedelta(days=3)
    story = make_article("انتخابات في الجزائر", slug="انتخابات-في-الجزائر", published_at=three_days_ago)
    url = story.get_absolute_url()
    warm(client, url)

    story.headline = "انتخابات مبكرة في الجزائر"
    story.save()

    response = client.get(url)
    assert response.headers["X-Page-Cache"] == "miss"
    assert "انتخابات مبكرة" in response.content.decode()


def test_editing_a_story_on_the_front_refreshes_the_related_stories_of_its_section(client, world):
    newest, reader_page = world[0], world[7].get_absolute_url()
    warm(client, reader_page)

    newest.headline = "World story 0, new headline"
    newest.save()

    response = client.get(reader_page)
    assert response.headers["X-Page-Cache"] == "miss"
    assert "World story 0, new headline" in response.content.decode()


def test_withdrawing_a_story_takes_it_off_its_page_the_listings_and_its_sections_front(client, world):
    story = world[1]
    pages = [reverse("articles:index"), "/world/", world[5].get_absolute_url(), reverse("articles:feed")]
    warm(client, story.get_absolute_url(), *pages)

    story.status = Article.Status.WITHDRAWN
    story.withdrawn_reason = "Legal advice."
    story.save()

    assert client.get(story.get_absolute_url()).status_code == 410
    for url in pages:
        assert story.headline not in client.get(url).content.decode(), url


def test_a_caption_photo_or_correction_refreshes_the_story_it_belongs_to(client, world):
    story = world[6]
    url = story.get_absolute_url()
    photo = Photo.objects.create(credit="Reuters")
    caption = Caption.objects.create(article=story, photo=photo, text="Rescuers at work.", is_lead=True)
    warm(client, url)
    caption.text = "Rescuers at work in the port."
    caption.save()
    assert "in the port" in client.get(url).content.decode()

    warm(client, url)
    photo.credit = "Agence France-Presse"
    photo.save()
    assert "Agence France-Presse" in client.get(url).content.decode()

    warm(client, url)
    Correction.objects.create(article=story, text="An earlier version misnamed the port.")
    assert "misnamed the port" in client.get(url).content.decode()


def test_renaming_a_section_refreshes_every_page(client, world):
    pages = [reverse("articles:index"), world[7].get_absolute_url()]
    warm(client, *pages)

    section = Section.objects.get(pk=world[0].section_id)
    section.name = "International"
    section.save()

    for url in pages:
        assert "International" in client.get(url).content.decode(), url


def test_scheduling_a_story_changes_the_listings_but_no_story_page(world, make_article):
    before = read_versions([SITE])[SITE]

    scheduled = make_article("Results at noon", published_at=timezone.now() + timedelta(hours=2))

    assert read_versions([SITE])[SITE] > before
    assert scopes_for(story_states(Article.objects.filter(pk=scheduled.pk))) == {SITE}


def test_a_large_change_refreshes_everything_without_naming_each_page(world):
    states = story_states(Article.objects.all()) * 40  # more stories than are worth naming one by one

    assert scopes_for(states) == {"all"}
