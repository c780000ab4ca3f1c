"""Nothing a reporter sends can change what readers see, will see (scheduled) or have seen (withdrawn).

One crafted request per path, posting what a reporter's browser could send (often an editor's form, read as
the editor sees it): the story's change form and its caption and correction inlines, bulk actions, revert,
recover, the photo admin, preview links, the import page. Each checks the story is as it was. The status rules
of the ordinary forms (a reporter cannot publish, withdraw, delete) are in test_admin_permissions.py.
"""

import io
from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from reversion.models import Version

from articles.admin.stories import ArticleAdmin
from articles.models import Article, Caption, Correction, Photo, PreviewLink, Section
from tests.admin_forms import load_change_form, read_form
from tests.conftest import SAMPLE
from tests.jobs import confirm, post
from tests.test_admin_permissions import CHANGELIST, change_url
from tests.test_admin_revisions import edit, versions

IMPORT = reverse("admin:articles_article_import")
LOCKED_STATES = ["published", "scheduled", "withdrawn"]


def put_in_state(article, state):
    """Move a story straight into a state readers see, will see or have seen (as an editor would have)."""
    now = timezone.now()
    fields = {
        "published": {"status": "published", "published_at": now - timedelta(hours=1)},
        "scheduled": {"status": "published", "published_at": now + timedelta(days=1)},
        "withdrawn": {"status": "withdrawn", "published_at": now - timedelta(days=1), "withdrawn_reason": "Legal."},
        "draft": {"status": "draft", "published_at": None},
    }[state]
    Article.objects.filter(pk=article.pk).update(**fields)
    article.refresh_from_db()
    return article


def snapshot(article):
    """Everything of a story that readers could see, and its version (any save bumps it)."""
    article = Article.objects.get(pk=article.pk)
    return {
        "story": {name: getattr(article, name) for name in ["headline", "body", "status", "published_at", "version"]},
        "section": article.section_id,
        "captions": sorted(
            (c.text, c.order, c.is_lead, c.photo.credit, c.photo.alt_text, c.photo.image.name)
            for c in article.captions.select_related("photo")
        ),
        "corrections": sorted(article.corrections.values_list("text", flat=True)),
        "live preview links": sorted(link.pk for link in article.preview_links.all() if link.is_active),
    }


@pytest.fixture
def locked_article(request, published_article, make_photo):
    """The published fixture story, with a photo that has an image, moved to the state the test names."""
    caption = published_article.captions.get()
    photo = make_photo(credit="Reuters", alt_text="A flooded street")
    Caption.objects.filter(pk=caption.pk).update(photo=photo)
    return put_in_state(published_article, getattr(request, "param", "published"))


