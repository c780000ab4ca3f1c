"""Work that outlives a request, run by the workers (`manage.py db_worker`): the admin's import jobs.

A job's dry run and its import are each one task, the one import entry point (`import_run`) with a progress
callback that records how far it has read, stops the run if the job was cancelled (or taken from this worker),
and a thread that beats while the worker is alive, so that a job whose worker was killed is sent again
(recover_lost), then, lost too often, marked failed for an editor to run again. The import's own transaction means
a killed worker wrote nothing; the ledger and the importer's idempotence mean a run again ends as the first would.
"""

import logging
import threading
import time

from django.conf import settings
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.storage import storages
from django.db import DatabaseError, OperationalError, connection, transaction
from django.tasks import task
from django.utils import timezone

from .importer import ImportAborted, ImportFailed
from .imports import ImportCancelled, StoredDump, import_run
from .models import Article, ImportJob, worker_name
from .workflow import can_publish

log = logging.getLogger("newsroom.import")
PROGRESS_EVERY = 0.5  # seconds between two progress writes


def send(job):
    """Queue the job's current attempt once the transaction that queued it commits."""

    def enqueue():
        result = run_import_job.enqueue(job.pk, job.attempt)
        ImportJob.objects.filter(pk=job.pk, attempt=job.attempt).update(task_id=result.id)

    transaction.on_commit(enqueue)


def queue(job, *, state, only_from, **fields):
    """Send the job's next attempt to the workers, if no one else has moved it on meanwhile. Returns whether
    it was sent."""
    moved = ImportJob.objects.filter(pk=job.pk, state=only_from, attempt=job.attempt).update(
        state=state,
        attempt=job.attempt + 1,
        stories_read=0,
        bytes_read=0,
        started_at=None,
        writing_at=None,
        **fields,
    )
    if moved:
        job.refresh_from_db()
        send(job)
    return bool(moved)


def again(job):
    """The queued state that runs the job's current step again: its dry run, or its import once confirmed."""
    return ImportJob.State.DRY_RUN_QUEUED if job.dry_run else ImportJob.State.IMPORT_QUEUED


def recover_lost(jobs=None):
    """Jobs whose worker stopped mid-run (killed, out of memory, its machine restarted) are sent again, so an
    import outlives a deploy that kills workers; a job lost IMPORT_JOB_LOST_RETRIES times (it may be what kills
    them) is marked failed, for an editor to run again. Every worker sweeps (sweep_lost_jobs), and so does the
    admin when the jobs are looked at."""
    for job in (jobs if jobs is not None else ImportJob.objects.all()).lost():
        lost = {"times_lost": job.times_lost + 1, "worker": ""}
        if job.times_lost < settings.IMPORT_JOB_LOST_RETRIES:
            queue(job, state=again(job), only_from=job.state, **lost)
        else:
            ImportJob.objects.filter(pk=job.pk, attempt=job.attempt, state=job.state).update(
                state=ImportJob.State.FAILED,
                retryable=True,
                finished_at=timezone.now(),
                error=f"The worker running this job stopped before it finished, {job.times_lost + 1} times (it was "
                "killed, or its machine restarted); nothing was imported by it. Run it again.",
                **lost,
            )


def sweep_lost_jobs():
    """A thread in each worker process (started by ArticlesConfig.ready): lost jobs are found when a worker
    starts (one restarted by its process manager resumes its own job), then every IMPORT_JOB_STALE_SECONDS."""

    def sweep():
        while True:
            try:
                recover_lost()
            except DatabaseError:  # not migrated yet, the database restarting, SQLite's lock: next time
                log.warning("could not look for lost import jobs", exc_info=True)
            finally:
                connection.close()  # this thread's own
            time.sleep(settings.IMPORT_JOB_STALE_SECONDS)

    threading.Thread(target=sweep, name="sweep-lost-import-jobs", daemon=True).start()


