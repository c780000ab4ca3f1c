"""No lost edits: a save made after someone else's is merged with it, or refused with both versions to choose
from, never written over it; on SQLite and PostgreSQL alike."""

import io
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.urls import reverse
from PIL import Image

from articles.imports import import_run
from articles.models import Article, Caption, EditConflict, Photo, Section
from tests.admin_forms import load_change_form, read_form
from tests.conftest import DATA, logged_in


@pytest.fixture
def two_editors(make_user):
    return logged_in(make_user("ana", "Editors")), logged_in(make_user("ben", "Editors"))


def change_url(article):
    return reverse("admin:articles_article_change", args=[article.pk])


@pytest.mark.django_db
def test_second_of_two_saves_touching_other_fields_is_merged_and_says_so(two_editors, published_article):
    ana, ben = two_editors
    url = change_url(published_article)
    ana_form, ben_form = load_change_form(ana, url), load_change_form(ben, url)

    ana_form["headline"] = "Floods Hit the Northern Coast"
    assert ana.post(url, ana_form).status_code == 302
    ben_form["body"] = "Rewritten first paragraph.\r\n\r\nSecond paragraph."  # as a browser sends it
    response = ben.post(url, ben_form, follow=True)

    assert "Merged with ana&#x27;s changes to headline." in response.content.decode()
    published_article.refresh_from_db()
    assert published_article.headline == "Floods Hit the Northern Coast"  # Ana's save is intact
    assert published_article.body.replace("\r\n", "\n") == "Rewritten first paragraph.\n\nSecond paragraph."
    assert published_article.version == 3


