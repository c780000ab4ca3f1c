"""One way to publish: every path that leaves a story public obeys workflow.publication_problems(), and a
deleted story comes back whole (captions, corrections log, old URLs)."""

import pytest
from django import forms
from django.contrib import admin
from django.urls import reverse
from reversion.models import Version

from articles import workflow
from articles.admin.stories import ArticleAdmin
from articles.imports import import_run
from articles.models import Article, Caption, Correction, Photo, Section
from tests.admin_forms import load_change_form, read_form

CHANGELIST = reverse("admin:articles_article_changelist")
REFUSED = "needs alt text"


def change_url(article):
    return reverse("admin:articles_article_change", args=[article.pk])


def save_change_form(client, article, **changes):
    data = load_change_form(client, change_url(article))
    data.update(changes)
    return client.post(change_url(article), data)


def submit_shown_form(client, url):
    """Open a revert or recover page and press its save button, as an editor does."""
    page = client.get(url)
    assert page.status_code == 200
    return client.post(url, read_form(page.text, "article_form"), follow=True)


def run_action(client, action, articles):
    """Choose a bulk action, fill in its confirmation page the way an editor would, and confirm it."""
    selected = {"action": action, "_selected_action": [a.pk for a in articles], "index": 0}
    page = client.post(CHANGELIST, selected)
    data = {**selected, "confirm": "yes"}
    if page.status_code == 200 and "form" in page.context:  # a confirmation page asking for details
        for name, field in page.context["form"].fields.items():
            if isinstance(field, forms.ModelChoiceField):
                data[name] = field.queryset.first().pk
            elif isinstance(field, forms.ChoiceField):
                data[name] = field.choices[-1][0]
            else:
                data[name] = "The desk decided so."
    return client.post(CHANGELIST, data, follow=True)


@pytest.fixture
def photo_without_alt_text(make_photo):
    return make_photo(alt_text="")


@pytest.fixture
def make_story_with_photo(make_article):
    """A story in the given status whose one photo is the given one."""

    def make(headline, photo, status=Article.Status.DRAFT):
        article = make_article(headline, status=status)
        Caption.objects.create(article=article, photo=photo, text="The sea wall at dawn.", is_lead=True)
        return article

    return make


@pytest.mark.django_db
def test_bulk_publish_refuses_a_story_whose_photo_has_no_alt_text(
    editor_client, make_story_with_photo, photo_without_alt_text, make_photo
):
    refused = make_story_with_photo("Storm Reaches the Coast", photo_without_alt_text)
    ready = make_story_with_photo("Harbour Reopens", make_photo())

    page = run_action(editor_client, "publish_selected", [refused, ready])

    refused.refresh_from_db()
    ready.refresh_from_db()
    assert refused.status == Article.Status.DRAFT
    assert ready.status == Article.Status.PUBLISHED
    assert "Publish: 1 story done." in page.text
    assert "cannot be published: “Storm Reaches the Coast”: Photo" in page.text and REFUSED in page.text


@pytest.mark.django_db
def test_change_form_refuses_to_publish_with_an_alt_less_photo_added_in_the_same_save(
    editor_client, make_article, photo_without_alt_text
):
    article = make_article("Storm Reaches the Coast", status=Article.Status.DRAFT)

    response = save_change_form(
        editor_client,
        article,
        status="published",
        **{"captions-TOTAL_FORMS": "1", "captions-0-photo": photo_without_alt_text.pk, "captions-0-order": "0"},
    )

    assert response.status_code == 200 and REFUSED in response.text
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT and not article.captions.exists()


@pytest.mark.django_db
def test_change_form_publishes_when_the_alt_less_photo_is_removed_in_the_same_save(
    editor_client, make_story_with_photo, photo_without_alt_text
):
    article = make_story_with_photo("Storm Reaches the Coast", photo_without_alt_text)

    response = save_change_form(editor_client, article, status="published", **{"captions-0-DELETE": "on"})

    assert response.status_code == 302
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED and not article.captions.exists()


@pytest.mark.django_db
def test_import_as_published_obeys_a_rule_added_to_the_publication_rules(monkeypatch, section, tmp_path):
    def no_rumours(article, captions):
        if "rumour" in article.headline.lower():
            yield "Rumours are not published."

    monkeypatch.setattr(workflow, "PUBLICATION_RULES", [*workflow.PUBLICATION_RULES, no_rumours])
    wire = tmp_path / "wire.txt"
    wire.write_text(
        "Rumour of a Merger\n\nOffices. (AP)\nTT\n\nRumour of a Merger\n\nOffices. (AP)\n\nText.\n\n\n"
        "Harbour Reopens\n\nShips. (AP)\nTT\n\nHarbour Reopens\n\nShips. (AP)\n\nText.\n"
    )

    outcome = import_run([wire], status=Article.Status.PUBLISHED, skip_invalid=True)

    assert list(Article.objects.values_list("headline", "status")) == [("Harbour Reopens", "published")]
    assert [str(e) for e in outcome.errors] == [f"{wire}:1: cannot be published: Rumours are not published."]


