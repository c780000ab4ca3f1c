"""The "Import dump" page and its jobs: upload, a worker runs the dry run, read its report on the job's page,
confirm, a worker runs the import; the same import run as import_dump. Tasks run at once here (tests/jobs.py);
tests/test_import_job_workers.py runs them in real worker processes."""

import gzip
import io
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import transaction
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, Caption, ImportedDump, ImportJob, worker_name
from articles.tasks import recover_lost, run_import_job
from tests.conftest import DATA, SAMPLE
from tests.jobs import confirm, job_on, post, upload

pytestmark = pytest.mark.usefixtures("immediate_tasks")


@pytest.fixture(autouse=True)
def import_storage(settings, tmp_path):
    storage = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}}
    settings.STORAGES = {**settings.STORAGES, "imports": storage}
    return tmp_path


def action(job, name):
    return reverse(f"admin:articles_importjob_{name}", args=[job.pk])


@pytest.mark.django_db
def test_upload_shows_a_dry_run_then_confirming_imports(editor, editor_client, import_storage):
    page = upload(editor_client, SAMPLE.read_bytes())
    assert "would have created 4, updated 0, unchanged 0, conflicts 0, errors 0" in page.content.decode()
    assert job_on(page).state == ImportJob.State.AWAITING_CONFIRMATION
    assert not Article.objects.exists()

    page = confirm(editor_client, page)
    assert "Imported: created 4, updated 0, unchanged 0, conflicts 0, errors 0" in page.content.decode()
    assert job_on(page).state == ImportJob.State.DONE
    assert not any(import_storage.iterdir())  # the upload is removed once imported
    assert Article.objects.filter(status="draft").count() == 4
    assert confirm(editor_client, page).status_code == 403  # a second press imports nothing twice
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
    page = confirm(editor_client, upload(editor_client, dump, name="wire.dump", skip_invalid=skip_invalid))
    by_admin = what_an_import_left()

    assert by_admin == by_command
    assert out.getvalue().strip() == summary
    report = job_on(page).report
    assert report["summary"] == summary and f"Imported: {summary}." in page.content.decode()
    listed = [f"conflict: {line}" for line in report["conflicts"]] + [f"skipped: {line}" for line in report["errors"]]
    assert listed == err.getvalue().splitlines()
    assert all(line.partition(": ")[2] in page.content.decode() for line in listed if "'" not in line)


@pytest.mark.django_db
def test_a_bad_dump_fails_its_dry_run_with_the_reason_and_cannot_be_confirmed(editor_client, import_storage):
    bad = sorted((DATA / "bad").iterdir())[0].read_bytes()
    page = upload(editor_client, bad, name="bad.txt")
    job = job_on(page)
    assert job.state == ImportJob.State.FAILED and job.error.startswith("bad.txt:")
    assert "Nothing was imported" in page.content.decode() and "Import for real" not in page.content.decode()
    assert confirm(editor_client, page).status_code == 403
    assert not Article.objects.exists() and not any(import_storage.iterdir())


@pytest.mark.django_db
def test_reporter_imports_drafts_but_cannot_import_published_stories(reporter_client):
    page = upload(reporter_client, SAMPLE.read_bytes(), status="published")
    assert page.context["form"].errors["status"]
    assert not ImportJob.objects.exists()
    confirm(reporter_client, upload(reporter_client, SAMPLE.read_bytes()))
    assert Article.objects.filter(status="draft").count() == 4
    assert not Article.objects.filter(status="published").exists()


@pytest.mark.django_db
def test_a_reporter_cannot_see_confirm_or_cancel_someone_elses_import(editor_client, reporter_client):
    job = job_on(upload(editor_client, SAMPLE.read_bytes(), status="published"))
    assert reporter_client.get(job.get_absolute_url()).status_code == 403
    assert reporter_client.get(reverse("admin:articles_importjob_status", args=[job.pk])).status_code == 403
    for name in ["confirm", "cancel"]:
        assert reporter_client.post(action(job, name)).status_code == 403
    own = job_on(upload(reporter_client, SAMPLE.read_bytes(), name="reporters-own.txt"))
    listed = reporter_client.get(reverse("admin:articles_importjob_changelist"))
    assert listed.status_code == 200 and own.name in listed.content.decode()
    assert job.name not in listed.content.decode()
    job.refresh_from_db()
    assert job.state == ImportJob.State.AWAITING_CONFIRMATION


@pytest.mark.django_db
def test_an_editor_who_uploads_as_published_and_loses_the_right_cannot_confirm(editor, editor_client):
    page = upload(editor_client, SAMPLE.read_bytes(), status="published")
    editor.groups.set([Group.objects.get(name="Reporters")])
    assert confirm(editor_client, page).status_code == 403
    assert not Article.objects.exists()


@pytest.mark.django_db
def test_editor_imports_published_stories(editor_client):
    confirm(editor_client, upload(editor_client, SAMPLE.read_bytes(), status="published"))
    assert Article.objects.published().count() == 4


@pytest.mark.django_db
def test_a_dry_run_cancelled_before_it_is_confirmed_imports_nothing(editor_client, import_storage):
    page = upload(editor_client, SAMPLE.read_bytes())
    page = post(editor_client, action(job_on(page), "cancel"))
    assert job_on(page).state == ImportJob.State.CANCELLED
    assert confirm(editor_client, page).status_code == 403
    assert not Article.objects.exists() and not any(import_storage.iterdir())


@pytest.mark.django_db
def test_an_import_cancelled_while_it_waits_for_a_worker_is_never_run(editor_client):
    job = job_on(upload(editor_client, SAMPLE.read_bytes()))
    with TestCase.captureOnCommitCallbacks(execute=False) as queued:
        editor_client.post(action(job, "confirm"))
    editor_client.post(action(job, "cancel"))
    for enqueue in queued:  # the worker gets to it now
        enqueue()
    job.refresh_from_db()
    assert job.state == ImportJob.State.CANCELLED and not Article.objects.exists()


