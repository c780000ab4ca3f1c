from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from articles.cache import bump_content_version
from articles.models import Article, Caption, Photo, Section

DATA = Path(__file__).parent / "data"
SAMPLE = Path(__file__).parent.parent / "fixtures" / "sample-dump.txt"


@pytest.fixture(autouse=True)
def fresh_cache():
    """The cache outlives a test's database rollback: pages cached by one test must not leak into the next."""
    if settings.CACHES["default"]["BACKEND"].endswith("LocMemCache"):
        cache.clear()
    else:  # REDIS_URL is set: never flush a Redis others may use, make its pages stale instead
        bump_content_version()


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
def make_user(db, django_user_model):
    from django.contrib.auth.models import Group

    def make(username, group=None):
        # No password: tests log in with force_login (hashing one takes a noticeable fraction of a second).
        user = django_user_model.objects.create_user(username, is_staff=True)
        if group:
            user.groups.add(Group.objects.get(name=group))
        return user

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
    """A saved Photo with an image (a 1000x500 JPEG unless `data` is given); its renditions are made on save."""
    from tests.photos import image_bytes, upload

    def make(data=None, name="photo.jpg", **fields):
        fields.setdefault("alt_text", "Boats in a flooded harbour")
        fields.setdefault("credit", "Reuters")
        return Photo.objects.create(image=upload(name, data or image_bytes(size=(1000, 500))), **fields)

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
