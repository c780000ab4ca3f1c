"""Full-text search over stories, on SQLite (FTS5) or PostgreSQL (tsvector + GIN), behind one interface.

The index is kept by database triggers, not Django signals, because the importer writes with bulk_create()
and update(), which send no signals. `install()` creates the index and its triggers; a migration runs it,
and so does every `migrate` (post_migrate), because SQLite drops a table's triggers whenever Django
rebuilds that table for an unrelated schema change.

Readers' words never reach the database as query syntax: `terms()` keeps letters and digits only, so
quotes, SQL, FTS operators, emoji and 10,000-character queries get results or nothing, never an error.

Only the newest matches are ranked: at most `settings.SEARCH_RANKED_MATCHES` (1,000) of them, newest by id,
which is the order in which stories were created (imported or written). A query whose words are in nearly
every story ("said") would otherwise rank and count every story in the archive (0.3-0.8 s at 100,000).
Both databases find the newest matches without ranking or counting the rest: FTS5 reads its index in
descending rowid order and stops; PostgreSQL walks the primary key backwards, or takes the GIN index's
matches among the newest ids (see PostgreSQLBackend). Past the cap the page says "More than 1,000 results"
and pages through the newest 1,000, best first; filters apply before the cap. A query with fewer matches
than the cap is ranked over all of them, exactly as before.
"""

import math
import re
from collections.abc import Sequence
from contextlib import contextmanager

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.utils.html import escape
from django.utils.safestring import mark_safe

MAX_QUERY_CHARS = 1000
MAX_TERMS = 12
RANKED_MATCHES = 1000  # the default of settings.SEARCH_RANKED_MATCHES
WORD = re.compile(r"[^\W_]+")
# Private-use characters mark matches in snippets until the text is HTML-escaped; then they become <mark>.
START, STOP = "\ue000", "\ue001"


def terms(query):
    """The words of a reader's query, lower-cased, at most MAX_TERMS of them."""
    return [word.lower() for word in WORD.findall(query[:MAX_QUERY_CHARS])][:MAX_TERMS]


def highlight(snippet):
    return mark_safe(escape(snippet).replace(START, "<mark>").replace(STOP, "</mark>"))


class Results(Sequence):
    """Stories of `queryset` matching `query`, best first; slicing fetches one page, with snippets.

    Only the newest `limit` matches are ranked and counted; `more` says whether older ones match too. The
    backend finds them with their scores in one query (each scored as it is read), and they are sorted
    here: at most `limit` pairs. The page's stories are read from `stories` (by default the model's
    manager) by primary key alone: the match has applied the queryset's filters already, and with them
    repeated SQLite walked the listing index over every published story (14 ms at 100,000) instead of
    looking up ten stories by key.
    """

    def __init__(self, queryset, query, stories=None):
        self.queryset = queryset
        self.stories = queryset.model._default_manager.all() if stories is None else stories
        self.terms = terms(query)
        self.backend = BACKENDS[connection.vendor]
        self.limit = getattr(settings, "SEARCH_RANKED_MATCHES", RANKED_MATCHES)
        self._newest = None
        self._ranked = None

    def newest(self):
        """(id, score) of the newest matches, newest first, one more than the limit if there are as many;
        the lower the score, the better the match."""
        if self._newest is None:
            self._newest = self.backend.newest(self.queryset, self.terms, self.limit + 1) if self.terms else []
        return self._newest

    def ranked(self):
        if self._ranked is None:
            self._ranked = [pk for pk, _ in sorted(self.newest()[: self.limit], key=lambda row: (row[1], -row[0]))]
        return self._ranked

    @property
    def more(self):
        return len(self.newest()) > self.limit

    def count(self):
        return min(len(self.newest()), self.limit)

    __len__ = count

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start, stop, _ = index.indices(self.count())
        if stop <= start:
            return []
        ids = self.ranked()[start:stop]
        articles = self.stories.in_bulk(ids)
        snippets = self.backend.snippets([articles[pk] for pk in ids if pk in articles], self.terms)
        page = []
        for pk in ids:
            if pk in articles:  # else deleted since it matched
                article = articles[pk]
                article.snippet = highlight(snippets.get(pk) or article.summary)
                page.append(article)
        return page


