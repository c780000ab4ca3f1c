"""Write parsed stories to the database in batches, and say what happened to each.

Two steps: `prepare` checks a file's records and gets them ready (keys, hashes, sections, publication
problems) without touching the database, and `write_file` writes them. The caller owns the transaction
(`articles.imports.import_run` prepares a whole run first, then writes it in one), so a failure anywhere
leaves the database as it was. Stories are recognised by a key derived from the headline; the hash of the
text as imported tells "changed at the source" from "changed by an editor".
"""

import hashlib
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import islice
from typing import NamedTuple

from django.db import connection, reset_queries
from django.db.models import F, Q
from django.db.models.expressions import DatabaseDefault
from django.utils import timezone
from django.utils.text import slugify

from .dump import DumpError, StoryRecord
from .models import (
    Article,
    Caption,
    ImportedDump,
    Photo,
    RoutingRule,
    Section,
    StoryTopic,
    TopicRule,
    content_hash,
)
from .workflow import may_change, may_change_photo, publication_problems

BATCH_SIZE = 500
SLUG_LENGTH = 80
SOURCE_NAME_LENGTH = 255


WORD = re.compile(r"\w+")


def words(text):
    return WORD.findall(text.casefold())


def source_key(headline):
    return hashlib.sha256(headline.casefold().encode()).hexdigest()[:40]


def record_hash(record):
    return content_hash(record.headline, [(c.text, c.credit) for c in record.captions], record.paragraphs)


class Router:
    """Choose a section for a story from the routing rules (keyword to section), and its topics from the topic
    rules (keyword to topic).

    Keywords are matched as whole words, case-insensitively: the text is split into words once and each
    word (with the run it starts, for multi-word keywords) looked up in a dict, so it stays fast however
    many rules there are.
    """

    HEADLINE_WEIGHT = 5
    CAPTION_WEIGHT = 2

    def __init__(self, section=None):
        self.fixed = section
        self.default = section or Section.objects.filter(is_default=True).first()
        self.sections = defaultdict(list)  # normalised keyword -> [(section, weight)]
        for rule in [] if section else RoutingRule.objects.select_related("section"):
            self.sections[" ".join(words(rule.keyword))].append((rule.section, rule.weight))
        # A story's topics come from their keywords whatever its section (--section too).
        self.topics = defaultdict(set)  # normalised keyword -> {topic id}
        for keyword, topic_id in TopicRule.objects.values_list("keyword", "topic_id"):
            self.topics[" ".join(words(keyword))].add(topic_id)
        # First words of multi-word keywords ("west" for "West Bank"): only they start a longer lookup.
        self.openers = defaultdict(set)
        for key in [*self.sections, *self.topics]:
            first, _, rest = key.partition(" ")
            if rest:
                self.openers[first].add(rest.count(" ") + 2)

    def __call__(self, record):
        if self.fixed or not self.sections:
            return self.default
        scores = Counter()
        for key, weight in self.keywords(record, self.sections):
            for section, rule_weight in self.sections[key]:
                scores[section] += weight * rule_weight
        if scores:
            return max(scores, key=lambda s: (scores[s], -s.order))
        return self.default

    def topic_ids(self, record):
        """The ids of the topics whose keywords the story has, in order."""
        return sorted({topic_id for key, _ in self.keywords(record, self.topics) for topic_id in self.topics[key]})

    def keywords(self, record, rules):
        """(keyword, weight) for each whole-word match of one of `rules`' keywords in the story's headline,
        captions and first paragraphs, as often as it occurs."""
        if not rules:
            return
        for text, weight in [
            (record.headline, self.HEADLINE_WEIGHT),
            (" ".join(c.text for c in record.captions), self.CAPTION_WEIGHT),
            (" ".join(record.paragraphs[:3]), 1),
        ]:
            tokens = words(text)
            keys = [token for token in tokens if token in rules]
            keys += [
                " ".join(tokens[start : start + size])
                for start, token in enumerate(tokens)
                if token in self.openers
                for size in self.openers[token]
            ]
            yield from ((key, weight) for key in keys if key in rules)


