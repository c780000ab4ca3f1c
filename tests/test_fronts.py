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


class SlowAfterBuilding:
    """A page built, then answered late (a loaded worker): until SLOW["until"], if set."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if until := SLOW.get("until"):
            time.sleep(max((until - timezone.now()).total_seconds(), 0) + 0.2)
        return response


SLOW = {}


@pytest.mark.django_db
def test_a_page_built_before_a_pin_ran_out_is_not_cached_past_it_however_late_it_is_answered(
    client, settings, newsroom
):
    until = timezone.now() + timedelta(seconds=1)
    arrange(newsroom["Archive story"], pins={newsroom["Archive story"]: until})
    cache_at = settings.MIDDLEWARE.index("articles.pagecache.PageCacheMiddleware")
    settings.MIDDLEWARE = [*settings.MIDDLEWARE]
    settings.MIDDLEWARE.insert(cache_at + 1, "tests.test_fronts.SlowAfterBuilding")
    SLOW["until"] = until
    try:
        assert front_of(client)[0] == "Archive story"  # built before the pin ran out, answered after
    finally:
        SLOW.clear()

    assert front_of(client)[0] == "World 0"


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


@pytest.mark.django_db
def test_a_reader_asking_if_the_front_changed_since_their_copy_is_told_it_did(client, newsroom):
    """Last-Modified counts a front's arrangement: a browser or proxy holding the page is never told 304 after
    its lead changed, whether an editor saved it or a scheduled arrangement went live by itself."""
    first = client.get(HOME)
    since = {"HTTP_IF_MODIFIED_SINCE": first.headers["Last-Modified"]}
    assert client.get(HOME, **since).status_code == 304
    time.sleep(1)  # HTTP dates are in whole seconds

    arrange(newsroom["Archive story"], live_from=timezone.now() + timedelta(seconds=1))
    time.sleep(1.1)

    assert client.get(HOME, **since).status_code == 200


@pytest.mark.django_db
def test_fronts_need_the_same_queries_whatever_their_slots_and_stories(
    client, settings, monkeypatch, newsroom, many_articles, europe
):
    """Cold (nothing kept: the first request after a change) and warm, as tests/test_queries.py counts them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from articles import jinja2, pagecache

    settings.PAGE_CACHE_SECONDS = 0  # the pages themselves are built every time: this is about their queries
    monkeypatch.setattr(pagecache, "FRESH_FOR", 0)  # the versions read on every request: counted each time
    urls = [HOME, "/world/", "/europe/"]

    def counts():
        pagecache._kept.clear()
        jinja2._cards.clear()  # every card rendered afresh: each page reads its cards' bodies
        measured = []
        for url in urls * 2:
            with CaptureQueriesContext(connection) as context:
                assert client.get(url).status_code == 200
            measured.append(len(context))
        return measured

    arrange(newsroom["Archive story"])
    few = counts()
    stories = many_articles(40, prefix="More") + many_articles(40, section=europe, prefix="Other")
    arrange(*stories[:20], live_from=timezone.now() - timedelta(seconds=30))
    arrange(*stories[20:35], section=newsroom["World 0"].section)
    arrange(*stories[40:60], section=europe)
    assert counts() == few


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


# Served as production serves it: gunicorn with several workers, each caching pages in its own memory (no Redis).

