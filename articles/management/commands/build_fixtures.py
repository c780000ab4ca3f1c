from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core import serializers
from django.core.management.base import BaseCommand, CommandError

from articles.dump import DumpError, parse
from articles.importer import Router, Slugs, build_article, caption_fields, record_hash, source_key
from articles.models import Article, Caption, Photo

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
# Fixed times make the output byte-identical on every run; the newest story comes first in the dump.
NEWEST = datetime(2025, 12, 22, 9, 0, tzinfo=UTC)


class Command(BaseCommand):
    help = "Regenerate fixtures/sample.json from fixtures/sample-dump.txt: the sample stories, published."

    def add_arguments(self, parser):
        parser.add_argument("--dump", default=FIXTURES / "sample-dump.txt", type=Path, help="The dump to read.")
        parser.add_argument("--output", default=FIXTURES / "sample.json", type=Path, help="The fixture to write.")

    def handle(self, *args, **options):
        with open(options["dump"], "rb") as stream:
            records = list(parse(stream, str(options["dump"].name)))
        errors = [r for r in records if isinstance(r, DumpError)]
        if errors:
            raise CommandError(str(errors[0]))
        route = Router()
        slugs = Slugs(check_database=False).allocate([r.headline for r in records])
        objects = []
        photo_pk = 0
        for pk, (record, slug) in enumerate(zip(records, slugs, strict=True), start=1):
            when = NEWEST - timedelta(hours=6 * (pk - 1))
            article = build_article(
                record,
                route(record),
                slug,
                source_key(record.headline),
                record_hash(record),
                Article.Status.PUBLISHED,
                when,
            )
            article.pk = pk
            objects.append(article)
            for credit, caption in caption_fields(record):
                photo_pk += 1
                photo = Photo(pk=photo_pk, credit=credit, created_at=when)
                objects += [photo, Caption(pk=photo_pk, article=article, photo=photo, **caption)]
        # Photos before the captions that point at them, so the fixture loads on PostgreSQL too.
        objects.sort(key=lambda o: [Article, Photo, Caption].index(type(o)))
        data = serializers.serialize("json", objects, indent=2, use_natural_foreign_keys=True, ensure_ascii=False)
        options["output"].write_text(data + "\n", encoding="utf-8")
        self.stdout.write(f"Wrote {len(records)} stories to {options['output']}")
