"""Bylines: a story's authors, in order, each linking to their page, which lists their published stories."""

import json
import re
import time
from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.urls import reverse
from django.utils import timezone
from reversion.models import Version

from articles.models import Article, Author, AuthorLink, Byline, Photo, Section
from tests.admin_forms import load_change_form, read_form

from .conftest import write_bylines

ATOM = "{http://www.w3.org/2005/Atom}"


def text_of(response):
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def json_ld(page):
    return json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1))


def byline_of(page):
    return re.search(r'<span class="byline">(.*?)</span>', page, re.S).group(1)


@pytest.fixture
def jane(make_author):
    return make_author("Jane Reporter", bio="Jane covers the coast.\n\nShe joined in 2019.")


@pytest.fixture
def omar(make_author):
    return make_author("Omar Haddad")


# The story page.


@pytest.mark.django_db
def test_a_storys_byline_links_each_author_to_their_page_in_order(client, published_article, jane, omar):
    write_bylines(published_article, omar, jane)
    byline = byline_of(text_of(client.get(published_article.get_absolute_url())))
    assert (
        byline == '<a href="/authors/omar-haddad/">Omar Haddad</a>, <a href="/authors/jane-reporter/">Jane Reporter</a>'
    )


@pytest.mark.django_db
def test_json_ld_names_each_author_as_a_person_with_their_page(client, published_article, jane, omar):
    write_bylines(published_article, jane, omar)
    data = json_ld(text_of(client.get(published_article.get_absolute_url())))
    assert data["author"] == [
        {"@type": "Person", "name": "Jane Reporter", "url": "http://testserver/authors/jane-reporter/"},
        {"@type": "Person", "name": "Omar Haddad", "url": "http://testserver/authors/omar-haddad/"},
    ]


@pytest.mark.django_db
def test_a_wire_story_without_authors_shows_its_byline_text_as_before(client, make_article):
    story = make_article("Quake Shakes Capital", byline="Reuters")
    page = text_of(client.get(story.get_absolute_url()))
    assert byline_of(page) == "Reuters" and "/authors/" not in page
    assert json_ld(page)["author"] == {"@type": "Person", "name": "Reuters"}


@pytest.mark.django_db
def test_authors_replace_the_byline_text_when_a_story_has_both(client, make_article, jane):
    story = make_article("Harbour Reopens", byline="Staff")
    write_bylines(story, jane)
    assert byline_of(text_of(client.get(story.get_absolute_url()))).endswith(">Jane Reporter</a>")


# The author page.


@pytest.mark.django_db
def test_an_author_page_lists_their_published_stories_newest_first(
    client, make_article, jane, omar, draft_article, review_article, withdrawn_article, embargoed_article
):
    now = timezone.now()
    older = make_article("Older Story", published_at=now - timedelta(days=2))
    newer = make_article("Newer Story", published_at=now - timedelta(hours=1))
    someone_elses = make_article("Someone Else's Story")
    for story in [older, newer, draft_article, review_article, withdrawn_article, embargoed_article]:
        write_bylines(story, jane)
    write_bylines(someone_elses, omar)

    page = text_of(client.get("/authors/jane-reporter/"))

    assert page.index("Newer Story") < page.index("Older Story")
    for hidden in [someone_elses, draft_article, review_article, withdrawn_article, embargoed_article]:
        assert hidden.headline not in page
    assert '<h1 class="page-title">Jane Reporter</h1>' in page
    assert "<p>Jane covers the coast.</p><p>She joined in 2019.</p>" in page
    assert 'href="/authors/jane-reporter/feed/"' in page and 'href="/authors/jane-reporter/feed/atom/"' in page


@pytest.mark.django_db
def test_an_author_page_is_paginated_like_a_section(client, many_articles, jane):
    for story in many_articles(45):
        write_bylines(story, jane)
    first, last = text_of(client.get("/authors/jane-reporter/")), text_of(client.get("/authors/jane-reporter/?page=3"))
    assert "Page 1 of 3" in first and "Story number 0<" in first and "Story number 20<" not in first
    assert "Page 3 of 3" in last and "Story number 44<" in last
    assert client.get("/authors/jane-reporter/?page=4").status_code == 404


