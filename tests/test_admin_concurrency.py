"""No lost edits: the second of two saves of the same story is refused, on SQLite and PostgreSQL alike."""

import io
import threading

import pytest
from django.db import connection, transaction
from django.urls import reverse

from articles.dump import parse
from articles.importer import Importer
from articles.models import Article, EditConflict, Section
from tests.admin_forms import load_change_form
from tests.conftest import DATA, logged_in


@pytest.fixture
def two_editors(make_user):
    return logged_in(make_user("ana", "Editors")), logged_in(make_user("ben", "Editors"))


def change_url(article):
    return reverse("admin:articles_article_change", args=[article.pk])


@pytest.mark.django_db
def test_second_of_two_saves_is_refused_and_shows_what_changed(two_editors, published_article):
    ana, ben = two_editors
    url = change_url(published_article)
    ana_form, ben_form = load_change_form(ana, url), load_change_form(ben, url)

    ana_form["headline"] = "Floods Hit the Northern Coast"
    assert ana.post(url, ana_form).status_code == 302
    ben_form["body"] = "Rewritten first paragraph.\n\nSecond paragraph."
    response = ben.post(url, ben_form)

    assert response.status_code == 200
    page = response.content.decode()
    assert "saved by ana while you were editing it" in page
    assert "<b>Headline</b>: Floods Hit the <ins>Northern</ins> Coast" in page
    assert "Rewritten first paragraph." in page  # Ben's text is still in his form
    published_article.refresh_from_db()
    assert published_article.headline == "Floods Hit the Northern Coast"  # Ana's save is intact
    assert published_article.body == "First paragraph.\n\nSecond paragraph."  # Ben's was not applied
    assert published_article.version == 2


@pytest.mark.django_db
def test_after_seeing_the_conflict_saving_again_is_a_deliberate_overwrite(two_editors, published_article):
    ana, ben = two_editors
    url = change_url(published_article)
    ana_form, ben_form = load_change_form(ana, url), load_change_form(ben, url)
    ana.post(url, {**ana_form, "headline": "Ana's Headline"})
    refused = ben.post(url, {**ben_form, "headline": "Ben's Headline"})

    resubmitted = {**ben_form, "headline": "Ben's Headline"}
    resubmitted["loaded_version"] = refused.context["adminform"].form.data["loaded_version"]
    assert ben.post(url, resubmitted).status_code == 302
    published_article.refresh_from_db()
    assert published_article.headline == "Ben's Headline"


@pytest.mark.django_db
def test_stale_copy_of_a_story_cannot_be_saved_over_a_newer_one(published_article):
    """The model has no check of its own before saving: the UPDATE's WHERE version = ... is what refuses."""
    first, second = Article.objects.get(pk=published_article.pk), Article.objects.get(pk=published_article.pk)
    first.headline = "First Save"
    first.save()
    second.headline = "Second Save"
    with pytest.raises(EditConflict), transaction.atomic():
        second.save()
    published_article.refresh_from_db()
    assert (published_article.headline, published_article.version) == ("First Save", 2)
    first.headline = "First Save, Again"
    first.save()  # the copy that saved knows its new version
    assert Article.objects.get(pk=published_article.pk).version == 3


@pytest.mark.django_db
def test_import_while_an_editor_edits_refuses_the_editors_stale_save(editor_client):
    story = (DATA / "no_photo.txt").read_bytes()
    Importer().run(parse(io.BytesIO(story), "wire.txt"))
    article = Article.objects.get()
    url = change_url(article)
    form = load_change_form(editor_client, url)

    changed = story.replace(b"No group claimed the attack.", b"An armed group claimed the attack.")
    outcome = Importer().run(parse(io.BytesIO(changed), "wire.txt"))
    assert outcome.updated == 1

    response = editor_client.post(url, {**form, "byline": "Desk"})
    assert response.status_code == 200
    assert "your changes were NOT saved" in response.content.decode()
    article.refresh_from_db()
    assert article.paragraphs[-1] == "An armed group claimed the attack."
    assert article.byline == ""


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_of_two_app_servers_saving_copies_read_at_the_same_version_the_later_is_refused():
    """Each save runs on its own database connection, as on two app servers.

    They run one after the other: SQLite's shared in-memory test database would answer a simultaneous
    write with "table is locked" instead of waiting, which is not what this test is about.
    """
    section = Section.objects.get(slug="world")
    article = Article.objects.create(headline="Original", slug="original", section=section, body="Text.")
    copies = [Article.objects.get(pk=article.pk) for _ in range(2)]
    results = {}

    def save(name, copy):
        copy.headline = name
        try:
            with transaction.atomic():
                copy.save()
            results[name] = "saved"
        except EditConflict:
            results[name] = "refused"
        finally:
            connection.close()

    for name, copy in zip(["A", "B"], copies, strict=True):
        thread = threading.Thread(target=save, args=(name, copy))
        thread.start()
        thread.join()

    assert results == {"A": "saved", "B": "refused"}
    article.refresh_from_db()
    assert (article.headline, article.version) == ("A", 2)
