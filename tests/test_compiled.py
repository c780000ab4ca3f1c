"""Compiled queries (articles/compiled.py) give what their querysets give, for any values."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from articles import views
from articles.compiled import CompiledQuery
from articles.models import Article, Caption, Correction, Photo


def same(a, b):
    return [(type(x), x.pk, {k: v for k, v in x.__dict__.items() if k != "_state"}) for x in a] == [
        (type(y), y.pk, {k: v for k, v in y.__dict__.items() if k != "_state"}) for y in b
    ]


@pytest.mark.django_db
def test_a_story_is_found_by_slug_only_when_published_then(published_article, embargoed_article, draft_article):
    now = timezone.now()
    for story in [published_article, embargoed_article, draft_article]:
        for at in [now, now + timedelta(days=2)]:
            compiled = views.published_story(story.slug, at)
            plain = list(Article.objects.published(at=at).filter(slug=story.slug))
            assert same(compiled, plain)
    assert [a.headline for a in views.published_story(embargoed_article.slug, now + timedelta(days=2))] == [
        "Embargoed Results Announced"
    ]
    assert views.published_story(embargoed_article.slug, now) == []
    assert views.published_story(draft_article.slug, now) == []
    assert views.published_story("no-such-story", now) == []


@pytest.mark.django_db
def test_captions_come_with_their_photos_in_order(published_article, make_article):
    other = make_article("Another Story")
    for order in [3, 1, 2]:
        photo = Photo.objects.create(credit=f"Agency {order}", alt_text="A street")
        Caption.objects.create(article=published_article, photo=photo, text=f"Photo {order}", order=order)
    captions = views.story_captions(published_article.pk)
    assert same(captions, list(Caption.objects.filter(article=published_article).select_related("photo")))
    assert [c.text for c in captions] == ["A flooded street in the port.", "Photo 1", "Photo 2", "Photo 3"]
    assert captions[1].photo.credit == "Agency 1"  # fetched with the caption: no query
    assert views.story_captions(other.pk) == []


@pytest.mark.django_db
def test_corrections_newest_first(published_article, django_assert_num_queries):
    for text in ["First", "Second"]:
        Correction.objects.create(article=published_article, text=text)
    with django_assert_num_queries(1):
        corrections = views.story_corrections(published_article.pk)
    assert [c.text for c in corrections] == ["Second", "First"]


@pytest.mark.django_db
def test_an_argument_that_is_not_a_value_in_the_sql_is_refused(published_article):
    sliced = CompiledQuery(lambda count: Article.objects.all()[: len(str(count))], int)
    with pytest.raises(ValueError, match="every argument"):
        sliced(3)


def test_only_values_of_known_types_have_markers():
    with pytest.raises(TypeError):
        CompiledQuery(lambda value: Article.objects.filter(pk=value), float)(1.5)
    assert CompiledQuery.marker(datetime, 0) != CompiledQuery.marker(datetime, 1)
