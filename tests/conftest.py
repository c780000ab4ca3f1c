from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from articles.models import Article, Caption, Photo, Section

DATA = Path(__file__).parent / "data"
SAMPLE = Path(__file__).parent.parent / "fixtures" / "sample-dump.txt"


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
        return articles

    return make


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
def browser():
    """Debian's Chromium, driven by Playwright's sync API."""
    import os

    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls in tests are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def reader_site(make_article, section):
    """A small site for browser tests: stories in two sections, an Arabic one, a correction."""
    from articles.models import Correction

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
    make_article("Storm Season Starts", body="Forecasters expect a busy season.")
    make_article("Summit in Brussels Ends", section=europe, body="Leaders agreed on a budget.")
    make_article(
        "فيضانات تضرب الساحل",
        slug="floods-arabic",
        language="ar",
        body="غمرت المياه شوارع الميناء.\n\nوقال السكان إن المياه ارتفعت بسرعة.",
    )
    return lead