@pytest.mark.django_db
def test_an_author_page_shows_their_portrait_with_its_alt_text_and_their_links(client, make_photo, make_author):
    author = make_author("Lena Ortiz", photo=make_photo(alt_text="Lena Ortiz, smiling"))
    AuthorLink.objects.create(author=author, label="Website", url="https://lena.example/", order=1)
    AuthorLink.objects.create(author=author, label="Mastodon", url="https://social.example/@lena", order=0)
    page = text_of(client.get(author.get_absolute_url()))
    assert 'alt="Lena Ortiz, smiling"' in page
    assert page.index(">Mastodon</a>") < page.index(">Website</a>")
    assert json_ld(page)["mainEntity"] == {
        "@type": "Person",
        "name": "Lena Ortiz",
        "url": "http://testserver/authors/lena-ortiz/",
        "sameAs": ["https://social.example/@lena", "https://lena.example/"],
    }


@pytest.mark.django_db
def test_an_author_without_published_stories_has_a_page_that_says_so(client, jane):
    assert "No published stories by Jane Reporter yet." in text_of(client.get(jane.get_absolute_url()))


@pytest.mark.django_db
def test_an_unknown_author_is_not_found(client):
    assert client.get("/authors/nobody/").status_code == 404
    assert client.get("/authors/nobody/feed/").status_code == 404