class SQLiteBackend:
    # Column weights for bm25(): headline, standfirst, body, captions.
    RANK = "bm25(articles_search, 10.0, 4.0, 1.0, 2.0)"

    TRIGGERS = {
        # The article's captions are read here too: the importer writes a story's captions before the story
        # itself, so each story is indexed once. (Every caption written after it re-indexes the whole story:
        # an FTS5 update is a delete and an insert of the row.)
        "articles_search_article_insert_with_captions": """
            CREATE TRIGGER articles_search_article_insert_with_captions AFTER INSERT ON articles_article BEGIN
              INSERT INTO articles_search(rowid, headline, standfirst, body, captions)
              VALUES (new.id, new.headline, new.standfirst, new.body, coalesce(
                (SELECT group_concat(text, ' ') FROM articles_caption WHERE article_id = new.id), ''));
            END""",
        "articles_search_article_update": """
            CREATE TRIGGER articles_search_article_update AFTER UPDATE OF headline, standfirst, body
            ON articles_article BEGIN
              UPDATE articles_search SET headline = new.headline, standfirst = new.standfirst, body = new.body
              WHERE rowid = new.id;
            END""",
        "articles_search_article_delete": """
            CREATE TRIGGER articles_search_article_delete AFTER DELETE ON articles_article BEGIN
              DELETE FROM articles_search WHERE rowid = old.id;
            END""",
        "articles_search_caption_insert": """
            CREATE TRIGGER articles_search_caption_insert AFTER INSERT ON articles_caption BEGIN
              UPDATE articles_search SET captions = (
                SELECT coalesce(group_concat(text, ' '), '') FROM articles_caption WHERE article_id = new.article_id
              ) WHERE rowid = new.article_id;
            END""",
        "articles_search_caption_update": """
            CREATE TRIGGER articles_search_caption_update AFTER UPDATE ON articles_caption BEGIN
              UPDATE articles_search SET captions = (
                SELECT coalesce(group_concat(text, ' '), '') FROM articles_caption
                WHERE article_id = articles_search.rowid
              ) WHERE rowid IN (old.article_id, new.article_id);
            END""",
        "articles_search_caption_delete": """
            CREATE TRIGGER articles_search_caption_delete AFTER DELETE ON articles_caption BEGIN
              UPDATE articles_search SET captions = (
                SELECT coalesce(group_concat(text, ' '), '') FROM articles_caption WHERE article_id = old.article_id
              ) WHERE rowid = old.article_id;
            END""",
    }

    # Triggers of earlier versions, replaced by the ones above.
    OBSOLETE = ["articles_search_article_insert"]

    def install(self, cursor):
        cursor.execute("SELECT name FROM sqlite_master WHERE name LIKE 'articles_search%%'")
        existing = {name for (name,) in cursor.fetchall()}
        for name in self.OBSOLETE:
            if name in existing:
                cursor.execute(f"DROP TRIGGER {name}")
                existing.discard(name)
        if "articles_search" in existing and existing.issuperset(self.TRIGGERS):
            return
        cursor.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS articles_search USING fts5("
            "headline, standfirst, body, captions, tokenize = 'porter unicode61 remove_diacritics 2')"
        )
        for name, sql in self.TRIGGERS.items():
            if name not in existing:
                cursor.execute(sql)
        self.rebuild(cursor)

    def uninstall(self, cursor):
        for name in [*self.TRIGGERS, *self.OBSOLETE]:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        cursor.execute("DROP TABLE IF EXISTS articles_search")

    def rebuild(self, cursor):
        cursor.execute("DELETE FROM articles_search")
        cursor.execute(
            "INSERT INTO articles_search(rowid, headline, standfirst, body, captions) "
            "SELECT a.id, a.headline, a.standfirst, a.body, coalesce(("
            "  SELECT group_concat(c.text, ' ') FROM articles_caption c WHERE c.article_id = a.id), '') "
            "FROM articles_article a"
        )

    def match(self, words):
        # Every word quoted: FTS5 sees phrases, never operators, and ANDs them.
        return " ".join(f'"{word}"' for word in words)

    # Fewer candidates than this (a narrow filter) are listed first, then the matches are checked against
    # the list; more are looked up one by one as FTS5 finds matches, newest first, until it has enough.
    FEW = 5000

    def candidate(self, queryset):
        """SQL that is true when the index row is one of the queryset's stories; None if there are none."""
        candidates = queryset.order_by().values("pk")
        sql, params = candidates[: self.FEW].query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM ({sql})", params)
            count = cursor.fetchone()[0]
        if not count:
            return None, []
        if count < self.FEW:
            # The unary plus: without it FTS5 runs the full-text query once per candidate.
            sql, params = candidates.query.sql_with_params()
            return f"+rowid IN ({sql})", params
        # Listing every published story first took 50 ms at 100,000, twice a page; looked up by key for each
        # match, FTS5's matches drive the query and it stops at the LIMIT.
        sql, params = candidates.filter(pk=RawSQL("articles_search.rowid", ())).query.sql_with_params()
        return f"EXISTS ({sql})", params

    def newest(self, queryset, words, limit):
        candidate, params = self.candidate(queryset)
        if candidate is None:
            return []
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT rowid, {self.RANK} FROM articles_search WHERE articles_search MATCH %s AND {candidate} "
                "ORDER BY rowid DESC LIMIT %s",
                [self.match(words), *params, limit],
            )
            return cursor.fetchall()

    def snippets(self, stories, words):
        """{id: snippet} of these stories, matches between START and STOP; FTS5 makes them from its index."""
        ids = [story.pk for story in stories]
        if not ids:
            return {}
        placeholders = ", ".join(["%s"] * len(ids))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT rowid, snippet(articles_search, -1, %s, %s, '…', 32) FROM articles_search "
                f"WHERE articles_search MATCH %s AND rowid IN ({placeholders})",
                [START, STOP, self.match(words), *ids],
            )
            return dict(cursor.fetchall())


