"""Fronts as readers see them: the home page's and each section page's lead and top stories, as editors arrange
them (models.Front), filled with the newest stories, never one twice, and never a story readers may not see."""

import re
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from articles.listings import LEAD_AND_TOP, STORIES_PER_SECTION_ON_HOME, read_fronts
from articles.models import Article, Front, FrontSlot, Section

HOME = "/"


@pytest.fixture(autouse=True)
def page_cache_on(settings):
    settings.PAGE_CACHE_SECONDS = 300  # as production: every test reads pages through the page cache


@pytest.fixture
def europe(db):
    return Section.objects.get_or_create(slug="europe", defaults={"name": "Europe", "order": 30})[0]


@pytest.fixture
def newsroom(make_article, section, europe):
    """Stories in two sections, newest first: "World 0" is the newest story of the site. "Archive story" is a
    year old, far below any front."""
    now = timezone.now()
    stories = {}
    for n in range(8):
        stories[f"World {n}"] = make_article(f"World {n}", published_at=now - timedelta(minutes=10 + 2 * n))
        stories[f"Europe {n}"] = make_article(
            f"Europe {n}", section=europe, published_at=now - timedelta(minutes=11 + 2 * n)
        )
    stories["Archive story"] = make_article("Archive story", published_at=now - timedelta(days=365))
    return stories


def arrange(*stories, section=None, approved=True, live_from=None, pins=None):
    """An arrangement of the home page (or a section's), its stories in this order; `pins`: {story: until}."""
    front = Front.objects.create(
        section=section, approved=approved, live_from=live_from or timezone.now() - timedelta(minutes=1)
    )
    for order, story in enumerate(stories):
        FrontSlot.objects.create(front=front, article=story, order=order, pinned_until=(pins or {}).get(story))
    return front


def front_of(client, url=HOME):
    """The headlines of the page's front, in order, and whether the first is marked as the lead."""
    page = client.get(url).content.decode()
    match = re.search(r'<section class="front" aria-labelledby="front-title">(.*?)</section>', page, re.S)
    assert match, "the page has no front"
    cards = re.findall(r'<article class="card ([^"]*)".*?<a href="[^"]*">([^<]*)</a>', match.group(1), re.S)
    assert cards[0][0] == "card--lead" and all(role == "card--top" for role, _ in cards[1:]), cards
    return [headline for _, headline in cards]


def headlines(client, url=HOME):
    """Every story headline the page links to, in order, as readers meet them."""
    page = client.get(url).content.decode()
    return re.findall(r'<h[23] class="card-title"><a href="[^"]*">([^<]*)</a>', page)


@pytest.mark.django_db
def test_without_an_arrangement_the_home_front_is_the_newest_stories_of_every_section(client, newsroom):
    assert front_of(client) == ["World 0", "Europe 0", "World 1", "Europe 1", "World 2"]


@pytest.mark.django_db
def test_the_home_front_shows_its_arrangement_in_order_then_the_newest(client, newsroom):
    arrange(newsroom["Archive story"], newsroom["Europe 3"])

    assert front_of(client) == ["Archive story", "Europe 3", "World 0", "Europe 0", "World 1"]


@pytest.mark.django_db
def test_no_story_shows_twice_on_the_home_page(client, newsroom, europe):
    arrange(newsroom["World 0"], newsroom["Europe 4"])
    arrange(newsroom["Europe 5"], newsroom["World 0"], section=europe)

    shown = headlines(client)
    assert len(shown) == len(set(shown)), shown
    assert shown[:LEAD_AND_TOP] == ["World 0", "Europe 4", "Europe 0", "World 1", "Europe 1"]
    # Below, each section's block: its own arrangement first, then its newest, without what is above.
    world, europe_block = shown[LEAD_AND_TOP : LEAD_AND_TOP + 4], shown[LEAD_AND_TOP + 4 :]
    assert world == ["World 2", "World 3", "World 4", "World 5"]
    assert europe_block == ["Europe 5", "Europe 2", "Europe 3", "Europe 6"]
    assert len(europe_block) == STORIES_PER_SECTION_ON_HOME


