"""What the desk adds to an imported corpus, which dumps never carry: authors and their bylines, topics, and an
arranged home front. Run in a child process against the benchmark database, after the import:

    python -m bench.editorial           # prints what it added, as JSON

Bylines and topic links are millions of rows at 100,000 stories (10 authors and 20 topics a story), so they
are written with COPY (PostgreSQL) or executemany (SQLite), not as model objects; the page cache is then
told that everything changed (pagecache.content_changed), since no signal ran.
"""

import itertools
import json
import os
import time
from collections import namedtuple
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

from django.apps import apps  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from articles import pagecache  # noqa: E402
from articles.models import Article, Author, Byline, Front, FrontSlot  # noqa: E402

AUTHORS = 300  # the desk's writers: each has about 3,300 stories at 100,000, and one occasional writer
BYLINES_PER_STORY = 10
OCCASIONAL_STORIES = 5
TOPICS = 2_000
TOPICS_PER_STORY = 20
FRONT_SLOTS = 8  # after the lead
BATCH = 50_000


Topics = namedtuple("Topics", "topic link story_field topic_field")


def topic_models():
    """The Topic model and the link from stories to topics (with its two fields' names), or None while the
    project has no topics. Found by what they link, whatever the topics' code calls the link."""
    try:
        topic = apps.get_model("articles", "Topic")
    except LookupError:
        return None
    for link in apps.get_models(include_auto_created=True):
        fields = {f.related_model: f.name for f in link._meta.concrete_fields if f.many_to_one}
        if Article in fields and topic in fields:
            return Topics(topic, link, fields[Article], fields[topic])
    return None


def insert_rows(model, names, rows):
    """Insert rows of these fields into model's table, every other field at its default: with COPY on
    PostgreSQL (executemany took 100 s for a million bylines), executemany in batches on SQLite."""
    meta = model._meta
    others = [f for f in meta.concrete_fields if f.name not in names and not f.primary_key]
    fields = [meta.get_field(name) for name in names] + others
    defaults = tuple(f.get_db_prep_save(f.get_default(), connection) for f in others)
    quote = connection.ops.quote_name
    table = f"{quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)})"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((*row, *defaults))
            return
        sql = f"INSERT INTO {table} VALUES ({', '.join(['%s'] * len(fields))})"
        for batch in itertools.batched((((*row, *defaults)) for row in rows), BATCH):
            cursor.executemany(sql, batch)


def spread(story_ids, owners, per_story):
    """(story, owner, order) for every story: `per_story` distinct owners each, in turn around the pool, so each
    owner has as many stories as the next, spread over the whole archive."""
    for n, story in enumerate(story_ids):
        for order in range(per_story):
            yield story, owners[(n * per_story + order) % len(owners)], order


def add_bylines(story_ids):
    """Ten bylines a story from the pool of writers, and an occasional writer on five stories across the archive
    (an author whose few stories lie anywhere in the listing)."""
    Author.objects.bulk_create(
        Author(name=f"Bench Writer {n}", slug=f"bench-writer-{n}", bio="Writes for the bench.") for n in range(AUTHORS)
    )
    ids = list(Author.objects.filter(slug__startswith="bench-writer-").values_list("pk", flat=True))
    insert_rows(Byline, ["article", "author", "order"], spread(story_ids, ids, BYLINES_PER_STORY))
    occasional = Author.objects.create(name="Bench Occasional", slug="bench-occasional", bio="Writes now and then.")
    few = sorted({story_ids[n * len(story_ids) // OCCASIONAL_STORIES] for n in range(OCCASIONAL_STORIES)})
    insert_rows(Byline, ["article", "author", "order"], ((story, occasional.pk, BYLINES_PER_STORY) for story in few))
    return len(ids) + 1, len(story_ids) * BYLINES_PER_STORY + len(few)


def add_topics(story_ids):
    """20 topics a story from a pool of 2,000, when the project has topics (0, 0 before)."""
    models = topic_models()
    if models is None:
        return 0, 0
    topic = models.topic
    topic.objects.bulk_create(
        topic(name=f"Bench topic {n}", slug=f"bench-topic-{n}", description="A running story.") for n in range(TOPICS)
    )
    ids = list(topic.objects.filter(slug__startswith="bench-topic-").values_list("pk", flat=True))
    rows = ((story, owner) for story, owner, _ in spread(story_ids, ids, TOPICS_PER_STORY))
    insert_rows(models.link, [models.story_field, models.topic_field], rows)
    return len(ids), len(story_ids) * TOPICS_PER_STORY


def arrange_home(story_ids):
    """A live, approved home front: a lead and eight slots among the newest stories, three pinned for a day,
    and one story from deep in the archive (where no listing of the newest would find it)."""
    now = timezone.now()
    newest = list(Article.objects.published().newest_first().values_list("pk", flat=True)[: 2 * FRONT_SLOTS + 2])
    deep = story_ids[len(story_ids) // 10]  # the oldest tenth: past any page a reader reaches by paging
    picked = list(dict.fromkeys([newest[len(newest) // 2], *newest[1 : 2 * FRONT_SLOTS : 2], deep]))
    front = Front.objects.create(title="Bench front", live_from=now - timedelta(hours=1), approved=True)
    FrontSlot.objects.bulk_create(
        FrontSlot(
            front=front, article_id=story, order=order, pinned_until=now + timedelta(days=1) if order % 3 == 1 else None
        )
        for order, story in enumerate(picked[: FRONT_SLOTS + 1])
    )
    return min(len(picked), FRONT_SLOTS + 1)


@transaction.atomic
def furnish():
    started = time.perf_counter()
    story_ids = list(Article.objects.order_by("pk").values_list("pk", flat=True))
    authors, bylines = add_bylines(story_ids)
    topics, topic_links = add_topics(story_ids)
    slots = arrange_home(story_ids) if story_ids else 0
    pagecache.content_changed(everything=True)
    return {
        "authors": authors,
        "bylines": bylines,
        "topics": topics,
        "topic_links": topic_links,
        "front_slots": slots,
        "seconds": time.perf_counter() - started,
    }


if __name__ == "__main__":
    figures = furnish()
    if connection.vendor == "postgresql":  # as a large import ends: the planner must know the new tables' sizes
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(json.dumps(figures))