def said(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


# The story's change form and its inlines.


@pytest.mark.django_db
@pytest.mark.parametrize("locked_article", LOCKED_STATES, indirect=True)
def test_crafted_change_form_post_to_a_locked_story_is_refused(locked_article, editor_client, reporter_client):
    form = load_change_form(editor_client, change_url(locked_article))  # all a browser could send
    before = snapshot(locked_article)

    response = reporter_client.post(change_url(locked_article), {**form, "body": "A reporter's text."})

    assert response.status_code == 403
    assert snapshot(locked_article) == before


@pytest.mark.django_db
def test_crafted_caption_added_to_a_published_story_is_refused(
    locked_article, editor_client, reporter_client, make_photo
):
    form = load_change_form(editor_client, change_url(locked_article))
    new_photo = make_photo(alt_text="Sandbags at a door")
    form.update(
        {
            "captions-TOTAL_FORMS": "2",
            "captions-1-photo": str(new_photo.pk),
            "captions-1-text": "A reporter's caption.",
            "captions-1-order": "1",
            "captions-1-article": str(locked_article.pk),
        }
    )
    before = snapshot(locked_article)

    assert reporter_client.post(change_url(locked_article), form).status_code == 403
    assert snapshot(locked_article) == before


@pytest.mark.django_db
def test_crafted_correction_added_to_a_published_story_is_refused(locked_article, editor_client, reporter_client):
    form = load_change_form(editor_client, change_url(locked_article))
    assert "corrections-TOTAL_FORMS" in form  # the editor's form has the inline a reporter's has not
    form.update(
        {
            "corrections-TOTAL_FORMS": "1",
            "corrections-0-kind": "correction",
            "corrections-0-text": "A reporter's correction.",
            "corrections-0-article": str(locked_article.pk),
        }
    )

    assert reporter_client.post(change_url(locked_article), form).status_code == 403
    assert not Correction.objects.exists()


# Bulk actions.


def every_action():
    """Every action on the story list, site-wide ones included, whether or not a reporter is offered it."""
    return [getattr(action, "__name__", action) for action in ArticleAdmin.actions] + [
        name for name, _ in admin.site.actions
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("action", every_action())
def test_no_bulk_action_over_a_selection_with_a_published_story_changes_it(
    action, locked_article, draft_article, reporter_client
):
    europe = Section.objects.get(slug="europe")
    selection = {"action": action, "_selected_action": [draft_article.pk, locked_article.pk], "index": 0}
    before = snapshot(locked_article), snapshot(draft_article)

    reporter_client.post(CHANGELIST, selection)
    reporter_client.post(
        CHANGELIST, {**selection, "confirm": "yes", "post": "yes", "section": europe.pk, "reason": "Legal."}
    )

    # The whole selection is refused: the draft is not changed on its own either.
    assert (snapshot(locked_article), snapshot(draft_article)) == before


# Revert and recover.


@pytest.mark.django_db
def test_crafted_revert_of_a_published_story_to_its_draft_revision_is_refused(
    editor_client, reporter_client, make_article
):
    article = make_article("Budget Story", status=Article.Status.DRAFT)
    edit(editor_client, article, byline="Staff")  # version 1: a draft, which a reporter may edit
    edit(editor_client, article, status="published", body="As published.")
    revert = reverse("admin:articles_article_revision", args=[article.pk, versions(article)[0].pk])
    before = snapshot(article)

    # Asked of the story as it is, not as reverted (opening the page: test_admin_revisions.py).
    for status in ("draft", "published"):
        crafted = {**read_form(editor_client.get(revert).content.decode(), "article_form"), "status": status}
        assert reporter_client.post(revert, crafted).status_code == 403
    assert snapshot(article) == before


@pytest.mark.django_db
def test_reporter_cannot_recover_a_deleted_published_story(locked_article, editor_client, reporter_client):
    editor_client.post(reverse("admin:articles_article_delete", args=[locked_article.pk]), {"post": "yes"})
    [deleted] = Version.objects.get_deleted(Article)
    recover = reverse("admin:articles_article_recover", args=[deleted.pk])
    crafted = read_form(editor_client.get(recover).content.decode(), "article_form")

    assert reporter_client.get(recover).status_code == 403
    assert reporter_client.post(recover, crafted).status_code == 403
    assert not Article.objects.filter(pk=locked_article.pk).exists()


# Photos.


def photo_url(photo):
    return reverse("admin:articles_photo_change", args=[photo.pk])


@pytest.mark.django_db
@pytest.mark.parametrize("locked_article", LOCKED_STATES, indirect=True)
def test_reporter_cannot_change_a_photo_in_a_published_or_scheduled_story(
    locked_article, editor_client, reporter_client
):
    photo = locked_article.captions.get().photo
    page = reporter_client.get(photo_url(photo))
    assert page.status_code == 200 and page.context["has_change_permission"] is False  # read-only, and says why
    assert any(message.startswith("Only an editor can change this photo") for message in said(page))
    crafted = {**read_form(editor_client.get(photo_url(photo)).content.decode(), "photo_form")}
    crafted.update(credit="A reporter's credit", alt_text="A reporter's alt text")
    before = snapshot(locked_article)

    assert reporter_client.post(photo_url(photo), crafted).status_code == 403
    assert snapshot(locked_article) == before


@pytest.mark.django_db
def test_reporter_changes_a_photo_used_only_in_drafts(draft_article, reporter_client, make_photo):
    photo = make_photo()
    Caption.objects.create(article=draft_article, photo=photo, text="The harbour.", is_lead=True)
    form = read_form(reporter_client.get(photo_url(photo)).content.decode(), "photo_form")

    assert reporter_client.post(photo_url(photo), {**form, "credit": "AFP"}).status_code == 302
    assert Photo.objects.get(pk=photo.pk).credit == "AFP"


# Preview links.


def links_url(article):
    return reverse("admin:articles_article_preview_links", args=[article.pk])


@pytest.mark.django_db
@pytest.mark.parametrize("locked_article", LOCKED_STATES, indirect=True)
def test_reporter_cannot_make_a_preview_link_to_a_published_or_scheduled_story(locked_article, reporter_client):
    page = reporter_client.get(links_url(locked_article))
    assert page.status_code == 200 and "Create a preview link" not in page.text

    assert reporter_client.post(links_url(locked_article), {"hours": 168}).status_code == 403
    assert reporter_client.post(links_url(locked_article), {"hours": 1}).status_code == 403
    assert not PreviewLink.objects.exists()


@pytest.mark.django_db
def test_reporter_links_to_drafts_live_a_day_at_most_and_die_when_the_story_is_scheduled(
    draft_article, reporter_client
):
    assert reporter_client.post(links_url(draft_article), {"hours": 168}).status_code == 200  # a form error
    assert not PreviewLink.objects.exists()
    assert reporter_client.post(links_url(draft_article), {"hours": 24}).status_code == 302
    link = PreviewLink.objects.get()
    page = reporter_client.get(links_url(draft_article)).text
    url = page[page.index("http://testserver/") + len("http://testserver") :].split('"', 1)[0]
    assert Client().get(url).status_code == 200

    put_in_state(draft_article, "scheduled")  # an editor schedules it

    assert Client().get(url).status_code == 410
    put_in_state(draft_article, "draft")
    assert Client().get(url).status_code == 200  # the link itself was not touched: back on the desk, it shows
    assert link.expires_at <= timezone.now() + timedelta(hours=24)


@pytest.fixture
def editors_link(draft_article, editor_client):
    assert editor_client.post(links_url(draft_article), {"hours": 168}).status_code == 302
    return PreviewLink.objects.get()


@pytest.mark.django_db
def test_reporter_cannot_revoke_or_see_an_editors_link(editors_link, draft_article, reporter_client):
    page = reporter_client.get(links_url(draft_article)).text
    assert "http://testserver/preview/" not in page and "Revoke" not in page

    assert reporter_client.post(links_url(draft_article), {"revoke": editors_link.pk}).status_code == 403
    # Nor through the preview links' own admin page, whose only field is the revocation time.
    url = reverse("admin:articles_previewlink_change", args=[editors_link.pk])
    assert reporter_client.post(url, {"revoked_at_0": "2026-01-01", "revoked_at_1": "10:00"}).status_code == 403

    editors_link.refresh_from_db()
    assert editors_link.revoked_at is None


@pytest.mark.django_db
def test_reporter_revokes_a_link_they_made(draft_article, reporter_client):
    reporter_client.post(links_url(draft_article), {"hours": 1})
    link = PreviewLink.objects.get()

    assert reporter_client.post(links_url(draft_article), {"revoke": link.pk}).status_code == 302
    link.refresh_from_db()
    assert link.revoked_at is not None


# The import page.


@pytest.fixture
def import_storage(settings, tmp_path, immediate_tasks):
    storage = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}}
    settings.STORAGES = {**settings.STORAGES, "imports": storage}


