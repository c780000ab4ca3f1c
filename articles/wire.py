"""The wire drop folder: dumps land in a directory all day, and each is imported once it is complete.

`manage.py ingest_watch DIR` runs `DropFolder.watch()`; `--once` (for cron or a periodic task) runs one pass of
the same code. Each dump goes through `import_run`, like every other import, and then moves to DIR/done/ or
DIR/failed/ (with why beside it, in `<name>.reason.txt`); its WireDrop row is the history the admin shows.

Complete means: the name does not start with "." nor end in .part or .tmp, and the file has not changed (size,
modification time) for DROP_SETTLE_SECONDS as this watcher saw it, by its own clock: on a network share the
file times come from another machine's clock, which may be off by more than the settle time. A file that
appears under its final name just as the temporary file this watcher saw being uploaded disappears ("x.part",
"x.tmp", ".x", rsync's ".x.A1b2C3") was renamed into place, finished: it is taken at once.

Claims: a watcher takes a dump by renaming it into its own DIR/.processing-<host>-<pid>/. A rename is atomic on
a local disk and on a network share alike, so of two watchers, on one machine or two, one gets the file and
the other finds it gone. A watcher that dies leaves its claims there; a later pass of any watcher that knows
the owner is gone (PostgreSQL: the owner's session lock is free; SQLite, one machine: its pid has ended) puts
them back in DIR. Importing one of them again is harmless: the import ledger finds a dump that was committed
before the crash unchanged, and one that was not had written nothing (the import is one transaction).
"""

import contextlib
import logging
import os
import socket
import time
import zlib
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.utils import timezone

from .importer import ImportCollided, ImportFailed
from .imports import StoredDump, import_run, waiting_for_the_write_lock
from .models import WireDrop

log = logging.getLogger("newsroom.wire")
CLAIMS = ".processing-"
DONE, FAILED = "done", "failed"
REASON = ".reason.txt"
TEMPORARY_SUFFIXES = (".part", ".tmp")
LOCK_WAIT = 600  # seconds, on SQLite, for another import to finish writing (as import_dump)
WATCHER_LOCK = 0x57495245  # PostgreSQL advisory lock class ("WIRE") of the watchers' session locks


def is_temporary(name):
    return name.startswith(".") or name.endswith(TEMPORARY_SUFFIXES)


def renamed_from(name, temporary):
    """Whether `temporary` is a name uploaders write `name` under before renaming it into place."""
    return temporary in (f"{name}.part", f"{name}.tmp", f".{name}") or temporary.startswith(f".{name}.")


