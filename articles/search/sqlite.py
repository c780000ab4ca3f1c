"""Search on SQLite: an FTS5 table, articles_search, beside the article table (its rowid is the story's id),
kept current by triggers."""

from django.db import connection, transaction
from django.db.models.expressions import RawSQL

from . import ARABIC_LETTER, FOLDING, START, STOP, alternatives, restore

# Column weights for bm25(): headline, standfirst, body, captions.
RANK = "bm25(articles_search, 10.0, 4.0, 1.0, 2.0)"


def folded(sql):
    """SQL of the text `sql` folded for search (FOLDING): SQLite has no translate(), so a replace() a
    character."""
    for char, to in FOLDING.items():
        sql = f"replace({sql}, '{char}', '{to}')"
    return sql


CAPTIONS = folded("coalesce((SELECT group_concat(text, ' ') FROM articles_caption WHERE article_id = {id}), '')")

TRIGGERS = {
    # The article's captions are read here too: the importer writes a story's captions before the story
    # itself, so each story is indexed once. (Every caption written after it re-indexes the whole story:
    # an FTS5 update is a delete and an insert of the row.)
    "articles_search_article_insert_with_captions": """
        CREATE TRIGGER articles_search_article_insert_with_captions AFTER INSERT ON articles_article BEGIN
          INSERT INTO articles_search(rowid, headline, standfirst, body, captions)
          VALUES (new.id, {headline}, {standfirst}, {body}, {captions});
        END""".format(
        headline=folded("new.headline"),
        standfirst=folded("new.standfirst"),
        body=folded("new.body"),
        captions=CAPTIONS.format(id="new.id"),
    ),
    "articles_search_article_update": """
        CREATE TRIGGER articles_search_article_update AFTER UPDATE OF headline, standfirst, body
        ON articles_article BEGIN
          UPDATE articles_search SET headline = {headline}, standfirst = {standfirst}, body = {body}
          WHERE rowid = new.id;
        END""".format(headline=folded("new.headline"), standfirst=folded("new.standfirst"), body=folded("new.body")),
    "articles_search_article_delete": """
        CREATE TRIGGER articles_search_article_delete AFTER DELETE ON articles_article BEGIN
          DELETE FROM articles_search WHERE rowid = old.id;
        END""",
    **{
        f"articles_search_caption_{event.lower()}": f"""
        CREATE TRIGGER articles_search_caption_{event.lower()} AFTER {event} ON articles_caption BEGIN
          UPDATE articles_search SET captions = {CAPTIONS.format(id=f"{row}.article_id")}
          WHERE rowid = {row}.article_id;
        END"""
        for event, row in [("INSERT", "new"), ("DELETE", "old")]
    },
    # A caption moved to another story changes both stories' captions.
    "articles_search_caption_update": """
        CREATE TRIGGER articles_search_caption_update AFTER UPDATE ON articles_caption BEGIN
          UPDATE articles_search SET captions = {captions}
          WHERE rowid IN (old.article_id, new.article_id);
        END""".format(captions=CAPTIONS.format(id="articles_search.rowid")),
}

# Triggers of earlier versions, replaced by the ones above.
OBSOLETE = ["articles_search_article_insert"]


TABLE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS articles_search USING fts5("
    "headline, standfirst, body, captions, tokenize = 'porter unicode61 remove_diacritics 2')"
)


def install(cursor):
    """Make the table and triggers that are missing, or whose SQL is not the current one (a trigger keeps
    its name when its rule changes: 0021 folded Arabic), and then re-index every story: returns whether it
    did."""
    cursor.execute("SELECT name, sql FROM sqlite_master WHERE name LIKE 'articles_search%%'")
    existing = dict(cursor.fetchall())
    current = {name for name, sql in TRIGGERS.items() if name in existing and same(existing[name], sql)}
    for name in [*OBSOLETE, *TRIGGERS]:
        if name in existing and name not in current:
            cursor.execute(f"DROP TRIGGER {name}")
    if "articles_search" in existing and current == set(TRIGGERS):
        return False
    cursor.execute(TABLE)
    for name, sql in TRIGGERS.items():
        if name not in current:
            cursor.execute(sql)
    rebuild(cursor)
    return True


