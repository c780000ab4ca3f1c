import gzip
import hashlib
import logging
import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from articles.cache import content_changed
from articles.dump import parse
from articles.importer import ImportAborted, Importer
from articles.models import Article, Section

log = logging.getLogger("newsroom.import")
ANALYZE_AFTER = 1000  # stories written by one run


class Command(BaseCommand):
    help = (
        "Import wire stories from plain-text dumps. A run is one transaction: the first bad story stops it "
        "and nothing is written, unless --skip-invalid is given. Re-importing a dump changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "paths", nargs="+", metavar="PATH", help="Dump files (.txt or .gz), directories of them, or - for stdin."
        )
        parser.add_argument("--section", metavar="SLUG", help="Put every story in this section instead of routing.")
        parser.add_argument(
            "--status",
            choices=[Article.Status.DRAFT, Article.Status.PUBLISHED],
            default=Article.Status.DRAFT,
            help="Status of new stories (default: draft, for editors to review). Existing stories keep theirs.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Parse, validate and report; write nothing.")
        parser.add_argument(
            "--skip-invalid", action="store_true", help="Import the valid stories and list the invalid ones."
        )

    def handle(self, *paths, **options):
        section = None
        if options["section"]:
            try:
                section = Section.objects.get(slug=options["section"])
            except Section.DoesNotExist:
                known = ", ".join(Section.objects.values_list("slug", flat=True)) or "none yet"
                raise CommandError(f"unknown section {options['section']!r}; sections: {known}") from None
        files = list(expand(options["paths"]))
        try:
            importer = Importer(
                section=section,
                status=options["status"],
                dry_run=options["dry_run"],
                skip_invalid=options["skip_invalid"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        progress = Progress(self.stdout, options["verbosity"])
        run = {"files": [str(path) for path in files], "dry_run": options["dry_run"]}
        try:
            with transaction.atomic():
                for path in files:
                    with open_dump(path) as stream:
                        progress.reading(path, stream)
                        digest = "" if path == "-" else file_digest(path)
                        importer.run_file(parse(stream, str(path)), name=str(path), digest=digest, progress=progress)
        except ImportAborted as exc:
            progress.done()
            log.warning("import aborted: %s", exc.error, extra={**run, "error": str(exc.error)})
            raise CommandError(f"{exc.error} (nothing imported; --skip-invalid imports the valid stories)") from None
        progress.done()
        outcome = importer.outcome
        if not options["dry_run"]:
            content_changed(everything=True)  # bulk writes send no signals; cached pages must go once this commits
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
                "seconds": round(time.monotonic() - progress.started, 3),
            },
        )
        self.report(outcome, options)

    def report(self, outcome, options):
        for conflict in outcome.conflicts:
            self.stderr.write(f"conflict: {conflict}")
        for error in outcome.errors:
            self.stderr.write(f"skipped: {error}")
        prefix = "Dry run, nothing written: would have " if options["dry_run"] else ""
        self.stdout.write(prefix + outcome.summary())


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


def expand(paths):
    """Files to read, in a stable order; directories give their dump files."""
    for name in paths:
        if name == "-":
            yield "-"
            continue
        path = Path(name)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            if not found:
                raise CommandError(f"{path}: directory has no dump files")
            yield from found
        elif path.is_file():
            yield path
        else:
            raise CommandError(f"{path}: no such file or directory")


def file_digest(path):
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def open_dump(path):
    if path == "-":
        return _Unclosed(sys.stdin.buffer)
    try:
        raw = open(path, "rb")
        if raw.read(2) == b"\x1f\x8b":  # gzip magic, whatever the file is called
            raw.close()
            return gzip.open(path, "rb")
        raw.seek(0)
        return raw
    except OSError as exc:
        raise CommandError(f"{path}: {exc.strerror}") from None


class _Unclosed:
    """Standard input for a with-statement that must not close it."""

    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        return self.stream

    def __exit__(self, *exc):
        return False


class Progress:
    """A one-line progress report, shown only on a terminal."""

    def __init__(self, stdout, verbosity):
        self.stdout = stdout
        self.enabled = verbosity >= 1 and stdout.isatty()
        self.started = time.monotonic()
        self.shown = False

        self.file = None

    def reading(self, path, stream):
        """The file now being read: its share already read is shown when its size is known."""
        self.file = None
        if path != "-":
            raw = getattr(stream, "fileobj", stream)  # a gzip stream's position in the compressed file
            self.file = (Path(path).name, raw, max(Path(path).stat().st_size, 1))

    def __call__(self, outcome):
        if not self.enabled:
            return
        elapsed = max(time.monotonic() - self.started, 1e-6)
        where = ""
        if self.file:
            name, raw, size = self.file
            where = f"{name} {min(raw.tell() / size, 1):.0%}, "
        line = f"\r{where}{outcome.total:,} stories read ({outcome.total / elapsed:,.0f}/s)"
        self.stdout.write(line, ending="")
        self.stdout.flush()
        self.shown = True

    def done(self):
        if self.shown:
            self.stdout.write("")
