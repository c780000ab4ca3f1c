"""An import run: the one way dumps reach the database, for `manage.py import_dump` and the admin's Import page.

`import_run` reads the dumps (files, directories of them, standard input, uploads kept in a storage; plain
or gzip), skips a file the ledger knows unchanged, writes everything in one transaction, then tells the page
cache, so that readers see the new stories whichever way they came in. Callers only turn options into
arguments and the Outcome (or ImportFailed) into words for their user.

The run reads and checks every story before it starts writing, and keeps them (pickled, in a temporary file
past a few megabytes) until then: on SQLite the writing transaction holds the database's only write lock,
which editors' saves wait for, so it must not also wait for the parser; a bad story stops the run before
anything is written.
"""

import contextlib
import gzip
import hashlib
import io
import logging
import pickle
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from .dump import KB, MB, Limits, parse
from .importer import ImportAborted, ImportCollided, Importer, ImportFailed, Outcome
from .models import Article
from .pagecache import stories_changed
from .webhooks import stories_touched

log = logging.getLogger("newsroom.import")
ANALYZE_AFTER = 1000  # stories written by one run
GZIP_MAGIC = b"\x1f\x8b"
SPOOL_MEMORY = 16 * MB  # prepared stories kept in memory before they go to a temporary file


def import_run(
    sources,
    *,
    section=None,
    status=Article.Status.DRAFT,
    dry_run=False,
    skip_invalid=False,
    progress=None,
    user=None,
    lock_wait=None,
):
    """Import dumps in one transaction and return the Outcome.

    `sources` are paths (files or directories, "-" for standard input) or StoredDump uploads. Raises
    ImportFailed, having written nothing, for a source that cannot be read, a database without sections,
    or (ImportAborted) the first bad story unless `skip_invalid`. `progress`, if given, is told which file
    is being read (`reading(name, raw_stream, size)`), called with the number of stories read after each
    batch, told when writing starts (`writing()`, if it has that method), and `done()`; it stops the run by
    raising ImportCancelled (every call but `done()` comes before the transaction). On SQLite the run
    waits up to `lock_wait` seconds for the write lock (another import writing), by default as long as any
    write does (the settings' busy timeout: a request must not wait longer).
    """
    started = time.monotonic()
    dumps = list(expand(sources))
    run = {"files": [dump.name for dump in dumps], "dry_run": dry_run, "user": user.pk if user else None}
    importer = Importer(section=section, status=status, dry_run=dry_run, skip_invalid=skip_invalid, user=user)
    limits = import_limits()
    prepared = []
    try:
        for dump in dumps:
            prepared.append(prepare(importer, dump, limits, progress))
        if progress and hasattr(progress, "writing"):
            progress.writing()
        writing = time.monotonic()
        # A dry run writes nothing, so it needs no transaction (which on SQLite would take the write lock).
        writes = contextlib.ExitStack()
        if not dry_run:
            writes.enter_context(waiting_for_the_write_lock(lock_wait))
            writes.enter_context(transaction.atomic())
        with writes:
            for dump, digest, spool, tally in prepared:
                # The ledger said unchanged (no spool): if no longer, the file is read now, inside the transaction.
                batches = read(importer, dump, limits, tally) if spool is None else spool
                importer.write_file(batches, tally, name=dump.name, digest=digest)
        writing = time.monotonic() - writing
    except ImportAborted as exc:
        log.warning("import aborted: %s", exc.error, extra={**run, "error": str(exc.error)})
        raise
    except IntegrityError as exc:
        # Another run wrote the same stories meanwhile (two imports of one dump wait for each other instead:
        # Importer.write_file); this run wrote nothing, and running it again finds them.
        log.warning("import collided with another: %s", exc, extra=run)
        raise ImportCollided(
            "another import wrote some of the same stories at the same time; nothing was imported, run it again"
        ) from None
    finally:
        for _, _, spool, _ in prepared:
            if spool is not None:
                spool.close()
        if progress:
            progress.done()
    outcome = importer.outcome
    if outcome.wrote:
        # Committed by now (unless a caller's own transaction is still open: the bump then waits for it).
        # Bulk writes send no signals, so nothing else tells the page cache.
        stories_changed([*outcome.created_ids, *outcome.updated_ids])
        stories_touched([*outcome.created_ids, *outcome.updated_ids])  # webhooks: in batches, by the workers
        if outcome.created + outcome.updated >= ANALYZE_AFTER:
            refresh_planner_statistics()
    log.info(
        "import finished: %s",
        outcome.summary(),
        extra={
            **run,
            "stories": {
                "created": outcome.created,
                "updated": outcome.updated,
                "unchanged": outcome.unchanged,
                "conflicts": len(outcome.conflicts),
                "errors": len(outcome.errors),
            },
            "seconds": round(time.monotonic() - started, 3),
            "writing_seconds": round(writing, 3),  # on SQLite, how long editors' saves had to wait at most
        },
    )
    return outcome