WORKERS = 3
LIMIT = 1.5  # seconds: every worker shows a change within a second of it (tests/test_changes_reach_every_worker.py)
SEED = """
import json
from datetime import timedelta
from django.utils import timezone
from articles.models import Article, Front, FrontSlot, Section
world, now = Section.objects.get(slug="world"), timezone.now()
def story(headline, age):
    return Article.objects.create(headline=headline, slug=headline.lower().replace(" ", "-"), section=world,
        body="A paragraph.", status="published", published_at=now - age)
for n in range(6):
    story(f"Fresh Quillmore {n}", timedelta(minutes=10 + n))
front = Front.objects.create(approved=True, live_from=now - timedelta(minutes=1))
FrontSlot.objects.create(front=front, article=story("Deep Archive Harrowgate", timedelta(days=400)), order=0)
FrontSlot.objects.create(front=front, article=story("Second Lead Wexcombe", timedelta(days=300)), order=1)
story("Lunch Lead Pellworth", timedelta(days=200))
print(json.dumps(front.pk))
"""
# The lunchtime front, scheduled a moment ahead: its lead pinned for a moment more.
SCHEDULE = """
import json
from datetime import timedelta
from django.utils import timezone
from articles.models import Article, Front, FrontSlot
at = timezone.now() + timedelta(seconds=4)  # after this process has exited, on a busy machine too
front = Front.objects.create(approved=True, live_from=at, title="Lunchtime")
FrontSlot.objects.create(front=front, article=Article.objects.get(slug="lunch-lead-pellworth"), order=0,
    pinned_until=at + timedelta(seconds=2))
FrontSlot.objects.create(front=front, article=Article.objects.get(slug="second-lead-wexcombe"), order=1)
print(json.dumps(at.timestamp()))
"""
WITHDRAW = """
from articles.models import Article
story = Article.objects.get(slug="deep-archive-harrowgate")
story.status, story.withdrawn_reason = "withdrawn", "Legal."
story.save()
print(1)
"""


def lead_of(response):
    assert response.status == 200, response
    return re.search(r'card--lead".*?<a href="[^"]*">([^<]*)</a>', response.text, re.S).group(1)


@pytest.mark.production
@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_every_worker_shows_a_front_change_at_once_and_a_schedule_at_its_time(tmp_path, database):
    from concurrent.futures import ThreadPoolExecutor

    from .production import free_port, gunicorn, http_get, shell, site_env

    def burst():
        """As many requests at once as there are workers, so that each answers: their leads."""
        return [lead_of(r) for r in pool.map(lambda _: http_get(port, HOME), range(WORKERS))]

    def until(expected, since, not_before=None):
        """Read the home page until every worker leads with `expected`; when it did, in seconds after `since`."""
        while True:
            leads = burst()
            now = time.time()
            if not_before is not None and now < not_before:
                assert expected not in leads, f"{expected} led before its time"
            if all(lead == expected for lead in leads):
                return now - since
            assert now - since < LIMIT + 5, (expected, leads)
            time.sleep(0.05)

    port = free_port()
    with (
        site_env(database, tmp_path, static=True, DJANGO_PAGE_CACHE_SECONDS="300") as env,
        ThreadPoolExecutor(WORKERS) as pool,
    ):
        shell(SEED, env)
        with gunicorn(port, env, workers=WORKERS):
            for _ in range(4):  # every worker has the page cached
                assert burst() == ["Deep Archive Harrowgate"] * WORKERS

            shell(WITHDRAW, env)
            withdrawn = time.time()
            assert until("Second Lead Wexcombe", withdrawn) < LIMIT  # the next story moved up, everywhere
            assert "Deep Archive Harrowgate" not in http_get(port, HOME).text

            at = shell(SCHEDULE, env)  # saved: pages are rebuilt, still with the front live now until `at`
            assert until("Lunch Lead Pellworth", at, not_before=at) < LIMIT  # at its time, with no save
            # Its lead's pin runs out two seconds later: the arrangement's next story leads.
            assert until("Second Lead Wexcombe", at + 2, not_before=at + 2) < LIMIT


@pytest.mark.checkers
@pytest.mark.django_db
def test_arranged_fronts_and_their_previews_are_valid_html(client, editor_client, newsroom, tmp_path):
    import json
    import subprocess

    from .test_accessibility import VNU

    home = arrange(newsroom["Archive story"], newsroom["Europe 3"], approved=False)
    world = arrange(newsroom["Europe 2"], section=newsroom["World 0"].section)
    pages = {"home": client.get(HOME), "world": client.get("/world/")}
    pages |= {
        "home-preview": editor_client.get(preview_url(home)),
        "world-preview": editor_client.get(preview_url(world)),
    }
    files = []
    for name, response in pages.items():
        assert response.status_code == 200, name
        (tmp_path / f"{name}.html").write_bytes(response.content)
        files.append(str(tmp_path / f"{name}.html"))
    run = subprocess.run(
        ["java", "-jar", str(VNU), "--format", "json", "--stdout", "--errors-only", *files],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    messages = json.loads(run.stdout)["messages"]
    assert [f"{m['url'].rsplit('/', 1)[-1]}:{m.get('lastLine')}: {m['message']}" for m in messages] == []
