from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from articles.models import Article, Caption, Photo, Section

DATA = Path(__file__).parent / "data"
SAMPLE = Path(__file__).parent.parent / "fixtures" / "sample-dump.txt"


@pytest.fixture
def section(db):
    return Section.objects.get(slug="world")


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
