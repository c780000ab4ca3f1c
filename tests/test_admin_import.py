"""The "Import dump" page: upload, read the dry-run report, confirm; the same Importer as import_dump."""

import gzip
import io
import os
import time

import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from articles.models import Article
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


@pytest.mark.django_db
def test_admin_import_and_import_dump_are_the_same_code_path(editor_client):
    confirm(editor_client, upload(editor_client, gzip.compress(SAMPLE.read_bytes()), name="sample.txt.gz"))
    out = io.StringIO()
    call_command("import_dump", str(SAMPLE), stdout=out)
    assert "created 0, updated 0, unchanged 4" in out.getvalue()


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