@pytest.mark.django_db
def test_a_section_page_is_its_front_then_its_latest_and_later_pages_are_the_newest(client, newsroom, many_articles):
    many_articles(30, prefix="Older")  # more than a page: page 2 exists
    Article.objects.filter(headline__startswith="Older").update(published_at=timezone.now() - timedelta(days=2))
    arrange(newsroom["Archive story"], newsroom["World 5"], section=newsroom["World 0"].section)

    assert front_of(client, "/world/") == ["Archive story", "World 5", "World 0", "World 1", "World 2"]
    first = headlines(client, "/world/")
    assert len(first) == len(set(first))
    assert first[LEAD_AND_TOP : LEAD_AND_TOP + 3] == ["World 3", "World 4", "World 6"]
    second = client.get("/world/?page=2").content.decode()
    assert 'class="front"' not in second and "Older number" in second


@pytest.mark.django_db
def test_a_withdrawn_story_leaves_the_cached_front_at_once_and_the_next_moves_up(client, newsroom):
    lead = newsroom["Archive story"]
    arrange(lead, newsroom["Europe 3"])
    assert front_of(client)[:2] == ["Archive story", "Europe 3"]
    assert client.get(HOME).headers["X-Page-Cache"] == "hit"

    lead.status = Article.Status.WITHDRAWN
    lead.save()

    assert front_of(client) == ["Europe 3", "World 0", "Europe 0", "World 1", "Europe 1"]
    assert "Archive story" not in client.get(HOME).content.decode()


@pytest.mark.django_db
def test_an_edit_to_a_slotted_story_from_deep_in_the_archive_reaches_the_cached_front(client, newsroom):
    story = newsroom["Archive story"]
    arrange(story)
    client.get(HOME)
    assert client.get(HOME).headers["X-Page-Cache"] == "hit"

    story.headline = "Archive story, updated"
    story.save()

    assert front_of(client)[0] == "Archive story, updated"


@pytest.mark.django_db
def test_drafts_embargoed_stories_and_those_in_review_never_show_on_a_front(
    client, newsroom, draft_article, embargoed_article, review_article, withdrawn_article
):
    arrange(draft_article, embargoed_article, review_article, withdrawn_article, newsroom["Europe 6"])
    arrange(draft_article, embargoed_article, section=draft_article.section)

    for url in (HOME, "/world/"):
        page = client.get(url).content.decode()
        for story in (draft_article, embargoed_article, review_article, withdrawn_article):
            assert story.headline not in page, (url, story)
    assert front_of(client)[0] == "Europe 6"
    assert front_of(client, "/world/")[0] == "World 0"


@pytest.mark.django_db
def test_a_suggested_arrangement_shows_nowhere(client, newsroom):
    arrange(newsroom["Archive story"], approved=False)

    assert "Archive story" not in client.get(HOME).content.decode()


@pytest.mark.django_db
def test_a_change_to_the_arrangement_reaches_the_cached_front_at_once(client, newsroom):
    front = arrange(newsroom["Europe 3"])
    assert front_of(client)[0] == "Europe 3"
    assert client.get(HOME).headers["X-Page-Cache"] == "hit"

    slot = FrontSlot.objects.create(front=front, article=newsroom["Archive story"], order=1)
    assert front_of(client)[:2] == ["Europe 3", "Archive story"]

    slot.delete()
    assert front_of(client)[0] == "Europe 3"

    front.approved = False
    front.save()
    assert front_of(client)[0] == "World 0"


@pytest.mark.django_db
def test_a_deleted_arrangement_gives_the_page_back_to_the_one_before(client, newsroom):
    arrange(newsroom["Europe 3"], live_from=timezone.now() - timedelta(hours=2))
    newer = arrange(newsroom["Europe 4"])
    assert front_of(client)[0] == "Europe 4"

    newer.delete()

    assert front_of(client)[0] == "Europe 3"


@pytest.mark.django_db
def test_a_pinned_story_leaves_the_front_when_its_pin_runs_out_without_a_save(client, newsroom):
    until = timezone.now() + timedelta(seconds=1.5)
    arrange(newsroom["Archive story"], pins={newsroom["Archive story"]: until})
    assert front_of(client)[0] == "Archive story"
    assert client.get(HOME).headers["X-Page-Cache"] == "hit"

    time.sleep(max((until - timezone.now()).total_seconds(), 0) + 0.1)

    assert front_of(client)[0] == "World 0"
    assert "Archive story" not in client.get(HOME).content.decode()