class ImportCancelled(ImportFailed):
    """Raised by a run's progress callback (the admin's import jobs: a cancel, or the job taken from this
    worker), before anything is written."""


def prepare(importer, dump, limits, progress=None):
    """Read and check one dump, outside any transaction: (dump, its digest, a Spool of its Ready batches, the
    tally of its duplicates and invalid stories). The Spool is None for a file the ledger knows unchanged."""
    tally = Outcome()
    digest = dump.digest()
    if digest and importer.known_unchanged(digest):
        return dump, digest, None, tally
    spool = Spool()
    try:
        for batch in read(importer, dump, limits, tally, progress):
            spool.add(batch)
    except BaseException:
        spool.close()
        raise
    return dump, digest, spool, tally


def read(importer, dump, limits, tally, progress=None):
    """Read, parse and check one dump (plain or gzip), a batch of Ready stories at a time."""
    with dump.open() as raw:
        if progress:
            progress.reading(dump.name, raw, dump.size())
        for batch in importer.prepare(parse(decompressed(raw), dump.name, limits), tally):
            yield batch
            if progress:
                progress(importer.read)


class Spool:
    """Prepared batches kept until the write: in memory up to SPOOL_MEMORY bytes, then in a temporary file, so
    that memory stays flat however large the run. Pickle is safe here: this process wrote what it reads."""

    def __init__(self):
        self.file = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)

    def add(self, batch):
        pickle.dump(batch, self.file, protocol=pickle.HIGHEST_PROTOCOL)

    def __iter__(self):
        self.file.seek(0)
        while True:
            try:
                yield pickle.load(self.file)
            except EOFError:
                return

    def close(self):
        self.file.close()


@contextlib.contextmanager
def waiting_for_the_write_lock(seconds):
    """On SQLite, wait up to `seconds` (None: the busy timeout) for the write lock that a transaction takes."""
    if seconds is None or connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        usual = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {usual}")


def import_limits():
    """The parser's limits, from the settings (DJANGO_IMPORT_MAX_LINE_KB, ..._STORY_KB, ..._DUMP_MB)."""
    return Limits(
        line=settings.IMPORT_MAX_LINE_KB * KB,
        story=settings.IMPORT_MAX_STORY_KB * KB,
        dump=settings.IMPORT_MAX_DUMP_MB * MB,
    )


def refresh_planner_statistics():
    """After a large import, bring PostgreSQL's bookkeeping up to date now rather than at autovacuum's next
    pass: with stale statistics the planner picks sequential scans for the section listings, and until
    VACUUM marks the new rows all-visible, counting a section and skipping to a deep page read the table
    instead of the listing index alone (index-only scans). VACUUM cannot run inside a transaction: a
    caller's open transaction (the tests, a script) gets ANALYZE alone."""
    if connection.vendor == "postgresql":
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        with connection.cursor() as cursor:
            cursor.execute(f"{command} articles_article, articles_photo, articles_caption")


def expand(sources):
    """The dumps to read, in a stable order; a directory gives its files."""
    for source in sources:
        if isinstance(source, StoredDump):
            yield source
        elif source == "-":
            yield StandardInput()
        elif (path := Path(source)).is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            if not found:
                raise ImportFailed(f"{path}: directory has no dump files")
            yield from map(DumpFile, found)
        elif path.is_file():
            yield DumpFile(path)
        else:
            raise ImportFailed(f"{path}: no such file or directory")


def decompressed(raw):
    """The dump's bytes from a binary stream, gunzipped if they are gzip: known by content, whatever the name."""
    buffered = raw if hasattr(raw, "peek") else io.BufferedReader(raw)
    return gzip.GzipFile(fileobj=buffered) if buffered.peek(2)[:2] == GZIP_MAGIC else buffered


def sha256(stream):
    digest = hashlib.sha256()
    while chunk := stream.read(1 << 20):
        digest.update(chunk)
    return digest.hexdigest()


class DumpFile:
    def __init__(self, path):
        self.path = path
        self.name = str(path)

    def open(self):
        try:
            return open(self.path, "rb")
        except OSError as exc:
            raise ImportFailed(f"{self.path}: {exc.strerror}") from None

    def digest(self):
        with open(self.path, "rb") as stream:
            return sha256(stream)

    def size(self):
        return self.path.stat().st_size


class StandardInput:
    """Read once, so neither recorded in the ledger nor checked against it."""

    name = "-"

    def open(self):
        return contextlib.nullcontext(sys.stdin.buffer)  # not ours to close

    def digest(self):
        return ""

    def size(self):
        return None


class StoredDump:
    """A dump kept in a Django storage (the admin's uploads), imported under the name it was uploaded as."""

    def __init__(self, storage, path, name):
        self.storage = storage
        self.path = path
        self.name = name

    def open(self):
        return self.storage.open(self.path, "rb")

    def digest(self):
        with self.storage.open(self.path, "rb") as stream:
            return sha256(stream)

    def size(self):
        return self.storage.size(self.path)
