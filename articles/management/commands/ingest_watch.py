import signal
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from articles.models import Article, WireDrop
from articles.wire import DropFolder


class Command(BaseCommand):
    help = (
        "Watch the wire drop folder: import each dump that lands in DIR once it is complete (unchanged for "
        "NEWSROOM_DROP_SETTLE_SECONDS, or renamed into place), then move it to DIR/done/ or DIR/failed/ with "
        "the reason beside it. Runs until stopped (SIGTERM finishes the dump being imported first); any number "
        "of watchers may share the folder."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", metavar="DIR", help="The drop folder.")
        parser.add_argument("--once", action="store_true", help="Make one pass and exit (for cron or a periodic task).")
        parser.add_argument(
            "--status",
            choices=[Article.Status.DRAFT, Article.Status.PUBLISHED],
            help=f"Status of new stories (default: NEWSROOM_DROP_STATUS, now {settings.DROP_STATUS}).",
        )
        parser.add_argument(
            "--interval", type=float, default=2.0, help="Seconds between looks at the folder (default: 2)."
        )

    def handle(self, *args, **options):
        directory = Path(options["directory"])
        if not directory.is_dir():
            raise CommandError(f"{directory}: no such directory")
        folder = DropFolder(directory, status=options["status"])
        self.verbosity = options["verbosity"]
        if options["once"]:
            for drop in folder.once():
                self.report(drop)
            return
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: folder.stop())
        if self.verbosity >= 1:
            self.stdout.write(f"Watching {directory} (settle {folder.settle:g} s, new stories {folder.status})")
            self.stdout.flush()
        folder.watch(options["interval"], report=self.report)

    def report(self, drop):
        if drop.state == WireDrop.State.FAILED:
            self.stderr.write(f"failed: {drop.name}: {drop.reason}")
        elif self.verbosity >= 1:
            self.stdout.write(
                f"imported {drop.name}: created {drop.stories_created}, updated {drop.stories_updated}, "
                f"unchanged {drop.stories_unchanged}, conflicts {drop.conflicts}"
            )
        self.stdout.flush()