@dataclass
class Outcome:
    """What a run did (or, on a dry run, would do), story by story.

    The ids say which stories were written, for the page cache (which finds their sections itself). A dry
    run counts but writes no ids.
    """

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    created_ids: list = field(default_factory=list)
    updated_ids: list = field(default_factory=list)

    @property
    def wrote(self):
        return bool(self.created_ids or self.updated_ids)

    @property
    def total(self):
        return self.created + self.updated + self.unchanged + len(self.conflicts) + len(self.errors)

    def summary(self):
        return (
            f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}, "
            f"conflicts {len(self.conflicts)}, errors {len(self.errors)}"
        )


class Ready(NamedTuple):
    """A story checked and ready to write: its key and hash, the section it goes to if new (None on a dry run
    of drafts, which routes nothing), what stops it from being published (None unless imported as published),
    and the topics its keywords give it (none on a dry run). Prepared before the run takes the database's write
    lock, and kept (pickled) until then."""

    key: str
    record: StoryRecord
    digest: str
    section_id: int | None
    problems: list | None
    topic_ids: tuple = ()


class ImportFailed(Exception):
    """A run that wrote nothing: its message, `file:line: problem` where there is a line, is for the person
    who started it."""


class ImportCollided(ImportFailed):
    """Another run wrote some of the same stories at the same time: this one wrote nothing, and running it
    again imports it."""


class ImportAborted(ImportFailed):
    """The first bad story of a run that does not skip invalid ones."""

    def __init__(self, error):
        super().__init__(str(error))
        self.error = error


