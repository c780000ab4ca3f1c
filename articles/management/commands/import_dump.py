import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from articles.importer import ImportAborted, ImportFailed
from articles.imports import import_run
from articles.models import Article, Section

# On SQLite, how long a run waits for another import to finish writing (requests wait the busy timeout only).
LOCK_WAIT = 600


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

    def handle(self, *args, **options):
        try:
            outcome = import_run(
                options["paths"],
                section=section_named(options["section"]),
                status=options["status"],
                dry_run=options["dry_run"],
                skip_invalid=options["skip_invalid"],
                progress=Progress(self.stdout, options["verbosity"]),
                lock_wait=LOCK_WAIT,
            )
        except ImportAborted as exc:
            raise CommandError(f"{exc.error} (nothing imported; --skip-invalid imports the valid stories)") from None
        except ImportFailed as exc:
            raise CommandError(str(exc)) from None
        self.report(outcome, dry_run=options["dry_run"])

    def report(self, outcome, *, dry_run):
        for conflict in outcome.conflicts:
            self.stderr.write(f"conflict: {conflict}")
        for error in outcome.errors:
            self.stderr.write(f"skipped: {error}")
        prefix = "Dry run, nothing written: would have " if dry_run else ""
        self.stdout.write(prefix + outcome.summary())


def section_named(slug):
    if not slug:
        return None
    try:
        return Section.objects.get(slug=slug)
    except Section.DoesNotExist:
        known = ", ".join(Section.objects.values_list("slug", flat=True)) or "none yet"
        raise CommandError(f"unknown section {slug!r}; sections: {known}") from None


class Progress:
    """A one-line progress report, shown only on a terminal."""

    def __init__(self, stdout, verbosity):
        self.stdout = stdout
        self.enabled = verbosity >= 1 and stdout.isatty()
        self.started = time.monotonic()
        self.shown = False
        self.file = None
        self.read = 0
        self.width = 0

    def reading(self, name, raw, size):
        """The file now being read: the share of it already read is shown when its size is known."""
        self.file = (Path(name).name, raw, max(size, 1)) if size is not None else None

    def __call__(self, read):
        """`read` stories (valid or not) have been read and checked so far."""
        if not self.enabled:
            return
        elapsed = max(time.monotonic() - self.started, 1e-6)
        where = ""
        if self.file:
            name, raw, size = self.file
            where = f"{name} {min(raw.tell() / size, 1):.0%}, "
        self.show(f"{where}{read:,} stories read ({read / elapsed:,.0f}/s)")
        self.read = read

    def writing(self):
        """Every story is read and checked; the run now writes them, in one transaction."""
        if self.enabled and self.shown:
            self.show(f"{self.read:,} stories read; writing them")

    def show(self, line):
        self.stdout.write(f"\r{line.ljust(self.width)}", ending="")  # padded over a longer line before it
        self.width = len(line)
        self.stdout.flush()
        self.shown = True

    def done(self):
        if self.shown:
            self.stdout.write("")
