"""Every save is a revision: history with readable changes, revert, and recovering a deleted story."""

import pytest
from django.urls import reverse
from reversion.models import Version

from articles.models import Article, Caption, Photo
from tests.admin_forms import load_change_form, read_form


def change_url(article):
    return reverse("admin:articles_article_change", args=[article.pk])


def edit(client, article, captions=(), **changes):
    """Save the change form with field changes and {index: {field: value}} caption changes."""
    url = change_url(article)
    data = load_change_form(client, url)
    data.update(changes)
    for index, fields in dict(captions).items():
        data.update({f"captions-{index}-{name}": value for name, value in fields.items()})
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    return response


def versions(article):
    return list(Version.objects.get_for_object(article).order_by("pk"))


def submit_shown_form(client, url):
    """Open a revert or recover page and press its save button."""
    page = client.get(url)
    assert page.status_code == 200
    return client.post(url, read_form(page.content.decode(), "article_form"))


@pytest.fixture
def story_with_two_captions(published_article):
    photo = Photo.objects.create(credit="AP")
    Caption.objects.create(article=published_article, photo=photo, text="Rescuers in boats.", order=1)
    return published_article


@pytest.mark.django_db
def test_history_lists_who_saved_and_shows_a_readable_diff(editor, editor_client, story_with_two_captions):
    article = story_with_two_captions
    edit(editor_client, article, headline="Floods Hit the Coast Again")
    edit(editor_client, article, headline="Floods Hit the Eastern Coast", captions={1: {"text": "Rescuers in kayaks."}})

    history = editor_client.get(reverse("admin:articles_article_history", args=[article.pk])).content.decode()
    assert history.count(editor.username) >= 2 and "Changed Headline" in history

    latest = versions(article)[-1]
    changes = editor_client.get(reverse("admin:articles_article_changes", args=[article.pk, latest.pk]))
    page = changes.content.decode()
    assert "Floods Hit the <ins>Eastern</ins> Coast <del>Again</del>" in page
    assert "Rescuers in <del>boats.</del> <ins>kayaks.</ins>" in page
    assert "Body" not in page  # unchanged fields are not listed


@pytest.mark.django_db
def test_revert_restores_the_text_and_the_captions(editor_client, story_with_two_captions):
    article = story_with_two_captions
    edit(editor_client, article, byline="Staff")
    first = versions(article)[0]
    edit(
        editor_client,
        article,
        headline="A Different Headline",
        captions={0: {"text": "Changed caption."}, 1: {"DELETE": "on"}},
    )
    assert article.captions.count() == 1

    url = reverse("admin:articles_article_revision", args=[article.pk, first.pk])
    assert submit_shown_form(editor_client, url).status_code == 302

    article.refresh_from_db()
    assert article.headline == "Floods Hit the Coast"
    # The form showed the old version as it was: still a change, in the history like any other.
    assert versions(article)[-1].revision.get_comment().startswith("Reverted to previous version")
    assert len(versions(article)) == 3
    assert list(article.captions.values_list("text", "order", "is_lead")) == [
        ("A flooded street in the port.", 0, True),
        ("Rescuers in boats.", 1, False),
    ]


@pytest.mark.django_db
def test_deleted_story_is_recovered_with_its_captions(editor_client, story_with_two_captions):
    article = story_with_two_captions  # never saved in the admin: no revision before the delete
    pk = article.pk
    editor_client.post(reverse("admin:articles_article_delete", args=[pk]), {"post": "yes"})
    assert not Article.objects.filter(pk=pk).exists() and not Caption.objects.filter(article_id=pk).exists()

    recover_list = editor_client.get(reverse("admin:articles_article_recoverlist")).content.decode()
    assert "Floods Hit the Coast" in recover_list
    [deleted] = Version.objects.get_deleted(Article)
    assert (
        submit_shown_form(editor_client, reverse("admin:articles_article_recover", args=[deleted.pk])).status_code
        == 302
    )

    recovered = Article.objects.get(pk=pk)
    assert (recovered.headline, recovered.status) == ("Floods Hit the Coast", "published")
    assert versions(recovered)[-1].revision.get_comment().startswith("Reverted to previous version")
    assert sorted(recovered.captions.values_list("text", flat=True)) == [
        "A flooded street in the port.",
        "Rescuers in boats.",
    ]


@pytest.mark.django_db
def test_reporter_cannot_unpublish_a_story_by_reverting_it(editor_client, reporter_client, make_article):
    article = make_article("Budget Story", status=Article.Status.DRAFT)
    edit(editor_client, article, byline="Staff")  # version 1: a draft
    edit(editor_client, article, status="published")  # then an editor publishes it
    draft_version = versions(article)[0]

    url = reverse("admin:articles_article_revision", args=[article.pk, draft_version.pk])
    # Refused before the draft is loaded into the form: the story as it is now is an editor's
    # (crafted posts of the revert form: tests/test_reporter_paths.py).
    assert reporter_client.get(url).status_code == 403
    article.refresh_from_db()
    assert article.status == "published"


@pytest.mark.django_db
def test_stories_deleted_with_the_bulk_action_can_be_recovered(editor_client, story_with_two_captions, draft_article):
    changelist = reverse("admin:articles_article_changelist")
    selected = {"action": "delete_selected", "_selected_action": [story_with_two_captions.pk, draft_article.pk]}
    editor_client.post(changelist, {**selected, "post": "yes"})
    assert not Article.objects.exists()

    deleted = {v.object_repr: v for v in Version.objects.get_deleted(Article)}
    url = reverse("admin:articles_article_recover", args=[deleted["Floods Hit the Coast"].pk])
    assert submit_shown_form(editor_client, url).status_code == 302
    assert Article.objects.get().captions.count() == 2


@pytest.mark.django_db
def test_bulk_action_records_a_revision_per_story(editor_client, make_article):
    stories = [make_article(f"Story {n}", status=Article.Status.REVIEW) for n in range(2)]
    data = {"action": "publish_selected", "_selected_action": [s.pk for s in stories], "index": 0, "confirm": "yes"}
    editor_client.post(reverse("admin:articles_article_changelist"), data)
    for story in stories:
        [version] = versions(story)
        assert version.revision.version_set.count() == 1  # reverting it touches this story only
        assert version.revision.get_comment() == "Published."