@pytest.mark.django_db
@pytest.mark.parametrize("state", LOCKED_STATES)
def test_reporters_import_leaves_a_published_story_alone_and_reports_it(state, import_storage, reporter_client):
    call_command("import_dump", str(SAMPLE), stdout=io.StringIO())
    moscow = put_in_state(Article.objects.get(headline__startswith="Moscow Car Blast"), state)
    niger = Article.objects.get(headline__startswith="Niger")  # a draft, which the reporter's import may update
    before = snapshot(moscow)
    changed = SAMPLE.read_text().replace("A senior Russian general", "A reporter's general")
    changed = changed.replace("Some residents rejected", "Many residents rejected")
    upload = {"dump": SimpleUploadedFile("wire.txt", changed.encode()), "section": "", "status": "draft"}

    status = "withdrawn" if state == "withdrawn" else "published"  # a scheduled story is published, later

    page = post(reporter_client, IMPORT, upload)
    assert "would have created 0, updated 1, unchanged 2, conflicts 1, errors 0" in page.content.decode()
    assert f"is {status}: only an editor&#x27;s import may change it" in page.content.decode()
    page = confirm(reporter_client, page)

    assert page.context["job"].state == "done"
    assert snapshot(moscow) == before
    assert f"is {status}: only an editor&#x27;s import may change it" in page.content.decode()
    assert "Many residents rejected" in Article.objects.get(pk=niger.pk).body
    if state == "published":
        assert "A senior Russian general" in Client().get(moscow.get_absolute_url()).text


@pytest.mark.django_db
def test_reporters_import_leaves_a_draft_alone_whose_photo_a_published_story_shows(
    import_storage, reporter_client, published_article
):
    call_command("import_dump", str(SAMPLE), stdout=io.StringIO())
    niger = Article.objects.get(headline__startswith="Niger")
    Caption.objects.create(article=published_article, photo=niger.captions.get(order=0).photo, order=1)
    before = snapshot(published_article), snapshot(niger)
    changed = SAMPLE.read_text().replace("Some residents rejected", "Many residents rejected")
    upload = {"dump": SimpleUploadedFile("wire.txt", changed.encode()), "section": "", "status": "draft"}

    page = confirm(reporter_client, post(reporter_client, IMPORT, upload))

    assert (snapshot(published_article), snapshot(niger)) == before
    assert "using a photo that is in a story readers see" in page.content.decode()