@pytest.mark.django_db
def test_both_changing_the_headline_is_refused_with_both_versions(two_editors, published_article):
    ana, ben = two_editors
    url = change_url(published_article)
    ana_form, ben_form = load_change_form(ana, url), load_change_form(ben, url)
    ana.post(url, {**ana_form, "headline": "Ana's Headline", "standfirst": "Ana's standfirst."})

    response = ben.post(url, {**ben_form, "headline": "Ben's Headline", "byline": "Ben"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "saved by ana while you were editing it" in page
    assert "Both of you changed headline" in page
    assert "Ana&#x27;s Headline" in page and "Ben&#x27;s Headline" in page
    published_article.refresh_from_db()
    assert (published_article.headline, published_article.byline) == ("Ana's Headline", "")
    shown = read_form(page, "article_form")  # the form shown again: Ana's standfirst, Ben's own edits
    assert (shown["standfirst"], shown["headline"], shown["byline"]) == ("Ana's standfirst.", "Ben's Headline", "Ben")


@pytest.mark.parametrize("choice, headline", [("theirs", "Ana's Headline"), ("mine", "Ben's Headline")])
@pytest.mark.django_db
def test_after_a_conflict_the_editors_choice_is_saved_and_nothing_else_is_lost(
    two_editors, published_article, choice, headline
):
    ana, ben = two_editors
    url = change_url(published_article)
    ana_form, ben_form = load_change_form(ana, url), load_change_form(ben, url)
    ana.post(url, {**ana_form, "headline": "Ana's Headline", "standfirst": "Ana's standfirst."})
    refused = ben.post(url, {**ben_form, "headline": "Ben's Headline", "byline": "Ben"})

    shown = read_form(refused.content.decode(), "article_form")
    unchosen = ben.post(url, shown)
    assert "Choose whose headline to keep." in unchosen.content.decode()
    assert ben.post(url, {**shown, "resolve_headline": choice}).status_code == 302

    published_article.refresh_from_db()
    assert (published_article.headline, published_article.standfirst, published_article.byline) == (
        headline,
        "Ana's standfirst.",
        "Ben",
    )


@pytest.mark.django_db
def test_a_merged_form_saved_after_yet_another_save_is_merged_again(two_editors, make_user, published_article):
    ana, ben = two_editors
    cleo = logged_in(make_user("cleo", "Editors"))
    url = change_url(published_article)
    ana_form, ben_form = load_change_form(ana, url), load_change_form(ben, url)
    ana.post(url, {**ana_form, "headline": "Ana's Headline"})
    refused = ben.post(url, {**ben_form, "headline": "Ben's Headline"})
    cleo.post(url, {**load_change_form(cleo, url), "byline": "Cleo"})

    shown = read_form(refused.content.decode(), "article_form")
    assert ben.post(url, {**shown, "resolve_headline": "mine"}).status_code == 302
    published_article.refresh_from_db()
    assert (published_article.headline, published_article.byline) == ("Ben's Headline", "Cleo")


@pytest.mark.django_db
def test_captions_the_other_editor_changed_are_kept_when_this_editor_did_not_touch_them(two_editors, published_article):
    ana, ben = two_editors
    url = change_url(published_article)
    ana_form, ben_form = load_change_form(ana, url), load_change_form(ben, url)
    ana.post(url, {**ana_form, "captions-0-text": "Ana's caption."})

    response = ben.post(url, {**ben_form, "byline": "Ben"}, follow=True)

    assert "Merged with ana&#x27;s changes to the captions." in response.content.decode()
    published_article.refresh_from_db()
    assert [c.text for c in published_article.captions.all()] == ["Ana's caption."]
    assert published_article.byline == "Ben"


@pytest.mark.django_db
def test_captions_both_editors_changed_are_refused_and_shown_as_they_are_now(two_editors, published_article):
    ana, ben = two_editors
    url = change_url(published_article)
    ana_form, ben_form = load_change_form(ana, url), load_change_form(ben, url)
    ana.post(url, {**ana_form, "captions-0-text": "Ana's caption."})

    refused = ben.post(url, {**ben_form, "captions-0-text": "Ben's caption."})

    page = refused.content.decode()
    assert "ana changed the captions while you were editing, and so did you" in page
    shown = read_form(page, "article_form")
    assert shown["captions-0-text"] == "Ana's caption."
    assert ben.post(url, {**shown, "captions-0-text": "Ana's caption, with Ben's."}).status_code == 302
    assert [c.text for c in published_article.captions.all()] == ["Ana's caption, with Ben's."]


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
def test_import_while_an_editor_edits_is_merged_into_the_editors_save(editor_client, tmp_path):
    wire = tmp_path / "wire.txt"
    wire.write_bytes((DATA / "no_photo.txt").read_bytes())
    import_run([wire])
    article = Article.objects.get()
    url = change_url(article)
    form = load_change_form(editor_client, url)

    wire.write_bytes(wire.read_bytes().replace(b"No group claimed the attack.", b"An armed group claimed the attack."))
    outcome = import_run([wire])
    assert outcome.updated == 1

    response = editor_client.post(url, {**form, "byline": "Desk"}, follow=True)
    assert "Merged with someone else&#x27;s changes to body." in response.content.decode()
    article.refresh_from_db()
    assert article.paragraphs[-1] == "An armed group claimed the attack."
    assert article.byline == "Desk"


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


@pytest.mark.django_db
def test_publishing_over_captions_someone_added_meanwhile_obeys_the_publication_rules(
    two_editors, make_article, media_root
):
    """Ben's captions are stale, so the story is saved with Ana's: they must pass the rules as his would."""
    ana, ben = two_editors
    draft = make_article("Harbour Plans", status=Article.Status.DRAFT)
    url = change_url(draft)
    ben_form = load_change_form(ben, url)
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), "navy").save(buffer, "PNG")
    photo = Photo.objects.create(image=SimpleUploadedFile("harbour.png", buffer.getvalue()), credit="AFP")
    Caption.objects.create(article=draft, photo=photo, text="The harbour at dawn.", is_lead=True)  # Ana's, no alt

    response = ben.post(url, {**ben_form, "status": Article.Status.PUBLISHED})

    assert response.status_code == 200  # the form again, with the reason, not a 403 that loses his edits
    assert "needs alt text" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == Article.Status.DRAFT