class PostgreSQLBackend:
    # Ranking uses ts_rank (weights A-D from headline, standfirst, body, captions): ts_rank_cd ranked
    # 100,000 matches three times slower.
    # English stories get stemming ("floods" finds "flooded"); other languages are indexed word for word.
    CONFIG = "(CASE WHEN {language} LIKE 'en%%' THEN 'english' ELSE 'simple' END)::regconfig"
    QUERY = "(plainto_tsquery('english', %s) || plainto_tsquery('simple', %s))"

    # Two vectors a story: search_document (all its words, to match) and search_rank (the headline,
    # standfirst, the body's opening LEDE characters and the captions' first CAPTIONS characters, to rank).
    # The whole story's vector, some 8.7 KB, is stored out of line (TOAST): ranking the newest 1,000 matches
    # read 1,000 of them, 9-14 ms; the ranking vector, about 1.1 KB, stays in the row (3-4 ms). A match
    # ranks by what a reader sees first; stories that match deeper in the body only rank newest first.
    LEDE = 600
    CAPTIONS = 300
    FUNCTION = """
        CREATE OR REPLACE FUNCTION articles_search_document() RETURNS trigger AS $$
        DECLARE
          config regconfig := {config};
          headline_words tsvector := setweight(to_tsvector(config, coalesce(NEW.headline, '')), 'A');
          standfirst_words tsvector := setweight(to_tsvector(config, coalesce(NEW.standfirst, '')), 'B');
          caption_text text := coalesce(
            (SELECT string_agg(text, ' ' ORDER BY "order") FROM articles_caption WHERE article_id = NEW.id), '');
        BEGIN
          NEW.search_document := headline_words || standfirst_words ||
            setweight(to_tsvector(config, coalesce(NEW.body, '')), 'C') ||
            setweight(to_tsvector(config, caption_text), 'D');
          NEW.search_rank := headline_words || standfirst_words ||
            setweight(to_tsvector(config, left(coalesce(NEW.body, ''), {lede})), 'C') ||
            setweight(to_tsvector(config, left(caption_text, {captions})), 'D');
          RETURN NEW;
        END $$ LANGUAGE plpgsql""".replace("{config}", CONFIG.format(language="NEW.language").replace("%%", "%"))
    FUNCTION = FUNCTION.replace("{lede}", str(LEDE)).replace("{captions}", str(CAPTIONS))

    # A caption change sets search_document to NULL, which makes the article trigger recompute it.
    CAPTION_FUNCTION = """
        CREATE OR REPLACE FUNCTION articles_search_caption_changed() RETURNS trigger AS $$
        BEGIN
          IF TG_OP IN ('UPDATE', 'DELETE') THEN
            UPDATE articles_article SET search_document = NULL WHERE id = OLD.article_id;
          END IF;
          IF TG_OP IN ('INSERT', 'UPDATE') THEN
            UPDATE articles_article SET search_document = NULL WHERE id = NEW.article_id;
          END IF;
          RETURN NULL;
        END $$ LANGUAGE plpgsql"""

    def install(self, cursor):
        cursor.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'articles_article' AND column_name IN ('search_document', 'search_rank')"
        )
        columns = {name for (name,) in cursor.fetchall()}
        existed = "search_document" in columns
        # The columns before the function that fills them. An index made by an earlier version has no
        # ranking vectors: its stories rank by their whole vector (SCORE) until saved or re-indexed
        # (`manage.py rebuild_search_index`), which install() does not do itself, so that a release does
        # not rewrite every story while the previous one still serves.
        if len(columns) < 2:
            cursor.execute("ALTER TABLE articles_article ADD COLUMN IF NOT EXISTS search_document tsvector")
            cursor.execute("ALTER TABLE articles_article ADD COLUMN IF NOT EXISTS search_rank tsvector")
        cursor.execute(self.FUNCTION)
        cursor.execute(self.CAPTION_FUNCTION)
        cursor.execute(
            "SELECT count(*) FROM pg_trigger "
            "WHERE tgname IN ('articles_search_document', 'articles_search_caption') AND NOT tgisinternal"
        )
        if existed and cursor.fetchone()[0] == 2:
            return
        cursor.execute(
            "CREATE OR REPLACE TRIGGER articles_search_document "
            "BEFORE INSERT OR UPDATE OF headline, standfirst, body, language, search_document ON articles_article "
            "FOR EACH ROW EXECUTE FUNCTION articles_search_document()"
        )
        cursor.execute(
            "CREATE OR REPLACE TRIGGER articles_search_caption AFTER INSERT OR UPDATE OR DELETE ON articles_caption "
            "FOR EACH ROW EXECUTE FUNCTION articles_search_caption_changed()"
        )
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS articles_search_document_gin ON articles_article USING gin (search_document)"
        )
        if not existed:
            self.rebuild(cursor)

    def uninstall(self, cursor):
        cursor.execute("DROP TRIGGER IF EXISTS articles_search_caption ON articles_caption")
        cursor.execute("DROP TRIGGER IF EXISTS articles_search_document ON articles_article")
        cursor.execute("DROP FUNCTION IF EXISTS articles_search_caption_changed()")
        cursor.execute("DROP FUNCTION IF EXISTS articles_search_document()")
        cursor.execute("ALTER TABLE articles_article DROP COLUMN IF EXISTS search_document")
        cursor.execute("ALTER TABLE articles_article DROP COLUMN IF EXISTS search_rank")

    def rebuild(self, cursor):
        cursor.execute("UPDATE articles_article SET search_document = NULL")

    # How to find the newest matches depends on how common the words are, and PostgreSQL's planner cannot
    # tell: it does not count the cost of reading a story's tsvector (8 KB, stored out of line) to test it.
    # Testing candidates newest first reads one tsvector per candidate: quick when most match ("said": 6 ms
    # for 1,001 matches), slow when few do ("curfew", in 8% of stories: 110 ms). The GIN index finds
    # matches without reading tsvectors, but each match is then read from the table and sorted by id: quick
    # when few match, slow when most do ("said": 45-55 ms; "ceasefire", 27%: 15-22 ms). So the newest
    # SAMPLE candidates are tested first; they tell how wide a range of the newest ids should hold `limit`
    # matches, and which way to take:
    # - most of them match: test the candidates in that range one by one, newest first, until `limit` match,
    #   scoring each match as it is read;
    # - some match: AND the GIN index's matches with that range ("ceasefire": 3 ms), widened once by what it
    #   held if that was too few, then score the `limit` newest;
    # - none does, or the range held fewer than `limit` and not every candidate: all of the GIN index's
    #   matches (then few stories match), the `limit` newest scored.
    SAMPLE = 100
    DENSE = 0.5
    MARGIN = 1.5
    # Planner settings for the GIN index. With index scans, the planner would rather walk the key and read
    # every tsvector on the way, and without them, every tsvector in a sequential scan; at the default
    # random_page_cost (4, for spinning disks) it would rather read every tsvector in the range of ids than
    # AND the range with the GIN index's matches; parallel workers only slowed these small queries.
    BITMAP = {
        "enable_indexscan": "off",
        "enable_seqscan": "off",
        "random_page_cost": "1.1",
        "max_parallel_workers_per_gather": "0",
    }

    def newest(self, queryset, words, limit):
        text = " ".join(words)
        candidates = queryset.order_by("-pk").values("pk")
        matching = candidates.filter(
            RawSQL(f"search_document @@ {self.QUERY}", (text, text), output_field=BooleanField())
        )
        with connection.cursor() as cursor:
            sampled, matches, first, oldest, newest = self.sample(cursor, candidates, text)
            if sampled < self.SAMPLE:  # that was every candidate
                return self.scores(cursor, matches[:limit], text)
            if matches:
                # len(matches) of the candidates in newest - oldest + 1 ids matched: how many ids should hold
                # `limit` matches? If that range holds fewer, and not every candidate, look further.
                span = math.ceil((newest - oldest + 1) * limit / len(matches) * self.MARGIN)
                if len(matches) >= self.DENSE * sampled:
                    rows = self.test_newest_first(cursor, candidates.filter(pk__gt=newest - span), text, limit)
                    if len(rows) == limit or newest - span < first:
                        return rows
                else:
                    with planner(cursor, self.BITMAP):
                        ids = self.ids(cursor, matching.filter(pk__gt=newest - span)[:limit])
                        if ids and len(ids) < limit and newest - span >= first:
                            # A hundred candidates say little about a rare word; the range says more.
                            span = math.ceil(span * limit / len(ids) * self.MARGIN)
                            ids = self.ids(cursor, matching.filter(pk__gt=newest - span)[:limit])
                    if len(ids) == limit or newest - span < first:
                        return self.scores(cursor, ids, text)
            with planner(cursor, self.BITMAP):
                return self.scored(cursor, matching[:limit], text)

    def sample(self, cursor, candidates, text):
        """How many of the newest SAMPLE candidates there are, those that match (newest first), their lowest
        and highest ids, and the lowest id of all candidates."""
        sql, params = candidates[: self.SAMPLE].query.sql_with_params()
        first_sql, first_params = candidates.order_by("pk")[:1].query.sql_with_params()
        # The tsvector is tested in the select list, so that the GIN index is not used.
        cursor.execute(
            f"SELECT count(*), array_agg(id ORDER BY id DESC) FILTER (WHERE search_document @@ {self.QUERY}), "
            f"({first_sql}), min(id), max(id) FROM articles_article WHERE id = ANY(ARRAY({sql}))",
            [text, text, *first_params, *params],
        )
        sampled, matches, first, oldest, newest = cursor.fetchone()
        return sampled, matches or [], first, oldest, newest

    # The score, negated so that lower is better, as with FTS5's bm25().
    SCORE = f"-ts_rank(coalesce(search_rank, search_document), {QUERY})"

    def test_newest_first(self, cursor, candidates, text, limit):
        # The candidates are listed without reading a tsvector; then the key is walked over them newest
        # first, testing each, until `limit` match, and scoring those that do. (Given the filters and the
        # test together, PostgreSQL may test a story's words before its filters, reading the tsvector of
        # every story walked.)
        sql, params = candidates.query.sql_with_params()
        cursor.execute(
            f"SELECT id, {self.SCORE} FROM articles_article "
            f"WHERE id = ANY(ARRAY({sql})) AND search_document @@ {self.QUERY} ORDER BY id DESC LIMIT %s",
            [text, text, *params, text, text, limit],
        )
        return cursor.fetchall()

    def scored(self, cursor, matching, text):
        """The queryset's ids, newest first, each with its score (computed on those ids only)."""
        sql, params = matching.query.sql_with_params()
        cursor.execute(
            f"SELECT id, {self.SCORE} FROM articles_article WHERE id = ANY(ARRAY({sql})) ORDER BY id DESC",
            [text, text, *params],
        )
        return cursor.fetchall()

    def ids(self, cursor, queryset):
        cursor.execute(*queryset.query.sql_with_params())
        return [pk for (pk,) in cursor.fetchall()]

    def scores(self, cursor, ids, text):
        cursor.execute(
            f"SELECT id, {self.SCORE} FROM articles_article WHERE id = ANY(%s) ORDER BY id DESC", [text, text, ids]
        )
        return cursor.fetchall()

    # ts_headline's time grows with the text it parses (1 ms for a 6,000-character story), so it is given the
    # paragraphs that may hold a match, at most EXCERPT_PARAGRAPHS of them, those with most of the query's
    # words first: a paragraph may hold a match if it holds the first four letters of one of the words (a
    # word and its stemmed forms share them, but for a few short irregular words). A story where none does
    # matched in its headline or captions (or by such a word): its snippet is its opening, as ts_headline
    # makes it from a text without a match.
    EXCERPT_PARAGRAPHS = 4

    def snippets(self, stories, words):
        """{id: snippet} of these stories (as read from the table), matches between START and STOP."""
        if not stories:
            return {}
        text = " ".join(words)
        config = self.CONFIG.format(language="language")
        options = f'StartSel={START}, StopSel={STOP}, MaxWords=40, MinWords=20, MaxFragments=2, FragmentDelimiter=" … "'
        excerpts = [self.excerpt(story, words) for story in stories]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, ts_headline({config}, excerpt, {self.QUERY}, %s) "
                "FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS story(id, language, excerpt)",
                [text, text, options, [story.pk for story in stories], [story.language for story in stories], excerpts],
            )
            return dict(cursor.fetchall())

    def excerpt(self, story, words):
        paragraphs = [story.standfirst, *story.body.split("\n\n")]
        starts = {word[:4] for word in words}
        found = []
        for n, paragraph in enumerate(paragraphs):
            lowered = paragraph.lower()
            if held := sum(start in lowered for start in starts):
                found.append((-held, n))
        if not found:
            return "\n\n".join(paragraphs[: self.EXCERPT_PARAGRAPHS])
        return "\n\n".join(paragraphs[n] for n in sorted(n for _, n in sorted(found)[: self.EXCERPT_PARAGRAPHS]))


