"""The admin's import through the queue, while readers read: what an editor waits for, what readers feel.

On a fresh database holding the corpus's first N stories, published, served by gunicorn (2 workers, the page
cache on as in production) beside one `db_worker` (as `make worker` runs it, idle until it gets work):

1. idle readers: after a warm-up, wrk (2 threads, 16 connections) cycles through the newest 1,000 story
   pages with the biggest section's page every 10th request (bench/busy_desk.lua, as the busy desk loads);
2. an editor uploads a dump of the corpus's next N stories on Admin -> Articles -> Import, as published; the
   worker's dry run (timed from the upload to the report; readers loaded meanwhile), then Confirm, and the
   import, timed from Confirm to the job page saying done, while the same readers load the site;
3. on an identical fresh database with the same readers, `import_dump` of the same dump, timed.

Targets: the queue's stories/s >= 0.8 of `import_dump`'s (both under the same readers' load, so neither
has the machine to itself), and readers' p99 during the queue's import <= 2x the idle p99. At the largest
size (100,000) the comparison is left out (it would double a run of tens of minutes): the import must
complete, and readers' p99 during it is reported.

Run alone with `python -m bench.run --only queue --quick` (N=1,000), or at chosen sizes with
`python -m bench.run --only queue --sizes 10000`.
"""

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.busy_desk import SECONDS, WARM_ROUNDS, load, load_while, warm_up
from bench.pages import gunicorn, probe
from tests import production
from tests.production import Browser, db_worker
from tests.test_import_job_workers import EDITOR, IMPORT, PASSWORD, SEED, press, status

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
COMPARED_UP_TO = 10_000  # the largest N also imported with `import_dump` for the rate's ratio
POLL = 1.0  # seconds between the job page's status requests, as an editor's open job page asks (import-job.js)
TARGET_RATE = 0.8
TARGET_P99 = 2.0
BACKGROUND_NICENESS = 10  # imports yield the CPU to readers: `make worker`, and cron's import_dump (docs/deploy.md)


def site_env(env, workdir):
    """The benchmark's environment as an admin behind a load balancer needs it, for dumps of any size."""
    return env | {
        "DJANGO_PROXY_COUNT": "1",  # the editor's browser speaks "HTTPS" through the load balancer
        "DJANGO_IMPORT_MAX_UPLOAD_MB": "2048",  # the 100,000-story dump is 680 MB
        "DJANGO_IMPORT_ROOT": str(Path(workdir) / "imports"),
    }


@contextlib.contextmanager
def readers_site(env, workdir, profile):
    """gunicorn and a worker on the database, readers' paths, and the idle readers' figures once warmed."""
    paths = Path(workdir) / "queue-paths.txt"
    paths.write_text("\n".join(probe(env, "section_and_stories")) + "\n")
    warm, seconds = SECONDS[profile]
    production.running_test_markers.add("production")  # what the test harness checks before starting processes
    with gunicorn(env) as base, db_worker(env, interval=0.1) as running:
        os.setpriority(os.PRIO_PROCESS, running.pid, BACKGROUND_NICENESS)  # as `make worker` runs it
        warm_up(base, paths, warm, 1 if profile == "tiny" else WARM_ROUNDS)
        yield base, paths, load(base, paths, seconds), running


def wait(editor, job_url, states, running):
    """Poll the job's status until it reaches one of `states`; a failed job or a dead worker ends the run."""
    while True:
        now = status(editor, job_url)
        if now["state"] in states:
            return now
        if now["state"] in ("failed", "cancelled") or running.poll() is not None:
            raise SystemExit(f"the import job stopped ({now['state']}):\n{now['html']}")
        time.sleep(POLL)


