from django.core.management.base import BaseCommand, CommandError

from articles.models import Photo
from articles.photos import renditions
from articles.photos.tasks import make_renditions


class Command(BaseCommand):
    help = (
        "Have the workers make the responsive renditions (every width, format and crop) of every photo with an "
        "image, replacing the files already in storage. Run it after changing PHOTO_RENDITION_WIDTHS or the "
        "rendering code, or after moving media to a new storage."
    )

    def add_arguments(self, parser):
        parser.add_argument("photos", nargs="*", type=int, metavar="ID", help="Only these photos (default: all).")
        parser.add_argument(
            "--missing", action="store_true", help="Only make the files that are not in storage; keep the others."
        )
        parser.add_argument(
            "--inline",
            action="store_true",
            help="Make them here, in this process, instead of queueing a task per photo for the workers.",
        )
        parser.add_argument(
            "--prune",
            action="store_true",
            help="Then delete rendition files no photo links to any more (older than an hour). Not with IDs.",
        )

    def handle(self, *args, **options):
        ids = options["photos"]
        if ids and options["prune"]:
            raise CommandError("--prune looks at every photo; run it without photo IDs")
        photos = Photo.objects.exclude(image="").order_by("pk")
        if ids:
            photos = photos.filter(pk__in=ids)
            if unknown := set(ids) - set(photos.values_list("pk", flat=True)):
                raise CommandError(f"no photo with an image has id {', '.join(map(str, sorted(unknown)))}")
        # No transaction: files cannot be rolled back, and each photo is marked done only after its files
        # are written, so an interrupted run is finished by running again with --missing.
        how = {"fill_gaps": options["missing"], "replace": not options["missing"]}
        done = files = 0
        for pk in photos.values_list("pk", flat=True).iterator(chunk_size=200):
            if options["inline"]:
                written = make_renditions.call(pk, **how)
                files += written
                if options["verbosity"] >= 2:
                    self.stdout.write(f"photo {pk}: {written} files")
            else:
                make_renditions.enqueue(pk, **how)
            done += 1
        if options["inline"]:
            self.stdout.write(self.style.SUCCESS(f"Renditions: {done} photos, {files} files written."))
        else:
            queued = f"Renditions: queued for {done} photos; the workers make them (manage.py db_worker)."
            self.stdout.write(self.style.SUCCESS(queued))
        if options["prune"]:
            deleted = renditions.prune(Photo._meta.get_field("image").storage, photos.iterator(chunk_size=200))
            if options["verbosity"] >= 2:
                self.stdout.write("\n".join(f"deleted {name}" for name in deleted))
            self.stdout.write(self.style.SUCCESS(f"Pruned {len(deleted)} files no photo links to."))