@contextmanager
def planner(cursor, values):
    """PostgreSQL planner settings for the queries run inside, in a transaction. They end with it; inside a
    caller's transaction (a test's) they are set back to what they were when the block ends."""
    outermost = not connection.in_atomic_block
    with transaction.atomic(savepoint=False):
        names = list(values)
        # current_setting() is evaluated before set_config() in the same row.
        pairs = ", ".join(["current_setting(%s), set_config(%s, %s, true)"] * len(names))
        cursor.execute(f"SELECT {pairs}", [param for name in names for param in (name, name, values[name])])
        before = cursor.fetchone()[0::2]
        yield
        if not outermost:
            restore = ", ".join(["set_config(%s, %s, true)"] * len(names))
            cursor.execute(f"SELECT {restore}", [param for pair in zip(names, before, strict=True) for param in pair])


BACKENDS = {"sqlite": SQLiteBackend(), "postgresql": PostgreSQLBackend()}


def install(conn=connection):
    """Create the search index and the triggers that keep it current, filling the index if it is new."""
    with conn.cursor() as cursor:
        BACKENDS[conn.vendor].install(cursor)


def uninstall(conn=connection):
    with conn.cursor() as cursor:
        BACKENDS[conn.vendor].uninstall(cursor)


def rebuild(conn=connection):
    """Re-index every story (the triggers keep the index current; this is for repairs)."""
    with conn.cursor() as cursor:
        BACKENDS[conn.vendor].rebuild(cursor)