@task
def run_import_job(job_id, attempt):
    """Run one attempt of a job: its dry run, or its import once confirmed."""
    job = ImportJob.objects.claim(job_id, attempt, worker=worker_name())
    if job is None:
        return "not this attempt's to run"
    mine = ImportJob.objects.filter(pk=job.pk, attempt=job.attempt, state=job.state)
    if job.stories_status == Article.Status.PUBLISHED and not (job.user and can_publish(job.user)):
        fail(job, mine, "Only an editor may import stories as published; nothing was imported.")
        return "failed"
    with Heartbeat(mine):
        try:
            outcome = import_run(
                [StoredDump(storages["imports"], job.file, name=job.name)],
                section=job.section,
                status=job.stories_status,
                dry_run=job.dry_run,
                skip_invalid=job.skip_invalid,
                progress=JobProgress(mine, job.dry_run),
                user=job.user,
            )
        except ImportCancelled:
            if mine.update(state=ImportJob.State.CANCELLED, finished_at=timezone.now()):
                forget_upload(job)
            return "cancelled"
        except ImportAborted as exc:
            skip = "fix the dump, or upload it again with “skip invalid” ticked to import the valid stories"
            fail(job, mine, f"{exc.error}. Nothing was imported: {skip}.")
            return "failed"
        except ImportFailed as exc:
            fail(job, mine, f"Nothing was imported: {exc}.")
            return "failed"
        except Exception:
            log.exception("import job %s failed", job.pk)
            fail(job, mine, "Something went wrong in the worker; nothing was imported. Run it again.", retry=True)
            raise
    report = {
        "summary": outcome.summary(),
        "created": outcome.created,
        "updated": outcome.updated,
        "unchanged": outcome.unchanged,
        "conflicts": [str(conflict) for conflict in outcome.conflicts],
        "errors": [str(error) for error in outcome.errors],
    }
    finished = {"report": report, "finished_at": timezone.now(), "stories_read": outcome.total}
    if job.dry_run:
        mine.update(state=ImportJob.State.AWAITING_CONFIRMATION, stories_total=outcome.total, **finished)
        return report["summary"]
    with transaction.atomic():
        finished_here = mine.update(state=ImportJob.State.DONE, **finished)
        if finished_here and job.user:
            LogEntry.objects.create(
                user=job.user,
                content_type=ContentType.objects.get_for_model(Article),
                object_repr=str(job)[:200],
                action_flag=ADDITION,
                change_message=f"Imported {job.name}: {outcome.summary()}",
            )
    if finished_here:
        forget_upload(job)
    return report["summary"]


def fail(job, mine, error, retry=False):
    """Say why, in the editor's words; the upload is kept only for a job that may be run again."""
    if mine.update(state=ImportJob.State.FAILED, error=error, retryable=retry, finished_at=timezone.now()):
        if not retry:
            forget_upload(job)


def forget_upload(job):
    storages["imports"].delete(job.file)


class JobProgress:
    """import_run's progress callback: stories and bytes read, written to the job at most every
    PROGRESS_EVERY seconds; a job cancelled, or no longer this attempt's, stops the run."""

    def __init__(self, mine, dry_run):
        self.mine, self.dry_run = mine, dry_run
        self.raw, self.size = None, 0
        self.last = 0

    def reading(self, name, raw, size):
        self.raw, self.size = raw, size or 0

    def __call__(self, read):
        if time.monotonic() - self.last >= PROGRESS_EVERY:
            self.record(stories_read=read, bytes_read=self.position())

    def position(self):
        try:
            return self.raw.tell()
        except ValueError:  # closed by the parser, having read it to the end
            return self.size

    def writing(self):
        """Every story is read; an import now writes them (a dry run only counts what it would do)."""
        self.record(**({"bytes_read": self.size} if self.dry_run else {"writing_at": timezone.now()}))

    def record(self, **fields):
        self.last = time.monotonic()
        try:
            still_mine = self.mine.filter(cancel_requested=False).update(**fields)
        except OperationalError:  # on SQLite, another import is writing: report progress next time
            return
        if not still_mine:
            raise ImportCancelled("cancelled")

    def done(self):
        pass


class Heartbeat:
    """A thread that stamps the job every IMPORT_JOB_HEARTBEAT_SECONDS while its worker lives, whatever the
    import is doing (the write is one long statement sequence that calls nothing back)."""

    def __init__(self, mine):
        self.mine = mine
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.beat, daemon=True)

    def __enter__(self):
        self.thread.start()

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    def beat(self):
        try:
            while not self.stop.wait(settings.IMPORT_JOB_HEARTBEAT_SECONDS):
                try:
                    self.mine.update(heartbeat_at=timezone.now())
                except OperationalError:  # SQLite's write lock, held by the import itself: the pid tells
                    pass
        finally:
            connection.close()  # this thread's own
