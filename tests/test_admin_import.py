"""The "Import dump" page: upload, read the dry-run report, confirm; the same import run as import_dump."""

import gzip
import io
import os
import time
from pathlib import Path

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from articles.models import Article, Caption, ImportedDump
from tests.admin_forms import read_form
from tests.conftest import DATA, SAMPLE

IMPORT = reverse("admin:articles_article_import")


@pytest.fixture(autouse=True)
def import_storage(settings, tmp_path):
    storage = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}}
    settings.STORAGES = {**settings.STORAGES, "imports": storage}
    return tmp_path


def upload(client, content, name="sample-dump.txt", **fields):
    data = {"dump": SimpleUploadedFile(name, content), "section": "", "status": "draft", **fields}
    return client.post(IMPORT, data)


def confirm(client, dry_run_page):
    """Press "Import for real" on the dry-run report."""
    return client.post(IMPORT, {"token": read_form(dry_run_page.content.decode())["token"]})


@pytest.mark.django_db
def test_upload_shows_a_dry_run_then_confirming_imports(editor, editor_client, import_storage):
    page = upload(editor_client, SAMPLE.read_bytes())
    assert "Would have created 4, updated 0, unchanged 0, conflicts 0, errors 0" in page.content.decode()
    assert not Article.objects.exists()

    response = confirm(editor_client, page)
    assert response.status_code == 302
    assert not any(import_storage.iterdir())  # the upload is removed once imported
    assert Article.objects.filter(status="draft").count() == 4
    confirm(editor_client, page)  # a second press imports nothing twice
    assert Article.objects.count() == 4
    entry = LogEntry.objects.get(object_repr="Import of sample-dump.txt")
    assert entry.user == editor and "created 4" in entry.change_message


def what_an_import_left():
    """The stories, their captions and the import ledger, without ids and times (which differ run to run)."""
    return (
        sorted(
            Article.objects.values_list(
                "headline",
                "slug",
                "section__slug",
                "status",
                "body",
                "language",
                "source_file",
                "source_digest",
                "import_hash",
                "version",
            )
        ),
        sorted(Caption.objects.values_list("article__headline", "text", "photo__credit", "order", "is_lead")),
        sorted(ImportedDump.objects.values_list("digest", "name", "stories")),
    )


def new_stories_gzipped():
    return gzip.compress((DATA / "arabic.txt").read_bytes() + b"\n\n\n" + (DATA / "no_photo.txt").read_bytes())


def changed_at_the_source_with_a_stray_line():
    text = SAMPLE.read_text().replace("A senior Russian general", "A senior Russian army general")
    text = text.replace("Some residents rejected", "Many residents rejected")
    return (text + "\n\n\nOrphan headline with no header\n").encode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "dump, skip_invalid, summary",
    [
        (new_stories_gzipped(), False, "created 2, updated 0, unchanged 0, conflicts 0, errors 0"),
        (changed_at_the_source_with_a_stray_line(), True, "created 0, updated 1, unchanged 2, conflicts 1, errors 1"),
    ],
)
def test_the_admin_and_import_dump_leave_the_same_stories_ledger_and_report(
    editor_client, tmp_path, monkeypatch, dump, skip_invalid, summary
):
    call_command("import_dump", str(SAMPLE), stdout=io.StringIO())
    niger = Article.objects.get(headline__startswith="Niger")
    niger.body = niger.body.replace("Final decisions", "The final decisions")  # an editor's change
    niger.save()
    monkeypatch.chdir(tmp_path)  # so that the command names the file as the upload is named
    Path("wire.dump").write_bytes(dump)

    with transaction.atomic():
        out, err = io.StringIO(), io.StringIO()
        call_command("import_dump", "wire.dump", skip_invalid=skip_invalid, stdout=out, stderr=err)
        by_command = what_an_import_left()
        transaction.set_rollback(True)
    response = confirm(editor_client, upload(editor_client, dump, name="wire.dump", skip_invalid=skip_invalid))
    by_admin = what_an_import_left()

    assert by_admin == by_command
    assert out.getvalue().strip() == summary
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert said[0] == f"Imported wire.dump: {summary}."
    assert said[1:] == [line[0].upper() + line[1:] for line in err.getvalue().splitlines()]


@pytest.mark.django_db
def test_a_bad_dump_is_reported_and_cannot_be_confirmed(editor_client):
    bad = sorted((DATA / "bad").iterdir())[0].read_bytes()
    page = upload(editor_client, bad, name="bad.txt").content.decode()
    assert "The import would stop" in page and 'name="token"' not in page
    assert not Article.objects.exists()


@pytest.mark.django_db
def test_reporter_imports_drafts_but_cannot_import_published_stories(reporter_client):
    page = upload(reporter_client, SAMPLE.read_bytes(), status="published")
    assert page.context["form"].errors["status"]
    assert 'name="token"' not in page.content.decode()
    confirm(reporter_client, upload(reporter_client, SAMPLE.read_bytes()))
    assert Article.objects.filter(status="draft").count() == 4
    assert not Article.objects.filter(status="published").exists()


@pytest.mark.django_db
def test_editor_imports_published_stories(editor_client):
    confirm(editor_client, upload(editor_client, SAMPLE.read_bytes(), status="published"))
    assert Article.objects.published().count() == 4


@pytest.mark.django_db
def test_abandoned_uploads_are_purged_by_a_later_upload(editor_client, import_storage):
    upload(editor_client, SAMPLE.read_bytes())
    [abandoned] = import_storage.iterdir()
    os.utime(abandoned, (time.time() - 2 * 3600, time.time() - 2 * 3600))
    upload(editor_client, SAMPLE.read_bytes())
    assert abandoned not in set(import_storage.iterdir()) and len(list(import_storage.iterdir())) == 1


@pytest.mark.django_db
def test_stories_imported_as_published_from_the_admin_show_on_the_cached_home_page(
    client, editor_client, published_article, settings, django_capture_on_commit_callbacks
):
    settings.PAGE_CACHE_SECONDS = 300
    client.get(reverse("articles:index"))
    assert client.get(reverse("articles:index")).headers["X-Page-Cache"] == "hit"

    with django_capture_on_commit_callbacks(execute=True):
        confirm(editor_client, upload(editor_client, SAMPLE.read_bytes(), status="published"))

    assert "Moscow Car Blast Kills Russian General" in client.get(reverse("articles:index")).content.decode()
