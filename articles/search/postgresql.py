"""Search on PostgreSQL: two tsvector columns of the article table (Article.search_document and search_rank,
made by the migrations, the first with a GIN index), filled by triggers."""

import math
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

from . import ARABIC_LETTER, FOLDING, START, STOP, alternatives, fold, restore

# Ranking uses ts_rank (weights A-D from headline, standfirst, body, captions): ts_rank_cd ranked
# 100,000 matches three times slower.
# English stories get stemming ("floods" finds "flooded"); other languages are indexed word for word.
CONFIG = "(CASE WHEN {language} LIKE 'en%%' THEN 'english' ELSE 'simple' END)::regconfig"
QUERY = "(plainto_tsquery('english', %s) || plainto_tsquery('simple', %s))"
# An Arabic word: any of its forms (alternatives()), each a lexeme of 'simple', ANDed with the other words.
FORM = "plainto_tsquery('simple', %s)"


def tsquery(words):
    """(SQL, parameters) of the query of these words: English as before, and each Arabic word any of its
    forms. Only parameters carry the words: they never become tsquery syntax."""
    plain = [word for word in words if len(alternatives(word)) == 1]
    arabic = [alternatives(word) for word in words if len(alternatives(word)) > 1]
    text = " ".join(plain)
    parts, params = ([QUERY], [text, text]) if plain or not arabic else ([], [])
    for forms in arabic:
        parts.append("(" + " || ".join([FORM] * len(forms)) + ")")
        params.extend(forms)
    return "(" + " && ".join(parts) + ")", params


def folded(sql):
    """SQL of the text `sql` folded for search (FOLDING), with translate(): characters it maps to nothing
    are removed."""
    mapped = {char: to for char, to in FOLDING.items() if to}
    removed = [char for char, to in FOLDING.items() if not to]
    return f"translate({sql}, '{''.join(mapped)}{''.join(removed)}', '{''.join(mapped.values())}')"


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
      headline_words tsvector := setweight(to_tsvector(config, {headline}), 'A');
      standfirst_words tsvector := setweight(to_tsvector(config, {standfirst}), 'B');
      body_text text := {body};
      caption_text text := {caption_text};
    BEGIN
      NEW.search_document := headline_words || standfirst_words ||
        setweight(to_tsvector(config, body_text), 'C') ||
        setweight(to_tsvector(config, caption_text), 'D');
      NEW.search_rank := headline_words || standfirst_words ||
        setweight(to_tsvector(config, left(body_text, {lede})), 'C') ||
        setweight(to_tsvector(config, left(caption_text, {captions})), 'D');
      RETURN NEW;
    END $$ LANGUAGE plpgsql""".replace("{config}", CONFIG.format(language="NEW.language").replace("%%", "%"))
FUNCTION = FUNCTION.replace("{lede}", str(LEDE)).replace("{captions}", str(CAPTIONS))
FUNCTION = (
    FUNCTION.replace("{headline}", folded("coalesce(NEW.headline, '')"))
    .replace("{standfirst}", folded("coalesce(NEW.standfirst, '')"))
    .replace("{body}", folded("coalesce(NEW.body, '')"))
    .replace(
        "{caption_text}",
        folded(
            "coalesce((SELECT string_agg(text, ' ' ORDER BY \"order\") FROM articles_caption "
            "WHERE article_id = NEW.id), '')"
        ),
    )
)

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
        return False
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
    return True


def uninstall(cursor):
    cursor.execute("DROP TRIGGER IF EXISTS articles_search_caption ON articles_caption")
    cursor.execute("DROP TRIGGER IF EXISTS articles_search_document ON articles_article")
    cursor.execute("DROP FUNCTION IF EXISTS articles_search_caption_changed()")
    cursor.execute("DROP FUNCTION IF EXISTS articles_search_document()")


# Stories re-indexed a statement: outside a transaction (migration 0021) each batch commits, so a save waits
# for one batch at most, never for the whole archive. A batch of 5,000 took 30-35 s on a busy 2-core machine.
BATCH = 1000


def rebuild(cursor):
    """Re-index every story: its trigger computes the vectors again when search_document is set."""
    cursor.execute("SELECT min(id), max(id) FROM articles_article")
    first, last = cursor.fetchone()
    for start in range(first or 0, (last or -1) + 1, BATCH):
        cursor.execute(
            "UPDATE articles_article SET search_document = NULL WHERE id >= %s AND id < %s", [start, start + BATCH]
        )


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
    query = tsquery(words)
    candidates = queryset.order_by("-pk").values("pk")
    matching = candidates.filter(RawSQL(f"search_document @@ {query[0]}", query[1], output_field=BooleanField()))
    with connection.cursor() as cursor:
        sampled, matches, first, oldest, newest = sample(cursor, candidates, query)
        if sampled < SAMPLE:  # that was every candidate
            return scores(cursor, matches[:limit], query)
        if matches:
            # len(matches) of the candidates in newest - oldest + 1 ids matched: how many ids should hold
            # `limit` matches? If that range holds fewer, and not every candidate, look further.
            span = math.ceil((newest - oldest + 1) * limit / len(matches) * MARGIN)
            if len(matches) >= DENSE * sampled:
                rows = walk_newest_first(cursor, candidates.filter(pk__gt=newest - span), query, limit)
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
                    return scores(cursor, ids, query)
        with planner(cursor, BITMAP):
            return scored(cursor, matching[:limit], query)


def sample(cursor, candidates, query):
    """How many of the newest SAMPLE candidates there are, those that match (newest first), their lowest
    and highest ids, and the lowest id of all candidates."""
    sql, params = candidates[:SAMPLE].query.sql_with_params()
    first_sql, first_params = candidates.order_by("pk")[:1].query.sql_with_params()
    # The tsvector is tested in the select list, so that the GIN index is not used.
    cursor.execute(
        f"SELECT count(*), array_agg(id ORDER BY id DESC) FILTER (WHERE search_document @@ {query[0]}), "
        f"({first_sql}), min(id), max(id) FROM articles_article WHERE id = ANY(ARRAY({sql}))",
        [*query[1], *first_params, *params],
    )
    sampled, matches, first, oldest, newest = cursor.fetchone()
    return sampled, matches or [], first, oldest, newest


# The score, negated so that lower is better, as with FTS5's bm25().
def score(query):
    return f"-ts_rank(coalesce(search_rank, search_document), {query[0]})"


def walk_newest_first(cursor, candidates, query, limit):
    # The candidates are listed without reading a tsvector; then the key is walked over them newest
    # first, testing each, until `limit` match, and scoring those that do. (Given the filters and the
    # test together, PostgreSQL may test a story's words before its filters, reading the tsvector of
    # every story walked.)
    sql, params = candidates.query.sql_with_params()
    cursor.execute(
        f"SELECT id, {score(query)} FROM articles_article "
        f"WHERE id = ANY(ARRAY({sql})) AND search_document @@ {query[0]} ORDER BY id DESC LIMIT %s",
        [*query[1], *params, *query[1], limit],
    )
    return cursor.fetchall()


def scored(cursor, matching, query):
    """The queryset's ids, newest first, each with its score (computed on those ids only)."""
    sql, params = matching.query.sql_with_params()
    cursor.execute(
        f"SELECT id, {score(query)} FROM articles_article WHERE id = ANY(ARRAY({sql})) ORDER BY id DESC",
        [*query[1], *params],
    )
    return cursor.fetchall()


