import uuid
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from articles import pagecache as page_cache
from articles.models import Article, Author, Byline, Caption, Photo, Section
from articles.pagecache import content_changed
from tests import production

DATA = Path(__file__).parent / "data"
SAMPLE = Path(__file__).parent.parent / "fixtures" / "sample-dump.txt"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """What the test about to run is marked as needing (browser, production...), for the helpers that start
    Chromium, gunicorn, PostgreSQL or Redis to check (production.require_marker)."""
    production.running_test_markers = {mark.name for mark in item.iter_markers()}


@pytest.fixture(autouse=True)
def fresh_cache():
    """The cache outlives a test's database rollback: pages cached by one test must not leak into the next,
    nor one test's cache failure pause the next test's cache."""
    page_cache._cache_paused_until = 0.0
    page_cache._recent.clear()  # versions read in another test's database
    page_cache._kept.clear()
    if settings.CACHES["default"]["BACKEND"].endswith("LocMemCache"):
        cache.clear()
    else:  # REDIS_URL is set: never flush a Redis others may use; this test's keys go under a prefix of its own
        cache.key_prefix = f"{settings.CACHES['default']['KEY_PREFIX']}-{uuid.uuid4().hex}"


@pytest.fixture
def section(db):
    # get_or_create: browser tests run in transactions that are flushed, migration data and all.
    return Section.objects.get_or_create(slug="world", defaults={"name": "World", "is_default": True})[0]


@pytest.fixture
def make_article(section):
    def make(headline="Floods Hit the Coast", status=Article.Status.PUBLISHED, published_at=None, **fields):
        if status == Article.Status.PUBLISHED and published_at is None:
            published_at = timezone.now() - timedelta(hours=1)
        article = Article.objects.create(
            headline=headline,
            slug=fields.pop("slug", None) or headline.lower().replace(" ", "-"),
            section=fields.pop("section", section),
            body=fields.pop("body", "First paragraph.\n\nSecond paragraph."),
            status=status,
            published_at=published_at,
            **fields,
        )
        return article

    return make


@pytest.fixture
def make_author(db):
    def make(name="Jane Reporter", **fields):
        slug = fields.pop("slug", None) or name.lower().replace(" ", "-")
        return Author.objects.create(name=name, slug=slug, **fields)

    return make


def write_bylines(article, *authors):
    """The story's authors, in this order."""
    for order, author in enumerate(authors):
        Byline.objects.create(article=article, author=author, order=order)


@pytest.fixture
def published_article(make_article):
    article = make_article("Floods Hit the Coast")
    photo = Photo.objects.create(credit="Reuters", alt_text="A flooded street")
    Caption.objects.create(article=article, photo=photo, text="A flooded street in the port.", is_lead=True)
    return article


@pytest.fixture
def draft_article(make_article):
    return make_article("Secret Draft About Budget", status=Article.Status.DRAFT)


@pytest.fixture
def embargoed_article(make_article):
    return make_article("Embargoed Results Announced", published_at=timezone.now() + timedelta(days=1))


@pytest.fixture
def make_user(db, django_user_model):
    from django.contrib.auth.models import Group

    def make(username, group=None):
        # No password: tests log in with force_login (hashing one takes a noticeable fraction of a second).
        user = django_user_model.objects.create_user(username, is_staff=True)
        if group:
            user.groups.add(Group.objects.get(name=group))
        return user

    return make


@pytest.fixture
def withdrawn_article(make_article):
    return make_article(
        "Withdrawn Claims About Mayor",
        status=Article.Status.WITHDRAWN,
        withdrawn_reason="This story was withdrawn because its main source retracted.",
    )


@pytest.fixture
def review_article(make_article):
    return make_article("Story Awaiting Review On Harbour", status=Article.Status.REVIEW)


@pytest.fixture
def arabic_article(make_article):
    return make_article(
        "فيضانات تضرب الساحل",
        slug="floods-arabic",
        language="ar",
        body="غمرت المياه شوارع الميناء.\n\nوقال السكان إن المياه ارتفعت بسرعة.",
    )


@pytest.fixture
def many_articles(section):
    """Make n published stories in a section, each with a lead photo, quickly."""

    def make(n, section=section, prefix="Story"):
        now = timezone.now()
        articles = Article.objects.bulk_create(
            Article(
                headline=f"{prefix} number {i}",
                slug=f"{prefix.lower()}-{section.slug}-{i}",
                section=section,
                body=f"Paragraph one of {i}.\n\nParagraph two.\n\nParagraph three.",
                status=Article.Status.PUBLISHED,
                published_at=now - timedelta(minutes=10 + i),
            )
            for i in range(n)
        )
        photos = Photo.objects.bulk_create(Photo(credit="AP") for _ in articles)
        Caption.objects.bulk_create(
            Caption(article=article, photo=photo, text=f"Photo of {article.headline}", is_lead=True)
            for article, photo in zip(articles, photos, strict=True)
        )
        content_changed(everything=True)  # bulk writes send no signals: like import_dump, say the content changed
        return articles

    return make


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Every test stores media in its own temporary folder, never in the repository's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def media_files(media_root):
    """The files under MEDIA_ROOT now, as sorted relative paths."""

    def files():
        return sorted(str(p.relative_to(media_root)) for p in media_root.rglob("*") if p.is_file())

    return files