@pytest.mark.django_db
def test_a_scheduled_arrangement_goes_live_at_its_time_without_a_save(client, newsroom):
    arrange(newsroom["Europe 3"])
    at = timezone.now() + timedelta(seconds=1.5)
    arrange(newsroom["Archive story"], newsroom["Europe 7"], live_from=at)  # the lunchtime front
    assert front_of(client)[0] == "Europe 3"
    assert client.get(HOME).headers["X-Page-Cache"] == "hit"

    time.sleep(max((at - timezone.now()).total_seconds(), 0) + 0.1)

    assert front_of(client)[:2] == ["Archive story", "Europe 7"]


@pytest.mark.django_db
def test_the_one_rule_at_any_time(newsroom):
    """read_fronts() at a time to come: the arrangement live then, its pins as they will be, the stories
    published then."""
    now = timezone.now()
    soon = now + timedelta(hours=1)
    embargoed = newsroom["World 7"]
    embargoed.published_at = now + timedelta(minutes=30)
    embargoed.save()
    arrange(newsroom["Europe 2"], newsroom["Europe 3"], pins={newsroom["Europe 2"]: now + timedelta(minutes=5)})
    arrange(embargoed, newsroom["Europe 5"], live_from=now + timedelta(minutes=45))
    sections = list(Section.objects.all())

    assert [s.headline for s in read_fronts(sections).home[:2]] == ["Europe 2", "Europe 3"]
    assert [s.headline for s in read_fronts(sections, at=now + timedelta(minutes=10)).home[:2]] == [
        "Europe 3",
        "World 0",
    ]
    assert [s.headline for s in read_fronts(sections, at=soon).home[:3]] == ["World 7", "Europe 5", "World 0"]


# The desk's preview of an arrangement.


def preview_url(front):
    return reverse("articles:front-preview", kwargs={"pk": front.pk})


@pytest.mark.django_db
def test_an_editor_previews_a_scheduled_arrangement_through_the_home_page_template(editor_client, newsroom):
    at = timezone.now() + timedelta(hours=3)
    embargoed = newsroom["World 7"]
    embargoed.published_at = at - timedelta(hours=1)  # out by then
    embargoed.save()
    front = arrange(embargoed, newsroom["Archive story"], live_from=at, approved=False)

    response = editor_client.get(preview_url(front))

    assert response.status_code == 200
    assert front_of(editor_client, preview_url(front))[:2] == ["World 7", "Archive story"]
    page = response.content.decode()
    assert 'class="preview-banner"' in page and "Preview" in page
    assert '<meta name="robots" content="noindex, nofollow">' in page
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response.headers["Cache-Control"] and "private" in response.headers["Cache-Control"]
    assert "X-Page-Cache" not in response.headers
    # Readers still get the live front.
    from django.test import Client

    assert front_of(Client())[0] == "World 0"


@pytest.mark.django_db
def test_a_section_arrangement_is_previewed_on_its_section_page(editor_client, newsroom):
    front = arrange(newsroom["Archive story"], section=newsroom["World 0"].section, approved=False)

    assert front_of(editor_client, preview_url(front))[:2] == ["Archive story", "World 0"]
    assert '<h1 class="page-title">World</h1>' in editor_client.get(preview_url(front)).content.decode()


@pytest.mark.django_db
def test_only_staff_who_may_see_arrangements_preview_them(client, newsroom, make_user, reporter_client):
    from django.test import Client

    front = arrange(newsroom["Archive story"])
    url = preview_url(front)

    anonymous = client.get(url)
    assert anonymous.status_code == 302 and reverse("admin:login") in anonymous.headers["Location"]
    assert reporter_client.get(url).status_code == 200  # reporters suggest arrangements: they see them
    outsider = Client()
    outsider.force_login(make_user("clerk"))  # staff, in no group
    assert outsider.get(url).status_code == 403
    assert client.get(reverse("articles:front-preview", kwargs={"pk": front.pk + 100})).status_code == 302