def admin_import(env, workdir, profile, dump, n):
    """Upload, dry run, confirm, import, as an editor; readers loaded throughout. Returns the figures."""
    subprocess.run([PYTHON, "manage.py", "shell", "-v0", "-c", SEED], cwd=ROOT, env=env, check=True)
    with readers_site(env, workdir, profile) as (base, paths, idle, running):
        editor = Browser(urlsplit(base).port)
        editor.log_in(EDITOR, PASSWORD)
        form = editor.form(IMPORT, having="dump")
        form.set("status", "published")
        with load_while(base, paths) as dry_readers:
            started = time.perf_counter()
            uploaded = editor.submit(form, files={"dump": (dump.name, dump.read_bytes())})
            if uploaded.status != 302:
                raise SystemExit(f"the upload failed ({uploaded.status}):\n{uploaded.text[:2000]}")
            upload = time.perf_counter() - started
            job_url = uploaded.location.removesuffix("change/")
            checked = wait(editor, job_url, {"awaiting"}, running)
            dry_run = time.perf_counter() - started - upload
        if f"would have created {n}," not in checked["html"]:
            raise SystemExit(f"the dry run did not find {n} new stories:\n{checked['html']}")
        with load_while(base, paths) as readers:
            started = time.perf_counter()
            press(editor, f"{job_url}change/", "confirm")
            done = wait(editor, job_url, {"done"}, running)
            seconds = time.perf_counter() - started
    if f"Imported: created {n}, updated 0" not in done["html"]:
        raise SystemExit(f"the import did not create {n} stories:\n{done['html']}")
    return {
        "phases": probe(env, "last_import_job"),
        "upload_seconds": upload,
        "dry_run_seconds": dry_run,
        "seconds": seconds,
        "stories_per_s": n / seconds,
        "idle": idle,
        "during_dry_run": dry_readers,
        "during": readers,
    }


def command_import(env, workdir, profile, dump, n):
    """`import_dump` of the same dump, with the same readers on an identical database."""
    with readers_site(env, workdir, profile) as (base, paths, idle, _):
        with load_while(base, paths) as readers:
            started = time.perf_counter()
            subprocess.run(
                [
                    "nice",
                    "-n",
                    str(BACKGROUND_NICENESS),
                    PYTHON,
                    "manage.py",
                    "import_dump",
                    str(dump),
                    "--status",
                    "published",
                ],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
            )
            seconds = time.perf_counter() - started
    return {"seconds": seconds, "stories_per_s": n / seconds, "idle": idle, "during": readers}


def readers_row(table, label, what, during, idle):
    """One row: readers' p99 during `what` against the idle p99, with errors and timeouts beside it."""
    ratio = during["p99_ms"] / idle["p99_ms"]
    failed = during["errors"] + during["timeouts"]
    table.add(
        f"{label}: readers' p99, {what}",
        f"{during['p99_ms']:.1f} ms",
        f"idle {idle['p99_ms']:.1f} ms",
        f"{ratio:.2f}x",
        f"<= {TARGET_P99:.0f}x" if what == "admin import" else "",
        (ratio <= TARGET_P99 and not failed) if what == "admin import" else None,
    )
    if failed:
        table.add(f"{label}: readers failed, {what}", f"{failed} of {during['requests']}", "", "", "0", False)


def bench_queue(table, kind, n, profile, workdir, database, dump_file):
    """The admin import of N stories on `database()` (a fresh one holding the corpus's first N stories),
    beside `import_dump` of the same dump on another (up to COMPARED_UP_TO)."""
    dump = dump_file(n, first=n)
    label = f"queue, {kind}, N={n:,}"
    admin = admin_import(site_env(database(), workdir), workdir, profile, dump, n)
    report = {"admin": admin}
    table.add(f"{label}: upload, {dump.stat().st_size / 1e6:,.1f} MB", f"{admin['upload_seconds']:.1f} s")
    table.add(f"{label}: dry run, upload to report", f"{admin['dry_run_seconds']:.1f} s")
    phases = admin["phases"]
    table.add(
        f"{label}: admin import, waiting + reading + writing",
        f"{admin['seconds']:.1f} s",
        " + ".join(f"{phases[phase]:.1f}" for phase in ["waiting", "reading", "writing"]) + " s",
    )
    if n > COMPARED_UP_TO:
        table.add(f"{label}: admin import completes", f"{admin['seconds']:.0f} s", "", "", "completes", True)
        table.add(f"{label}: admin import stories/s", f"{admin['stories_per_s']:,.0f}/s")
    else:
        command = report["import_dump"] = command_import(site_env(database(), workdir), workdir, profile, dump, n)
        ratio = admin["stories_per_s"] / command["stories_per_s"]
        table.add(
            f"{label}: admin import stories/s",
            f"{admin['stories_per_s']:,.0f}/s",
            f"import_dump {command['stories_per_s']:,.0f}/s",
            f"{ratio:.2f}",
            f">= {TARGET_RATE}",
            ratio >= TARGET_RATE,
        )
        report["ratio"] = ratio
    readers_row(table, label, "dry run", admin["during_dry_run"], admin["idle"])
    readers_row(table, label, "admin import", admin["during"], admin["idle"])
    if "import_dump" in report:
        readers_row(table, label, "import_dump", report["import_dump"]["during"], report["import_dump"]["idle"])
    return report