class Importer:
    def __init__(self, *, section=None, status=Article.Status.DRAFT, dry_run=False, skip_invalid=False, user=None):
        if section is None and not Section.objects.exists():
            raise ImportFailed("there are no sections yet; create one or run the migrations")
        self.route = Router(section)
        if self.route.default is None:
            raise ImportFailed("no default section: mark one section as the default in the admin")
        self.status = status
        self.dry_run = dry_run
        self.skip_invalid = skip_invalid
        self.user = user  # who runs the import (the admin's Import page); None: import_dump, an operator's
        self.outcome = Outcome()
        # Every story of the run, to catch one given twice: source key -> (hash, file, line), kept in bytes
        # (and the file name shared by its stories) because it grows with the dump.
        self.seen = {}
        self.digest = ""  # of the file being imported
        self.read = 0  # stories (and invalid ones) prepared so far
        self.slugs = Slugs()

    def write_file(self, batches, tally, *, name, digest):
        """Write one dump file's prepared batches (from `prepare`, which counts its duplicates and invalid
        stories in `tally`). A byte-identical file that was imported before, all of whose stories still carry
        its digest, is skipped: asked here, inside the writing transaction, as a run that imported it
        meanwhile has committed by now (`lock_dump`)."""
        if digest and not self.dry_run:
            lock_dump(digest)
        if digest and (stories := self.known_unchanged(digest)):
            self.outcome.unchanged += stories
            return
        self.digest = digest
        created, updated, total = self.outcome.created, self.outcome.updated, self.outcome.total
        for ready in batches:
            self._write_batch(ready)
            reset_queries()  # with DEBUG on, Django keeps every query: memory would grow with the dump
        # After the batches: a file read only now (see import_run) counts as it is read.
        self.outcome.unchanged += tally.unchanged
        self.outcome.errors += tally.errors
        created, updated = self.outcome.created - created, self.outcome.updated - updated
        total = self.outcome.total - total
        if digest and not self.dry_run and total and created + updated == total:
            ImportedDump.objects.update_or_create(digest=digest, defaults={"name": stored_name(name), "stories": total})

    def known_unchanged(self, digest):
        """The number of stories of a file the ledger says needs no reading (all still carry its digest), or 0.
        Asked before the run reads the file, and again by write_file, which decides."""
        dump = ImportedDump.objects.filter(digest=digest).first()
        if dump is not None and Article.objects.filter(source_digest=digest).count() == dump.stories:
            return dump.stories
        return 0

    def prepare(self, items, tally):
        """Check records and get them ready to write, without the database: yield lists of Ready stories, a
        batch at a time. A bad story raises ImportAborted here, before anything is written (unless
        skip_invalid: then it goes into `tally`, an Outcome, with the stories given twice)."""
        items = iter(items)
        while batch := self._next_batch(items):
            self.read += len(batch)
            yield self._prepare_batch(batch, tally)

    def _next_batch(self, items):
        """Up to BATCH_SIZE items; a run that stops at the first bad story ends the batch there, so as not to
        read on (perhaps a gigabyte) before stopping."""
        if self.skip_invalid:
            return list(islice(items, BATCH_SIZE))
        batch = []
        for item in items:
            batch.append(item)
            if len(batch) == BATCH_SIZE or isinstance(item, DumpError):
                break
        return batch

    def _reject(self, error, tally=None):
        if error.fatal:  # the rest of the file is unreadable: --skip-invalid would import a truncated dump
            raise ImportFailed(str(error))
        if not self.skip_invalid:
            raise ImportAborted(error)
        (tally or self.outcome).errors.append(error)

    def _prepare_batch(self, batch, tally):
        ready = []
        for item in batch:
            if isinstance(item, DumpError):
                self._reject(item, tally)
                continue
            key = source_key(item.headline)
            digest = record_hash(item)
            compact = bytes.fromhex(key)
            if compact in self.seen:
                first_hash, first_source, first_line = self.seen[compact]
                if first_hash != bytes.fromhex(digest):
                    self._reject(
                        DumpError(
                            item.source,
                            item.line,
                            f"headline already used by a different story at {first_source}:{first_line}",
                            headline=item.headline,
                        ),
                        tally,
                    )
                else:
                    tally.unchanged += 1
                continue
            self.seen[compact] = (bytes.fromhex(digest), item.source, item.line)
            # Routed and checked against the publication rules here, where it costs no one the write lock;
            # only new stories use them (an update keeps its section and status).
            section = problems = None
            if self.status == Article.Status.PUBLISHED or not self.dry_run:
                section = self.route(item)
            if self.status == Article.Status.PUBLISHED:
                problems = self._problems(item, section)
            topics = () if self.dry_run else tuple(self.route.topic_ids(item))
            ready.append(Ready(key, item, digest, section.pk if section else None, problems, topics))
        return ready

    def _problems(self, record, section):
        """Why this story, were it new, could not be published as the import would save it (empty if nothing)."""
        article = build_article(record, section, "", "", "", self.status, timezone.now())
        captions = [Caption(article=article, photo=Photo(credit=credit), **c) for credit, c in caption_fields(record)]
        return publication_problems(article, captions)

    def _write_batch(self, ready):
        records = {story.key: story for story in ready}
        if not records:
            return

        # Most stories of a re-imported dump are unchanged: compare hashes before loading any text.
        known = dict(Article.objects.filter(source_key__in=records).values_list("source_key", "import_hash"))
        changed = [key for key, story in records.items() if key in known and known[key] != story.digest]
        existing = {
            article.source_key: article
            for article in Article.objects.filter(source_key__in=changed).prefetch_related("captions__photo")
        }
        new = []
        for key, story in records.items():
            record, digest = story.record, story.digest
            article = existing.get(key)
            if key not in known:
                new.append(story)
            elif known[key] == digest:
                self.outcome.unchanged += 1
            elif refusal := refused_update(self.user, article):
                self.outcome.conflicts.append(f"{record.location}: {record.headline!r} is {refusal}")
            elif article.content_hash() != article.import_hash:
                self.outcome.conflicts.append(
                    f"{record.location}: {record.headline!r} was changed by an editor since it was imported; "
                    "kept the editor's version"
                )
            else:
                self._update(article, story)
        self._create(new)

    def _create(self, new):
        if self.status == Article.Status.PUBLISHED:
            for story in [story for story in new if story.problems]:
                message = f"cannot be published: {' '.join(story.problems)}"
                self._reject(DumpError(story.record.source, story.record.line, message, headline=story.record.headline))
            new = [story for story in new if not story.problems]
        self.outcome.created += len(new)
        if self.dry_run or not new:
            return
        now = timezone.now()
        slugs = self.slugs.allocate([story.record.headline for story in new])
        fields = [article_fields(story.record, story.key, story.digest) for story in new]
        articles = Rows(
            Article,
            ["id", "slug", "section_id", *fields[0]],
            **new_story_fields(self.status, now),
            source_digest=self.digest,
        )
        # Captions go in before their stories (foreign keys are checked at commit), so that the search
        # index reads a story's captions when the story is inserted instead of re-indexing it per caption.
        article_ids = articles.new_ids(len(new))
        captions = [
            (article_id, credit, caption)
            for article_id, story in zip(article_ids, new, strict=True)
            for credit, caption in caption_fields(story.record)
        ]
        if captions:
            photo_ids = Rows(Photo, ["credit"], created_at=now).insert(
                [(credit,) for _, credit, _ in captions], returning_ids=True
            )
            Rows(Caption, ["article_id", "photo_id", *captions[0][2]]).insert(
                [
                    (article_id, photo_id, *caption.values())
                    for (article_id, _, caption), photo_id in zip(captions, photo_ids, strict=True)
                ]
            )
        articles.insert(
            [
                (article_id, slug, story.section_id, *values.values())
                for article_id, story, slug, values in zip(article_ids, new, slugs, fields, strict=True)
            ]
        )
        if links := [(a, topic) for a, story in zip(article_ids, new, strict=True) for topic in story.topic_ids]:
            Rows(StoryTopic, ["article_id", "topic_id"]).insert(links)
        self.outcome.created_ids += article_ids

    def _update(self, article, story):
        """Apply a change made at the source, unless an editor saved the story meanwhile. Captions and credits
        the source left as they were are not written again (each write re-indexes the story for search)."""
        if self.dry_run:
            self.outcome.updated += 1
            return
        record = story.record
        changed = Article.objects.filter(pk=article.pk, version=article.version).update(
            **article_fields(record, story.key, story.digest),
            source_digest=self.digest,
            updated_at=timezone.now(),
            version=F("version") + 1,
        )
        if not changed:
            self.outcome.conflicts.append(
                f"{record.location}: {record.headline!r} was being edited; kept the editor's version"
            )
            return
        old = {c.order: c for c in article.captions.all()}
        for credit, fields in caption_fields(record):
            if (caption := old.get(fields["order"])) is None:
                Caption.objects.create(article=article, photo=Photo.objects.create(credit=credit), **fields)
                continue
            if caption.text != fields["text"]:
                Caption.objects.filter(pk=caption.pk).update(text=fields["text"])
            if caption.photo.credit != credit:
                Photo.objects.filter(pk=caption.photo_id).update(credit=credit)
        if len(old) > len(record.captions):
            Caption.objects.filter(article=article, order__gte=len(record.captions)).delete()
        # Topics its new text's keywords give it; those it had are kept (an editor may have chosen them).
        links = [StoryTopic(article=article, topic_id=topic_id) for topic_id in story.topic_ids]
        StoryTopic.objects.bulk_create(links, ignore_conflicts=True)
        self.outcome.updated += 1
        self.outcome.updated_ids.append(article.pk)


