"""The import floor: a plain bulk_create of the same article rows, timed alone, then rolled back.

python -m bench.floor DUMP   (prints JSON: rows, seconds)
"""

import json
import os
import sys
import time


def main(path):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
    import django

    django.setup()
    from itertools import islice

    from django.db import transaction
    from django.utils import timezone

    from articles.dump import parse
    from articles.importer import BATCH_SIZE, build_article, record_hash, source_key
    from articles.models import Article, Section

    section = Section.objects.get(is_default=True)
    now = timezone.now()
    rows, seconds = 0, 0.0
    with open(path, "rb") as stream, transaction.atomic():
        records = parse(stream, path)
        while batch := list(islice(records, BATCH_SIZE)):
            articles = [
                build_article(r, section, f"floor-{rows + i}", source_key(r.headline), record_hash(r), "draft", now)
                for i, r in enumerate(batch)
            ]
            started = time.perf_counter()
            Article.objects.bulk_create(articles)
            seconds += time.perf_counter() - started
            rows += len(articles)
        transaction.set_rollback(True)
    print(json.dumps({"rows": rows, "seconds": seconds}))


if __name__ == "__main__":
    main(sys.argv[1])