@pytest.mark.django_db
def test_a_section_cannot_take_the_address_of_the_author_pages(editor_client):
    response = editor_client.post(
        reverse("admin:articles_section_add"),
        {
            "name": "Authors",
            "slug": "authors",
            "order": 0,
            "routing_rules-TOTAL_FORMS": 0,
            "routing_rules-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert "taken by the site" in str(response.context["adminform"].form.errors["slug"])
    assert not Section.objects.filter(slug="authors").exists()


# Feeds and the sitemap.


def xml(client, url):
    return ElementTree.fromstring(text_of(client.get(url)).encode())


@pytest.mark.django_db
def test_an_authors_feeds_list_their_published_stories_only(client, make_article, jane, draft_article):
    mine = make_article("Coast Road Closed")
    theirs = make_article("Inland Rail Opens")
    write_bylines(mine, jane)
    write_bylines(draft_article, jane)
    rss = xml(client, "/authors/jane-reporter/feed/").find("channel")
    assert [item.findtext("title") for item in rss.iter("item")] == [mine.headline]
    assert rss.findtext("title").endswith("Jane Reporter")
    atom = xml(client, "/authors/jane-reporter/feed/atom/")
    assert [entry.findtext(f"{ATOM}title") for entry in atom.iter(f"{ATOM}entry")] == [mine.headline]
    assert theirs.headline not in text_of(client.get("/authors/jane-reporter/feed/"))


@pytest.mark.django_db
def test_feed_items_name_the_storys_authors_or_else_its_byline(client, make_article, jane, omar):
    write_bylines(make_article("Two Authors Story"), jane, omar)
    make_article("Wire Story", byline="AFP")
    atom = xml(client, "/feed/atom/")
    authors = {e.findtext(f"{ATOM}title"): e.findtext(f"{ATOM}author/{ATOM}name") for e in atom.iter(f"{ATOM}entry")}
    assert authors == {"Two Authors Story": "Jane Reporter, Omar Haddad", "Wire Story": "AFP"}


@pytest.mark.django_db
def test_the_sitemap_lists_authors_with_published_stories(client, published_article, draft_article, jane, omar):
    write_bylines(published_article, jane)
    write_bylines(draft_article, omar)
    index = text_of(client.get("/sitemap.xml"))
    assert "/sitemap-authors.xml" in index
    sitemap = text_of(client.get("/sitemap-authors.xml"))
    assert "http://testserver/authors/jane-reporter/" in sitemap and "omar-haddad" not in sitemap


# The page cache: an author's page goes stale the moment anything it shows changes.


def cached(client, url):
    client.get(url)
    return client.get(url).headers.get("X-Page-Cache") == "hit"


@pytest.mark.django_db
def test_withdrawing_an_authors_story_takes_it_off_their_cached_page_and_feed_at_once(client, published_article, jane):
    write_bylines(published_article, jane)
    urls = ["/authors/jane-reporter/", "/authors/jane-reporter/feed/", "/authors/jane-reporter/feed/atom/"]
    for url in urls:
        assert cached(client, url) and published_article.headline in text_of(client.get(url))

    published_article.status = Article.Status.WITHDRAWN
    published_article.withdrawn_reason = "Retracted."
    published_article.save()

    for url in urls:
        assert published_article.headline not in text_of(client.get(url)), url


@pytest.mark.django_db
def test_adding_or_removing_an_author_shows_on_cached_pages_at_once(client, published_article, jane):
    story, page = published_article.get_absolute_url(), jane.get_absolute_url()
    assert cached(client, story) and cached(client, page)

    byline = Byline.objects.create(article=published_article, author=jane)
    assert "Jane Reporter" in byline_of(text_of(client.get(story)))
    assert published_article.headline in text_of(client.get(page))

    byline.delete()
    assert "Jane Reporter" not in text_of(client.get(story))
    assert published_article.headline not in text_of(client.get(page))


@pytest.mark.django_db
def test_an_author_renamed_is_renamed_on_their_cached_page_and_their_stories(client, published_article, jane):
    write_bylines(published_article, jane)
    story = published_article.get_absolute_url()
    assert cached(client, story) and cached(client, "/authors/jane-reporter/")

    jane.name, jane.bio = "Jane Q. Reporter", "Now on the politics desk."
    jane.save()

    assert "Jane Q. Reporter" in byline_of(text_of(client.get(story)))
    page = text_of(client.get("/authors/jane-reporter/"))
    assert "Jane Q. Reporter" in page and "Now on the politics desk." in page


@pytest.mark.django_db
def test_an_author_without_stories_gets_their_new_bio_at_once(client, jane):
    assert cached(client, jane.get_absolute_url())
    AuthorLink.objects.create(author=jane, label="Website", url="https://jane.example/")
    assert ">Website</a>" in text_of(client.get(jane.get_absolute_url()))
    jane.bio = "A new bio."
    jane.save()
    assert "A new bio." in text_of(client.get(jane.get_absolute_url()))


@pytest.mark.django_db
def test_an_author_whose_slug_changes_leaves_no_cached_page_at_the_old_address(client, jane):
    assert cached(client, "/authors/jane-reporter/")
    jane.slug = "jane-r"
    jane.save()
    assert client.get("/authors/jane-reporter/").status_code == 404
    assert "Jane Reporter" in text_of(client.get("/authors/jane-r/"))


@pytest.mark.django_db
def test_an_embargoed_story_appears_on_its_authors_page_when_the_embargo_lifts(client, settings, make_article, jane):
    settings.PAGE_CACHE_SECONDS = 300
    release = timezone.now() + timedelta(seconds=1)
    write_bylines(make_article("Results Due Now", published_at=release), jane)
    assert "Results Due Now" not in text_of(client.get(jane.get_absolute_url()))

    time.sleep(max((release - timezone.now()).total_seconds(), 0) + 0.05)  # nobody saves anything
    page = text_of(client.get(jane.get_absolute_url()))
    assert "Results Due Now" in page and "No published stories" not in page


# The desk.


def change_url(article):
    return reverse("admin:articles_article_change", args=[article.pk])


def save_with_authors(client, article, *authors, **changes):
    """Save the story's change form with these authors, in order, as the autocomplete widgets submit them."""
    url = change_url(article)
    data = load_change_form(client, url)
    existing = int(data["bylines-INITIAL_FORMS"])
    for index in range(existing):
        data[f"bylines-{index}-DELETE"] = "on"
    for offset, author in enumerate(authors):
        index = existing + offset
        data |= {f"bylines-{index}-author": str(author.pk), f"bylines-{index}-order": str(offset)}
    data["bylines-TOTAL_FORMS"] = str(existing + len(authors))
    data |= changes
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    return response


@pytest.mark.django_db
def test_an_editor_picks_a_storys_authors_in_order_and_they_are_in_its_revision(
    client, editor_client, published_article, jane, omar
):
    save_with_authors(editor_client, published_article, omar, jane)

    assert byline_of(text_of(client.get(published_article.get_absolute_url()))).startswith('<a href="/authors/omar')
    latest = Version.objects.get_for_object(published_article).first()
    bylines = [v for v in latest.revision.version_set.all() if v._model is Byline]
    assert sorted(v.field_dict["author_id"] for v in bylines) == sorted([jane.pk, omar.pk])
    changes = editor_client.get(reverse("admin:articles_article_changes", args=[published_article.pk, latest.pk]))
    assert "Omar Haddad, Jane Reporter" in changes.content.decode()


@pytest.mark.django_db
def test_reverting_a_story_brings_back_its_authors_as_they_were(client, editor_client, published_article, jane, omar):
    save_with_authors(editor_client, published_article, jane)
    first = Version.objects.get_for_object(published_article).first()
    save_with_authors(editor_client, published_article, omar)
    assert "Omar Haddad" in byline_of(text_of(client.get(published_article.get_absolute_url())))

    url = reverse("admin:articles_article_revision", args=[published_article.pk, first.pk])
    page = editor_client.get(url)
    response = editor_client.post(url, read_form(page.content.decode(), "article_form"))

    assert response.status_code == 302
    assert [b.author for b in published_article.bylines.all()] == [jane]
    assert "Omar Haddad" not in text_of(client.get(published_article.get_absolute_url()))


@pytest.mark.django_db
def test_two_authors_can_swap_places_in_one_save(editor_client, published_article, jane, omar):
    write_bylines(published_article, jane, omar)
    data = load_change_form(editor_client, change_url(published_article))
    data["bylines-0-author"], data["bylines-1-author"] = str(omar.pk), str(jane.pk)
    assert editor_client.post(change_url(published_article), data).status_code == 302
    assert [b.author for b in published_article.bylines.all()] == [omar, jane]


@pytest.mark.django_db
def test_the_same_author_twice_on_a_story_is_refused_with_a_message(editor_client, published_article, jane):
    data = load_change_form(editor_client, change_url(published_article))
    data |= {"bylines-TOTAL_FORMS": "2", "bylines-0-author": str(jane.pk), "bylines-1-author": str(jane.pk)}
    data |= {"bylines-0-order": "0", "bylines-1-order": "1"}
    response = editor_client.post(change_url(published_article), data)
    assert response.status_code == 200
    assert "Please correct the duplicate data for author." in response.content.decode()
    assert not published_article.bylines.exists()


@pytest.mark.django_db
def test_the_story_form_finds_authors_by_autocomplete(reporter_client, draft_article, jane, omar):
    params = {"term": "oma", "app_label": "articles", "model_name": "byline", "field_name": "author"}
    response = reporter_client.get(reverse("admin:autocomplete"), params)
    assert response.status_code == 200
    assert [result["text"] for result in response.json()["results"]] == ["Omar Haddad"]


@pytest.mark.django_db
def test_a_reporter_bylines_their_draft_but_only_editors_manage_authors(
    reporter_client, editor_client, draft_article, jane
):
    save_with_authors(reporter_client, draft_article, jane)
    assert [b.author for b in draft_article.bylines.all()] == [jane]
    data = {"name": "New Writer", "slug": "new-writer", "links-TOTAL_FORMS": 0, "links-INITIAL_FORMS": 0}
    assert reporter_client.post(reverse("admin:articles_author_add"), data).status_code == 403
    assert editor_client.post(reverse("admin:articles_author_add"), data).status_code == 302
    assert Author.objects.filter(slug="new-writer").exists()


@pytest.mark.django_db
def test_a_reporter_cannot_change_the_authors_of_a_published_story(
    reporter_client, editor_client, published_article, jane
):
    data = load_change_form(editor_client, change_url(published_article))  # as an editor's form would send them
    data |= {"bylines-TOTAL_FORMS": "1", "bylines-0-author": str(jane.pk), "bylines-0-order": "0"}
    assert reporter_client.post(change_url(published_article), data).status_code == 403
    assert not published_article.bylines.exists()


@pytest.mark.django_db
def test_an_author_portrait_needs_alt_text(editor_client):
    photo = Photo.objects.create(credit="Staff")
    from tests.photos import image_bytes, upload

    photo.image = upload("portrait.jpg", image_bytes(size=(400, 400)))
    photo.save()
    data = {
        "name": "New Writer",
        "slug": "new-writer",
        "photo": photo.pk,
        "links-TOTAL_FORMS": 0,
        "links-INITIAL_FORMS": 0,
    }
    response = editor_client.post(reverse("admin:articles_author_add"), data)
    assert response.status_code == 200
    assert "no alt text" in str(response.context["adminform"].form.errors["photo"])


@pytest.mark.django_db
def test_an_author_with_stories_cannot_be_deleted(editor_client, published_article, jane):
    write_bylines(published_article, jane)
    response = editor_client.post(reverse("admin:articles_author_delete", args=[jane.pk]), {"post": "yes"})
    assert Author.objects.filter(pk=jane.pk).exists()
    assert "Cannot delete author" in response.content.decode()


@pytest.mark.django_db
def test_an_author_page_address_is_plain_letters_digits_and_hyphens(editor_client):
    data = {"name": "ليلى حسن", "slug": "ليلى-حسن", "links-TOTAL_FORMS": 0, "links-INITIAL_FORMS": 0}
    response = editor_client.post(reverse("admin:articles_author_add"), data)
    assert response.status_code == 200 and "slug" in response.context["adminform"].form.errors
    data["slug"] = "layla-hassan"
    assert editor_client.post(reverse("admin:articles_author_add"), data).status_code == 302
    assert Author.objects.get(slug="layla-hassan").name == "ليلى حسن"


@pytest.mark.django_db
def test_a_preview_link_shows_the_authors_of_its_revision(client, editor_client, draft_article, jane, omar):
    from tests.test_admin_preview import share

    save_with_authors(editor_client, draft_article, jane)
    url, _ = share(editor_client, draft_article)
    save_with_authors(editor_client, draft_article, omar)  # a later revision, with another author

    page = text_of(client.get(url))
    assert ">Jane Reporter</a>" in byline_of(page) and "Omar Haddad" not in page
    preview = text_of(editor_client.get(reverse("admin:articles_article_preview", args=[draft_article.pk])))
    assert ">Omar Haddad</a>" in byline_of(preview)  # the desk's own preview: the story as it is now


@pytest.mark.django_db
def test_a_deleted_story_is_recovered_with_its_authors(client, editor_client, published_article, jane, omar):
    from tests.test_admin_revisions import submit_shown_form

    write_bylines(published_article, omar, jane)  # never saved in the admin: no revision before the delete
    editor_client.post(reverse("admin:articles_article_delete", args=[published_article.pk]), {"post": "yes"})
    assert not Byline.objects.exists()

    [deleted] = Version.objects.get_deleted(Article)
    url = reverse("admin:articles_article_recover", args=[deleted.pk])
    assert submit_shown_form(editor_client, url).status_code == 302

    recovered = Article.objects.get(pk=published_article.pk)
    assert [b.author for b in recovered.bylines.all()] == [omar, jane]
    assert published_article.headline in text_of(client.get(jane.get_absolute_url()))
