"""Compiled queries (articles/compiled.py) give what their querysets give, for any values."""

import threading
from datetime import datetime, timedelta

import pytest
from django.db import connections
from django.db.models import Value
from django.utils import timezone

from articles import listings, views
from articles.compiled import CompiledQuery
from articles.models import Article, Author, AuthorLink, Byline, Caption, Correction, Photo

from .conftest import write_bylines

V = Value(False)


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
            assert same(compiled, list(views.published_story.build(story.slug, at)))
            plain = Article.objects.published(at=at).filter(slug=story.slug).annotate(corrected=V, has_authors=V)
            plain = plain.with_topics()
            assert same(compiled, list(plain))
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
def test_bylines_come_with_their_authors_in_order(published_article, make_author):
    authors = [make_author(f"Writer {n}") for n in range(3)]
    write_bylines(published_article, *reversed(authors))
    bylines = views.story_bylines(published_article.pk)
    assert same(bylines, list(Byline.objects.filter(article=published_article).select_related("author")))
    assert [b.author.name for b in bylines] == ["Writer 2", "Writer 1", "Writer 0"]
    assert views.published_story(published_article.slug, timezone.now())[0].has_authors is True


@pytest.mark.django_db
def test_an_author_is_found_by_slug_with_their_portrait_and_links_in_order(make_author, make_photo):
    author = make_author("Jane Reporter", photo=make_photo())
    make_author("Omar Haddad")
    for order in [2, 0, 1]:
        AuthorLink.objects.create(author=author, label=f"Link {order}", url=f"https://example.com/{order}", order=order)
    found = views.author_by_slug("jane-reporter")
    assert same(found, list(Author.objects.filter(slug="jane-reporter").select_related("photo")))
    assert found[0].photo.alt_text == "Boats in a flooded harbour"  # fetched with the author: no query
    assert views.author_by_slug("nobody") == []
    links = views.author_links(author.pk)
    assert same(links, list(AuthorLink.objects.filter(author=author)))
    assert [link.label for link in links] == ["Link 0", "Link 1", "Link 2"]


@pytest.mark.django_db
def test_an_author_page_is_its_slice_of_their_listing(many_articles, make_author, embargoed_article, make_article):
    jane = make_author()
    for story in [*many_articles(25), embargoed_article]:
        write_bylines(story, jane)
    make_article("Not Hers")
    now = timezone.now()
    listing = list(Article.objects.published(at=now).by_author(jane).newest_first().values_list("pk", flat=True))
    assert len(listing) == 25
    for start in [0, 20, 40]:
        page = listings.author_page(jane.pk, now, slice(start, start + 20))
        page.sort(key=lambda story: (story.published_at, story.pk), reverse=True)
        assert [story.pk for story in page] == listing[start : start + 20]


@pytest.mark.django_db
def test_a_story_knows_whether_it_was_corrected(published_article):
    assert views.published_story(published_article.slug, timezone.now())[0].corrected is False
    Correction.objects.create(article=published_article, text="First")
    assert views.published_story(published_article.slug, timezone.now())[0].corrected is True


@pytest.mark.django_db
def test_an_argument_that_is_not_a_value_in_the_sql_is_refused(published_article):
    sliced = CompiledQuery(lambda count: Article.objects.all()[: len(str(count))], int)
    with pytest.raises(ValueError, match="every argument"):
        sliced(3)


def test_only_values_of_known_types_have_markers():
    with pytest.raises(TypeError):
        CompiledQuery(lambda value: Article.objects.filter(pk=value), float)(1.5)
    assert CompiledQuery.marker(datetime, 0) != CompiledQuery.marker(datetime, 1)


@pytest.mark.django_db
def test_a_section_page_is_its_slice_of_the_listing(many_articles, section, embargoed_article):
    many_articles(45)
    now = timezone.now()
    listing = list(Article.objects.published(at=now).in_section(section).newest_first().values_list("pk", flat=True))
    assert len(listing) == 45 and embargoed_article.pk not in listing
    for start in [0, 20, 40, 60]:
        page = listings.section_page(section.pk, now, slice(start, start + 20))
        page.sort(key=lambda story: (story.published_at, story.pk), reverse=True)
        assert [story.pk for story in page] == listing[start : start + 20]


def test_a_slice_argument_must_slice_once():
    twice = CompiledQuery(lambda page: Article.objects.filter(pk__in=Article.objects.values("pk")[page])[page], slice)
    with pytest.raises(ValueError, match="slice the query once"):
        twice(slice(0, 20))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_compiled_query_runs_on_each_threads_own_connection(published_article):
    """Threaded servers (runserver, the live-server tests) serve each request on its thread's connection."""
    now = timezone.now()
    assert views.published_story(published_article.slug, now)  # compiled here, on this thread's connection
    found = []

    def read():
        try:
            found.extend(views.published_story(published_article.slug, now))
        finally:
            connections.close_all()

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    assert [story.headline for story in found] == [published_article.headline]
