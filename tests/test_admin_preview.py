"""Previews: editors see drafts as readers will; signed links show one revision to people without accounts."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, PreviewLink
from tests.admin_forms import load_change_form


def links_url(article):
    return reverse("admin:articles_article_preview_links", args=[article.pk])


def share(client, article, hours=24):
    """Create a preview link on the story's "Preview links" page and return its address."""
    before = set(PreviewLink.objects.values_list("pk", flat=True))
    assert client.post(links_url(article), {"hours": hours}).status_code == 302
    [link] = PreviewLink.objects.exclude(pk__in=before)
    page = client.get(links_url(article)).content.decode()
    start = page.index('value="http://testserver/preview/') + len('value="http://testserver')
    return page[start : page.index('"', start)], link


def edit(client, article, **changes):
    url = reverse("admin:articles_article_change", args=[article.pk])
    assert client.post(url, {**load_change_form(client, url), **changes}).status_code == 302


@pytest.mark.django_db
def test_editor_previews_a_draft_in_the_readers_template(client, editor_client, draft_article):
    url = reverse("admin:articles_article_preview", args=[draft_article.pk])
    response = editor_client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    # The readers' template: their masthead, the story's headline and body, the preview's note.
    assert '<nav class="sections" aria-label="Sections">' in page
    assert '<h1 class="headline">Secret Draft About Budget</h1>' in page
    assert "<p>Second paragraph.</p>" in page and "Preview: not published yet" in page
    assert client.get(url).status_code == 302  # the admin preview needs a login
    assert client.get(draft_article.get_absolute_url()).status_code == 404  # and readers still see nothing


@pytest.mark.django_db
def test_preview_link_shows_the_revision_it_was_made_for_to_anyone(editor_client, draft_article):
    url, link = share(editor_client, draft_article)
    edit(editor_client, draft_article, headline="Budget Draft, Second Take")

    assert not url.startswith("/admin/")  # the admin's address is the desk's secret, and may move
    response = Client().get(url)
    assert response.status_code == 200
    assert '<h1 class="headline">Secret Draft About Budget</h1>' in response.content.decode()
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Referrer-Policy"] == "no-referrer"
    # Neither the page cache nor a cache between the site and the reader may keep it: it must die when revoked.
    assert {"private", "no-store"} <= {part.strip() for part in response["Cache-Control"].split(",")}
    # A new link shows the new text.
    newer_url, _ = share(editor_client, draft_article)
    assert '<h1 class="headline">Budget Draft, Second Take</h1>' in Client().get(newer_url).content.decode()


@pytest.mark.django_db
def test_preview_link_dies_at_its_expiry(editor_client, draft_article, monkeypatch):
    url, link = share(editor_client, draft_article, hours=1)
    assert Client().get(url).status_code == 200
    later = timezone.now() + timedelta(hours=1, seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    response = Client().get(url)
    assert response.status_code == 410
    assert "no longer available" in response.content.decode()


@pytest.mark.django_db
def test_revoked_preview_link_dies(editor_client, draft_article):
    url, link = share(editor_client, draft_article)
    editor_client.post(links_url(draft_article), {"revoke": link.pk})
    assert Client().get(url).status_code == 410


@pytest.mark.django_db
def test_preview_link_dies_when_the_story_is_withdrawn(editor_client, draft_article):
    url, _ = share(editor_client, draft_article)
    edit(editor_client, draft_article, status=Article.Status.WITHDRAWN, withdrawn_reason="Legal advice")
    assert Client().get(url).status_code == 410


@pytest.mark.django_db
def test_tampered_preview_link_is_not_found(editor_client, draft_article):
    url, _ = share(editor_client, draft_article)
    assert Client().get(url.replace("/preview/", "/preview/x")).status_code == 404


@pytest.mark.django_db
def test_making_and_revoking_links_is_in_the_admin_log(editor_client, draft_article):
    _, link = share(editor_client, draft_article)
    editor_client.post(links_url(draft_article), {"revoke": link.pk})
    messages = [e.get_change_message() for e in LogEntry.objects.filter(object_id=str(draft_article.pk))]
    assert any(m.startswith("Shared a preview link") for m in messages)
    assert any(m.startswith("Revoked the preview link") for m in messages)


@pytest.mark.django_db
def test_preview_link_made_under_the_admins_address_still_works(editor_client, draft_article):
    url, _ = share(editor_client, draft_article)
    old = reverse("admin:articles_article_old_shared_preview", kwargs={"token": url.split("/")[-2]})
    response = Client().get(old, follow=True)
    assert response.redirect_chain == [(url, 302)]
    assert '<h1 class="headline">Secret Draft About Budget</h1>' in response.content.decode()


@pytest.mark.django_db
def test_revoked_preview_link_is_not_served_from_any_cache(editor_client, draft_article):
    url, link = share(editor_client, draft_article)
    assert Client().get(url).status_code == 200
    editor_client.post(links_url(draft_article), {"revoke": link.pk})
    response = Client().get(url)
    assert response.status_code == 410
    assert "no longer available" in response.content.decode()
    assert response["X-Robots-Tag"] == "noindex, nofollow"