def same(sql, other):
    return sql.split() == other.split()


def uninstall(cursor):
    for name in [*TRIGGERS, *OBSOLETE]:
        cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
    cursor.execute("DROP TABLE IF EXISTS articles_search")


# Stories re-indexed a statement: each statement streams its rows, so memory stays flat however many.
BATCH = 5000


def rebuild(cursor):
    with transaction.atomic(using=cursor.db.alias):
        # A new table: FTS5 deletes a row by reading it back and unindexing its words, about as long as
        # indexing it again (a rebuild of 10,000 stories: 56-76 s deleting them, 27-37 s with a new table).
        cursor.execute("DROP TABLE IF EXISTS articles_search")
        cursor.execute(TABLE)
        cursor.execute("SELECT min(id), max(id) FROM articles_article")
        first, last = cursor.fetchone()
        for start in range(first or 0, (last or -1) + 1, BATCH):
            cursor.execute(
                "INSERT INTO articles_search(rowid, headline, standfirst, body, captions) "
                f"SELECT a.id, {folded('a.headline')}, {folded('a.standfirst')}, {folded('a.body')}, "
                f"{CAPTIONS.format(id='a.id')} FROM articles_article a WHERE a.id >= %s AND a.id < %s",
                [start, start + BATCH],
            )


def match(words):
    # Every word quoted: FTS5 sees phrases, never operators, and ANDs them; an Arabic word is any of its
    # forms with and without the article. (FTS5 ANDs two phrases side by side, but not two groups.)
    return " AND ".join(either(alternatives(word)) for word in words)


def either(forms):
    quoted = " OR ".join(f'"{form}"' for form in forms)
    return f"({quoted})" if len(forms) > 1 else quoted


# Fewer candidates than this (a narrow filter) are listed first, then the matches are checked against
# the list; more are looked up one by one as FTS5 finds matches, newest first, until it has enough.
FEW = 5000


def candidate(queryset):
    """SQL that is true when the index row is one of the queryset's stories; None if there are none."""
    candidates = queryset.order_by().values("pk")
    sql, params = candidates[:FEW].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({sql})", params)
        count = cursor.fetchone()[0]
    if not count:
        return None, []
    if count < FEW:
        # The unary plus: without it FTS5 runs the full-text query once per candidate.
        sql, params = candidates.query.sql_with_params()
        return f"+rowid IN ({sql})", params
    # Listing every published story first took 50 ms at 100,000, twice a page; looked up by key for each
    # match, FTS5's matches drive the query and it stops at the LIMIT.
    sql, params = candidates.filter(pk=RawSQL("articles_search.rowid", ())).query.sql_with_params()
    return f"EXISTS ({sql})", params


def newest(queryset, words, limit):
    condition, params = candidate(queryset)
    if condition is None:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid, {RANK} FROM articles_search WHERE articles_search MATCH %s AND {condition} "
            "ORDER BY rowid DESC LIMIT %s",
            [match(words), *params, limit],
        )
        return cursor.fetchall()


def snippets(stories, words):
    """{id: snippet} of these stories, matches between START and STOP; FTS5 makes them from its index."""
    ids = [story.pk for story in stories]
    if not ids:
        return {}
    placeholders = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid, snippet(articles_search, -1, %s, %s, '…', 32) FROM articles_search "
            f"WHERE articles_search MATCH %s AND rowid IN ({placeholders})",
            [START, STOP, match(words), *ids],
        )
        made = dict(cursor.fetchall())
    return {story.pk: in_own_words(story, made[story.pk]) for story in stories if story.pk in made}


def in_own_words(story, snippet):
    """The snippet in the story's own text: FTS5 made it from the folded text it indexes. None (the caller
    shows the summary) if it cannot be placed back."""
    if not ARABIC_LETTER.search(snippet):
        return snippet  # folding changes Arabic letters and marks only
    texts = [story.headline, story.standfirst, story.body]
    for text in texts:
        if (restored := restore(snippet, text)) is not None:
            return restored
    captions = list(story.captions.order_by("pk").values_list("text", flat=True))
    for text in [*captions, " ".join(captions)]:
        if (restored := restore(snippet, text)) is not None:
            return restored
    return None
