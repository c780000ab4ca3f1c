"""What editors write in the admin reaches readers intact: paragraphs, language, and saves that change nothing.

Browsers send a textarea's line breaks as CRLF: these tests post forms from Chromium, or read them out of the
page and post them as a browser would (tests/admin_forms.py).
"""

import importlib
import io
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect
from reversion.models import Version

from articles.models import Article, Section
from tests.admin_forms import read_form
from tests.conftest import SAMPLE
from tests.test_editor_journey import browser_page, log_in, make_staff

ADD_URL = reverse("admin:articles_article_add")
MOSCOW = "Moscow Car Blast Kills Russian General"


def change_url(article):
    return reverse("admin:articles_article_change", args=[article.pk])


def import_dump(path, **options):
    out = io.StringIO()
    call_command("import_dump", str(path), stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def story_paragraphs(page):
    return page.locator(".story-body p").all_inner_texts()


def body_paragraphs(html):
    """The paragraphs a reader sees in a story page's body."""
    body = html[html.index('<div class="story-body">') :].split("</div>", 1)[0]
    return re.findall(r"<p>(.*?)</p>", body, re.S)


def write_story(client, **fields):
    """Fill the add form as a browser would submit it (line breaks as CRLF) and save it."""
    form = read_form(client.get(ADD_URL).content.decode(), "article_form")
    form |= {"section": str(Section.objects.get(slug="world").pk), "status": Article.Status.PUBLISHED}
    form |= {name: value.replace("\n", "\r\n") for name, value in fields.items()}
    response = client.post(ADD_URL, form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    return Article.objects.get(slug=fields["slug"])


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_story_saved_from_the_browser_keeps_its_paragraphs(browser, live_server, django_user_model):
    make_staff(django_user_model, "desk-editor", "Editors")
    story = Article.objects.create(
        headline="Harbour Reopens After Storm",
        slug="harbour-reopens",
        section=Section.objects.get(slug="world"),
        body="Ships sailed again on Tuesday.\n\nThe port had been shut for a week.\n\nDockers returned at dawn.",
        status=Article.Status.PUBLISHED,
        published_at=timezone.now() - timedelta(hours=1),
    )

    with browser_page(browser) as page:
        log_in(page, live_server, "desk-editor")
        page.goto(live_server.url + change_url(story))
        page.fill("#id_standfirst", "The port is open again.")
        page.click("input[name=_save]")
        expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
        page.goto(live_server.url + story.get_absolute_url())
        shown = story_paragraphs(page)

    assert (
        shown
        == story.paragraphs
        == [
            "Ships sailed again on Tuesday.",
            "The port had been shut for a week.",
            "Dockers returned at dawn.",
        ]
    )
    [entry] = LogEntry.objects.filter(object_id=str(story.pk), action_flag=CHANGE)
    assert entry.get_change_message() == "Changed Standfirst."


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_story_typed_in_the_admin_from_scratch_has_its_paragraphs(browser, live_server, django_user_model):
    make_staff(django_user_model, "desk-editor", "Editors")

    with browser_page(browser) as page:
        log_in(page, live_server, "desk-editor")
        page.goto(live_server.url + ADD_URL)
        page.fill("#id_headline", "Library Opens Its Doors")
        page.select_option("#id_section", label="World")
        page.fill("#id_standfirst", "A new library for the old town.\nOpen every day.")
        page.fill("#id_body", "The library opened on Monday.\n\nIt holds 20,000 books.\n\nEntry is free.")
        page.select_option("#id_status", "published")
        page.click("input[name=_save]")
        expect(page.locator(".messagelist")).to_contain_text("was added successfully")
        story = Article.objects.get(headline="Library Opens Its Doors")
        page.goto(live_server.url + story.get_absolute_url())
        shown = story_paragraphs(page)

    assert shown == ["The library opened on Monday.", "It holds 20,000 books.", "Entry is free."]
    assert story.standfirst == "A new library for the old town.\nOpen every day."
    assert (story.language, story.direction) == ("en", "ltr")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_saving_a_story_unchanged_adds_no_revision_and_keeps_it_importable(
    browser, live_server, django_user_model, tmp_path
):
    make_staff(django_user_model, "desk-editor", "Editors")
    import_dump(SAMPLE, status="published")
    story = Article.objects.get(headline=MOSCOW)

    with browser_page(browser) as page:
        log_in(page, live_server, "desk-editor")
        page.goto(live_server.url + change_url(story))
        page.click("input[name=_save]")
        expect(page.locator(".messagelist")).to_contain_text(f"No changes to save in “{MOSCOW}”")
        assert page.url == live_server.url + reverse("admin:articles_article_changelist")

    saved = Article.objects.get(pk=story.pk)
    assert (saved.version, saved.updated_at, saved.body) == (story.version, story.updated_at, story.body)
    assert not Version.objects.get_for_object(story).exists()
    assert not LogEntry.objects.filter(object_id=str(story.pk)).exists()
    assert "unchanged 4, conflicts 0" in import_dump(SAMPLE)
    # A correction at the source still reaches readers: the story is not taken for one an editor changed.
    corrected = tmp_path / "corrected.txt"
    corrected.write_text(SAMPLE.read_text().replace("A senior Russian general", "A senior Russian army general"))
    assert "updated 1, unchanged 3, conflicts 0" in import_dump(corrected)


@pytest.mark.django_db
def test_a_note_added_to_an_otherwise_unchanged_story_is_saved_as_typed(editor_client, published_article):
    url = change_url(published_article)
    form = read_form(editor_client.get(url).content.decode(), "article_form")
    form |= {
        "corrections-TOTAL_FORMS": "1",
        "corrections-0-kind": "correction",
        "corrections-0-text": "An earlier version misnamed the port.\r\nIt is Port Said.",
    }

    assert editor_client.post(url, form).status_code == 302

    assert published_article.corrections.get().text == "An earlier version misnamed the port.\nIt is Port Said."
    assert Version.objects.get_for_object(published_article).count() == 1
    assert Article.objects.get(pk=published_article.pk).version == published_article.version + 1


@pytest.mark.django_db
def test_arabic_story_written_in_the_admin_is_served_right_to_left(editor_client, client):
    story = write_story(
        editor_client,
        headline="افتتاح مكتبة جديدة في المدينة القديمة",
        slug="new-library-arabic",
        body="افتتحت المكتبة يوم الاثنين.\n\nالدخول مجاني.",
    )

    page = client.get(story.get_absolute_url()).content.decode()

    assert (story.language, story.paragraphs) == ("ar", ["افتتحت المكتبة يوم الاثنين.", "الدخول مجاني."])
    assert '<article class="story" lang="ar" dir="rtl">' in page


@pytest.mark.django_db
def test_language_chosen_by_the_editor_is_kept(editor_client):
    story = write_story(
        editor_client,
        headline="لاہور میں نئی لائبریری کھل گئی",
        slug="new-library-urdu",
        body="لائبریری پیر کو کھلی۔",
        language="ur",
    )

    assert (story.language, story.direction) == ("ur", "rtl")


@pytest.mark.django_db
def test_stories_saved_with_browser_line_breaks_before_the_fix_heal_when_migrated(client):
    import_dump(SAMPLE, status="published")
    story = Article.objects.get(headline=MOSCOW)
    # What an admin save stored before line breaks were unified where text comes in.
    Article.objects.filter(pk=story.pk).update(body=story.body.replace("\n", "\r\n"))
    healing = importlib.import_module("articles.migrations.0010_unify_line_breaks")

    healing.unify(apps, SimpleNamespace(connection=connection))

    healed = Article.objects.get(pk=story.pk)
    shown = body_paragraphs(client.get(healed.get_absolute_url()).content.decode())
    assert len(shown) == len(story.paragraphs) > 1
    assert healed.body == story.body
    assert healed.content_hash() == healed.import_hash  # the importer no longer takes it for edited
    assert healed.version == story.version + 1
