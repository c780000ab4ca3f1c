"""The Import page's jobs in tests that are not about the worker: with the `immediate_tasks` fixture
(tests/conftest.py), tasks run in the test's process as soon as the request that queued them has committed
(articles/tasks.py queues them on commit)."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse

IMPORT = reverse("admin:articles_article_import")


def post(client, path, data=None):
    """POST, then run the tasks it queued; the response is the page it redirected to (or the page itself)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(path, data or {})
    if response.status_code == 302:
        return client.get(response.url)
    return response


def upload(client, content, name="sample-dump.txt", **fields):
    """Upload a dump on the Import page: its dry run has run by the time this returns the job's page."""
    data = {"dump": SimpleUploadedFile(name, content), "section": "", "status": "draft", **fields}
    return post(client, IMPORT, data)


def job_on(page):
    return page.context["job"]


def confirm(client, job_page):
    """Press "Import for real" on the job's page: the import has run by the time this returns the page again."""
    return post(client, reverse("admin:articles_importjob_confirm", args=[job_on(job_page).pk]))