@pytest.mark.django_db
def test_deleted_story_comes_back_with_its_corrections_and_its_old_url(client, editor_client, published_article):
    article = published_article
    old_url = article.get_absolute_url()
    assert save_change_form(editor_client, article, slug="floods-hit-the-east-coast").status_code == 302
    Correction.objects.create(article=article, text="The flood barrier is 3 km long, not 30 km.")
    editor_client.post(reverse("admin:articles_article_delete", args=[article.pk]), {"post": "yes"})
    assert client.get(old_url).status_code == 404

    [deleted] = Version.objects.get_deleted(Article)
    page = submit_shown_form(editor_client, reverse("admin:articles_article_recover", args=[deleted.pk]))

    assert page.redirect_chain and page.redirect_chain[-1][1] == 302
    recovered = Article.objects.get(pk=article.pk)
    story = client.get(recovered.get_absolute_url())
    assert "The flood barrier is 3 km long, not 30 km." in story.text
    moved = client.get(old_url)
    assert moved.status_code == 301 and moved["Location"] == recovered.get_absolute_url()
    assert recovered.captions.count() == 1


@pytest.mark.django_db
def test_reverting_to_an_older_version_keeps_the_corrections_added_since(client, editor_client, published_article):
    article = published_article
    assert save_change_form(editor_client, article, byline="Staff").status_code == 302
    [before] = Version.objects.get_for_object(article)
    Correction.objects.create(article=article, text="The mayor spoke on Tuesday, not Monday.")
    assert save_change_form(editor_client, article, byline="Ana Ruiz").status_code == 302

    submit_shown_form(editor_client, reverse("admin:articles_article_revision", args=[article.pk, before.pk]))

    article.refresh_from_db()
    assert article.byline == "Staff"
    assert "The mayor spoke on Tuesday, not Monday." in client.get(article.get_absolute_url()).text


# Every way of publishing, each tried with a story whose photo has an image but no alt text.


def publish_in_the_change_form(client, article, photo):
    response = save_change_form(client, article, status="published")  # a photo added in the same save: above
    assert response.status_code == 200
    return response


def revert_to_a_published_version(client, article, photo):
    photo.alt_text = "Waves over the sea wall"
    photo.save()
    assert save_change_form(client, article, status="published").status_code == 302
    [published] = Version.objects.get_for_object(article)
    assert save_change_form(client, article, status="withdrawn", withdrawn_reason="Legal advice.").status_code == 302
    Photo.objects.filter(pk=photo.pk).update(alt_text="")  # allowed: no published story shows it now
    return submit_shown_form(client, reverse("admin:articles_article_revision", args=[article.pk, published.pk]))


def recover_a_deleted_published_story(client, article, photo):
    Photo.objects.filter(pk=photo.pk).update(alt_text="Waves over the sea wall")
    Article.objects.filter(pk=article.pk).update(status=Article.Status.PUBLISHED, published_at=article.created_at)
    client.post(reverse("admin:articles_article_delete", args=[article.pk]), {"post": "yes"})
    Photo.objects.filter(pk=photo.pk).update(alt_text="")
    [deleted] = Version.objects.get_deleted(Article)
    return submit_shown_form(client, reverse("admin:articles_article_recover", args=[deleted.pk]))


FORM_PATHS = {
    "change form": publish_in_the_change_form,
    "revert": revert_to_a_published_version,
    "recover": recover_a_deleted_published_story,
}


@pytest.mark.django_db
@pytest.mark.parametrize("path", FORM_PATHS)
def test_no_form_publishes_a_story_whose_photo_has_no_alt_text(
    path, editor_client, make_story_with_photo, photo_without_alt_text
):
    article = make_story_with_photo("Storm Reaches the Coast", photo_without_alt_text)

    page = FORM_PATHS[path](editor_client, article, photo_without_alt_text)

    assert REFUSED in page.text
    assert not Article.objects.filter(status=Article.Status.PUBLISHED).exists()


def bulk_actions():
    """Every action on the story list, the site-wide ones included: a new one is checked without asking."""
    names = [getattr(action, "__name__", action) for action in ArticleAdmin.actions]
    return [*names, *(name for name, _ in admin.site.actions if name != "delete_selected")]  # deletion: recover


@pytest.mark.django_db
@pytest.mark.parametrize("status", Article.Status.values)
@pytest.mark.parametrize("action", bulk_actions())
def test_no_bulk_action_leaves_a_story_public_whose_photo_has_no_alt_text(
    action, status, editor_client, make_story_with_photo, photo_without_alt_text
):
    Section.objects.create(name="Business", slug="business")
    # A story that breaks the rules, from each status: one "published" was published before the rule.
    article = make_story_with_photo("Storm Reaches the Coast", photo_without_alt_text, status=status)
    if status == Article.Status.WITHDRAWN:
        Article.objects.filter(pk=article.pk).update(withdrawn_reason="Legal advice.")
    version = Article.objects.get(pk=article.pk).version

    page = run_action(editor_client, action, [article])

    article.refresh_from_db()
    if article.version != version:  # the action saved the story: then it must have left it out of readers' sight
        assert article.status != Article.Status.PUBLISHED
    else:  # it did not: the editor is told why
        assert REFUSED in page.text
