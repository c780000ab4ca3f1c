"""An import job's page in a browser: its progress and then its report come in without the page reloading, by the
page's own script (static/articles/import-job.js), under the CSP."""

import pytest
from django.utils import timezone

from articles.models import ImportJob, worker_name
from tests.admin_browser import load, open_admin


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_job_page_shows_progress_then_the_report_without_reloading(browser, live_server, editor, media_root):
    # A job as a worker on this machine (this process, alive) leaves it while it imports: the test moves it on.
    job = ImportJob.objects.create(
        user=editor,
        name="wire.txt",
        file="wire.dump",
        size=1000,
        state=ImportJob.State.IMPORT_RUNNING,
        confirmed_at=timezone.now(),
        started_at=timezone.now(),
        stories_total=400,
        worker=worker_name(),
        heartbeat_at=timezone.now(),
    )
    page, problems = open_admin(browser, live_server, media_root, editor)
    load(page, live_server.url + job.get_absolute_url())
    assert "Waiting for a worker" not in page.text_content("#import-job")
    page.evaluate("window.loadedOnce = true")  # gone if the page reloads

    ImportJob.objects.filter(pk=job.pk).update(stories_read=100)
    page.wait_for_selector("text=100 of 400 stories read (25%)")
    assert page.locator("#import-job progress").get_attribute("value") == "100"

    summary = "created 400, updated 0, unchanged 0, conflicts 0, errors 0"
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportJob.State.DONE,
        stories_read=400,
        finished_at=timezone.now(),
        report={"summary": summary, "created": 400, "updated": 0, "unchanged": 0, "conflicts": [], "errors": []},
    )
    page.wait_for_selector(f"text=Imported: {summary}.")
    assert page.evaluate("window.loadedOnce") is True
    assert page.locator("#import-job").get_attribute("data-active") == "false"
    page.close()

    assert problems == []