@pytest.fixture
def make_photo(db):
    """A saved Photo with an image (a 1000x500 JPEG unless `data` is given) and its renditions, made here as a
    worker makes them after the save (articles/photos/tasks.py)."""
    from articles.photos.tasks import make_renditions
    from tests.photos import image_bytes, upload

    def make(data=None, name="photo.jpg", **fields):
        fields.setdefault("alt_text", "Boats in a flooded harbour")
        fields.setdefault("credit", "Reuters")
        photo = Photo.objects.create(image=upload(name, data or image_bytes(size=(1000, 500))), **fields)
        make_renditions.call(photo.pk)
        photo.refresh_from_db()
        return photo

    return make


@pytest.fixture
def reporter(make_user):
    return make_user("rita", "Reporters")


@pytest.fixture
def editor(make_user):
    return make_user("ed", "Editors")


def logged_in(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def reporter_client(reporter):
    return logged_in(reporter)


@pytest.fixture
def editor_client(editor):
    return logged_in(editor)


@pytest.fixture
def article_with_photo(make_article, make_photo):
    article = make_article("Harbour Flooded Overnight")
    Caption.objects.create(article=article, photo=make_photo(), text="The harbour at dawn.", is_lead=True)
    return article


ROOT = Path(__file__).parent.parent
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium, driven by Playwright's sync API, launched once for the test run (a launch costs
    seconds); the `browser` fixture gives each test it with none of another test's contexts.

    Playwright's sync API runs an event loop in this thread and marks it as running between its calls. Between
    browser tests it is unmarked, so that the tests that run then (pytest-django orders tests by their kind,
    not by their file) run as they do without a browser; `browser` marks it again for its test."""
    import asyncio

    from playwright.sync_api import sync_playwright

    production.require_marker("browser", "Chromium")
    playwright = sync_playwright().start()
    loop = asyncio.get_running_loop()
    asyncio._set_running_loop(None)  # until `browser` marks it for its test, after the test's other fixtures
    launched = SimpleNamespace(playwright=playwright, loop=loop, browser=None)
    try:
        yield launched
    finally:
        asyncio._set_running_loop(loop)
        if launched.browser is not None and launched.browser.is_connected():
            launched.browser.close()
        playwright.stop()


@pytest.fixture
def browser(chromium, monkeypatch):
    """The test run's Chromium, with no pages or contexts open: a test's pages, cookies, storage and routes are
    in contexts of its own (browser.new_page() makes one for its page), all closed when it ends."""
    import asyncio

    from django.db import connections

    production.require_marker("browser", "Chromium")
    # Playwright's event loop runs in this thread during the test; the ORM calls in tests are still
    # synchronous, but Django gives code inside a running loop its own connections: close them while it runs.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    asyncio._set_running_loop(chromium.loop)
    try:
        if chromium.browser is None or not chromium.browser.is_connected():  # first test, or Chromium crashed
            chromium.browser = chromium.playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
            )
        yield chromium.browser
        for context in chromium.browser.contexts:
            context.close()
    finally:
        connections.close_all()
        asyncio._set_running_loop(None)


@pytest.fixture
def reader_site(make_article, section, make_author, make_photo):
    """A small site for browser tests: stories in two sections, an Arabic one, a correction, an author with a
    portrait and links (/authors/jane-reporter/), topics (/topics/weather/)."""
    from articles.models import AuthorLink, Correction, StoryTopic, Topic

    europe = Section.objects.get_or_create(slug="europe", defaults={"name": "Europe", "order": 30})[0]
    lead = make_article(
        "Floods Hit the Coast",
        standfirst="Thousands leave their homes as rivers burst their banks.",
        byline="Jane Reporter",
        body="Water rose overnight in the port.\n\nThe mayor asked residents to stay away from the river.",
    )
    photo = Photo.objects.create(credit="Reuters", alt_text="A flooded street")
    Caption.objects.create(article=lead, photo=photo, text="A flooded street in the port.", is_lead=True)
    Correction.objects.create(article=lead, text="An earlier version misspelled the mayor's name.")
    jane = make_author(
        "Jane Reporter",
        bio="Jane covers the coast and its weather.\n\nShe joined the desk in 2019.",
        photo=make_photo(name="jane.jpg", alt_text="Jane Reporter, smiling", credit="Staff"),
    )
    AuthorLink.objects.create(author=jane, label="Website", url="https://jane.example/")
    write_bylines(lead, jane, make_author("Omar Haddad"))
    make_author("Sami Nour")  # no stories yet
    storms = make_article("Storm Season Starts", body="Forecasters expect a busy season.")
    weather = Topic.objects.create(name="Weather", slug="weather", description="Storms, floods and heat waves.")
    coast = Topic.objects.create(name="The coast", slug="the-coast")
    StoryTopic.objects.bulk_create(
        StoryTopic(article=story, topic=topic) for story, topic in [(lead, weather), (lead, coast), (storms, weather)]
    )
    make_article("Summit in Brussels Ends", section=europe, body="Leaders agreed on a budget.")
    make_article(
        "فيضانات تضرب الساحل",
        slug="floods-arabic",
        language="ar",
        body="غمرت المياه شوارع الميناء.\n\nوقال السكان إن المياه ارتفعت بسرعة.",
    )
    return lead


@pytest.fixture
def immediate_tasks(settings):
    """Tasks run by django.tasks' immediate backend instead of waiting for a worker (in every thread: the live
    server's too)."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    forget_task_backends()
    yield
    forget_task_backends()  # the next use reads the settings again, restored by then


def forget_task_backends():
    """django.tasks keeps its backends, made from the settings once, for good: the tests change the settings."""
    from asgiref.local import Local
    from django.tasks import task_backends

    task_backends.__dict__.pop("settings", None)
    task_backends._settings = None
    task_backends._connections = Local(task_backends.thread_critical)
