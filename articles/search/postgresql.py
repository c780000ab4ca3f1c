"""Search on PostgreSQL: two tsvector columns of the article table (Article.search_document and search_rank,
made by the migrations, the first with a GIN index), filled by triggers."""

import math
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

from . import START, STOP

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


def install(cursor):
    # The function is replaced whatever its version. One of an earlier version filled no ranking vectors:
    # its stories rank by their whole vector (SCORE) until saved or re-indexed (`manage.py
    # rebuild_search_index`), which install() does not do itself, so that a release does not rewrite every
    # story while the previous one still serves. Triggers that are new fill the index.
    cursor.execute(FUNCTION)
    cursor.execute(CAPTION_FUNCTION)
    cursor.execute(
        "SELECT count(*) FROM pg_trigger "
        "WHERE tgname IN ('articles_search_document', 'articles_search_caption') AND NOT tgisinternal"
    )
    if cursor.fetchone()[0] == 2:
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
    rebuild(cursor)


def uninstall(cursor):
    cursor.execute("DROP TRIGGER IF EXISTS articles_search_caption ON articles_caption")
    cursor.execute("DROP TRIGGER IF EXISTS articles_search_document ON articles_article")
    cursor.execute("DROP FUNCTION IF EXISTS articles_search_caption_changed()")
    cursor.execute("DROP FUNCTION IF EXISTS articles_search_document()")


def rebuild(cursor):
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


def newest(queryset, words, limit):
    text = " ".join(words)
    candidates = queryset.order_by("-pk").values("pk")
    matching = candidates.filter(RawSQL(f"search_document @@ {QUERY}", (text, text), output_field=BooleanField()))
    with connection.cursor() as cursor:
        sampled, matches, first, oldest, newest = sample(cursor, candidates, text)
        if sampled < SAMPLE:  # that was every candidate
            return scores(cursor, matches[:limit], text)
        if matches:
            # len(matches) of the candidates in newest - oldest + 1 ids matched: how many ids should hold
            # `limit` matches? If that range holds fewer, and not every candidate, look further.
            span = math.ceil((newest - oldest + 1) * limit / len(matches) * MARGIN)
            if len(matches) >= DENSE * sampled:
                rows = walk_newest_first(cursor, candidates.filter(pk__gt=newest - span), text, limit)
                if len(rows) == limit or newest - span < first:
                    return rows
            else:
                with planner(cursor, BITMAP):
                    ids = read_ids(cursor, matching.filter(pk__gt=newest - span)[:limit])
                    if ids and len(ids) < limit and newest - span >= first:
                        # A hundred candidates say little about a rare word; the range says more.
                        span = math.ceil(span * limit / len(ids) * MARGIN)
                        ids = read_ids(cursor, matching.filter(pk__gt=newest - span)[:limit])
                if len(ids) == limit or newest - span < first:
                    return scores(cursor, ids, text)
        with planner(cursor, BITMAP):
            return scored(cursor, matching[:limit], text)


def sample(cursor, candidates, text):
    """How many of the newest SAMPLE candidates there are, those that match (newest first), their lowest
    and highest ids, and the lowest id of all candidates."""
    sql, params = candidates[:SAMPLE].query.sql_with_params()
    first_sql, first_params = candidates.order_by("pk")[:1].query.sql_with_params()
    # The tsvector is tested in the select list, so that the GIN index is not used.
    cursor.execute(
        f"SELECT count(*), array_agg(id ORDER BY id DESC) FILTER (WHERE search_document @@ {QUERY}), "
        f"({first_sql}), min(id), max(id) FROM articles_article WHERE id = ANY(ARRAY({sql}))",
        [text, text, *first_params, *params],
    )
    sampled, matches, first, oldest, newest = cursor.fetchone()
    return sampled, matches or [], first, oldest, newest


# The score, negated so that lower is better, as with FTS5's bm25().
SCORE = f"-ts_rank(coalesce(search_rank, search_document), {QUERY})"


def walk_newest_first(cursor, candidates, text, limit):
    # The candidates are listed without reading a tsvector; then the key is walked over them newest
    # first, testing each, until `limit` match, and scoring those that do. (Given the filters and the
    # test together, PostgreSQL may test a story's words before its filters, reading the tsvector of
    # every story walked.)
    sql, params = candidates.query.sql_with_params()
    cursor.execute(
        f"SELECT id, {SCORE} FROM articles_article "
        f"WHERE id = ANY(ARRAY({sql})) AND search_document @@ {QUERY} ORDER BY id DESC LIMIT %s",
        [text, text, *params, text, text, limit],
    )
    return cursor.fetchall()


def scored(cursor, matching, text):
    """The queryset's ids, newest first, each with its score (computed on those ids only)."""
    sql, params = matching.query.sql_with_params()
    cursor.execute(
        f"SELECT id, {SCORE} FROM articles_article WHERE id = ANY(ARRAY({sql})) ORDER BY id DESC",
        [text, text, *params],
    )
    return cursor.fetchall()


def read_ids(cursor, queryset):
    cursor.execute(*queryset.query.sql_with_params())
    return [pk for (pk,) in cursor.fetchall()]


def scores(cursor, ids, text):
    cursor.execute(f"SELECT id, {SCORE} FROM articles_article WHERE id = ANY(%s) ORDER BY id DESC", [text, text, ids])
    return cursor.fetchall()


# ts_headline's time grows with the text it parses (1 ms for a 6,000-character story), so it is given the
# paragraphs that may hold a match, at most EXCERPT_PARAGRAPHS of them, those with most of the query's
# words first: a paragraph may hold a match if it holds the first four letters of one of the words (a
# word and its stemmed forms share them, but for a few short irregular words). A story where none does
# matched in its headline or captions (or by such a word): its snippet is its opening, as ts_headline
# makes it from a text without a match.
EXCERPT_PARAGRAPHS = 4


def snippets(stories, words):
    """{id: snippet} of these stories (as read from the table), matches between START and STOP."""
    if not stories:
        return {}
    text = " ".join(words)
    config = CONFIG.format(language="language")
    options = f'StartSel={START}, StopSel={STOP}, MaxWords=40, MinWords=20, MaxFragments=2, FragmentDelimiter=" … "'
    excerpts = [excerpt(story, words) for story in stories]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, ts_headline({config}, excerpt, {QUERY}, %s) "
            "FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS story(id, language, excerpt)",
            [text, text, options, [story.pk for story in stories], [story.language for story in stories], excerpts],
        )
        return dict(cursor.fetchall())


def excerpt(story, words):
    paragraphs = [story.standfirst, *story.body.split("\n\n")]
    starts = {word[:4] for word in words}
    found = []
    for n, paragraph in enumerate(paragraphs):
        lowered = paragraph.lower()
        if held := sum(start in lowered for start in starts):
            found.append((-held, n))
    if not found:
        return "\n\n".join(paragraphs[:EXCERPT_PARAGRAPHS])
    return "\n\n".join(paragraphs[n] for n in sorted(n for _, n in sorted(found)[:EXCERPT_PARAGRAPHS]))


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