def read_ids(cursor, queryset):
    cursor.execute(*queryset.query.sql_with_params())
    return [pk for (pk,) in cursor.fetchall()]


def scores(cursor, ids, query):
    cursor.execute(
        f"SELECT id, {score(query)} FROM articles_article WHERE id = ANY(%s) ORDER BY id DESC", [*query[1], ids]
    )
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
    query = tsquery(words)
    config = CONFIG.format(language="language")
    options = f'StartSel={START}, StopSel={STOP}, MaxWords=40, MinWords=20, MaxFragments=2, FragmentDelimiter=" … "'
    excerpts = {story.pk: excerpt(story, words) for story in stories}
    # ts_headline marks the words of the text it is given that match: the folded text, as indexed.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, ts_headline({config}, excerpt, {query[0]}, %s) "
            "FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS story(id, language, excerpt)",
            [
                *query[1],
                options,
                list(excerpts),
                [story.language for story in stories],
                [fold(text) for text in excerpts.values()],
            ],
        )
        made = cursor.fetchall()
    # Readers see the story's own text: Arabic snippets are put back into it (an English one is as made).
    return {pk: restore(snippet, excerpts[pk]) if ARABIC_LETTER.search(snippet) else snippet for pk, snippet in made}


def excerpt(story, words):
    paragraphs = [story.standfirst, *story.body.split("\n\n")]
    starts = {min(alternatives(word), key=len)[:4] for word in words}  # an Arabic word's without its article
    found = []
    for n, paragraph in enumerate(paragraphs):
        lowered = fold(paragraph).lower()
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