class DropFolder:
    def __init__(self, directory, *, status=None, settle=None):
        self.directory = Path(directory)
        self.status = status or settings.DROP_STATUS
        self.settle = settings.DROP_SETTLE_SECONDS if settle is None else settle
        self.owner = f"{socket.gethostname()}-{os.getpid()}"
        self.claims = self.directory / f"{CLAIMS}{self.owner}"
        self.seen = {}  # name -> ((size, mtime), when first seen so, by time.monotonic())
        self.temporaries = set()  # temporary names seen by the last look
        self.locked_on = None  # the database connection that holds this watcher's session lock
        self.stopping = False

    def watch(self, interval, report=None):
        """Pass after pass, `interval` seconds apart, until `stop()`."""
        while not self.stopping:
            for drop in self.scan():
                if report:
                    report(drop)
            deadline = time.monotonic() + interval
            while not self.stopping and time.monotonic() < deadline:
                time.sleep(min(0.2, interval))

    def once(self):
        """One pass, for cron: a dump not seen before is looked at again after the settle time."""
        if not self.tidy():
            return []
        self.look()
        if set(self.seen) - set(self.ready()):
            time.sleep(self.settle)
        return self.scan()

    def stop(self):
        """Finish the dump being imported, then stop (SIGTERM from the process manager)."""
        self.stopping = True

    def scan(self):
        """One pass: put back what dead watchers claimed, then import each complete dump; the WireDrops."""
        if not self.tidy():
            return []
        self.look()
        drops = []
        for name in self.ready():
            if self.stopping:
                break
            try:
                drop = self.take(name)
            except (OperationalError, InterfaceError) as exc:
                log.error("wire drop folder: database unavailable: %s", exc)
                connection.close()
                break
            if drop:
                drops.append(drop)
        with contextlib.suppress(OSError):  # left only by a watcher that died during an import
            self.claims.rmdir()
        return drops

    def tidy(self):
        """Hold this watcher's lock and put back what dead watchers claimed; False if the database is down."""
        try:
            self.hold_lock()
            self.recover()
        except (OperationalError, InterfaceError) as exc:
            log.error("wire drop folder: database unavailable: %s", exc)
            connection.close()  # reconnect on the next pass
            return False
        return True

    def look(self):
        """Note each file's size and modification time, and since when they are as they are."""
        now = time.monotonic()
        files, temporaries = {}, set()
        with os.scandir(self.directory) as entries:
            for entry in entries:
                if not entry.is_file(follow_symlinks=False):
                    continue
                if is_temporary(entry.name):
                    temporaries.add(entry.name)
                    continue
                try:
                    stat = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue  # taken by another watcher meanwhile
                files[entry.name] = (stat.st_size, stat.st_mtime_ns)
        renamed = self.temporaries - temporaries
        seen = {}
        for name, signature in files.items():
            before = self.seen.get(name)
            if before and before[0] == signature:
                seen[name] = before
            elif before is None and any(renamed_from(name, temporary) for temporary in renamed):
                seen[name] = (signature, float("-inf"))  # renamed into place: complete now
            else:
                seen[name] = (signature, now)
        self.seen, self.temporaries = seen, temporaries

    def ready(self):
        """The complete dumps, in name order (wire services number their files)."""
        now = time.monotonic()
        return sorted(name for name, (_, since) in self.seen.items() if now - since >= self.settle)

    def take(self, name):
        """Claim, import and file away one dump; None if another watcher claimed it first."""
        self.claims.mkdir(exist_ok=True)
        claimed = self.claims / name
        try:
            os.rename(self.directory / name, claimed)
        except FileNotFoundError:
            return None
        finally:
            self.seen.pop(name, None)
        drop = None
        try:
            with waiting_for_the_write_lock(LOCK_WAIT):  # SQLite: another watcher may be writing an import
                drop = WireDrop.objects.create(name=name, watcher=self.owner, location=str(claimed))
            outcome = import_run(
                # Stories and the ledger name the dump by its place in the drop folder, not the claim's.
                [StoredDump(FileSystemStorage(location=self.claims), name, str(self.directory / name))],
                status=self.status,
                lock_wait=LOCK_WAIT,
            )
        except ImportCollided as exc:
            # Another watcher imported a dump with some of the same stories at the same moment (PostgreSQL):
            # this one wrote nothing, and goes back to the folder to be taken again.
            log.warning("wire drop folder: %s: %s; taken again on a later pass", name, exc)
            self.put_back(claimed)
            drop.state = WireDrop.State.INTERRUPTED
            drop.reason = f"{exc} (the dump went back to the folder, to be taken again)"
            drop.location, drop.finished_at = str(self.directory), timezone.now()
            drop.save()
            return None
        except ImportFailed as exc:
            self.failed(drop, claimed, str(exc))
        except (OperationalError, InterfaceError) as exc:
            # The database, not the dump: the file goes back for a later pass.
            log.error("wire drop folder: %s: database unavailable, will try again: %s", name, exc)
            connection.close()
            self.put_back(claimed)
            if drop is not None:
                with contextlib.suppress(DatabaseError):
                    WireDrop.objects.filter(pk=drop.pk).update(
                        state=WireDrop.State.INTERRUPTED, reason=f"The database was unavailable: {exc}"
                    )
            return None
        except DatabaseError as exc:  # refused by the database (not its connection): retrying changes nothing
            log.exception("wire drop folder: %s was refused by the database", name)
            self.failed(drop, claimed, f"{self.directory / name}: the database refused it: {exc}")
        except (OSError, EOFError, zlib.error, ValueError) as exc:
            # What reading a strange file may raise beyond what import_run words itself; the watcher goes on.
            log.exception("wire drop folder: %s could not be read", name)
            self.failed(drop, claimed, f"{self.directory / name}: cannot be read: {exc}")
        else:
            drop.state = WireDrop.State.IMPORTED
            drop.stories_created, drop.stories_updated = outcome.created, outcome.updated
            drop.stories_unchanged, drop.conflicts = outcome.unchanged, len(outcome.conflicts)
            self.file_away(drop, claimed, DONE)
            log.info("wire drop folder: imported %s: %s", name, outcome.summary())
        return drop

    def failed(self, drop, claimed, reason):
        drop.state = WireDrop.State.FAILED
        drop.reason = reason
        self.file_away(drop, claimed, FAILED, reason)
        log.warning("wire drop folder: %s failed: %s", drop.name, reason)

    def file_away(self, drop, claimed, folder, reason=None):
        """Move the dump to done/ or failed/ (under a new name if one of that name is there already), the reason
        beside it, and record what became of it."""
        into = self.directory / folder
        into.mkdir(exist_ok=True)
        path = into / drop.name
        if path.exists():
            stem, dot, suffix = drop.name.partition(".")
            path = into / f"{stem}-{drop.pk}{dot}{suffix}"
        if reason is not None:
            path.with_name(path.name + REASON).write_text(reason + "\n", encoding="utf-8")
        try:
            os.rename(claimed, path)
        except FileNotFoundError:  # put back by a watcher that took this one for dead: it is imported again
            log.warning("wire drop folder: %s was taken away during its import", drop.name)
        drop.location = str(path)
        drop.finished_at = timezone.now()
        with waiting_for_the_write_lock(LOCK_WAIT):
            drop.save()

    def put_back(self, claimed):
        back = self.directory / claimed.name
        if back.exists():  # a new dump of the same name landed meanwhile: it is not overwritten
            back = self.directory / f"{claimed.name}.{int(time.time())}"
        try:
            os.rename(claimed, back)
        except FileNotFoundError:
            pass  # another watcher put it back first

    def recover(self):
        """Put the dumps that dead watchers had claimed back in the folder, to be taken again."""
        for claims in self.directory.glob(f"{CLAIMS}*"):
            owner = claims.name.removeprefix(CLAIMS)
            if owner == self.owner or not claims.is_dir() or self.alive(owner):
                continue
            for claimed in claims.iterdir():
                log.warning("wire drop folder: %s was claimed by %s, which has stopped: put back", claimed.name, owner)
                self.put_back(claimed)
            WireDrop.objects.filter(watcher=owner, state=WireDrop.State.IMPORTING).update(
                state=WireDrop.State.INTERRUPTED,
                reason="The watcher stopped during the import; the dump went back to the folder.",
                location=str(self.directory),
                finished_at=timezone.now(),
            )
            with contextlib.suppress(OSError):  # another watcher is emptying it too
                claims.rmdir()

    def hold_lock(self):
        """On PostgreSQL, hold a session lock named after this watcher for as long as its connection lives:
        other watchers, on any machine, learn from it whether this one is alive."""
        if connection.vendor != "postgresql":
            return
        connection.ensure_connection()
        if self.locked_on is not connection.connection:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [WATCHER_LOCK, lock_key(self.owner)])
                if not cursor.fetchone()[0]:  # two hosts of one name, or a 32-bit collision: say so, go on
                    log.warning("wire drop folder: another watcher holds %s's lock; claims may be put back", self.owner)
            self.locked_on = connection.connection

    def alive(self, owner):
        if connection.vendor == "postgresql":
            key = [WATCHER_LOCK, lock_key(owner)]
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
                if not cursor.fetchone()[0]:
                    return True
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)
            return False
        # SQLite serves one machine: a watcher of another is not ours to judge.
        host, _, pid = owner.rpartition("-")
        if host != socket.gethostname() or not pid.isdigit():
            return True
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True  # another user's process has that pid: alive, as far as we can tell
        return True


def lock_key(owner):
    """A 32-bit signed key for a watcher's name, for pg_advisory_lock(int, int)."""
    return zlib.crc32(owner.encode()) - (1 << 31)
