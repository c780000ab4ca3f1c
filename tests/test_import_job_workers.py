"""The Import page's jobs run by real workers (`manage.py db_worker` processes) behind a real app server, on
SQLite and PostgreSQL: an editor uploads a dump, a worker runs the dry run, the editor confirms, a worker runs
the import. The worker is killed in the middle of writing it: nothing is written, the job says why and is run again by
another worker, to the same end a single run reaches."""

import json
import re
import signal
import time

import pytest

from bench import corpus
from tests.production import (
    DATABASES,
    Browser,
    db_worker,
    forms_in,
    free_port,
    gunicorn,
    manage,
    query,
    shell,
    site_env,
)

pytestmark = pytest.mark.production

STORIES = 4000  # a few seconds of reading on this machine: time to kill the worker in the middle
EDITOR, PASSWORD = "desk", "a-long-test-password-4417"
IMPORT = "/admin/articles/article/import/"

SEED = f"""
from django.contrib.auth.models import Group, User
user = User.objects.create_user({EDITOR!r}, password={PASSWORD!r}, is_staff=True)
user.groups.add(Group.objects.get(name="Editors"))
"""

WHAT_IS_THERE = """
import json
from django.contrib.admin.models import LogEntry
from articles.models import Article, ImportedDump
print(json.dumps({
    "stories": Article.objects.count(),
    "published": Article.objects.published().count(),
    "ledger": list(ImportedDump.objects.values_list("name", "stories")),
    "log": list(LogEntry.objects.filter(object_repr__startswith="Import of").values_list("change_message", flat=True)),
}))
"""


@pytest.fixture(params=DATABASES)
def site(request, tmp_path):
    """The environment of an app server and its workers, on a migrated database with one editor."""
    with site_env(request.param, tmp_path, static=True) as env:
        manage("shell", "-v0", "-c", SEED, env=env)
        yield env


def status(editor, job_url):
    response = editor.get(f"{job_url}status/")
    assert response.status == 200, response.text[:2000]
    return json.loads(response.text)


def wait_for(editor, job_url, states, timeout=120, until=None):
    deadline = time.monotonic() + timeout
    while True:
        now = status(editor, job_url)
        if now["state"] in states and (until is None or until(now)):
            return now
        assert time.monotonic() < deadline, f"the job is still {now['state']}, not {states}"
        time.sleep(0.05)


def press(editor, page, button):
    """Press a button on the job's page: each is a form of its own, posting to the job's confirm/retry/cancel."""
    response = editor.get(page)
    assert response.status == 200, response.text[:2000]
    forms = [form for form in forms_in(response.text) if (form.action or "").endswith(f"/{button}/")]
    assert forms, f"no {button} button on the job's page:\n{response.text[:3000]}"
    forms[0].page = page
    pressed = editor.submit(forms[0])
    assert pressed.status == 302, pressed.text[:2000]


def what_is_there(env):
    return shell(WHAT_IS_THERE, env)


def test_an_admin_import_runs_in_workers_and_survives_a_worker_killed_in_the_middle(site, tmp_path):
    dump = tmp_path / "wire.txt"
    with open(dump, "w", encoding="utf-8", newline="") as out:
        corpus.write(out, STORIES)
    port = free_port()
    with gunicorn(port, site, workers=2):
        editor = Browser(port)
        editor.log_in(EDITOR, PASSWORD)
        form = editor.form(IMPORT, having="dump")
        form.set("status", "published")
        uploaded = editor.submit(form, files={"dump": ("wire.txt", dump.read_bytes())})
        assert uploaded.status == 302, uploaded.text[:2000]
        job_url = uploaded.location
        assert re.fullmatch(r"/admin/articles/importjob/\d+/change/", job_url)
        job_url = job_url.removesuffix("change/")

        with db_worker(site, interval=0.1) as first:
            # The dry run: progress while it reads, then its report, awaiting confirmation.
            reading = wait_for(editor, job_url, {"dry-run-running", "awaiting"}, until=lambda s: s["progress"])
            assert reading["progress"]["read"] > 0 and reading["progress"]["total"]
            checked = wait_for(editor, job_url, {"awaiting"})
            assert f"would have created {STORIES}, updated 0" in checked["html"]
            assert what_is_there(site)["stories"] == 0

            press(editor, f"{job_url}change/", "confirm")
            wait_for(editor, job_url, {"import-running"}, until=lambda s: s["progress"] and s["progress"]["read"] > 0)
            wait_for(editor, job_url, {"import-running"}, until=lambda s: s["writing"])
            time.sleep(0.5)  # well into its transaction
            first.send_signal(signal.SIGKILL)  # mid-write: its machine lost power
            first.wait()

        # Nothing written; no editor comes back to press anything: the next worker, restarted by the process
        # manager, finds the job lost and runs it again (nobody polls the job's page meanwhile, which would too).
        assert what_is_there(site) == {"stories": 0, "published": 0, "ledger": [], "log": []}
        with db_worker(site, interval=0.1):
            deadline = time.monotonic() + 120
            while query(site, "SELECT count(*) FROM articles_article") < [(STORIES,)]:
                assert time.monotonic() < deadline, f"the job was not resumed: {what_is_there(site)}"
                time.sleep(0.2)
            done = wait_for(editor, job_url, {"done"})
        assert "A worker stopped while it ran this job, once; it was sent again" in done["html"]
        assert f"Imported: created {STORIES}, updated 0, unchanged 0, conflicts 0, errors 0" in done["html"]
        there = what_is_there(site)
        assert there["stories"] == there["published"] == STORIES
        assert there["ledger"] == [["wire.txt", STORIES]]
        assert there["log"] == [f"Imported wire.txt: created {STORIES}, updated 0, unchanged 0, conflicts 0, errors 0"]

        # Uploaded again, the same dump finds every story already there.
        form = editor.form(IMPORT, having="dump")
        again = editor.submit(form, files={"dump": ("wire.txt", dump.read_bytes())}).location.removesuffix("change/")
        with db_worker(site, interval=0.1):
            checked = wait_for(editor, again, {"awaiting"})
        assert f"would have created 0, updated 0, unchanged {STORIES}" in checked["html"]
