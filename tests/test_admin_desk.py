"""Finding stories, scheduling, corrections and redirects in the admin."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from articles.models import Article, Caption, Correction, Photo, Redirect
from articles.photos.tasks import make_renditions
from tests.admin_forms import load_change_form

CHANGELIST = reverse("admin:articles_article_changelist")


@pytest.fixture
def clock(monkeypatch):
    """Set the time everything that asks django.utils.timezone.now() sees."""

    def set_to(when):
        monkeypatch.setattr(timezone, "now", lambda: when)

    return set_to


@pytest.fixture
def photo_with_image(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), "navy").save(buffer, "PNG")
    photo = Photo.objects.create(image=SimpleUploadedFile("harbour.png", buffer.getvalue()), credit="AFP")
    make_renditions.call(photo.pk)  # as a worker does after the save
    photo.refresh_from_db()
    return photo


def listed(client, **params):
    response = client.get(CHANGELIST, params)
    assert response.status_code == 200
    return [article.headline for article in response.context["cl"].result_list]


@pytest.mark.django_db
def test_list_shows_lead_thumbnail_and_flags_stories_without_an_image(editor_client, make_article, photo_with_image):
    pictured = make_article("Harbour Reopens")
    Caption.objects.create(article=pictured, photo=photo_with_image, text="The harbour.", is_lead=True)
    make_article("Text Only 0")
    connection.features.supports_json_field  # noqa: B018 -- SQLite's one-time probe, once per connection: not the page's
    with CaptureQueriesContext(connection) as few:
        editor_client.get(CHANGELIST)
    for n in range(1, 5):
        make_article(f"Text Only {n}")

    with CaptureQueriesContext(connection) as more:
        page = editor_client.get(CHANGELIST).content.decode()
    assert len(more) == len(few)  # thumbnails and flags come with the rows, not one query per story
    # The thumbnail is a small rendition, never the original (which may be 1600x2400 and megabytes).
    assert photo_with_image.image.url not in page
    assert f'src="{photo_with_image.image.storage.url("renditions/")}{photo_with_image.renditions_key}/' in page
    assert page.count("⚠ Missing image") == 5
    assert listed(editor_client, image="missing") == [f"Text Only {n}" for n in reversed(range(5))]
    assert listed(editor_client, image="present") == ["Harbour Reopens"]


@pytest.mark.django_db
def test_list_filters_by_import_source_and_searches_headline_and_body(editor_client, make_article):
    make_article("Wire Story", source_file="wire-0801.txt")
    make_article("Desk Story", body="Reporting about a lighthouse.")
    assert listed(editor_client, source="wire-0801.txt") == ["Wire Story"]
    assert listed(editor_client, source="__admin__") == ["Desk Story"]
    assert listed(editor_client, q="lighthouse") == ["Desk Story"]
    assert listed(editor_client, q="Wire") == ["Wire Story"]


@pytest.mark.django_db
def test_embargoed_story_goes_live_by_itself_at_its_time(client, editor_client, make_article, clock):
    start = timezone.now()
    release = start + timedelta(hours=2)
    article = make_article("Results at Noon", published_at=release)
    url = article.get_absolute_url()

    clock(start)
    assert client.get(url).status_code == 404
    assert listed(editor_client, embargoed="yes") == ["Results at Noon"]
    assert "Scheduled for" in editor_client.get(CHANGELIST).content.decode()
    change_page = editor_client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    assert "Not yet: scheduled, goes live by itself at" in change_page

    clock(release + timedelta(seconds=1))
    assert client.get(url).status_code == 200
    assert listed(editor_client, embargoed="yes") == []
    assert "Scheduled for" not in editor_client.get(CHANGELIST).content.decode()


@pytest.mark.django_db
def test_editor_appends_a_correction_and_the_story_is_updated(editor_client, published_article):
    url = reverse("admin:articles_article_change", args=[published_article.pk])
    before = published_article.updated_at
    data = load_change_form(editor_client, url)
    data.update(
        {
            "corrections-TOTAL_FORMS": "1",
            "corrections-0-kind": "correction",
            "corrections-0-text": "An earlier version misnamed the port.",
        }
    )
    assert editor_client.post(url, data).status_code == 302
    [correction] = published_article.corrections.all()
    assert (correction.kind, correction.text) == ("correction", "An earlier version misnamed the port.")
    published_article.refresh_from_db()
    assert published_article.updated_at > before


@pytest.mark.django_db
def test_reporter_cannot_add_a_correction(reporter_client, draft_article):
    url = reverse("admin:articles_article_change", args=[draft_article.pk])
    data = load_change_form(reporter_client, url)
    data.update({"corrections-TOTAL_FORMS": "1", "corrections-0-kind": "correction", "corrections-0-text": "Sneaky."})
    reporter_client.post(url, data)
    assert not Correction.objects.exists()


@pytest.mark.django_db
def test_story_page_lists_its_redirects_and_an_editor_removes_one(editor_client, published_article):
    keep = Redirect.objects.create(old_path="/world/2026/01/01/old-floods/", article=published_article)
    drop = Redirect.objects.create(old_path="/world/2026/01/01/floods-typo/", article=published_article)
    url = reverse("admin:articles_article_change", args=[published_article.pk])
    page = editor_client.get(url).content.decode()
    assert keep.old_path in page and drop.old_path in page

    data = load_change_form(editor_client, url)
    index = next(k.split("-")[1] for k, v in data.items() if k.endswith("-id") and v == str(drop.pk))
    data[f"redirects-{index}-DELETE"] = "on"
    assert editor_client.post(url, data).status_code == 302
    assert list(published_article.redirects.values_list("old_path", flat=True)) == [keep.old_path]


@pytest.mark.django_db
def test_publishing_without_a_time_publishes_now(editor_client, make_article):
    article = make_article("Review Story", status=Article.Status.REVIEW)
    url = reverse("admin:articles_article_change", args=[article.pk])
    data = load_change_form(editor_client, url)
    data.update(status="published", published_at_0="", published_at_1="")
    assert editor_client.post(url, data).status_code == 302
    article.refresh_from_db()
    assert article.published_at <= timezone.now()
    assert article in Article.objects.published()


@pytest.mark.django_db
def test_withdrawing_needs_a_reason_for_readers(editor_client, published_article):
    url = reverse("admin:articles_article_change", args=[published_article.pk])
    data = load_change_form(editor_client, url)
    response = editor_client.post(url, {**data, "status": "withdrawn"})
    assert response.context["adminform"].form.errors["withdrawn_reason"]
    published_article.refresh_from_db()
    assert published_article.status == "published"


@pytest.mark.django_db
def test_editor_swaps_caption_order_and_the_lead(editor_client, published_article):
    second = Caption.objects.create(
        article=published_article, photo=Photo.objects.create(credit="AP"), text="Rescuers.", order=1
    )
    url = reverse("admin:articles_article_change", args=[published_article.pk])
    data = load_change_form(editor_client, url)
    data.update({"captions-0-order": "1", "captions-1-order": "0", "captions-1-is_lead": "on"})
    del data["captions-0-is_lead"]
    assert editor_client.post(url, data).status_code == 302
    assert list(published_article.captions.values_list("text", "is_lead")) == [
        ("Rescuers.", True),
        ("A flooded street in the port.", False),
    ]
    assert published_article.lead_caption == second


@pytest.mark.django_db
def test_two_lead_captions_are_refused_in_the_form(editor_client, published_article):
    Caption.objects.create(article=published_article, photo=Photo.objects.create(credit="AP"), text="Two.", order=1)
    url = reverse("admin:articles_article_change", args=[published_article.pk])
    data = {**load_change_form(editor_client, url), "captions-1-is_lead": "on"}
    response = editor_client.post(url, data)
    assert "Only one caption can be the lead." in response.content.decode()


@pytest.mark.django_db
def test_two_captions_in_the_same_place_are_refused_in_the_form(editor_client, published_article):
    Caption.objects.create(article=published_article, photo=Photo.objects.create(credit="AP"), text="Two.", order=1)
    url = reverse("admin:articles_article_change", args=[published_article.pk])
    response = editor_client.post(url, {**load_change_form(editor_client, url), "captions-1-order": "0"})
    assert response.status_code == 200
    assert list(published_article.captions.values_list("order", flat=True)) == [0, 1]