@pytest.mark.django_db
def test_an_import_cancelled_while_it_reads_stops_before_writing(editor_client):
    job = job_on(upload(editor_client, SAMPLE.read_bytes()))
    with TestCase.captureOnCommitCallbacks(execute=False):
        editor_client.post(action(job, "confirm"))
    job.refresh_from_db()
    ImportJob.objects.filter(pk=job.pk).update(cancel_requested=True)  # as the cancel button does to a running job
    run_import_job.call(job.pk, job.attempt)
    job.refresh_from_db()
    assert job.state == ImportJob.State.CANCELLED and not Article.objects.exists()


def lose_its_worker(job, worker, times_lost=0):
    """The job's worker took it, then was killed (long ago, for a worker on another machine)."""
    long_ago = timezone.now() - timedelta(minutes=5)
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportJob.State.IMPORT_RUNNING, worker=worker, heartbeat_at=long_ago, times_lost=times_lost
    )


@pytest.mark.django_db
@pytest.mark.parametrize("worker", ["gone-machine:1", worker_name(2**22 + 1)])
def test_a_job_whose_worker_is_gone_is_sent_again_and_ends_as_it_would_have(editor_client, worker):
    job = job_on(upload(editor_client, SAMPLE.read_bytes()))
    with TestCase.captureOnCommitCallbacks(execute=False):
        editor_client.post(action(job, "confirm"))
    lose_its_worker(job, worker)

    with TestCase.captureOnCommitCallbacks(execute=True):  # the sweep sends it again, and a worker runs it
        recover_lost()
    page = editor_client.get(job.get_absolute_url())
    assert job_on(page).state == ImportJob.State.DONE and Article.objects.count() == 4
    assert "A worker stopped while it ran this job, once; it was sent again" in page.content.decode()
    assert "created 4" in job_on(page).report["summary"]


@pytest.mark.django_db
def test_a_job_lost_too_often_is_failed_for_an_editor_to_run_again(editor_client, settings):
    job = job_on(upload(editor_client, SAMPLE.read_bytes()))
    with TestCase.captureOnCommitCallbacks(execute=False):
        editor_client.post(action(job, "confirm"))
    lose_its_worker(job, "gone-machine:1", times_lost=settings.IMPORT_JOB_LOST_RETRIES)

    page = editor_client.get(job.get_absolute_url())  # looking at it sweeps too
    assert job_on(page).state == ImportJob.State.FAILED
    text = page.content.decode()
    assert "The worker running this job stopped before it finished, 3 times" in text
    assert "Run it again" in text and not Article.objects.exists()
    page = post(editor_client, action(job, "retry"))
    assert job_on(page).state == ImportJob.State.DONE and Article.objects.count() == 4


@pytest.mark.django_db
@pytest.mark.parametrize("worker", [worker_name(), "other-machine:1"])
def test_a_job_whose_worker_is_alive_is_left_running(editor_client, worker):
    """Alive: its process on this machine (this one, whatever its heartbeat), or a recent heartbeat from another."""
    job = job_on(upload(editor_client, SAMPLE.read_bytes()))
    beat = timezone.now() - timedelta(minutes=5 if "other" not in worker else 0)
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.IMPORT_RUNNING, worker=worker, heartbeat_at=beat)
    status = editor_client.get(reverse("admin:articles_importjob_status", args=[job.pk])).json()
    assert status["state"] == "import-running" and status["active"]
    assert 'id="import-job"' in status["html"] and "Run it again" not in status["html"]


@pytest.mark.django_db
def test_the_job_list_shows_who_what_state_and_counts(editor_client, reporter_client):
    confirm(editor_client, upload(editor_client, SAMPLE.read_bytes()))
    upload(reporter_client, b"not a dump", name="junk.txt")
    changelist = reverse("admin:articles_importjob_changelist")
    page = editor_client.get(changelist).content.decode()
    assert "sample-dump.txt" in page and "junk.txt" in page and "4, 0, 0, 0, 0" in page
    failed = editor_client.get(changelist, {"state": "failed"}).content.decode()
    assert "junk.txt" in failed and "sample-dump.txt" not in failed


@pytest.mark.django_db
def test_abandoned_dry_runs_are_cancelled_and_their_uploads_purged_by_a_later_upload(editor_client, import_storage):
    job = job_on(upload(editor_client, SAMPLE.read_bytes()))
    [abandoned] = import_storage.iterdir()
    ImportJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(days=2))
    stray = import_storage / "stray.dump"  # a request that died between storing the file and saving its job
    stray.write_bytes(b"x")
    os.utime(stray, (time.time() - 2 * 86400, time.time() - 2 * 86400))
    upload(editor_client, SAMPLE.read_bytes())
    assert abandoned not in set(import_storage.iterdir()) and not stray.exists()
    assert len(list(import_storage.iterdir())) == 1
    job.refresh_from_db()
    assert job.state == ImportJob.State.CANCELLED


@pytest.mark.django_db
def test_stories_imported_as_published_from_the_admin_show_on_the_cached_home_page(
    client, editor_client, published_article, settings
):
    settings.PAGE_CACHE_SECONDS = 300
    client.get(reverse("articles:index"))
    assert client.get(reverse("articles:index")).headers["X-Page-Cache"] == "hit"

    confirm(editor_client, upload(editor_client, SAMPLE.read_bytes(), status="published"))

    assert "Moscow Car Blast Kills Russian General" in client.get(reverse("articles:index")).content.decode()