def refused_update(user, article):
    """Why this user's import may not change a story it changed at the source (None if it may): the desk's
    rule (workflow.may_change), for the story and for the photos whose credits the update would rewrite.
    Race-free: the update itself only applies to the story at the version read here."""
    if user is None:
        return None
    if not may_change(user, article):
        return f"{article.get_status_display().lower()}: only an editor's import may change it"
    if not all(may_change_photo(user, caption.photo) for caption in article.captions.all()):
        return "using a photo that is in a story readers see: only an editor's import may change it"
    return None


class Rows:
    """Insert new rows of one model with plain SQL, in the order given.

    bulk_create compiles every value of every object through the ORM, which cost more than parsing,
    routing and the database's own work together. Here the ORM works out the row once, from a prototype
    instance (defaults, database formats of dates), and each row only supplies the values that vary.
    No signals are sent, as with bulk_create; the database's triggers (search index) fire as usual.
    """

    def __init__(self, model, varying, **fixed):
        prototype = model(**fixed)
        self.model = model
        columns, values = [], []
        for model_field in model._meta.concrete_fields:
            if model_field.primary_key or model_field.attname in varying:
                continue
            value = model_field.pre_save(prototype, add=True)
            if isinstance(value, DatabaseDefault):
                continue  # the database fills it in
            columns.append(model_field.column)
            values.append(model_field.get_db_prep_save(value, connection))
        by_name = {model_field.attname: model_field for model_field in model._meta.concrete_fields}
        self.columns = [connection.ops.quote_name(c) for c in [*columns, *(by_name[n].column for n in varying)]]
        self.fixed = tuple(values)

    def new_ids(self, count):
        """Reserve primary keys for rows that will be inserted with them, in this transaction."""
        table, pk = self.model._meta.db_table, self.model._meta.pk.column
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, pk, count]
                )
                return [row[0] for row in cursor.fetchall()]
            # SQLite: the transaction holds the write lock (transaction_mode IMMEDIATE), so nobody else can
            # take these ids before we insert; AUTOINCREMENT's sequence keeps deleted stories' ids retired.
            cursor.execute(
                f"SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "
                f"coalesce((SELECT max({connection.ops.quote_name(pk)}) FROM {connection.ops.quote_name(table)}), 0))",
                [table],
            )
            last = cursor.fetchone()[0]
            return list(range(last + 1, last + 1 + count))

    def _sql(self, rows):
        table = connection.ops.quote_name(self.model._meta.db_table)
        placeholders = ", ".join(["(" + ", ".join(["%s"] * len(self.columns)) + ")"] * rows)
        return f"INSERT INTO {table} ({', '.join(self.columns)}) VALUES {placeholders}"

    def insert(self, rows, *, returning_ids=False):
        """Insert the rows (tuples of the varying values); with returning_ids, return their new primary keys."""
        fixed = self.fixed
        rows = [fixed + row for row in rows]
        with connection.cursor() as cursor:
            if not returning_ids:
                cursor.executemany(self._sql(1), rows)
                return None
            # One multi-row INSERT ... RETURNING per chunk; the ids come back in the order of the rows,
            # which bulk_create relies on too (features.can_return_rows_from_bulk_insert).
            pk = connection.ops.quote_name(self.model._meta.pk.column)
            max_params = connection.features.max_query_params or 65535  # None: no limit (PostgreSQL: 65,535)
            per_statement = max(1, min(BATCH_SIZE, max_params // len(self.columns)))
            ids = []
            for start in range(0, len(rows), per_statement):
                chunk = rows[start : start + per_statement]
                cursor.execute(f"{self._sql(len(chunk))} RETURNING {pk}", [v for row in chunk for v in row])
                ids += [row[0] for row in cursor.fetchall()]
            return ids


def article_fields(record, key, digest):
    """The one mapping of a story read from a dump onto its Article: what the importer inserts and updates,
    and what build_fixtures writes. `key` and `digest` are its source_key() and record_hash()."""
    return {
        "headline": record.headline,
        "body": "\n\n".join(record.paragraphs),
        "language": record.language,
        "source_key": key,
        "source_file": stored_name(record.source),
        "import_hash": digest,
    }


def caption_fields(record):
    """A story's captions in order, each as (its photo's credit, the Caption's fields): the first is the lead."""
    return [
        (c.credit, {"text": c.text, "order": order, "is_lead": order == 0}) for order, c in enumerate(record.captions)
    ]


def new_story_fields(status, now):
    """What a new story gets from the run rather than from its record."""
    published = status == Article.Status.PUBLISHED
    return {"status": status, "published_at": now if published else None, "created_at": now, "updated_at": now}


def build_article(record, section, slug, key, digest, status, now):
    """A new story, unsaved."""
    return Article(**article_fields(record, key, digest), slug=slug, section=section, **new_story_fields(status, now))


def lock_dump(digest):
    """Make a second run importing the same file at the same time wait for the first to commit, and then find
    it in the ledger ("unchanged") instead of failing on the stories' unique keys. PostgreSQL: an advisory lock
    on the file's digest, released with the transaction. SQLite needs none: a run writes holding the write lock
    (transaction_mode IMMEDIATE), so the other run has committed by the time this one asks the ledger."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int(digest[:15], 16)])


def stored_name(path):
    """A dump's path as its stories and the import ledger store it: its end, if the whole is longer than
    their columns (Article.source_file, ImportedDump.name)."""
    return path if len(path) <= SOURCE_NAME_LENGTH else "…" + path[-(SOURCE_NAME_LENGTH - 1) :]


def slug_for(headline):
    slug = slugify(headline, allow_unicode=True)
    if len(slug) > SLUG_LENGTH:
        slug = slug[: SLUG_LENGTH + 1].rsplit("-", 1)[0]  # cut at a word boundary
    return slug[:SLUG_LENGTH] or "story"


class Slugs:
    """Allocates slugs for a run's new stories in linear time.

    Per batch, one query finds which of its slugs are taken; for the few that collide (with the database or
    within the run), one query per hundred fetches every slug numbered after them ("storm-hits-2", ...),
    once per run. From then on suffixes are counted in memory, each tried once: 10,000 headlines that
    slugify alike used to cost a query per collision, quadratic in the collisions.
    """

    PREFIX_TERMS = 100  # prefixes per query: SQLite limits the depth of an expression
    # A suffixed slug keeps at least this much of its base (suffixes below a million; see suffixed()).
    KEPT = SLUG_LENGTH - len("-999999")

    def __init__(self, check_database=True):
        self.check_database = check_database
        self.taken = set()
        self.checked = set()  # bases looked up in the database
        self.fetched = set()  # bases whose numbered slugs were fetched from the database
        self.next = {}  # base -> the next suffix to try

    def allocate(self, headlines):
        bases = [slug_for(headline) for headline in headlines]
        if self.check_database:
            self._fetch_taken(bases)
        slugs = []
        for base in bases:
            slug = base
            if slug in self.taken:
                n = self.next.get(base, 2)
                while (slug := suffixed(base, n)) in self.taken or (
                    n >= 10**6 and self.check_database and Article.objects.filter(slug=slug).exists()
                ):
                    n += 1
                self.next[base] = n + 1
            self.taken.add(slug)
            slugs.append(slug)
        return slugs

    def _fetch_taken(self, bases):
        unchecked = set(bases) - self.checked
        if unchecked:
            self.taken.update(Article.objects.filter(slug__in=unchecked).values_list("slug", flat=True))
            self.checked |= unchecked
        counts = Counter(bases)
        colliding = sorted({b for b in bases if (b in self.taken or counts[b] > 1) and b not in self.fetched})
        for start in range(0, len(colliding), self.PREFIX_TERMS):
            chunk = colliding[start : start + self.PREFIX_TERMS]
            numbered = Q()
            for base in chunk:
                numbered |= Q(slug__startswith=f"{base}-" if len(base) <= self.KEPT else base[: self.KEPT])
            self.taken.update(Article.objects.filter(numbered).values_list("slug", flat=True))
            self.fetched.update(chunk)


def suffixed(base, n):
    """The n-th slug for a base: 'storm-hits-2'; a long base is cut to make room for the number."""
    return f"{base[: SLUG_LENGTH - len(str(n)) - 1]}-{n}"
